//! The validator / withdrawal-credential tracker.
//!
//! The tracked set comes from configuration ([`TrackerConfig`]): public keys (configured, or of
//! the keystores the node loaded), ranges of validator indices, and the operator's EigenPod
//! addresses, for which every validator whose `0x01`/`0x02` credentials point at the pod is
//! tracked. Pods are found once by a scan of the whole registry (the SSZ state, never decoded
//! in full), then kept up to date from the blocks: deposits and BLS-to-execution changes naming
//! a pod add their validator.
//!
//! [`Tracker::run`] follows the chain through the event stream (`head`, `finalized_checkpoint`,
//! `chain_reorg`), falling back to polling the head header while the stream is down. At each
//! update (every epoch, or every slot) it reads the tracked validators from the head state,
//! compares them with what it knew, and emits [`TrackerEvent`]s. Each update's records, events
//! and cursor are committed to the store in one transaction: a restart resumes where it stopped,
//! without a rescan, and replays no event. Events are logged, counted in metrics, kept in the
//! store and sent to subscribers ([`Tracker::subscribe`]).

mod diff;
mod metrics;
mod model;
mod store;

use std::{
    collections::{BTreeMap, BTreeSet},
    ops::RangeInclusive,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, RwLock},
    time::{Duration, Instant},
};

use prometheus::Registry;
use restake_types::{BlsPublicKey, Epoch, ExecutionAddress, Gwei, Slot, ValidatorIndex};
use serde::Serialize;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

use crate::{
    BeaconClient, BeaconEvent, BlockId, Error, EventTopic, StateId, ValidatorId,
    bytes::Root,
    containers::{RegistryView, SignedBeaconBlock},
};

pub use model::{
    EventKind, FAR_FUTURE_EPOCH, Severity, TrackedBecause, TrackedValidator, TrackerEvent,
};

use self::{
    metrics::TrackerMetrics,
    store::{Cursor, TrackerStore, Update},
};

/// The most blocks searched one by one to catch up after a gap; a longer gap rescans the
/// registry instead.
const MAX_BLOCK_CATCH_UP: u64 = 64;

/// The longest wait between attempts to reach the beacon node at start.
const MAX_CONNECT_BACKOFF: Duration = Duration::from_secs(30);

/// Events kept in memory for subscribers that fall behind (older ones are read from the store).
const EVENT_CHANNEL: usize = 1024;

/// How often the tracked set is read from the chain.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateEvery {
    /// At the first head of each epoch (balances and registry change per epoch).
    #[default]
    Epoch,
    /// At every head (a fast devnet, or an operator who wants to see changes within a slot).
    Slot,
}

/// What to track and how.
#[derive(Clone, Debug)]
pub struct TrackerConfig {
    /// Public keys to track (configured, plus those of the loaded keystores).
    pub pubkeys: Vec<BlsPublicKey>,
    /// Index ranges to track.
    pub indices: Vec<RangeInclusive<u64>>,
    /// The operator's EigenPods: every validator pointing at one is tracked.
    pub pods: Vec<ExecutionAddress>,
    /// A balance drop between two updates larger than this is an event.
    pub balance_drop_threshold: Gwei,
    /// How often the tracked set is read.
    pub update_every: UpdateEvery,
    /// Rescan the whole registry for the pods' validators every this many epochs (`None`:
    /// only at the first start and after a gap in the blocks).
    pub rescan_every_epochs: Option<u64>,
    /// How often to poll the head while the event stream is down (`None`: once a slot).
    pub poll_interval: Option<Duration>,
    /// How long to poll before trying the event stream again.
    pub resubscribe_after: Duration,
    /// Export each tracked validator's balance as its own metric series.
    pub per_validator_metrics: bool,
    /// How long to wait for the store's write lock.
    pub busy_timeout: Duration,
}

