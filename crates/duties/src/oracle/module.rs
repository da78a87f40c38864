//! [`OracleModule`]: every feed's round loop, signing with write-ahead, publishing.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, PoisonError},
};

use futures_util::future::{join_all, try_join_all};
use prometheus::{GaugeVec, IntCounterVec};
use restake_signer::{KeyId, SignError, SignedMessage, SigningRequest, protection::Refusal};
use restake_types::ModuleId;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, info, info_span, warn};

use super::{
    aggregate::{Decision, Rules, aggregate, decide},
    config::{FeedConfig, OracleConfig},
    hub::{OracleHub, last_round_key, pending_key, report_key, reports_prefix},
    publish::post_with_retry,
    report::{Report, SignedReport},
    source::{SourceFailure, observe, unix_now},
    value::{as_f64, format_value},
};
use crate::{
    DutyContext, DutyError, DutyFuture, DutyModule, DutyOutcome, ModuleMetrics, ModuleStore,
    StatusReporter,
};

/// Most rounds tried in one interval when the protection store already holds a different
/// report for each (a lost module store): the rest wait for the next interval.
const MAX_CONFLICTS_PER_ROUND: u32 = 16;

/// The oracle duty module: attests each configured feed's value in signed, numbered reports.
///
/// Every `interval` a feed asks all its sources at once, drops failed, stale and outlying
/// answers, and if at least `quorum` agree, takes their median. A report is signed when the
/// feed has none yet, when the value moved at least `deviation_bps`, or when the `heartbeat`
/// passed since the last report's observation. Before signing, the report is stored as the
/// feed's pending report; after signing it goes to the history, the round advances and the
/// pending report is cleared, then it is broadcast through the [`OracleHub`] and POSTed to the
/// feed's aggregators. A pending report found at start is signed again as it is, never rebuilt,
/// so a restart never signs a different value for a round.
pub struct OracleModule {
    id: ModuleId,
    config: Arc<OracleConfig>,
    hub: OracleHub,
}

impl OracleModule {
    /// An oracle module `id` for `config`, sending its reports through `hub`.
    pub fn new(id: ModuleId, config: Arc<OracleConfig>, hub: OracleHub) -> Self {
        Self { id, config, hub }
    }
}

impl DutyModule for OracleModule {
    fn id(&self) -> ModuleId {
        self.id.clone()
    }

    fn kind(&self) -> &'static str {
        "oracle"
    }

    fn run(self: Box<Self>, ctx: DutyContext, shutdown: CancellationToken) -> DutyFuture {
        Box::pin(async move {
            let problems = self.config.check();
            if !problems.is_empty() {
                let listed: Vec<String> = problems
                    .iter()
                    .map(|(path, message)| format!("{path}: {message}"))
                    .collect();
                return Err(DutyError::failed(format!(
                    "invalid oracle configuration: {}",
                    listed.join("; ")
                )));
            }
            let metrics = OracleMetrics::register(ctx.metrics(), &self.config)?;
            let client = reqwest::Client::builder()
                .build()
                .map_err(|e| DutyError::failed(format!("cannot build the HTTP client: {e}")))?;
            let health = Health::new(ctx.status().clone());
            let feeds = self.config.feeds.iter().map(|feed| {
                Feed {
                    config: feed,
                    ctx: &ctx,
                    store: ctx.store(),
                    client: &client,
                    metrics: &metrics,
                    health: &health,
                    hub: &self.hub,
                }
                .run(&shutdown)
            });
            try_join_all(feeds).await?;
            Ok(())
        })
    }
}

/// The oracle's metrics; every label value comes from configuration or a fixed set.
struct OracleMetrics {
    value: GaugeVec,
    round: GaugeVec,
    rounds_signed: IntCounterVec,
    source_failures: IntCounterVec,
    staleness: GaugeVec,
    publish_failures: IntCounterVec,
    signing_refusals: IntCounterVec,
}

