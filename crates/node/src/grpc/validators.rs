//! `restaked.v1.ValidatorService`: the tracked validators, the tracker's status, and a stream of
//! the tracker's events (stored backlog, then live).

use std::collections::VecDeque;

use restake_api::v1::{
    self, GetTrackerStatusRequest, GetTrackerStatusResponse, GetValidatorRequest,
    GetValidatorResponse, ListValidatorsRequest, ListValidatorsResponse, WatchEventsRequest,
    get_validator_request, validator_event, validator_service_server::ValidatorService,
};
use restake_beacon::{
    StatusFilter, ValidatorId, ValidatorStatus,
    tracker::{
        EventKind, FAR_FUTURE_EPOCH, Phase, Severity, TrackedBecause, TrackedValidator, Tracker,
        TrackerError, TrackerEvent,
    },
};
use restake_types::{BlsPublicKey, Epoch, ExecutionAddress, ValidatorIndex, WithdrawalPrefix};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use super::watch::{Watch, WatchStream, watch_stream};

/// Stored events read from the tracker's store at a time while replaying.
const EVENT_PAGE: usize = 256;

/// Every status of the Beacon API, for parsing and error messages.
const STATUSES: [ValidatorStatus; 9] = [
    ValidatorStatus::PendingInitialized,
    ValidatorStatus::PendingQueued,
    ValidatorStatus::ActiveOngoing,
    ValidatorStatus::ActiveExiting,
    ValidatorStatus::ActiveSlashed,
    ValidatorStatus::ExitedUnslashed,
    ValidatorStatus::ExitedSlashed,
    ValidatorStatus::WithdrawalPossible,
    ValidatorStatus::WithdrawalDone,
];

/// The status groups of the Beacon API.
const STATUS_GROUPS: [StatusFilter; 4] = [
    StatusFilter::Pending,
    StatusFilter::Active,
    StatusFilter::Exited,
    StatusFilter::Withdrawal,
];

/// The node's answers to `ValidatorService`.
#[derive(Clone)]
pub struct ValidatorsApi {
    /// The validator tracker; `None` when no beacon endpoint is configured.
    pub tracker: Option<Tracker>,
    /// Cancelled when the node shuts down: open event streams end with `UNAVAILABLE`.
    pub shutdown: CancellationToken,
}

impl ValidatorsApi {
    fn tracker(&self) -> Result<&Tracker, Status> {
        self.tracker.as_ref().ok_or_else(|| {
            Status::failed_precondition(
                "this node tracks no validators because it has no beacon node: set beacon.endpoints \
                 (and tracker.pubkeys, tracker.validator_indices or tracker.pods) in its config",
            )
        })
    }
}

/// The stream `WatchEvents` answers with.
pub(crate) type ValidatorEventStream = WatchStream<v1::ValidatorEvent>;

#[tonic::async_trait]
impl ValidatorService for ValidatorsApi {
    async fn list_validators(
        &self,
        request: Request<ListValidatorsRequest>,
    ) -> Result<Response<ListValidatorsResponse>, Status> {
        let tracker = self.tracker()?;
        let filter = ValidatorFilter::parse(&request.into_inner())?;
        let validators = tracker
            .validators()
            .iter()
            .filter(|v| filter.matches(v))
            .map(validator_message)
            .collect();
        let pending = tracker
            .pending()
            .into_iter()
            .map(|(pubkey, because)| v1::PendingValidator {
                pubkey: pubkey.to_string(),
                tracked_because: tracked_because(because).into(),
            })
            .collect();
        Ok(Response::new(ListValidatorsResponse {
            validators,
            pending,
        }))
    }

    async fn get_validator(
        &self,
        request: Request<GetValidatorRequest>,
    ) -> Result<Response<GetValidatorResponse>, Status> {
        let tracker = self.tracker()?;
        let id = validator_id(request.into_inner())?;
        if let Some(validator) = tracker.validator(&id) {
            return Ok(Response::new(GetValidatorResponse {
                validator: Some(validator_message(&validator)),
            }));
        }
        let pending = match id {
            ValidatorId::PublicKey(key) => tracker.pending().iter().any(|(k, _)| *k == key),
            ValidatorId::Index(_) => false,
        };
        Err(Status::not_found(if pending {
            format!(
                "validator {id} is tracked, but the beacon state has no validator with this public key yet (its deposit is not processed)"
            )
        } else {
            format!(
                "validator {id} is not tracked by this node (the tracked set comes from tracker.pubkeys, the loaded keystores, tracker.validator_indices and tracker.pods)"
            )
        }))
    }

    type WatchEventsStream = ValidatorEventStream;

    async fn watch_events(
        &self,
        request: Request<WatchEventsRequest>,
    ) -> Result<Response<Self::WatchEventsStream>, Status> {
        let tracker = self.tracker()?.clone();
        let request = request.into_inner();
        let filter = EventFilter::parse(&request)?;
        Ok(Response::new(watch(
            tracker,
            request.after_seq,
            filter,
            self.shutdown.clone(),
        )))
    }