impl TrackerConfig {
    /// A configuration tracking nothing yet, with the defaults.
    pub fn new() -> Self {
        Self {
            pubkeys: Vec::new(),
            indices: Vec::new(),
            pods: Vec::new(),
            balance_drop_threshold: Gwei(100_000_000),
            update_every: UpdateEvery::Epoch,
            rescan_every_epochs: None,
            poll_interval: None,
            resubscribe_after: Duration::from_secs(30),
            per_validator_metrics: false,
            busy_timeout: Duration::from_secs(5),
        }
    }
}

impl Default for TrackerConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// Why the tracker stopped or could not do something.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrackerError {
    /// The store could not be read or written.
    #[error("tracker store {path}: {action}: {source}")]
    Store {
        /// The SQLite file.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The SQLite error.
        source: rusqlite::Error,
    },
    /// The store was written by a newer restaked.
    #[error(
        "tracker store {path} has tracker schema {found}, newer than the {supported} this restaked understands"
    )]
    NewerSchema {
        /// The SQLite file.
        path: PathBuf,
        /// The version found.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// A stored record does not parse.
    #[error("tracker store {path}: {what} is corrupt: {reason}")]
    CorruptRecord {
        /// The SQLite file.
        path: PathBuf,
        /// Which record.
        what: String,
        /// Why it does not parse.
        reason: String,
    },
    /// The store tracks another chain than the beacon node serves.
    #[error(
        "tracker store {path} belongs to the chain with genesis validators root {stored}, but the beacon node serves {beacon}; use another data_dir or the right beacon node"
    )]
    OtherChain {
        /// The SQLite file.
        path: PathBuf,
        /// The stored root.
        stored: String,
        /// The beacon node's root.
        beacon: String,
    },
    /// The beacon node's chain spec lacks a value the tracker needs.
    #[error("the beacon node's /eth/v1/config/spec has no usable {0}")]
    Spec(&'static str),
    /// A beacon call failed.
    #[error(transparent)]
    Beacon(#[from] Error),
    /// A blocking task panicked or was cancelled.
    #[error("tracker background work failed: {0}")]
    Join(String),
}

impl TrackerError {
    pub(crate) fn store(path: &Path, action: &'static str, source: rusqlite::Error) -> Self {
        Self::Store {
            path: path.to_owned(),
            action,
            source,
        }
    }
}

/// Where the tracker is in its life.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Waiting for the beacon node (genesis and spec).
    #[default]
    Connecting,
    /// Scanning the registry for the pods' validators.
    Scanning,
    /// Following the chain through the event stream.
    Following,
    /// Following the chain by polling (the event stream is down).
    Polling,
    /// Stopped by an error it cannot recover from (see the logs).
    Failed,
}

impl Phase {
    /// The lower-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Scanning => "scanning",
            Self::Following => "following",
            Self::Polling => "polling",
            Self::Failed => "failed",
        }
    }
}

/// A summary of the tracker for status pages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TrackerStatus {
    /// What the tracker is doing.
    pub phase: Phase,
    /// The newest head seen.
    pub head_slot: Option<Slot>,
    /// The slot the tracked set was last read at.
    pub updated_slot: Option<Slot>,
    /// The newest finalized epoch seen.
    pub finalized_epoch: Option<Epoch>,
    /// Tracked validators.
    pub tracked: usize,
    /// Public keys waiting for the registry to give them an index.
    pub pending: usize,
}

/// What the tracker knows right now, shared with readers.
#[derive(Debug, Default)]
struct View {
    validators: BTreeMap<ValidatorIndex, TrackedValidator>,
    pending: BTreeMap<BlsPublicKey, TrackedBecause>,
    scanned_pods: BTreeSet<ExecutionAddress>,
    cursor: Cursor,
    phase: Phase,
    head_slot: Option<Slot>,
    /// Indices found by a scan, to read at the next update.
    found: BTreeSet<ValidatorIndex>,
    /// The epoch of the last whole-registry scan.
    scanned_epoch: Option<Epoch>,
}