impl OracleMetrics {
    fn register(metrics: &ModuleMetrics, config: &OracleConfig) -> Result<Self, prometheus::Error> {
        let this = Self {
            value: metrics.gauge_vec(
                "restaked_oracle_value",
                "The feed's last signed value (as a float: display only).",
                &["feed"],
            )?,
            round: metrics.gauge_vec(
                "restaked_oracle_round",
                "The feed's last signed round.",
                &["feed"],
            )?,
            rounds_signed: metrics.counter_vec(
                "restaked_oracle_rounds_signed_total",
                "Reports signed (repeats of a pending report after a restart included).",
                &["feed"],
            )?,
            source_failures: metrics.counter_vec(
                "restaked_oracle_source_failures_total",
                "Source answers not used, by reason: timeout, http_status, invalid, stale, outlier, unavailable.",
                &["feed", "source", "reason"],
            )?,
            staleness: metrics.gauge_vec(
                "restaked_oracle_staleness_seconds",
                "Seconds since the observation time of the feed's last signed report.",
                &["feed"],
            )?,
            publish_failures: metrics.counter_vec(
                "restaked_oracle_publish_failures_total",
                "Reports an aggregator did not accept after every retry (one per report and aggregator).",
                &["feed"],
            )?,
            signing_refusals: metrics.counter_vec(
                "restaked_oracle_signing_refusals_total",
                "Reports the signer refused, by the signer's reason (conflicting_message: the round was signed before with another value).",
                &["feed", "reason"],
            )?,
        };
        // Every series exists from the start, so rates and alerts see zeroes, not gaps.
        for feed in &config.feeds {
            let id = feed.id.as_str();
            this.rounds_signed.with_label_values(&[id]);
            this.publish_failures.with_label_values(&[id]);
            this.signing_refusals
                .with_label_values(&[id, "conflicting_message"]);
            for source in &feed.sources {
                for reason in SourceFailure::REASONS {
                    this.source_failures
                        .with_label_values(&[id, source.id.as_str(), reason]);
                }
            }
        }
        Ok(this)
    }
}

/// The module's status from its feeds': degraded while any feed has a problem.
struct Health {
    status: StatusReporter,
    state: Mutex<HealthState>,
}

/// What a feed's problem is about: a round's is cleared by the next good round, a publishing
/// one only by the next report every aggregator accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Concern {
    Round,
    Publishing,
}

#[derive(Default)]
struct HealthState {
    problems: BTreeMap<(String, Concern), String>,
    /// What was last reported (`Some(None)`: healthy), to report changes only.
    reported: Option<Option<String>>,
}

impl Health {
    fn new(status: StatusReporter) -> Self {
        Self {
            status,
            state: Mutex::default(),
        }
    }

    /// Records `feed`'s problem of one concern (or that it has none) and reports the module's status if it
    /// changed.
    fn set(&self, feed: &str, concern: Concern, problem: Option<String>) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (feed.to_owned(), concern);
        match problem {
            Some(problem) => state.problems.insert(key, problem),
            None => state.problems.remove(&key),
        };
        let message = if state.problems.is_empty() {
            None
        } else {
            let listed: Vec<String> = state
                .problems
                .iter()
                .map(|((feed, _), problem)| format!("{feed}: {problem}"))
                .collect();
            Some(listed.join("; "))
        };
        if state.reported.as_ref() == Some(&message) {
            return;
        }
        match &message {
            None => self.status.healthy(),
            Some(message) => self.status.degraded(message.clone()),
        }
        state.reported = Some(message);
    }
}

/// What a feed knows between rounds.
#[derive(Debug, Default)]
struct FeedState {
    /// The highest round used: signed, or found signed before with another value.
    last_round: u64,
    /// The last signed report.
    last: Option<Report>,
    /// A report stored before signing and not yet signed.
    pending: Option<Report>,
}

/// How a round ended, for `record_duty`.
struct RoundEnd {
    outcome: DutyOutcome,
    detail: String,
}

impl RoundEnd {
    fn done(detail: String) -> Self {
        Self {
            outcome: DutyOutcome::Done,
            detail,
        }
    }

    fn skipped(detail: String) -> Self {
        Self {
            outcome: DutyOutcome::Skipped,
            detail,
        }
    }

    fn failed(detail: String) -> Self {
        Self {
            outcome: DutyOutcome::Failed,
            detail,
        }
    }
}

/// Whether a report being signed was built this round or found pending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Origin {
    Fresh,
    Pending,
}

/// One feed's round loop and what it uses.
struct Feed<'a> {
    config: &'a FeedConfig,
    ctx: &'a DutyContext,
    store: &'a ModuleStore,
    client: &'a reqwest::Client,
    metrics: &'a OracleMetrics,
    health: &'a Health,
    hub: &'a OracleHub,
}

