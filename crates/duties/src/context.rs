//! What a duty module is handed: [`DutyContext`], its metrics view and its status reporter.

use std::{
    collections::BTreeMap,
    fmt,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, SystemTime},
};

use prometheus::{
    GaugeVec, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    core::Collector,
};
use restake_beacon::{BeaconClient, tracker::Tracker};
use restake_signer::ProtectedSigner;
use restake_types::{ModuleId, SlotClock, SystemSlotClock};

use crate::{DutyError, ExecutionProviders, ModuleStore, runtime::Shared};

/// Everything a duty module may use. Made by the runtime for every run of the module.
pub struct DutyContext {
    pub(crate) id: ModuleId,
    pub(crate) beacon: Option<BeaconClient>,
    pub(crate) execution: ExecutionProviders,
    pub(crate) tracker: Option<Tracker>,
    pub(crate) clock: Arc<ClockCell>,
    pub(crate) signer: ProtectedSigner,
    pub(crate) metrics: ModuleMetrics,
    pub(crate) store: ModuleStore,
    pub(crate) status: StatusReporter,
}

impl fmt::Debug for DutyContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DutyContext")
            .field("id", &self.id)
            .field("beacon", &self.beacon.is_some())
            .field("signer", &self.signer)
            .finish_non_exhaustive()
    }
}

impl DutyContext {
    /// The id of the module this context belongs to.
    pub fn id(&self) -> &ModuleId {
        &self.id
    }

    /// The beacon client, if the node has one configured.
    pub fn beacon(&self) -> Option<&BeaconClient> {
        self.beacon.as_ref()
    }

    /// Execution-chain providers by chain id.
    pub fn execution(&self) -> &ExecutionProviders {
        &self.execution
    }

    /// The node's validator tracker (its view of the operator's validators), if it runs one.
    pub fn tracker(&self) -> Option<&Tracker> {
        self.tracker.as_ref()
    }

    /// The beacon chain's slot clock; the first call asks the beacon node for genesis and spec.
    pub async fn slot_clock(&self) -> Result<Arc<dyn SlotClock>, DutyError> {
        self.clock.get(self.beacon.as_ref()).await
    }

    /// The signer, restricted to the module's own keys.
    pub fn signer(&self) -> &ProtectedSigner {
        &self.signer
    }

    /// The module's metrics view: every metric carries the `module` label.
    pub fn metrics(&self) -> &ModuleMetrics {
        &self.metrics
    }

    /// The module's namespace of the key-value store.
    pub fn store(&self) -> &ModuleStore {
        &self.store
    }

    /// The module's status reporter (healthy / degraded / failed).
    pub fn status(&self) -> &StatusReporter {
        &self.status
    }

    /// Records one duty: its duration goes to `restaked_module_duty_duration_seconds`, its
    /// outcome to `restaked_module_duties_total`, the time to the module's `last_duty`, and the
    /// whole result (with `detail`, a line for operators) to the runtime's result stream.
    pub fn record_duty(&self, duration: Duration, outcome: DutyOutcome, detail: impl Into<String>) {
        self.status.shared.record_duty(DutyResult {
            module: self.id.clone(),
            at: SystemTime::now(),
            outcome,
            duration,
            detail: detail.into(),
        });
    }
}

/// One duty a module performed, as streamed to operators.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DutyResult {
    /// The module.
    pub module: ModuleId,
    /// When the duty ended.
    pub at: SystemTime,
    /// How it ended.
    pub outcome: DutyOutcome,
    /// How long it took.
    pub duration: Duration,
    /// What was done, in one line (e.g. `eth-usd round 7: 3412.55 signed`).
    pub detail: String,
}

/// The slot clock shared by all modules: given (tests, dev) or learnt once from the beacon node.
#[derive(Default)]
pub(crate) struct ClockCell {
    cell: tokio::sync::OnceCell<Arc<dyn SlotClock>>,
}

impl ClockCell {
    pub(crate) fn fixed(clock: Arc<dyn SlotClock>) -> Self {
        Self {
            cell: tokio::sync::OnceCell::new_with(Some(clock)),
        }
    }

    async fn get(&self, beacon: Option<&BeaconClient>) -> Result<Arc<dyn SlotClock>, DutyError> {
        self.cell
            .get_or_try_init(|| async {
                let beacon = beacon.ok_or_else(|| {
                    DutyError::failed("no beacon node is configured, so there is no slot clock")
                })?;
                let genesis = beacon.genesis().await?;
                let spec = beacon.spec().await?;
                let slot_duration = spec.slot_duration().ok_or_else(|| {
                    DutyError::failed("the beacon node's spec has no SECONDS_PER_SLOT")
                })?;
                let clock: Arc<dyn SlotClock> = Arc::new(SystemSlotClock::new(
                    genesis.genesis_time_since_unix_epoch(),
                    slot_duration,
                ));
                Ok(clock)
            })
            .await
            .cloned()
    }
}

/// How a duty ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DutyOutcome {
    /// The duty was done.
    Done,
    /// There was nothing to do this round.
    Skipped,
    /// The duty failed; the module goes on.
    Failed,
}

impl DutyOutcome {
    /// The `outcome` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Skipped => "skipped",
            Self::Failed => "failed",
        }
    }
}

/// A module's metrics view over the node's registry: each metric gets the `module` const label.
///
/// Metrics are remembered by name, so a restarted module asking again for the same metric gets
/// the same collector instead of a duplicate-registration error. Label values of the vector
/// metrics must come from configuration (feed ids, source ids), never from data, so the series
/// stay bounded.
#[derive(Clone)]
pub struct ModuleMetrics {
    registry: Registry,
    module: ModuleId,
    registered: Arc<Mutex<BTreeMap<String, Registered>>>,
}