    async fn get_tracker_status(
        &self,
        _request: Request<GetTrackerStatusRequest>,
    ) -> Result<Response<GetTrackerStatusResponse>, Status> {
        let tracker = self.tracker()?;
        let status = tracker.status();
        Ok(Response::new(GetTrackerStatusResponse {
            phase: tracker_phase(status.phase).into(),
            head_slot: status.head_slot.map(|s| s.0),
            updated_slot: status.updated_slot.map(|s| s.0),
            finalized_epoch: status.finalized_epoch.map(|e| e.0),
            tracked: status.tracked as u64,
            pending: status.pending as u64,
            pods: tracker.pods().iter().map(ToString::to_string).collect(),
        }))
    }
}

fn validator_id(request: GetValidatorRequest) -> Result<ValidatorId, Status> {
    match request.id {
        Some(get_validator_request::Id::Index(index)) => {
            Ok(ValidatorId::Index(ValidatorIndex(index)))
        }
        Some(get_validator_request::Id::Pubkey(text)) => text
            .parse::<BlsPublicKey>()
            .map(ValidatorId::PublicKey)
            .map_err(|e| {
                Status::invalid_argument(format!(
                    "pubkey: {text:?} is not a BLS public key (0x + 96 hex digits): {e}"
                ))
            }),
        None => Err(Status::invalid_argument(
            "id: set index or pubkey to name the validator",
        )),
    }
}

/// The filters of `ListValidators`, checked.
#[derive(Debug, Default)]
struct ValidatorFilter {
    statuses: Vec<StatusFilter>,
    credentials: Vec<v1::CredentialsType>,
    points_at_pod: Option<bool>,
    pod: Option<ExecutionAddress>,
    slashed_only: bool,
}

impl ValidatorFilter {
    fn parse(request: &ListValidatorsRequest) -> Result<Self, Status> {
        let statuses = request
            .statuses
            .iter()
            .map(|name| parse_status(name))
            .collect::<Result<_, _>>()?;
        let credentials = request
            .credentials_types
            .iter()
            .map(|value| match v1::CredentialsType::try_from(*value) {
                Ok(v1::CredentialsType::Unspecified) | Err(_) => Err(Status::invalid_argument(
                    format!("credentials_types: {value} is not a credentials type (BLS, EXECUTION, COMPOUNDING or UNKNOWN)"),
                )),
                Ok(kind) => Ok(kind),
            })
            .collect::<Result<_, _>>()?;
        let pod = if request.pod.is_empty() {
            None
        } else {
            Some(request.pod.parse::<ExecutionAddress>().map_err(|e| {
                Status::invalid_argument(format!(
                    "pod: {:?} is not an execution address (0x + 40 hex digits): {e}",
                    request.pod
                ))
            })?)
        };
        Ok(Self {
            statuses,
            credentials,
            points_at_pod: request.points_at_pod,
            pod,
            slashed_only: request.slashed_only,
        })
    }

    fn matches(&self, validator: &TrackedValidator) -> bool {
        (self.statuses.is_empty()
            || self
                .statuses
                .iter()
                .any(|f| status_matches(*f, validator.status())))
            && (self.credentials.is_empty()
                || self
                    .credentials
                    .contains(&credentials_type(validator.prefix())))
            && self
                .points_at_pod
                .is_none_or(|want| validator.pod.is_some() == want)
            && self
                .pod
                .is_none_or(|pod| validator.withdrawal_address() == Some(pod))
            && (!self.slashed_only || validator.data.validator.slashed)
    }
}

fn parse_status(name: &str) -> Result<StatusFilter, Status> {
    STATUS_GROUPS
        .into_iter()
        .chain(STATUSES.map(StatusFilter::Exact))
        .find(|f| f.as_str() == name)
        .ok_or_else(|| {
            let known: Vec<&str> = STATUS_GROUPS
                .into_iter()
                .chain(STATUSES.map(StatusFilter::Exact))
                .map(StatusFilter::as_str)
                .collect();
            Status::invalid_argument(format!(
                "statuses: {name:?} is not a Beacon API status or group (one of {})",
                known.join(", ")
            ))
        })
}

fn status_matches(filter: StatusFilter, status: ValidatorStatus) -> bool {
    use ValidatorStatus as S;
    match filter {
        StatusFilter::Exact(exact) => exact == status,
        StatusFilter::Pending => matches!(status, S::PendingInitialized | S::PendingQueued),
        StatusFilter::Active => matches!(
            status,
            S::ActiveOngoing | S::ActiveExiting | S::ActiveSlashed
        ),
        StatusFilter::Exited => matches!(status, S::ExitedUnslashed | S::ExitedSlashed),
        StatusFilter::Withdrawal => {
            matches!(status, S::WithdrawalPossible | S::WithdrawalDone)
        }
    }
}

fn credentials_type(prefix: WithdrawalPrefix) -> v1::CredentialsType {
    match prefix {
        WithdrawalPrefix::Bls => v1::CredentialsType::Bls,
        WithdrawalPrefix::Eth1 => v1::CredentialsType::Execution,
        WithdrawalPrefix::Compounding => v1::CredentialsType::Compounding,
        WithdrawalPrefix::Unknown(_) => v1::CredentialsType::Unknown,
    }
}