impl Feed<'_> {
    fn id(&self) -> &str {
        &self.config.id
    }

    async fn run(self, shutdown: &CancellationToken) -> Result<(), DutyError> {
        let mut state = self.load()?;
        if let Some(last) = &state.last {
            self.show_last(last);
        }
        info!(
            feed = self.id(),
            last_round = state.last_round,
            pending = state.pending.as_ref().map(|r| r.round),
            "oracle feed started"
        );
        let mut ticker = tokio::time::interval(self.config.interval);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                _ = ticker.tick() => {}
            }
            let started = Instant::now();
            // Cancelling mid-round is safe: a report is stored as pending before it is signed,
            // and a pending report is signed again, unchanged, at the next start.
            let span = info_span!(
                "oracle_round",
                module = %self.ctx.id(),
                feed = self.id(),
                round = state.last_round.saturating_add(1)
            );
            let end = tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                end = self.round(&mut state).instrument(span) => end?,
            };
            self.ctx
                .record_duty(started.elapsed(), end.outcome, end.detail);
        }
    }

    /// The feed's state from the store: last round, last signed report, pending report.
    fn load(&self) -> Result<FeedState, DutyError> {
        let feed = self.id();
        let last = self.newest_signed()?.map(|signed| signed.report);
        let stored_round = match self.store.get(&last_round_key(feed))? {
            None => 0,
            Some(bytes) => std::str::from_utf8(&bytes)
                .ok()
                .and_then(|text| text.parse::<u64>().ok())
                .ok_or_else(|| {
                    DutyError::failed(format!(
                        "oracle feed {feed}: the stored last round is not a number"
                    ))
                })?,
        };
        let pending = match self.store.get(&pending_key(feed))? {
            None => None,
            Some(bytes) => match serde_json::from_slice::<Report>(&bytes) {
                Ok(report) if report.feed == feed => Some(report),
                Ok(report) => {
                    warn!(
                        feed,
                        found = report.feed,
                        "dropping a pending report of another feed"
                    );
                    self.store.delete(&pending_key(feed))?;
                    None
                }
                Err(e) => {
                    // The protection store still refuses another value for its round.
                    warn!(feed, error = %e, "dropping a pending report that does not parse");
                    self.store.delete(&pending_key(feed))?;
                    None
                }
            },
        };
        let last_round = stored_round.max(last.as_ref().map_or(0, |r| r.round));
        Ok(FeedState {
            last_round,
            last,
            pending,
        })
    }

    /// The newest signed report in the module's store.
    fn newest_signed(&self) -> Result<Option<SignedReport>, DutyError> {
        let newest = self.store.scan(&reports_prefix(self.id()), 1, true)?;
        let Some((key, value)) = newest.into_iter().next() else {
            return Ok(None);
        };
        serde_json::from_slice::<SignedReport>(&value)
            .map(Some)
            .map_err(|e| {
                DutyError::failed(format!(
                    "oracle feed {}: the stored report {key} does not parse: {e}",
                    self.id()
                ))
            })
    }

    fn show_last(&self, last: &Report) {
        let feed = self.id();
        self.metrics
            .value
            .with_label_values(&[feed])
            .set(as_f64(last.value, last.decimals));
        self.metrics
            .round
            .with_label_values(&[feed])
            .set(last.round as f64);
        self.show_staleness(last, unix_now());
    }

    fn show_staleness(&self, last: &Report, now: u64) {
        self.metrics
            .staleness
            .with_label_values(&[self.id()])
            .set(now.saturating_sub(last.observed_at) as f64);
    }

    /// One round: a pending report is signed as it is; otherwise the sources are asked and a
    /// report is signed if one is due.
    async fn round(&self, state: &mut FeedState) -> Result<RoundEnd, DutyError> {
        if let Some(last) = &state.last {
            self.show_staleness(last, unix_now());
        }
        if let Some(pending) = state.pending.take() {
            info!(
                feed = self.id(),
                round = pending.round,
                "signing the pending report again, unchanged"
            );
            return self.sign(state, pending, Origin::Pending).await;
        }
        let feed = self.id();
        let decimals = self.config.decimals;
        let answers = join_all(self.config.sources.iter().map(|source| async move {
            let answer = observe(source, decimals, self.client, self.ctx).await;
            (source.id.clone(), answer)
        }))
        .await;
        let now = unix_now();
        let aggregation = aggregate(
            answers,
            now,
            Rules {
                max_age: self.config.max_age.as_secs(),
                outlier_bps: self.config.outlier_bps,
                quorum: self.config.quorum,
                decimals,
            },
        );
        for (source, failure) in &aggregation.failures {
            self.metrics
                .source_failures
                .with_label_values(&[feed, source.as_str(), failure.reason()])
                .inc();
            debug!(feed, source, reason = failure.reason(), "{failure}");
        }
        let agreed = match aggregation.outcome {
            Ok(agreed) => agreed,
            Err(missed) => {
                let failures: Vec<String> = aggregation
                    .failures
                    .iter()
                    .map(|(source, failure)| format!("{source} {failure}"))
                    .collect();
                let why = format!(
                    "{} of {} sources agree (quorum {})",
                    missed.agreeing, missed.sources, missed.quorum
                );
                warn!(feed, failures = failures.join(", "), "round skipped: {why}");
                self.health.set(
                    feed,
                    Concern::Round,
                    Some(format!("round skipped, {why}: {}", failures.join(", "))),
                );
                return Ok(RoundEnd::failed(format!("{feed}: skipped, {why}")));
            }
        };
        let value = format_value(agreed.value, decimals);
        let due = match decide(
            &agreed,
            state.last.as_ref(),
            decimals,
            self.config.deviation_bps,
            self.config.heartbeat.as_secs(),
            now,
        ) {
            Decision::Publish(due) => due,
            Decision::Skip(why) => {
                self.health.set(feed, Concern::Round, None);
                return Ok(RoundEnd::skipped(format!(
                    "{feed}: {value} not published, {why}"
                )));
            }
        };
        debug!(feed, value, due = due.as_str(), "report due");
        let report = Report {
            feed: feed.to_owned(),
            round: state.last_round.saturating_add(1),
            value: agreed.value,
            decimals,
            observed_at: agreed.observed_at,
            sources: agreed.sources,
        };
        let mut end = self.sign(state, report, Origin::Fresh).await?;
        if end.outcome == DutyOutcome::Done {
            end.detail = format!("{} ({})", end.detail, due.as_str());
        }
        Ok(end)
    }

    fn signing_request(&self, report: &Report) -> SigningRequest {
        SigningRequest {
            key: self.config.key.clone(),
            domain: format!("oracle/{}", report.feed),
            conflict_key: report.round.to_be_bytes().to_vec(),
            ordering: Some(report.round),
            message: report.digest().to_vec(),
        }
    }

    /// Signs `report` with write-ahead, then stores, advances and publishes it. A round the
    /// protection store already holds with another value is skipped for the next one (a fresh
    /// report keeps its value under the next round number; a pending one is dropped).
    async fn sign(
        &self,
        state: &mut FeedState,
        mut report: Report,
        origin: Origin,
    ) -> Result<RoundEnd, DutyError> {
        let feed = self.id();
        let Some(public_key_g2) = self.g2_key() else {
            let why = format!("the signing key {} is not loaded", self.config.key);
            if origin == Origin::Pending {
                state.pending = Some(report);
            }
            self.health.set(feed, Concern::Round, Some(why.clone()));
            return Ok(RoundEnd::failed(format!("{feed}: not signed, {why}")));
        };
        let pending = pending_key(feed);
        for _ in 0..MAX_CONFLICTS_PER_ROUND {
            self.store
                .put(&pending, &serde_json::to_vec(&report).unwrap_or_default())?;
            let error = match self.ctx.signer().sign(self.signing_request(&report)).await {
                Ok(signed) => return self.signed(state, report, signed, public_key_g2).await,
                Err(error) => error,
            };
            let round = report.round;
            self.metrics
                .signing_refusals
                .with_label_values(&[feed, error.reason()])
                .inc();
            match error {
                SignError::Refused(Refusal::ConflictingMessage { .. }) => {
                    warn!(
                        feed,
                        round,
                        "the protection store holds another report for this round: not publishing it, moving to the next round"
                    );
                    self.consume_rounds(state, round)?;
                    if origin == Origin::Pending {
                        return Ok(RoundEnd::failed(format!(
                            "{feed} round {round}: signed before with another value, skipped"
                        )));
                    }
                    report.round = round.saturating_add(1);
                }
                SignError::Refused(Refusal::OrderingNotAdvanced { latest, .. }) => {
                    // Rounds up to `latest` were signed by an earlier life of this store.
                    self.consume_rounds(state, latest.max(round))?;
                    let why = format!(
                        "round {round} refused, rounds up to {latest} were signed before; continuing from {}",
                        state.last_round.saturating_add(1)
                    );
                    warn!(feed, "{why}");
                    self.health.set(feed, Concern::Round, Some(why.clone()));
                    return Ok(RoundEnd::failed(format!("{feed}: {why}")));
                }
                error @ (SignError::Store(_) | SignError::ShuttingDown) => {
                    // The record may or may not be committed: only this exact report may be
                    // signed for the round, so it stays pending and is tried again.
                    state.pending = Some(report);
                    let why = format!("round {round} not signed yet: {error}");
                    warn!(feed, "{why}");
                    self.health.set(feed, Concern::Round, Some(why.clone()));
                    return Ok(RoundEnd::failed(format!("{feed}: {why}")));
                }
                error => {
                    // Nothing was recorded: the round is free for a fresh report.
                    self.store.delete(&pending)?;
                    let why = format!("round {round} not signed: {error}");
                    warn!(feed, "{why}");
                    self.health.set(feed, Concern::Round, Some(why.clone()));
                    return Ok(RoundEnd::failed(format!("{feed}: {why}")));
                }
            }
        }
        Ok(RoundEnd::failed(format!(
            "{feed}: {MAX_CONFLICTS_PER_ROUND} rounds up to {} were signed before with other values; continuing next interval",
            state.last_round
        )))
    }

    /// Marks rounds up to `round` used (signed, or found signed before) and clears the pending
    /// report.
    fn consume_rounds(&self, state: &mut FeedState, round: u64) -> Result<(), DutyError> {
        let feed = self.id();
        state.last_round = state.last_round.max(round);
        self.store.put(
            &last_round_key(feed),
            state.last_round.to_string().as_bytes(),
        )?;
        self.store.delete(&pending_key(feed))?;
        state.pending = None;
        Ok(())
    }

    /// The G2 key to publish with a BN254 signature (`Some(None)` for BLS12-381); `None` when
    /// the key is not loaded.
    fn g2_key(&self) -> Option<Option<Vec<u8>>> {
        let key: &KeyId = &self.config.key;
        let info = self
            .ctx
            .signer()
            .keys()
            .into_iter()
            .find(|info| info.id == *key)?;
        Some(info.bn254.map(|keys| keys.g2.to_bytes().to_vec()))
    }

    async fn signed(
        &self,
        state: &mut FeedState,
        report: Report,
        signed: SignedMessage,
        public_key_g2: Option<Vec<u8>>,
    ) -> Result<RoundEnd, DutyError> {
        let feed = self.id();
        let round = report.round;
        let signed_report = SignedReport {
            report: report.clone(),
            scheme: self.config.key.scheme,
            public_key: self.config.key.public_key.clone(),
            public_key_g2,
            signature: signed.signature,
        };
        let json = signed_report.to_json();
        self.store.put(&report_key(feed, round), &json)?;
        self.consume_rounds(state, round)?;
        state.last = Some(report.clone());

        self.metrics.rounds_signed.with_label_values(&[feed]).inc();
        self.show_last(&report);
        let value = format_value(report.value, report.decimals);
        info!(
            feed,
            round,
            value,
            repeated = signed.repeated,
            "oracle report signed"
        );
        self.hub.send(signed_report);

        let results = join_all(
            self.config
                .publish_urls
                .iter()
                .map(|url| post_with_retry(self.client, url, &json)),
        )
        .await;
        let failures: Vec<String> = results.into_iter().filter_map(Result::err).collect();
        for failure in &failures {
            self.metrics
                .publish_failures
                .with_label_values(&[feed])
                .inc();
            warn!(feed, round, "publishing failed: {failure}");
        }
        let repeated = if signed.repeated { " again" } else { "" };
        let mut detail = format!("{feed} round {round}: {value} signed{repeated}");
        self.health.set(feed, Concern::Round, None);
        if failures.is_empty() {
            self.health.set(feed, Concern::Publishing, None);
        } else {
            let why = format!("publishing round {round} failed: {}", failures.join("; "));
            detail = format!(
                "{detail}, {} of {} aggregators failed",
                failures.len(),
                self.config.publish_urls.len()
            );
            self.health.set(feed, Concern::Publishing, Some(why));
        }
        Ok(RoundEnd::done(detail))
    }
}