#[derive(Clone)]
enum Registered {
    Counter(IntCounter),
    Gauge(IntGauge),
    Histogram(Histogram),
    CounterVec(IntCounterVec),
    GaugeVec(GaugeVec),
}

impl fmt::Debug for ModuleMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ModuleMetrics")
            .field("module", &self.module)
            .finish_non_exhaustive()
    }
}

impl ModuleMetrics {
    pub(crate) fn new(registry: Registry, module: ModuleId) -> Self {
        Self {
            registry,
            module,
            registered: Arc::default(),
        }
    }

    /// The `module` label pair, for metrics a module builds itself.
    pub fn module_label(&self) -> (&'static str, &str) {
        ("module", self.module.as_str())
    }

    /// An integer counter `name` labelled with the module.
    pub fn counter(&self, name: &str, help: &str) -> Result<IntCounter, prometheus::Error> {
        match self.get_or_register(name, help, |opts| {
            let counter = IntCounter::with_opts(opts)?;
            Ok((Box::new(counter.clone()), Registered::Counter(counter)))
        })? {
            Registered::Counter(counter) => Ok(counter),
            _ => Err(kind_clash(name)),
        }
    }

    /// An integer gauge `name` labelled with the module.
    pub fn gauge(&self, name: &str, help: &str) -> Result<IntGauge, prometheus::Error> {
        match self.get_or_register(name, help, |opts| {
            let gauge = IntGauge::with_opts(opts)?;
            Ok((Box::new(gauge.clone()), Registered::Gauge(gauge)))
        })? {
            Registered::Gauge(gauge) => Ok(gauge),
            _ => Err(kind_clash(name)),
        }
    }

    /// A histogram `name` with `buckets`, labelled with the module.
    pub fn histogram(
        &self,
        name: &str,
        help: &str,
        buckets: Vec<f64>,
    ) -> Result<Histogram, prometheus::Error> {
        match self.get_or_register(name, help, |opts| {
            let histogram = Histogram::with_opts(HistogramOpts::from(opts).buckets(buckets))?;
            Ok((
                Box::new(histogram.clone()),
                Registered::Histogram(histogram),
            ))
        })? {
            Registered::Histogram(histogram) => Ok(histogram),
            _ => Err(kind_clash(name)),
        }
    }

    /// An integer counter family `name` with `labels` (besides `module`).
    pub fn counter_vec(
        &self,
        name: &str,
        help: &str,
        labels: &[&str],
    ) -> Result<IntCounterVec, prometheus::Error> {
        match self.get_or_register(name, help, |opts| {
            let counter = IntCounterVec::new(opts, labels)?;
            Ok((Box::new(counter.clone()), Registered::CounterVec(counter)))
        })? {
            Registered::CounterVec(counter) => Ok(counter),
            _ => Err(kind_clash(name)),
        }
    }

    /// A floating-point gauge family `name` with `labels` (besides `module`).
    pub fn gauge_vec(
        &self,
        name: &str,
        help: &str,
        labels: &[&str],
    ) -> Result<GaugeVec, prometheus::Error> {
        match self.get_or_register(name, help, |opts| {
            let gauge = GaugeVec::new(opts, labels)?;
            Ok((Box::new(gauge.clone()), Registered::GaugeVec(gauge)))
        })? {
            Registered::GaugeVec(gauge) => Ok(gauge),
            _ => Err(kind_clash(name)),
        }
    }

    /// The collector remembered under `name`, or a new one made by `make` and registered.
    fn get_or_register(
        &self,
        name: &str,
        help: &str,
        make: impl FnOnce(Opts) -> Result<(Box<dyn Collector>, Registered), prometheus::Error>,
    ) -> Result<Registered, prometheus::Error> {
        let mut registered = self
            .registered
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(existing) = registered.get(name) {
            return Ok(existing.clone());
        }
        let opts = Opts::new(name, help).const_label("module", self.module.as_str());
        let (collector, handle) = make(opts)?;
        self.registry.register(collector)?;
        registered.insert(name.to_owned(), handle.clone());
        Ok(handle)
    }
}

fn kind_clash(name: &str) -> prometheus::Error {
    prometheus::Error::Msg(format!(
        "module metric {name} is already registered as another kind"
    ))
}

/// A module's way to say how it is doing; shown in the runtime's statuses.
///
/// Reports from a run that has ended are ignored.
#[derive(Clone)]
pub struct StatusReporter {
    pub(crate) shared: Arc<Shared>,
    pub(crate) id: ModuleId,
    pub(crate) generation: u64,
}

impl fmt::Debug for StatusReporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatusReporter")
            .field("id", &self.id)
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

impl StatusReporter {
    /// The module works normally.
    pub fn healthy(&self) {
        self.shared
            .report(&self.id, self.generation, Health::Healthy, None);
    }

    /// The module works, but not fully (an endpoint down, a duty skipped).
    pub fn degraded(&self, message: impl Into<String>) {
        self.shared.report(
            &self.id,
            self.generation,
            Health::Degraded,
            Some(message.into()),
        );
    }

    /// The module cannot do its duties while still running (it may recover).
    pub fn failed(&self, message: impl Into<String>) {
        self.shared.report(
            &self.id,
            self.generation,
            Health::Failed,
            Some(message.into()),
        );
    }

    /// The time the module last recorded a duty, if ever.
    pub fn last_duty(&self) -> Option<SystemTime> {
        self.shared.last_duty(&self.id)
    }
}

/// What a module reported about itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Health {
    Healthy,
    Degraded,
    Failed,
}