fn tracked_because(because: TrackedBecause) -> v1::TrackedBecause {
    match because {
        TrackedBecause::Pubkey => v1::TrackedBecause::Pubkey,
        TrackedBecause::Index => v1::TrackedBecause::Index,
        TrackedBecause::Pod => v1::TrackedBecause::Pod,
    }
}

/// A tracker severity in the API.
pub(super) fn severity(severity: Severity) -> v1::Severity {
    match severity {
        Severity::Info => v1::Severity::Info,
        Severity::Warning => v1::Severity::Warning,
        Severity::Critical => v1::Severity::Critical,
    }
}

fn tracker_phase(phase: Phase) -> v1::TrackerPhase {
    match phase {
        Phase::Connecting => v1::TrackerPhase::Connecting,
        Phase::Scanning => v1::TrackerPhase::Scanning,
        Phase::Following => v1::TrackerPhase::Following,
        Phase::Polling => v1::TrackerPhase::Polling,
        Phase::Failed => v1::TrackerPhase::Failed,
    }
}

/// An epoch for the API: the spec's "never" is left unset.
fn epoch(epoch: Epoch) -> Option<u64> {
    (epoch != FAR_FUTURE_EPOCH).then_some(epoch.0)
}

fn address_text(address: Option<ExecutionAddress>) -> String {
    address.map(|a| a.to_string()).unwrap_or_default()
}

fn validator_message(v: &TrackedValidator) -> v1::Validator {
    let record = &v.data.validator;
    v1::Validator {
        index: v.index().0,
        pubkey: v.pubkey().to_string(),
        status: v.status().as_str().to_owned(),
        withdrawal_credentials: v.credentials().to_string(),
        credentials_type: credentials_type(v.prefix()).into(),
        withdrawal_address: address_text(v.withdrawal_address()),
        pod: address_text(v.pod),
        balance_gwei: v.data.balance.0,
        effective_balance_gwei: record.effective_balance.0,
        slashed: record.slashed,
        slashed_seen_slot: v.slashed_seen_slot.map(|s| s.0),
        activation_eligibility_epoch: epoch(record.activation_eligibility_epoch),
        activation_epoch: epoch(record.activation_epoch),
        exit_epoch: epoch(record.exit_epoch),
        withdrawable_epoch: epoch(record.withdrawable_epoch),
        updated_slot: v.updated_slot.0,
        tracked_because: tracked_because(v.because).into(),
    }
}

fn event_details(kind: &EventKind) -> validator_event::Details {
    use validator_event::Details;
    match kind {
        EventKind::CredentialsChanged {
            from,
            to,
            away_from_pod,
        } => Details::CredentialsChanged(validator_event::CredentialsChanged {
            from: from.to_string(),
            to: to.to_string(),
            away_from_pod: *away_from_pod,
        }),
        EventKind::UnconvertedCredentials => {
            Details::UnconvertedCredentials(validator_event::UnconvertedCredentials {})
        }
        EventKind::Activated { epoch } => {
            Details::Activated(validator_event::Activated { epoch: epoch.0 })
        }
        EventKind::BalanceDropped { from, to } => {
            Details::BalanceDropped(validator_event::BalanceDropped {
                from_gwei: from.0,
                to_gwei: to.0,
            })
        }
        EventKind::Slashed => Details::Slashed(validator_event::Slashed {}),
        EventKind::ExitInitiated { exit_epoch } => {
            Details::ExitInitiated(validator_event::ExitInitiated {
                exit_epoch: exit_epoch.0,
            })
        }
        EventKind::Withdrawn => Details::Withdrawn(validator_event::Withdrawn {}),
    }
}

fn event_message(event: &TrackerEvent) -> v1::ValidatorEvent {
    v1::ValidatorEvent {
        seq: event.seq,
        slot: event.slot.0,
        index: event.index.0,
        pubkey: event.pubkey.to_string(),
        kind: event.kind.name().to_owned(),
        severity: severity(event.severity()).into(),
        details: Some(event_details(&event.kind)),
    }
}

/// Which events a watcher wants.
#[derive(Clone, Copy, Debug, Default)]
struct EventFilter {
    index: Option<ValidatorIndex>,
    min_severity: Option<Severity>,
}

impl EventFilter {
    fn parse(request: &WatchEventsRequest) -> Result<Self, Status> {
        let min_severity = match v1::Severity::try_from(request.min_severity) {
            Ok(v1::Severity::Unspecified) => None,
            Ok(v1::Severity::Info) => Some(Severity::Info),
            Ok(v1::Severity::Warning) => Some(Severity::Warning),
            Ok(v1::Severity::Critical) => Some(Severity::Critical),
            Err(_) => {
                return Err(Status::invalid_argument(format!(
                    "min_severity: {} is not a severity (INFO, WARNING or CRITICAL)",
                    request.min_severity
                )));
            }
        };
        Ok(Self {
            index: request.only_index.map(ValidatorIndex),
            min_severity,
        })
    }

    fn matches(&self, event: &TrackerEvent) -> bool {
        self.index.is_none_or(|i| event.index == i)
            && self.min_severity.is_none_or(|min| event.severity() >= min)
    }
}