/// The chain timing the tracker needs from the beacon node.
#[derive(Clone, Copy, Debug)]
struct Chain {
    slots_per_epoch: u64,
    slot_duration: Duration,
}

impl Chain {
    fn epoch(&self, slot: Slot) -> Epoch {
        Epoch(slot.0 / self.slots_per_epoch)
    }
}

/// The tracker. Cloning is cheap; clones share everything.
#[derive(Clone, Debug)]
pub struct Tracker {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    client: BeaconClient,
    config: TrackerConfig,
    pods: RwLock<BTreeSet<ExecutionAddress>>,
    store_path: PathBuf,
    store: Mutex<Option<TrackerStore>>,
    view: RwLock<View>,
    events: broadcast::Sender<TrackerEvent>,
    metrics: TrackerMetrics,
}

/// Reads through a poisoned lock: the view is replaced whole, never left half-written.
fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Tracker {
    /// A tracker over `client` that will keep its state in the SQLite file `store_path`, with
    /// metrics in `registry`. Nothing is read until [`run`](Self::run).
    pub fn new(
        client: BeaconClient,
        config: TrackerConfig,
        store_path: &Path,
        registry: &Registry,
    ) -> Result<Self, prometheus::Error> {
        let metrics = TrackerMetrics::register(registry, config.per_validator_metrics)?;
        let (events, _) = broadcast::channel(EVENT_CHANNEL);
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                pods: RwLock::new(config.pods.iter().copied().collect()),
                config,
                store_path: store_path.to_owned(),
                store: Mutex::new(None),
                view: RwLock::new(View::default()),
                events,
                metrics,
            }),
        })
    }

    /// The tracker's status.
    pub fn status(&self) -> TrackerStatus {
        let view = read(&self.inner.view);
        TrackerStatus {
            phase: view.phase,
            head_slot: view.head_slot,
            updated_slot: view.cursor.updated_slot,
            finalized_epoch: view.cursor.finalized_epoch,
            tracked: view.validators.len(),
            pending: view.pending.len(),
        }
    }

    /// Every tracked validator, by index.
    pub fn validators(&self) -> Vec<TrackedValidator> {
        read(&self.inner.view)
            .validators
            .values()
            .cloned()
            .collect()
    }

    /// One tracked validator, by index or public key.
    pub fn validator(&self, id: &ValidatorId) -> Option<TrackedValidator> {
        let view = read(&self.inner.view);
        match id {
            ValidatorId::Index(index) => view.validators.get(index).cloned(),
            ValidatorId::PublicKey(key) => view
                .validators
                .values()
                .find(|v| v.pubkey() == *key)
                .cloned(),
        }
    }

    /// The public keys waiting for an index, and why they are tracked.
    pub fn pending(&self) -> Vec<(BlsPublicKey, TrackedBecause)> {
        read(&self.inner.view)
            .pending
            .iter()
            .map(|(k, b)| (*k, *b))
            .collect()
    }

    /// The operator's pods.
    pub fn pods(&self) -> Vec<ExecutionAddress> {
        read(&self.inner.pods).iter().copied().collect()
    }

    /// Adds pods to track (found after start, e.g. an owner's pod read from the EigenPodManager):
    /// the next head scans the registry for their validators.
    pub fn add_pods(&self, pods: &[ExecutionAddress]) {
        write(&self.inner.pods).extend(pods.iter().copied());
    }

    /// Stored events after sequence number `after`, oldest first, at most `limit`, optionally
    /// of one validator. Empty until the tracker has opened its store.
    pub fn events(
        &self,
        after: u64,
        limit: usize,
        index: Option<ValidatorIndex>,
    ) -> Result<Vec<TrackerEvent>, TrackerError> {
        let store = self
            .inner
            .store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match store.as_ref() {
            Some(store) => store.events(after, limit, index),
            None => Ok(Vec::new()),
        }
    }

    /// New events as they are committed. Subscribe before reading the backlog with
    /// [`events`](Self::events) and skip sequence numbers already seen, and nothing is missed.
    pub fn subscribe(&self) -> broadcast::Receiver<TrackerEvent> {
        self.inner.events.subscribe()
    }

    /// Runs the tracker until `shutdown` is cancelled.
    ///
    /// An unreachable or failing beacon node is waited for and retried (the tracker degrades,
    /// it does not stop); only store errors and a store of another chain end it.
    pub async fn run(&self, shutdown: CancellationToken) -> Result<(), TrackerError> {
        let result = self.run_inner(&shutdown).await;
        if let Err(e) = &result {
            write(&self.inner.view).phase = Phase::Failed;
            self.inner.metrics.following(None);
            error!(error = %e, "tracker stopped");
        }
        result
    }

    async fn run_inner(&self, shutdown: &CancellationToken) -> Result<(), TrackerError> {
        let Some((chain, genesis_root)) = self.connect(shutdown).await else {
            return Ok(());
        };
        self.open_store(genesis_root).await?;
        while !shutdown.is_cancelled() {
            match self
                .inner
                .client
                .events(&[
                    EventTopic::Head,
                    EventTopic::FinalizedCheckpoint,
                    EventTopic::ChainReorg,
                ])
                .await
            {
                Ok(mut stream) => {
                    self.set_phase(Phase::Following);
                    info!(
                        endpoint = stream.endpoint(),
                        "tracker following the beacon event stream"
                    );
                    // Catch up on what happened while not subscribed.
                    self.poll_once(chain).await?;
                    loop {
                        let next = tokio::select! {
                            () = shutdown.cancelled() => return Ok(()),
                            next = stream.next() => next,
                        };
                        match next {
                            Ok(Some(BeaconEvent::Head(head))) => {
                                self.on_head(chain, head.slot, head.state).await?;
                            }
                            Ok(Some(BeaconEvent::ChainReorg(reorg))) => {
                                warn!(slot = %reorg.slot, depth = reorg.depth, "beacon chain reorganised; re-reading the tracked set");
                                self.update(chain, reorg.slot, reorg.new_head_state).await?;
                            }
                            Ok(Some(BeaconEvent::FinalizedCheckpoint(f))) => {
                                self.on_finalized(f.epoch);
                            }
                            Ok(None) => break,
                            Err(e) if matches!(e, Error::Malformed { .. }) => {
                                warn!(error = %e, "skipping a malformed beacon event");
                            }
                            Err(e) => {
                                warn!(error = %e, "beacon event stream broke");
                                break;
                            }
                        }
                    }
                }
                Err(e) => warn!(error = %e, "cannot subscribe to beacon events; polling instead"),
            }
            self.set_phase(Phase::Polling);
            if !self
                .poll_for(chain, shutdown, self.inner.config.resubscribe_after)
                .await?
            {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Waits until the beacon node gives its genesis and spec; `None` if shut down first.
    async fn connect(&self, shutdown: &CancellationToken) -> Option<(Chain, Root)> {
        let mut backoff = Duration::from_millis(250);
        loop {
            let attempt = async {
                let genesis = self.inner.client.genesis().await?;
                let spec = self.inner.client.spec().await?;
                let slots_per_epoch = spec
                    .slots_per_epoch()
                    .filter(|n| *n > 0)
                    .ok_or(TrackerError::Spec("SLOTS_PER_EPOCH"))?;
                let slot_duration = spec
                    .slot_duration()
                    .filter(|d| !d.is_zero())
                    .ok_or(TrackerError::Spec("SECONDS_PER_SLOT"))?;
                Ok::<_, TrackerError>((
                    Chain {
                        slots_per_epoch,
                        slot_duration,
                    },
                    genesis.genesis_validators_root,
                ))
            };
            match attempt.await {
                Ok(found) => return Some(found),
                Err(e) => {
                    warn!(error = %e, retry_in = ?backoff, "tracker waiting for the beacon node")
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return None,
                () = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(MAX_CONNECT_BACKOFF);
        }
    }

    async fn open_store(&self, genesis_root: Root) -> Result<(), TrackerError> {
        let path = self.inner.store_path.clone();
        let busy = self.inner.config.busy_timeout;
        let (store, loaded) = tokio::task::spawn_blocking(move || {
            let store = TrackerStore::open(&path, busy, genesis_root)?;
            let loaded = store.load()?;
            Ok::<_, TrackerError>((store, loaded))
        })
        .await
        .map_err(|e| TrackerError::Join(e.to_string()))??;
        info!(
            tracked = loaded.validators.len(),
            pending = loaded.pending.len(),
            resume_from = ?loaded.cursor.updated_slot,
            "tracker state loaded"
        );
        {
            let mut view = write(&self.inner.view);
            view.validators = loaded.validators;
            view.scanned_pods = loaded.scanned_pods;
            view.cursor = loaded.cursor;
            view.pending = loaded.pending;
            for key in &self.inner.config.pubkeys {
                if !view.validators.values().any(|v| v.pubkey() == *key) {
                    view.pending.entry(*key).or_insert(TrackedBecause::Pubkey);
                }
            }
            self.inner.metrics.set_validators(view.validators.values());
            if let Some(epoch) = view.cursor.finalized_epoch {
                self.inner.metrics.finalized(epoch.0);
            }
        }
        *self
            .inner
            .store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(store);
        Ok(())
    }

    fn set_phase(&self, phase: Phase) {
        write(&self.inner.view).phase = phase;
        self.inner.metrics.following(match phase {
            Phase::Following => Some("events"),
            Phase::Polling => Some("polling"),
            _ => None,
        });
    }

    /// Polls the head for `period`; `false` if shut down meanwhile.
    async fn poll_for(
        &self,
        chain: Chain,
        shutdown: &CancellationToken,
        period: Duration,
    ) -> Result<bool, TrackerError> {
        let interval = self
            .inner
            .config
            .poll_interval
            .unwrap_or(chain.slot_duration);
        let until = Instant::now() + period;
        while Instant::now() < until {
            self.poll_once(chain).await?;
            tokio::select! {
                () = shutdown.cancelled() => return Ok(false),
                () = tokio::time::sleep(interval) => {}
            }
        }
        Ok(true)
    }

    /// Reads the head header and finality once and acts on them; beacon errors are logged.
    async fn poll_once(&self, chain: Chain) -> Result<(), TrackerError> {
        match self.inner.client.header(BlockId::Head).await {
            Ok(Some(head)) => {
                let header = head.data.header.message;
                self.on_head(chain, header.slot, header.state_root).await?;
            }
            Ok(None) => debug!("beacon node has no head block yet"),
            Err(e) => {
                warn!(error = %e, "polling the beacon head failed");
                return Ok(());
            }
        }
        match self.inner.client.finality_checkpoints(StateId::Head).await {
            Ok(f) => self.on_finalized(f.data.finalized.epoch),
            Err(e) => debug!(error = %e, "reading finality checkpoints failed"),
        }
        Ok(())
    }

    fn on_finalized(&self, epoch: Epoch) {
        let mut view = write(&self.inner.view);
        if view.cursor.finalized_epoch.is_none_or(|e| e < epoch) {
            view.cursor.finalized_epoch = Some(epoch);
            self.inner.metrics.finalized(epoch.0);
        }
    }

    /// A new head: search its blocks for the pods, rescan or update when due. Beacon errors are
    /// logged and retried at the next head.
    async fn on_head(
        &self,
        chain: Chain,
        slot: Slot,
        state_root: Root,
    ) -> Result<(), TrackerError> {
        let (updated, scanned_all, rescan_due) = {
            let mut view = write(&self.inner.view);
            if view.head_slot.is_some_and(|h| h >= slot)
                && view.cursor.updated_slot.is_some_and(|u| u >= slot)
            {
                return Ok(());
            }
            view.head_slot = Some(slot);
            self.inner.metrics.head(slot.0);
            let scanned_all = read(&self.inner.pods)
                .iter()
                .all(|p| view.scanned_pods.contains(p));
            let rescan_due = match (self.inner.config.rescan_every_epochs, view.scanned_epoch) {
                (Some(every), Some(at)) => chain.epoch(slot).0 >= at.0.saturating_add(every),
                _ => false,
            };
            (view.cursor.updated_slot, scanned_all, rescan_due)
        };
        if !scanned_all || rescan_due {
            if let Err(e) = self.scan(chain, slot, state_root).await {
                warn!(error = %e, "scanning the registry for the pods' validators failed; retrying at the next head");
                self.inner.metrics.scan(false);
                return Ok(());
            }
        } else if let Err(e) = self.search_blocks(slot).await {
            warn!(error = %e, "reading blocks for deposits towards the pods failed; retrying at the next head");
        }
        let due = match (self.inner.config.update_every, updated) {
            (_, None) => true,
            (UpdateEvery::Slot, Some(u)) => slot > u,
            (UpdateEvery::Epoch, Some(u)) => chain.epoch(slot) > chain.epoch(u),
        };
        let has_work = {
            let view = read(&self.inner.view);
            !view.validators.is_empty()
                || !view.pending.is_empty()
                || !view.found.is_empty()
                || !self.inner.config.indices.is_empty()
        };
        if due && has_work {
            self.update(chain, slot, state_root).await?;
        }
        Ok(())
    }

    /// Scans the whole registry at `state_root` for validators pointing at the pods.
    async fn scan(&self, chain: Chain, slot: Slot, state_root: Root) -> Result<(), TrackerError> {
        let previous = read(&self.inner.view).phase;
        self.set_phase(Phase::Scanning);
        let result = self.scan_registry(chain, slot, state_root).await;
        self.set_phase(previous);
        result
    }

    async fn scan_registry(
        &self,
        chain: Chain,
        slot: Slot,
        state_root: Root,
    ) -> Result<(), TrackerError> {
        let pods = read(&self.inner.pods).clone();
        if pods.is_empty() {
            return Ok(());
        }
        let started = Instant::now();
        let ssz = self
            .inner
            .client
            .state_ssz(StateId::Root(state_root))
            .await?;
        let scanned: Vec<_> = pods.iter().map(|p| (*p, slot)).collect();
        let found = tokio::task::spawn_blocking(move || {
            // The registry is read in place: a mainnet state is never decoded in full.
            let registry = RegistryView::from_state_ssz(ssz.fork, &ssz.bytes)?;
            Ok::<_, Error>(
                registry
                    .iter()
                    .filter(|entry| {
                        entry
                            .validator
                            .withdrawal_credentials()
                            .execution_address()
                            .is_some_and(|a| pods.contains(&a))
                    })
                    .map(|entry| entry.index)
                    .collect::<Vec<_>>(),
            )
        })
        .await
        .map_err(|e| TrackerError::Join(e.to_string()))??;
        info!(
            %slot,
            found = found.len(),
            pods = scanned.len(),
            took = ?started.elapsed(),
            "scanned the validator registry for the pods' validators"
        );
        self.inner.metrics.scan(true);
        let cursor = {
            let mut view = write(&self.inner.view);
            view.found.extend(found);
            view.scanned_pods.extend(scanned.iter().map(|(p, _)| *p));
            view.scanned_epoch = Some(chain.epoch(slot));
            view.cursor.block_slot = Some(slot);
            view.cursor
        };
        // The scan's found indices are committed with the next update; the scanned pods and
        // the block cursor now, so a restart does not rescan.
        self.commit(Update {
            scanned_pods: scanned,
            cursor,
            ..Update::default()
        })
        .await?;
        Ok(())
    }

    /// Searches the blocks since the cursor for deposits and credential changes towards a pod.
    async fn search_blocks(&self, head: Slot) -> Result<(), TrackerError> {
        let pods = read(&self.inner.pods).clone();
        if pods.is_empty() {
            return Ok(());
        }
        let from = match read(&self.inner.view).cursor.block_slot {
            Some(done) if done >= head => return Ok(()),
            Some(done) => Slot(done.0 + 1),
            None => head,
        };
        if head.0 - from.0 >= MAX_BLOCK_CATCH_UP {
            info!(%from, %head, "too many blocks missed; rescanning the registry at the next head");
            write(&self.inner.view).scanned_pods.clear();
            return Ok(());
        }
        let mut pending = Vec::new();
        let mut found = Vec::new();
        for slot in from.0..=head.0 {
            let Some(ssz) = self
                .inner
                .client
                .block_ssz(BlockId::Slot(Slot(slot)))
                .await?
            else {
                continue;
            };
            let block = tokio::task::spawn_blocking(move || {
                SignedBeaconBlock::from_ssz_bytes(ssz.fork, &ssz.bytes)
            })
            .await
            .map_err(|e| TrackerError::Join(e.to_string()))??;
            for (pubkey, credentials) in block.deposits() {
                if credentials
                    .execution_address()
                    .is_some_and(|a| pods.contains(&a))
                {
                    info!(%pubkey, slot, "deposit towards a pod; tracking it");
                    pending.push((pubkey, TrackedBecause::Pod));
                }
            }
            for (index, address) in block.credential_changes() {
                if pods.contains(&address) {
                    info!(%index, slot, %address, "credentials changed towards a pod; tracking the validator");
                    found.push(index);
                }
            }
        }
        let cursor = {
            let mut view = write(&self.inner.view);
            view.found.extend(found);
            for (key, because) in &pending {
                if !view.validators.values().any(|v| v.pubkey() == *key) {
                    view.pending.entry(*key).or_insert(*because);
                }
            }
            view.cursor.block_slot = Some(head);
            view.cursor
        };
        self.commit(Update {
            pending,
            cursor,
            ..Update::default()
        })
        .await?;
        Ok(())
    }

    /// Reads the tracked set at `state_root`, compares, commits and publishes the events.
    async fn update(
        &self,
        _chain: Chain,
        slot: Slot,
        state_root: Root,
    ) -> Result<(), TrackerError> {
        let started = Instant::now();
        let ids = {
            let view = read(&self.inner.view);
            let mut ids: Vec<ValidatorId> = view
                .validators
                .keys()
                .chain(view.found.iter())
                .map(|i| ValidatorId::Index(*i))
                .collect();
            ids.extend(
                self.inner
                    .config
                    .indices
                    .iter()
                    .flat_map(|r| r.clone().map(|i| ValidatorId::Index(ValidatorIndex(i)))),
            );
            ids.extend(view.pending.keys().map(|k| ValidatorId::PublicKey(*k)));
            ids
        };
        if ids.is_empty() {
            return Ok(());
        }
        let response = match self
            .inner
            .client
            .validators(StateId::Root(state_root), &ids, &[])
            .await
        {
            Ok(r) => r,
            Err(e) => {
                warn!(error = %e, %slot, "reading the tracked validators failed; retrying at the next head");
                return Ok(());
            }
        };
        let (update, fresh) = {
            let view = read(&self.inner.view);
            self.compare(&view, slot, response.data)
        };
        let resolved: BTreeSet<BlsPublicKey> = update.resolved.iter().copied().collect();
        let events = self.commit(update).await?;
        {
            let mut view = write(&self.inner.view);
            for v in fresh {
                view.validators.insert(v.index(), v);
            }
            view.pending.retain(|k, _| !resolved.contains(k));
            view.found.clear();
            view.cursor.updated_slot = Some(slot);
            self.inner.metrics.set_validators(view.validators.values());
        }
        for event in events {
            self.publish(event);
        }
        self.inner
            .metrics
            .updated(slot.0, started.elapsed().as_secs_f64());
        debug!(%slot, took = ?started.elapsed(), "tracked set updated");
        Ok(())
    }

    /// The writes and events of one update (what changed between the view and `fetched`), and
    /// the new record of every fetched validator.
    fn compare(
        &self,
        view: &View,
        slot: Slot,
        fetched: Vec<crate::ValidatorData>,
    ) -> (Update, Vec<TrackedValidator>) {
        let threshold = self.inner.config.balance_drop_threshold;
        let pods = read(&self.inner.pods).clone();
        let mut update = Update {
            balances_slot: Some(slot),
            ..Update::default()
        };
        let mut fresh = Vec::with_capacity(fetched.len());
        for data in fetched {
            let pod = data
                .validator
                .withdrawal_credentials
                .execution_address()
                .filter(|a| pods.contains(a));
            let before = view.validators.get(&data.index);
            let pending = view.pending.get(&data.validator.pubkey);
            if pending.is_some() {
                update.resolved.push(data.validator.pubkey);
            }
            let because = before.map(|b| b.because).or(pending.copied()).unwrap_or(
                if self
                    .inner
                    .config
                    .indices
                    .iter()
                    .any(|r| r.contains(&data.index.0))
                {
                    TrackedBecause::Index
                } else {
                    TrackedBecause::Pod
                },
            );
            let slashed_seen_slot = before
                .and_then(|b| b.slashed_seen_slot)
                .or(data.validator.slashed.then_some(slot));
            let now = TrackedValidator {
                data,
                pod,
                because,
                updated_slot: slot,
                slashed_seen_slot,
            };
            let kinds = match before {
                None => diff::first_seen(&now),
                Some(before) => diff::changes(before, &now, threshold),
            };
            for kind in kinds {
                update.events.push((slot, now.index(), now.pubkey(), kind));
            }
            update.balances.push((now.index(), now.data.balance));
            // Balances change every epoch for everyone; they go into one row of their own, and a
            // record is rewritten only when something else changed.
            let rewrite = before.is_none_or(|b| {
                b.data.status != now.data.status
                    || b.data.validator != now.data.validator
                    || b.pod != now.pod
                    || b.slashed_seen_slot != now.slashed_seen_slot
            });
            if rewrite {
                update.validators.push(now.clone());
            }
            fresh.push(now);
        }
        update.cursor = Cursor {
            updated_slot: Some(slot),
            ..view.cursor
        };
        (update, fresh)
    }

    async fn commit(&self, update: Update) -> Result<Vec<TrackerEvent>, TrackerError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut store = inner
                .store
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match store.as_mut() {
                Some(store) => store.commit(update),
                None => Ok(Vec::new()),
            }
        })
        .await
        .map_err(|e| TrackerError::Join(e.to_string()))?
    }

    fn publish(&self, event: TrackerEvent) {
        self.inner.metrics.event(&event.kind);
        match event.severity() {
            Severity::Critical => {
                error!(index = %event.index, pubkey = %event.pubkey, slot = %event.slot, kind = event.kind.name(), detail = ?event.kind, "validator event")
            }
            Severity::Warning => {
                warn!(index = %event.index, pubkey = %event.pubkey, slot = %event.slot, kind = event.kind.name(), detail = ?event.kind, "validator event")
            }
            Severity::Info => {
                info!(index = %event.index, pubkey = %event.pubkey, slot = %event.slot, kind = event.kind.name(), detail = ?event.kind, "validator event")
            }
        }
        // No subscriber is fine: the event is in the store.
        let _ = self.inner.events.send(event);
    }
}