/// Where a watcher reads events: the tracker (its store and its broadcast), or a fake in tests.
trait EventLog: Clone + Send + Sync + 'static {
    /// Stored events after `after`, oldest first, at most `limit`, optionally of one validator.
    fn stored(
        &self,
        after: u64,
        limit: usize,
        index: Option<ValidatorIndex>,
    ) -> Result<Vec<TrackerEvent>, TrackerError>;

    /// Events as they are committed.
    fn subscribe(&self) -> broadcast::Receiver<TrackerEvent>;
}

impl EventLog for Tracker {
    fn stored(
        &self,
        after: u64,
        limit: usize,
        index: Option<ValidatorIndex>,
    ) -> Result<Vec<TrackerEvent>, TrackerError> {
        self.events(after, limit, index)
    }

    fn subscribe(&self) -> broadcast::Receiver<TrackerEvent> {
        Tracker::subscribe(self)
    }
}

/// The stored events after `after_seq`, then the live ones, each exactly once, in order.
fn watch<L: EventLog>(
    log: L,
    after_seq: u64,
    filter: EventFilter,
    shutdown: CancellationToken,
) -> ValidatorEventStream {
    // Subscribe before the first read of the store: an event committed in between is then in
    // both, and skipped the second time by its sequence number.
    let live = log.subscribe();
    let watcher = Watcher {
        log,
        live,
        filter,
        cursor: after_seq,
        seen: after_seq,
        caught_up: false,
        queue: VecDeque::new(),
    };
    watch_stream(watcher, shutdown)
}

/// The state of one `WatchEvents` stream.
struct Watcher<L> {
    log: L,
    live: broadcast::Receiver<TrackerEvent>,
    filter: EventFilter,
    /// Every event up to this sequence number has been sent or filtered out.
    cursor: u64,
    /// Every event up to this sequence number is in the store (it has been broadcast).
    seen: u64,
    /// False while the store holds events after `cursor` not yet read.
    caught_up: bool,
    /// Events read from the store, to send.
    queue: VecDeque<TrackerEvent>,
}

impl<L: EventLog> Watch for Watcher<L> {
    type Item = v1::ValidatorEvent;

    async fn next_item(&mut self) -> Result<v1::ValidatorEvent, Status> {
        loop {
            if let Some(event) = self.queue.pop_front() {
                return Ok(event_message(&event));
            }
            if !self.caught_up {
                self.read_page().await?;
                continue;
            }
            match self.live.recv().await {
                Ok(event) if event.seq <= self.cursor => {}
                Ok(event) if event.seq == self.cursor + 1 => {
                    self.cursor = event.seq;
                    self.seen = self.seen.max(event.seq);
                    if self.filter.matches(&event) {
                        return Ok(event_message(&event));
                    }
                }
                Ok(event) => {
                    // Events between the cursor and this one were committed before it but not
                    // read (the store was not open yet, or they are another validator's): read
                    // them from the store, this one included.
                    self.seen = self.seen.max(event.seq);
                    self.caught_up = false;
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::debug!(
                        missed,
                        after_seq = self.cursor,
                        "an event watcher fell behind the tracker; re-reading from the store"
                    );
                    self.caught_up = false;
                }
                Err(RecvError::Closed) => {
                    return Err(Status::unavailable(format!(
                        "the validator tracker stopped; resume with after_seq = {}",
                        self.resume_after()
                    )));
                }
            }
        }
    }

    fn shutdown_status(&self) -> Status {
        Status::unavailable(format!(
            "restaked is shutting down; resume with after_seq = {}",
            self.resume_after()
        ))
    }
}

impl<L: EventLog> Watcher<L> {
    /// Reads the next page of stored events after the cursor into the queue.
    async fn read_page(&mut self) -> Result<(), Status> {
        let log = self.log.clone();
        let (after, index) = (self.cursor, self.filter.index);
        let page = tokio::task::spawn_blocking(move || log.stored(after, EVENT_PAGE, index))
            .await
            .map_err(|e| Status::internal(format!("reading stored events failed: {e}")))?
            .map_err(|e| Status::unavailable(format!("reading stored events failed: {e}")))?;
        let complete = page.len() < EVENT_PAGE;
        for event in page {
            if event.seq <= self.cursor {
                continue;
            }
            self.cursor = event.seq;
            if self.filter.matches(&event) {
                self.queue.push_back(event);
            }
        }
        if complete {
            // Everything broadcast before this read was committed before it, so the store held
            // it: nothing up to `seen` is left to read.
            self.cursor = self.cursor.max(self.seen);
            self.caught_up = true;
        }
        Ok(())
    }

    /// The `after_seq` that resumes without a gap: events read but not sent are not skipped.
    fn resume_after(&self) -> u64 {
        self.queue
            .front()
            .map_or(self.cursor, |e| e.seq.saturating_sub(1))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use futures_util::StreamExt;
    use restake_beacon::{Validator, ValidatorData};
    use restake_types::{Gwei, Slot, WithdrawalCredentials};

    use super::*;

    fn pod() -> ExecutionAddress {
        ExecutionAddress::new([0xee; 20])
    }

    fn tracked(index: u64, prefix: u8, status: ValidatorStatus) -> TrackedValidator {
        let credentials = if prefix == 0 {
            WithdrawalCredentials::new([0x00; 32])
        } else {
            WithdrawalCredentials::to_address(prefix, pod())
        };
        TrackedValidator {
            data: ValidatorData {
                index: ValidatorIndex(index),
                balance: Gwei(32_100_000_000),
                status,
                validator: Validator {
                    pubkey: BlsPublicKey::new([index as u8; 48]),
                    withdrawal_credentials: credentials,
                    effective_balance: Gwei(32_000_000_000),
                    slashed: false,
                    activation_eligibility_epoch: Epoch(3),
                    activation_epoch: Epoch(5),
                    exit_epoch: FAR_FUTURE_EPOCH,
                    withdrawable_epoch: FAR_FUTURE_EPOCH,
                },
            },
            pod: (prefix != 0).then(pod),
            because: TrackedBecause::Pod,
            updated_slot: Slot(320),
            slashed_seen_slot: None,
        }
    }

    fn list(request: ListValidatorsRequest) -> Result<Vec<u64>, Status> {
        let filter = ValidatorFilter::parse(&request)?;
        let mut slashed = tracked(4, 0x02, ValidatorStatus::ActiveSlashed);
        slashed.data.validator.slashed = true;
        let mut elsewhere = tracked(5, 0x01, ValidatorStatus::ExitedUnslashed);
        elsewhere.data.validator.withdrawal_credentials =
            WithdrawalCredentials::to_address(0x01, ExecutionAddress::new([0x11; 20]));
        elsewhere.pod = None;
        let all = [
            tracked(1, 0x00, ValidatorStatus::PendingQueued),
            tracked(2, 0x01, ValidatorStatus::ActiveOngoing),
            tracked(3, 0x02, ValidatorStatus::ActiveExiting),
            slashed,
            elsewhere,
        ];
        Ok(all
            .iter()
            .filter(|v| filter.matches(v))
            .map(|v| v.index().0)
            .collect())
    }

    #[test]
    fn a_validator_message_carries_every_tracked_field() {
        let mut v = tracked(7, 0x01, ValidatorStatus::ActiveExiting);
        v.data.validator.exit_epoch = Epoch(90);
        v.slashed_seen_slot = Some(Slot(300));
        let m = validator_message(&v);
        assert_eq!(m.index, 7);
        assert_eq!(m.pubkey, format!("0x{}", "07".repeat(48)));
        assert_eq!(m.status, "active_exiting");
        assert_eq!(
            m.withdrawal_credentials,
            format!("0x01{}{}", "00".repeat(11), "ee".repeat(20))
        );
        assert_eq!(m.credentials_type(), v1::CredentialsType::Execution);
        assert_eq!(m.withdrawal_address, format!("0x{}", "ee".repeat(20)));
        assert_eq!(m.pod, m.withdrawal_address);
        assert_eq!(m.balance_gwei, 32_100_000_000);
        assert_eq!(m.effective_balance_gwei, 32_000_000_000);
        assert_eq!(m.activation_eligibility_epoch, Some(3));
        assert_eq!(m.activation_epoch, Some(5));
        assert_eq!(m.exit_epoch, Some(90));
        assert_eq!(m.slashed_seen_slot, Some(300));
        assert_eq!(m.updated_slot, 320);
        assert_eq!(m.tracked_because(), v1::TrackedBecause::Pod);
    }

    #[test]
    fn far_future_epochs_and_bls_credentials_are_left_unset() {
        let mut v = tracked(1, 0x00, ValidatorStatus::PendingInitialized);
        v.data.validator.activation_eligibility_epoch = FAR_FUTURE_EPOCH;
        v.data.validator.activation_epoch = FAR_FUTURE_EPOCH;
        v.because = TrackedBecause::Pubkey;
        let m = validator_message(&v);
        assert_eq!(m.credentials_type(), v1::CredentialsType::Bls);
        assert_eq!(m.withdrawal_address, "");
        assert_eq!(m.pod, "");
        assert_eq!(m.activation_eligibility_epoch, None);
        assert_eq!(m.activation_epoch, None);
        assert_eq!(m.exit_epoch, None);
        assert_eq!(m.withdrawable_epoch, None);
        assert_eq!(m.slashed_seen_slot, None);
        assert_eq!(m.tracked_because(), v1::TrackedBecause::Pubkey);
    }

    #[test]
    fn unknown_credential_prefixes_have_their_own_type() {
        let mut bytes = [0u8; 32];
        bytes[0] = 0x07;
        let mut v = tracked(1, 0x00, ValidatorStatus::ActiveOngoing);
        v.data.validator.withdrawal_credentials = WithdrawalCredentials::new(bytes);
        assert_eq!(
            validator_message(&v).credentials_type(),
            v1::CredentialsType::Unknown
        );
    }

    #[test]
    fn events_carry_their_kind_severity_and_details() {
        let from = WithdrawalCredentials::to_address(0x01, pod());
        let to = WithdrawalCredentials::to_address(0x01, ExecutionAddress::new([0x22; 20]));
        let cases = [
            (
                EventKind::CredentialsChanged {
                    from,
                    to,
                    away_from_pod: true,
                },
                "credentials_changed",
                v1::Severity::Critical,
                validator_event::Details::CredentialsChanged(validator_event::CredentialsChanged {
                    from: from.to_string(),
                    to: to.to_string(),
                    away_from_pod: true,
                }),
            ),
            (
                EventKind::UnconvertedCredentials,
                "unconverted_credentials",
                v1::Severity::Warning,
                validator_event::Details::UnconvertedCredentials(
                    validator_event::UnconvertedCredentials {},
                ),
            ),
            (
                EventKind::Activated { epoch: Epoch(12) },
                "activated",
                v1::Severity::Info,
                validator_event::Details::Activated(validator_event::Activated { epoch: 12 }),
            ),
            (
                EventKind::BalanceDropped {
                    from: Gwei(32_000_000_000),
                    to: Gwei(31_000_000_000),
                },
                "balance_dropped",
                v1::Severity::Warning,
                validator_event::Details::BalanceDropped(validator_event::BalanceDropped {
                    from_gwei: 32_000_000_000,
                    to_gwei: 31_000_000_000,
                }),
            ),
            (
                EventKind::Slashed,
                "slashed",
                v1::Severity::Critical,
                validator_event::Details::Slashed(validator_event::Slashed {}),
            ),
            (
                EventKind::ExitInitiated {
                    exit_epoch: Epoch(99),
                },
                "exit_initiated",
                v1::Severity::Warning,
                validator_event::Details::ExitInitiated(validator_event::ExitInitiated {
                    exit_epoch: 99,
                }),
            ),
            (
                EventKind::Withdrawn,
                "withdrawn",
                v1::Severity::Info,
                validator_event::Details::Withdrawn(validator_event::Withdrawn {}),
            ),
        ];
        for (kind, name, want_severity, details) in cases {
            let event = TrackerEvent {
                seq: 9,
                slot: Slot(640),
                index: ValidatorIndex(3),
                pubkey: BlsPublicKey::new([3; 48]),
                kind,
            };
            let m = event_message(&event);
            assert_eq!(
                (m.seq, m.slot, m.index),
                (9, 640, 3),
                "{name}: position fields"
            );
            assert_eq!(m.pubkey, format!("0x{}", "03".repeat(48)));
            assert_eq!(m.kind, name);
            assert_eq!(m.severity(), want_severity, "{name}");
            assert_eq!(m.details, Some(details), "{name}");
        }
    }

    #[test]
    fn filters_narrow_the_list() {
        let all = ListValidatorsRequest::default();
        assert_eq!(list(all.clone()).unwrap(), [1, 2, 3, 4, 5]);
        let by_status = |s: &[&str]| ListValidatorsRequest {
            statuses: s.iter().map(|s| (*s).to_owned()).collect(),
            ..all.clone()
        };
        assert_eq!(list(by_status(&["active"])).unwrap(), [2, 3, 4]);
        assert_eq!(list(by_status(&["active_ongoing"])).unwrap(), [2]);
        assert_eq!(list(by_status(&["pending", "exited"])).unwrap(), [1, 5]);
        let by_credentials = |c: &[v1::CredentialsType]| ListValidatorsRequest {
            credentials_types: c.iter().map(|c| *c as i32).collect(),
            ..all.clone()
        };
        assert_eq!(
            list(by_credentials(&[v1::CredentialsType::Bls])).unwrap(),
            [1]
        );
        assert_eq!(
            list(by_credentials(&[v1::CredentialsType::Compounding])).unwrap(),
            [3, 4]
        );
        let pointing = |p| ListValidatorsRequest {
            points_at_pod: Some(p),
            ..all.clone()
        };
        assert_eq!(list(pointing(true)).unwrap(), [2, 3, 4]);
        assert_eq!(list(pointing(false)).unwrap(), [1, 5]);
        let at = |pod: String| ListValidatorsRequest { pod, ..all.clone() };
        assert_eq!(list(at(pod().to_string())).unwrap(), [2, 3, 4]);
        assert_eq!(list(at(format!("0x{}", "11".repeat(20)))).unwrap(), [5]);
        let slashed = ListValidatorsRequest {
            slashed_only: true,
            ..all.clone()
        };
        assert_eq!(list(slashed).unwrap(), [4]);
        let combined = ListValidatorsRequest {
            statuses: vec!["active".to_owned()],
            credentials_types: vec![v1::CredentialsType::Execution as i32],
            ..all
        };
        assert_eq!(list(combined).unwrap(), [2]);
    }

    #[test]
    fn bad_filters_are_invalid_arguments_naming_the_field() {
        let cases = [
            (
                ListValidatorsRequest {
                    statuses: vec!["activ".to_owned()],
                    ..Default::default()
                },
                "statuses: \"activ\"",
            ),
            (
                ListValidatorsRequest {
                    credentials_types: vec![0],
                    ..Default::default()
                },
                "credentials_types: 0",
            ),
            (
                ListValidatorsRequest {
                    credentials_types: vec![42],
                    ..Default::default()
                },
                "credentials_types: 42",
            ),
            (
                ListValidatorsRequest {
                    pod: "0x1234".to_owned(),
                    ..Default::default()
                },
                "pod: \"0x1234\"",
            ),
        ];
        for (request, start) in cases {
            let status = ValidatorFilter::parse(&request).unwrap_err();
            assert_eq!(status.code(), tonic::Code::InvalidArgument);
            assert!(status.message().starts_with(start), "{}", status.message());
        }
        let status = list(ListValidatorsRequest {
            statuses: vec!["nope".to_owned()],
            ..Default::default()
        })
        .unwrap_err();
        assert!(
            status.message().contains("active_ongoing"),
            "lists the valid names: {}",
            status.message()
        );
    }

    #[test]
    fn validators_are_named_by_index_or_pubkey() {
        let by_index = GetValidatorRequest {
            id: Some(get_validator_request::Id::Index(12)),
        };
        assert_eq!(
            validator_id(by_index).unwrap(),
            ValidatorId::Index(ValidatorIndex(12))
        );
        let key = BlsPublicKey::new([0xab; 48]);
        let by_key = GetValidatorRequest {
            id: Some(get_validator_request::Id::Pubkey(key.to_string())),
        };
        assert_eq!(validator_id(by_key).unwrap(), ValidatorId::PublicKey(key));
        let bad = GetValidatorRequest {
            id: Some(get_validator_request::Id::Pubkey("0xab".to_owned())),
        };
        let status = validator_id(bad).unwrap_err();
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert!(status.message().starts_with("pubkey: "), "{status:?}");
        let status = validator_id(GetValidatorRequest { id: None }).unwrap_err();
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert!(status.message().starts_with("id: "), "{status:?}");
    }

    #[test]
    fn an_unknown_min_severity_is_an_invalid_argument() {
        let status = EventFilter::parse(&WatchEventsRequest {
            min_severity: 9,
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert!(
            status.message().starts_with("min_severity: 9"),
            "{status:?}"
        );
    }

    #[tokio::test]
    async fn every_call_without_a_tracker_asks_for_beacon_endpoints() {
        let api = ValidatorsApi {
            tracker: None,
            shutdown: CancellationToken::new(),
        };
        let statuses = [
            api.list_validators(Request::new(ListValidatorsRequest::default()))
                .await
                .unwrap_err(),
            api.get_validator(Request::new(GetValidatorRequest {
                id: Some(get_validator_request::Id::Index(1)),
            }))
            .await
            .unwrap_err(),
            api.watch_events(Request::new(WatchEventsRequest::default()))
                .await
                .err()
                .unwrap(),
            api.get_tracker_status(Request::new(GetTrackerStatusRequest {}))
                .await
                .unwrap_err(),
        ];
        for status in statuses {
            assert_eq!(status.code(), tonic::Code::FailedPrecondition);
            assert!(
                status.message().contains("set beacon.endpoints"),
                "{status:?}"
            );
        }
    }

    /// An event log in memory: a "store" and a broadcast channel, committed to like the tracker.
    #[derive(Clone)]
    struct FakeLog {
        store: Arc<Mutex<Vec<TrackerEvent>>>,
        open: Arc<Mutex<bool>>,
        live: broadcast::Sender<TrackerEvent>,
    }

    impl FakeLog {
        fn new(capacity: usize) -> Self {
            Self {
                store: Arc::default(),
                open: Arc::new(Mutex::new(true)),
                live: broadcast::channel(capacity).0,
            }
        }

        /// Stores an event of validator `index` with the next sequence number, then broadcasts it.
        fn commit(&self, index: u64, kind: EventKind) -> u64 {
            let event = {
                let mut store = self.store.lock().unwrap();
                let event = TrackerEvent {
                    seq: store.len() as u64 + 1,
                    slot: Slot(store.len() as u64 * 32),
                    index: ValidatorIndex(index),
                    pubkey: BlsPublicKey::new([index as u8; 48]),
                    kind,
                };
                store.push(event.clone());
                event
            };
            let _ = self.live.send(event.clone());
            event.seq
        }
    }

    impl EventLog for FakeLog {
        fn stored(
            &self,
            after: u64,
            limit: usize,
            index: Option<ValidatorIndex>,
        ) -> Result<Vec<TrackerEvent>, TrackerError> {
            if !*self.open.lock().unwrap() {
                return Ok(Vec::new());
            }
            Ok(self
                .store
                .lock()
                .unwrap()
                .iter()
                .filter(|e| e.seq > after && index.is_none_or(|i| e.index == i))
                .take(limit)
                .cloned()
                .collect())
        }

        fn subscribe(&self) -> broadcast::Receiver<TrackerEvent> {
            self.live.subscribe()
        }
    }

    async fn take(stream: &mut ValidatorEventStream, n: usize) -> Vec<u64> {
        let mut seqs = Vec::new();
        for _ in 0..n {
            let next = tokio::time::timeout(std::time::Duration::from_secs(5), stream.next())
                .await
                .expect("an event within 5s")
                .expect("the stream goes on")
                .expect("an event, not an error");
            seqs.push(next.seq);
        }
        seqs
    }

    async fn nothing_more(stream: &mut ValidatorEventStream) {
        let next = tokio::time::timeout(std::time::Duration::from_millis(50), stream.next()).await;
        assert!(next.is_err(), "unexpected item: {next:?}");
    }

    #[tokio::test]
    async fn watch_replays_the_store_then_streams_live_events_once_each() {
        let log = FakeLog::new(16);
        for _ in 0..3 {
            log.commit(1, EventKind::Slashed);
        }
        let mut stream = watch(
            log.clone(),
            1,
            EventFilter::default(),
            CancellationToken::new(),
        );
        assert_eq!(take(&mut stream, 2).await, [2, 3]);
        log.commit(1, EventKind::Withdrawn);
        log.commit(2, EventKind::Withdrawn);
        assert_eq!(take(&mut stream, 2).await, [4, 5]);
        nothing_more(&mut stream).await;
    }

    #[tokio::test]
    async fn watch_replays_backlogs_longer_than_a_page() {
        let log = FakeLog::new(16);
        for _ in 0..EVENT_PAGE * 2 + 5 {
            log.commit(1, EventKind::Withdrawn);
        }
        let mut stream = watch(
            log.clone(),
            0,
            EventFilter::default(),
            CancellationToken::new(),
        );
        let seqs = take(&mut stream, EVENT_PAGE * 2 + 5).await;
        assert!(seqs.iter().copied().eq(1..=(EVENT_PAGE as u64 * 2 + 5)));
        nothing_more(&mut stream).await;
    }

    #[tokio::test]
    async fn an_event_committed_while_subscribing_is_sent_once() {
        let log = FakeLog::new(16);
        log.commit(1, EventKind::Slashed);
        // Subscribed, then an event is both stored and broadcast before the backlog is read.
        let mut stream = watch(
            log.clone(),
            0,
            EventFilter::default(),
            CancellationToken::new(),
        );
        log.commit(1, EventKind::Withdrawn);
        assert_eq!(take(&mut stream, 2).await, [1, 2]);
        nothing_more(&mut stream).await;
        log.commit(1, EventKind::Withdrawn);
        assert_eq!(take(&mut stream, 1).await, [3]);
    }

    #[tokio::test]
    async fn a_lagging_watcher_rereads_the_store_and_drops_nothing() {
        let log = FakeLog::new(2);
        let mut stream = watch(
            log.clone(),
            0,
            EventFilter::default(),
            CancellationToken::new(),
        );
        nothing_more(&mut stream).await;
        // Far more than the channel holds while the watcher is not reading.
        for _ in 0..10 {
            log.commit(1, EventKind::Withdrawn);
        }
        assert!(take(&mut stream, 10).await.into_iter().eq(1..=10));
        nothing_more(&mut stream).await;
        log.commit(1, EventKind::Slashed);
        assert_eq!(take(&mut stream, 1).await, [11]);
    }

    #[tokio::test]
    async fn events_stored_before_the_store_opened_are_read_at_the_first_live_one() {
        let log = FakeLog::new(16);
        log.commit(1, EventKind::Slashed);
        log.commit(1, EventKind::Slashed);
        *log.open.lock().unwrap() = false;
        let mut stream = watch(
            log.clone(),
            0,
            EventFilter::default(),
            CancellationToken::new(),
        );
        nothing_more(&mut stream).await;
        *log.open.lock().unwrap() = true;
        log.commit(1, EventKind::Withdrawn);
        assert_eq!(take(&mut stream, 3).await, [1, 2, 3]);
        nothing_more(&mut stream).await;
    }

    #[tokio::test]
    async fn watch_filters_by_index_and_severity() {
        let log = FakeLog::new(16);
        log.commit(1, EventKind::Slashed); // 1
        log.commit(2, EventKind::Slashed); // 2
        log.commit(1, EventKind::Withdrawn); // 3: info
        let filter = EventFilter {
            index: Some(ValidatorIndex(1)),
            min_severity: Some(Severity::Warning),
        };
        let mut stream = watch(log.clone(), 0, filter, CancellationToken::new());
        assert_eq!(take(&mut stream, 1).await, [1]);
        log.commit(2, EventKind::Slashed); // 4
        log.commit(1, EventKind::Activated { epoch: Epoch(1) }); // 5: info
        log.commit(1, EventKind::UnconvertedCredentials); // 6
        assert_eq!(take(&mut stream, 1).await, [6]);
        nothing_more(&mut stream).await;
    }

    #[tokio::test]
    async fn a_shutdown_ends_the_stream_with_unavailable_and_a_resume_point() {
        let log = FakeLog::new(16);
        log.commit(1, EventKind::Slashed);
        let shutdown = CancellationToken::new();
        let mut stream = watch(log.clone(), 0, EventFilter::default(), shutdown.clone());
        assert_eq!(take(&mut stream, 1).await, [1]);
        shutdown.cancel();
        let status = stream.next().await.unwrap().unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unavailable);
        assert!(
            status.message().contains("resume with after_seq = 1"),
            "{status:?}"
        );
        assert!(stream.next().await.is_none());
    }
}
