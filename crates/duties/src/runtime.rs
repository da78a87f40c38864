//! The module runtime: registration, supervision with backoff, enable/disable and statuses.

use std::{
    collections::{BTreeMap, hash_map::RandomState},
    fmt,
    hash::BuildHasher,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::{Duration, SystemTime},
};

use prometheus::Registry;
use restake_beacon::{BeaconClient, tracker::Tracker};
use restake_signer::ProtectedSigner;
use restake_types::{ModuleId, SlotClock};
use tokio::{
    sync::{broadcast, watch},
    task::{AbortHandle, JoinError, JoinHandle},
    time::Instant,
};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::{
    DutyContext, DutyModule, DutyOutcome, DutyResult, ExecutionProviders, ModuleFactory, ModuleKv,
    ModuleMetrics, RuntimeError, StatusReporter,
    context::{ClockCell, Health},
    metrics::RuntimeMetrics,
};

/// Duty results kept for slow stream readers before they miss some.
const RESULT_BUFFER: usize = 1024;

/// What the node shares with every module: chain access and the tracker.
#[derive(Clone, Default)]
pub struct Resources {
    /// The beacon client, if a beacon node is configured.
    pub beacon: Option<BeaconClient>,
    /// Execution-chain providers by chain id.
    pub execution: ExecutionProviders,
    /// The validator tracker, if the node runs one.
    pub tracker: Option<Tracker>,
    /// A slot clock to use instead of asking the beacon node (tests drive time with it).
    pub slot_clock: Option<Arc<dyn SlotClock>>,
}

impl fmt::Debug for Resources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resources")
            .field("beacon", &self.beacon.is_some())
            .field("execution", &self.execution)
            .field("tracker", &self.tracker.is_some())
            .field("slot_clock", &self.slot_clock.is_some())
            .finish()
    }
}

/// Restart delays after failures: `base * 2^(failures - 1)`, capped at `max`, with jitter
/// (the delay is drawn uniformly from its upper half).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// Delay after the first failure (before jitter).
    pub base: Duration,
    /// Longest delay; a run lasting at least this long resets the failure count.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(1),
            max: Duration::from_secs(300),
        }
    }
}

impl Backoff {
    /// The delay before restarting after `failures` consecutive failures (at least 1).
    pub fn delay(&self, failures: u32) -> Duration {
        let exponent = failures.saturating_sub(1).min(31);
        let full = self.base.saturating_mul(1 << exponent).min(self.max);
        let half = full / 2;
        let nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        let jitter = RandomState::new().hash_one(failures) % nanos.saturating_add(1);
        half + Duration::from_nanos(jitter)
    }
}

/// The runtime's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// Restart delays after failures.
    pub backoff: Backoff,
    /// How long `disable` and `restart` wait for a module to stop before aborting it.
    pub stop_deadline: Duration,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            backoff: Backoff::default(),
            stop_deadline: Duration::from_secs(10),
        }
    }
}

/// Where a module is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ModuleState {
    /// Being (re)started.
    Starting,
    /// Running and healthy.
    Running,
    /// Running, but reported itself degraded.
    Degraded,
    /// Failed (its run ended with an error or panic, or it reported failure); restarts follow.
    Failed,
    /// Disabled by the operator.
    Disabled,
    /// Not running: the runtime is not started or shut down, or the module's run ended normally.
    Stopped,
}

impl ModuleState {
    /// Every state, in the order of the `state` label values.
    pub const ALL: [Self; 6] = [
        Self::Starting,
        Self::Running,
        Self::Degraded,
        Self::Failed,
        Self::Disabled,
        Self::Stopped,
    ];

    /// The `state` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Starting => "starting",
            Self::Running => "running",
            Self::Degraded => "degraded",
            Self::Failed => "failed",
            Self::Disabled => "disabled",
            Self::Stopped => "stopped",
        }
    }
}

impl fmt::Display for ModuleState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One module's status, as shown by the API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleStatus {
    /// The module id.
    pub id: ModuleId,
    /// The module kind.
    pub kind: &'static str,
    /// Whether the module is enabled.
    pub enabled: bool,
    /// Its state.
    pub state: ModuleState,
    /// The error of its last failed run (or its last failure report).
    pub last_error: Option<String>,
    /// The message of its last degraded report while it is degraded.
    pub message: Option<String>,
    /// Restarts after failures since registration.
    pub restarts: u64,
    /// When it last recorded a duty.
    pub last_duty: Option<SystemTime>,
}

/// What [`ModuleRuntime::shutdown`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Modules that did not stop within the deadline; their tasks were aborted.
    pub not_stopped: Vec<ModuleId>,
}

/// Runs the registered duty modules, restarts failed ones with backoff and enables or disables
/// them at run time. One module failing never stops the others or the runtime.
pub struct ModuleRuntime {
    shared: Arc<Shared>,
}

impl fmt::Debug for ModuleRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ModuleRuntime")
            .field("modules", &self.statuses())
            .finish_non_exhaustive()
    }
}

pub(crate) struct Shared {
    config: RuntimeConfig,
    registry: Registry,
    beacon: Option<BeaconClient>,
    execution: ExecutionProviders,
    validator_tracker: Option<Tracker>,
    clock: Arc<ClockCell>,
    kv: ModuleKv,
    tracker: TaskTracker,
    metrics: RuntimeMetrics,
    statuses: watch::Sender<Vec<ModuleStatus>>,
    results: broadcast::Sender<DutyResult>,
    inner: Mutex<Inner>,
}

struct Inner {
    /// The runtime's token once started; every module runs under a child of it.
    root: Option<CancellationToken>,
    entries: BTreeMap<ModuleId, Entry>,
}

struct Entry {
    kind: &'static str,
    factory: ModuleFactory,
    signer: ProtectedSigner,
    metrics: ModuleMetrics,
    enabled: bool,
    state: ModuleState,
    last_error: Option<String>,
    message: Option<String>,
    restarts: u64,
    last_duty: Option<SystemTime>,
    /// Bumped at the start and end of every run, so reports of an ended run are ignored.
    generation: u64,
    run: Option<Run>,
    /// A `disable` or `restart` is waiting for the previous run to stop; nothing may start a
    /// new run until it has (`settle` starts it if the module is enabled by then).
    stopping: bool,
}

/// A module's supervisor task and how to stop it.
struct Run {
    token: CancellationToken,
    supervisor: JoinHandle<()>,
    /// The task of the module's current run, aborted if it does not stop in time.
    module: Arc<Mutex<Option<AbortHandle>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ModuleRuntime {
    /// A runtime whose modules use `resources` and `kv`, register their metrics in `registry`
    /// and are spawned on `tracker`.
    pub fn new(
        config: RuntimeConfig,
        registry: &Registry,
        resources: Resources,
        kv: ModuleKv,
        tracker: TaskTracker,
    ) -> Result<Self, RuntimeError> {
        let metrics = RuntimeMetrics::new(registry)?;
        let (statuses, _) = watch::channel(Vec::new());
        let (results, _) = broadcast::channel(RESULT_BUFFER);
        let clock = resources
            .slot_clock
            .map_or_else(ClockCell::default, ClockCell::fixed);
        Ok(Self {
            shared: Arc::new(Shared {
                config,
                registry: registry.clone(),
                beacon: resources.beacon,
                execution: resources.execution,
                validator_tracker: resources.tracker,
                clock: Arc::new(clock),
                kv,
                tracker,
                metrics,
                statuses,
                results,
                inner: Mutex::new(Inner {
                    root: None,
                    entries: BTreeMap::new(),
                }),
            }),
        })
    }

    /// Registers module `id`, made by `factory`, signing with `signer` (already restricted to
    /// the module's keys). If the runtime is started and `enabled`, the module starts now.
    pub fn register(
        &self,
        id: ModuleId,
        factory: impl Fn() -> Box<dyn DutyModule> + Send + Sync + 'static,
        signer: ProtectedSigner,
        enabled: bool,
    ) -> Result<(), RuntimeError> {
        let probe = factory();
        let reported = probe.id();
        if reported != id {
            return Err(RuntimeError::IdMismatch {
                registered: id,
                reported,
            });
        }
        let kind = probe.kind();
        drop(probe);
        let mut inner = lock(&self.shared.inner);
        if inner.entries.contains_key(&id) {
            return Err(RuntimeError::Duplicate(id));
        }
        let mut entry = Entry {
            kind,
            factory: Arc::new(factory),
            signer,
            metrics: ModuleMetrics::new(self.shared.registry.clone(), id.clone()),
            enabled,
            state: if enabled {
                ModuleState::Stopped
            } else {
                ModuleState::Disabled
            },
            last_error: None,
            message: None,
            restarts: 0,
            last_duty: None,
            generation: 0,
            run: None,
            stopping: false,
        };
        self.shared.set_gauge(&id, entry.state);
        // Every series from zero, so `increase()` sees the first restart and alerts that use
        // them find them before anything happened.
        self.shared
            .metrics
            .restarts
            .with_label_values(&[id.as_str()]);
        for outcome in [DutyOutcome::Done, DutyOutcome::Skipped, DutyOutcome::Failed] {
            self.shared
                .metrics
                .duties
                .with_label_values(&[id.as_str(), outcome.as_str()]);
        }
        if enabled && let Some(root) = inner.root.clone() {
            self.shared.launch(&id, &mut entry, &root);
        }
        inner.entries.insert(id, entry);
        self.shared.publish(&inner);
        Ok(())
    }

    /// Starts every enabled module; they stop when `shutdown` is cancelled.
    pub fn start(&self, shutdown: CancellationToken) {
        let mut inner = lock(&self.shared.inner);
        let Inner { root, entries } = &mut *inner;
        *root = Some(shutdown.clone());
        for (id, entry) in entries.iter_mut() {
            if entry.enabled && entry.run.is_none() {
                self.shared.launch(id, entry, &shutdown);
            }
        }
        self.shared.publish(&inner);
    }

    /// Enables module `id` and starts it if the runtime is running.
    pub fn enable(&self, id: &ModuleId) -> Result<(), RuntimeError> {
        let mut inner = lock(&self.shared.inner);
        let root = inner.root.clone();
        let entry = inner
            .entries
            .get_mut(id)
            .ok_or_else(|| RuntimeError::Unknown(id.clone()))?;
        if entry.enabled {
            return Ok(());
        }
        entry.enabled = true;
        if entry.stopping {
            // The pending disable's `settle` starts it once the old run is gone.
            return Ok(());
        }
        entry.state = ModuleState::Stopped;
        self.shared.set_gauge(id, entry.state);
        if let Some(root) = root
            && entry.run.is_none()
        {
            self.shared.launch(id, entry, &root);
        }
        self.shared.publish(&inner);
        Ok(())
    }

    /// Disables module `id`: cancels it and waits for it up to the configured stop deadline,
    /// then aborts it and returns [`RuntimeError::StopTimeout`] if it had not stopped.
    pub async fn disable(&self, id: &ModuleId) -> Result<(), RuntimeError> {
        let run = {
            let mut inner = lock(&self.shared.inner);
            let entry = inner
                .entries
                .get_mut(id)
                .ok_or_else(|| RuntimeError::Unknown(id.clone()))?;
            entry.enabled = false;
            entry.stopping = entry.run.is_some();
            entry.run.take()
        };
        self.stop_and_settle(id, run).await
    }

    /// Stops `run` (if any) within the stop deadline and settles module `id`. The work runs on
    /// a task of its own, so a caller that goes away (a client timeout dropping the future)
    /// cannot leave the module half-stopped: between taking the run and settling it, the
    /// module is marked as stopping and nothing else may start it.
    async fn stop_and_settle(&self, id: &ModuleId, run: Option<Run>) -> Result<(), RuntimeError> {
        let shared = self.shared.clone();
        let settled = id.clone();
        let task = self.shared.tracker.spawn(async move {
            let stopped = match run {
                Some(run) => stop(run, Instant::now() + shared.config.stop_deadline).await,
                None => true,
            };
            shared.settle(&settled, stopped);
            stopped
        });
        // The task is never aborted; a panic in it would be a bug in `stop`, not a timeout.
        if task.await.unwrap_or(false) {
            Ok(())
        } else {
            Err(RuntimeError::StopTimeout(id.clone()))
        }
    }

    /// Stops module `id` (waiting up to the stop deadline) and starts a new instance of it,
    /// with a fresh failure count. Operator restarts are not counted in `restarts`.
    pub async fn restart(&self, id: &ModuleId) -> Result<(), RuntimeError> {
        let run = {
            let mut inner = lock(&self.shared.inner);
            let entry = inner
                .entries
                .get_mut(id)
                .ok_or_else(|| RuntimeError::Unknown(id.clone()))?;
            entry.stopping = entry.run.is_some();
            entry.run.take()
        };
        self.stop_and_settle(id, run).await
    }

    /// The status of every registered module, by id.
    pub fn statuses(&self) -> Vec<ModuleStatus> {
        snapshot(&lock(&self.shared.inner))
    }

    /// A receiver of the statuses, updated on every change.
    pub fn subscribe(&self) -> watch::Receiver<Vec<ModuleStatus>> {
        self.shared.statuses.subscribe()
    }

    /// A receiver of every duty result recorded from now on, by all modules.
    pub fn subscribe_results(&self) -> broadcast::Receiver<DutyResult> {
        self.shared.results.subscribe()
    }

    /// Cancels every module and waits for them until `deadline` has passed; modules still
    /// running then are aborted and listed in the report.
    pub async fn shutdown(&self, deadline: Duration) -> ShutdownReport {
        let runs: Vec<(ModuleId, Run)> = {
            let mut inner = lock(&self.shared.inner);
            if let Some(root) = &inner.root {
                root.cancel();
            }
            inner
                .entries
                .iter_mut()
                .filter_map(|(id, entry)| entry.run.take().map(|run| (id.clone(), run)))
                .collect()
        };
        let until = Instant::now() + deadline;
        for (_, run) in &runs {
            run.token.cancel();
        }
        let mut report = ShutdownReport::default();
        for (id, run) in runs {
            let stopped = stop(run, until).await;
            self.shared.settle(&id, stopped);
            if !stopped {
                tracing::warn!(module = %id, "module did not stop within the shutdown deadline");
                report.not_stopped.push(id);
            }
        }
        report
    }
}

/// Cancels `run` and waits for its supervisor until `until`; aborts it if it is still running
/// then. Returns whether it stopped in time.
async fn stop(run: Run, until: Instant) -> bool {
    run.token.cancel();
    let mut supervisor = run.supervisor;
    if tokio::time::timeout_at(until, &mut supervisor)
        .await
        .is_ok()
    {
        return true;
    }
    if let Some(module) = lock(&run.module).take() {
        module.abort();
    }
    supervisor.abort();
    false
}

fn snapshot(inner: &Inner) -> Vec<ModuleStatus> {
    inner
        .entries
        .iter()
        .map(|(id, entry)| ModuleStatus {
            id: id.clone(),
            kind: entry.kind,
            enabled: entry.enabled,
            state: entry.state,
            last_error: entry.last_error.clone(),
            message: entry.message.clone(),
            restarts: entry.restarts,
            last_duty: entry.last_duty,
        })
        .collect()
}

/// How one run of a module ended.
enum RunEnd {
    Returned,
    Error(String),
}

impl RunEnd {
    fn of(result: Result<Result<(), crate::DutyError>, JoinError>) -> Self {
        match result {
            Ok(Ok(())) => Self::Returned,
            Ok(Err(error)) => Self::Error(error.to_string()),
            Err(join) if join.is_panic() => {
                let payload = join.into_panic();
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "non-string panic payload".to_owned());
                Self::Error(format!("panicked: {message}"))
            }
            Err(_) => Self::Error("aborted".to_owned()),
        }
    }
}

impl Shared {
    fn publish(&self, inner: &Inner) {
        self.statuses.send_replace(snapshot(inner));
    }

    fn set_gauge(&self, id: &ModuleId, state: ModuleState) {
        for candidate in ModuleState::ALL {
            self.metrics
                .state
                .with_label_values(&[id.as_str(), candidate.as_str()])
                .set(i64::from(candidate == state));
        }
    }

    fn set_state(&self, id: &ModuleId, entry: &mut Entry, state: ModuleState) {
        entry.state = state;
        self.set_gauge(id, state);
    }

    /// Spawns the supervisor of module `id` under a child of `root` (Stopped if `root` is
    /// already cancelled).
    fn launch(self: &Arc<Self>, id: &ModuleId, entry: &mut Entry, root: &CancellationToken) {
        if root.is_cancelled() {
            self.set_state(id, entry, ModuleState::Stopped);
            return;
        }
        let token = root.child_token();
        let module = Arc::new(Mutex::new(None));
        let supervisor = self.tracker.spawn(supervise(
            self.clone(),
            id.clone(),
            token.clone(),
            module.clone(),
        ));
        self.set_state(id, entry, ModuleState::Starting);
        entry.run = Some(Run {
            token,
            supervisor,
            module,
        });
    }

    /// After a stop: the module's final state (Disabled or Stopped), noting an abort; a module
    /// enabled by then (a restart, or an enable that came during the stop) starts again.
    fn settle(self: &Arc<Self>, id: &ModuleId, stopped: bool) {
        let mut inner = lock(&self.inner);
        let root = inner.root.clone();
        if let Some(entry) = inner.entries.get_mut(id)
            && entry.run.is_none()
        {
            entry.stopping = false;
            entry.generation += 1;
            let state = if entry.enabled {
                ModuleState::Stopped
            } else {
                ModuleState::Disabled
            };
            self.set_state(id, entry, state);
            entry.message = None;
            if !stopped {
                entry.last_error =
                    Some("did not stop within the deadline and was aborted".to_owned());
            }
            if entry.enabled
                && let Some(root) = root
            {
                self.launch(id, entry, &root);
            }
        }
        self.publish(&inner);
    }

    /// Begins a run of module `id`: a fresh instance and its context, or `None` if the module
    /// is gone.
    fn begin_run(self: &Arc<Self>, id: &ModuleId) -> Option<(Box<dyn DutyModule>, DutyContext)> {
        let mut inner = lock(&self.inner);
        let entry = inner.entries.get_mut(id)?;
        entry.generation += 1;
        let factory = entry.factory.clone();
        let ctx = DutyContext {
            id: id.clone(),
            beacon: self.beacon.clone(),
            execution: self.execution.clone(),
            tracker: self.validator_tracker.clone(),
            clock: self.clock.clone(),
            signer: entry.signer.clone(),
            metrics: entry.metrics.clone(),
            store: self.kv.scoped(id.clone()),
            status: StatusReporter {
                shared: self.clone(),
                id: id.clone(),
                generation: entry.generation,
            },
        };
        self.set_state(id, entry, ModuleState::Running);
        entry.message = None;
        self.publish(&inner);
        drop(inner);
        Some((factory(), ctx))
    }

    /// Records a failed run: state Failed, the error, one more restart.
    fn record_failure(&self, id: &ModuleId, error: String) {
        let mut inner = lock(&self.inner);
        if let Some(entry) = inner.entries.get_mut(id) {
            entry.generation += 1;
            entry.restarts += 1;
            entry.last_error = Some(error);
            entry.message = None;
            self.set_state(id, entry, ModuleState::Failed);
            self.metrics
                .restarts
                .with_label_values(&[id.as_str()])
                .inc();
        }
        self.publish(&inner);
    }

    /// Records a run that ended on its own (not failed, not cancelled): Stopped.
    fn record_return(&self, id: &ModuleId) {
        let mut inner = lock(&self.inner);
        if let Some(entry) = inner.entries.get_mut(id) {
            entry.generation += 1;
            self.set_state(id, entry, ModuleState::Stopped);
        }
        self.publish(&inner);
    }

    /// A run cancelled by the runtime's token rather than by `disable`, `restart` or
    /// `shutdown` (which take the run and settle it themselves): Stopped.
    fn record_cancelled(&self, id: &ModuleId, module_task: &Arc<Mutex<Option<AbortHandle>>>) {
        let mut inner = lock(&self.inner);
        if let Some(entry) = inner.entries.get_mut(id)
            && entry
                .run
                .as_ref()
                .is_some_and(|run| Arc::ptr_eq(&run.module, module_task))
        {
            entry.run = None;
            entry.generation += 1;
            entry.message = None;
            self.set_state(id, entry, ModuleState::Stopped);
        }
        self.publish(&inner);
    }

    pub(crate) fn report(
        &self,
        id: &ModuleId,
        generation: u64,
        health: Health,
        message: Option<String>,
    ) {
        let mut inner = lock(&self.inner);
        let Some(entry) = inner.entries.get_mut(id) else {
            return;
        };
        if entry.generation != generation {
            return;
        }
        let state = match health {
            Health::Healthy => ModuleState::Running,
            Health::Degraded => ModuleState::Degraded,
            Health::Failed => ModuleState::Failed,
        };
        match health {
            Health::Healthy => entry.message = None,
            Health::Degraded => entry.message = message,
            Health::Failed => {
                entry.message = None;
                entry.last_error = message;
            }
        }
        self.set_state(id, entry, state);
        self.publish(&inner);
    }

    pub(crate) fn record_duty(&self, result: DutyResult) {
        let id = result.module.as_str();
        self.metrics
            .duty_duration
            .with_label_values(&[id])
            .observe(result.duration.as_secs_f64());
        self.metrics
            .duties
            .with_label_values(&[id, result.outcome.as_str()])
            .inc();
        let mut inner = lock(&self.inner);
        if let Some(entry) = inner.entries.get_mut(&result.module) {
            entry.last_duty = Some(result.at);
        }
        self.publish(&inner);
        drop(inner);
        // No receiver is not an error: nobody is watching.
        let _ = self.results.send(result);
    }

    pub(crate) fn last_duty(&self, id: &ModuleId) -> Option<SystemTime> {
        lock(&self.inner).entries.get(id)?.last_duty
    }
}

/// Runs module `id` until `token` is cancelled, restarting it with backoff after failures.
async fn supervise(
    shared: Arc<Shared>,
    id: ModuleId,
    token: CancellationToken,
    module_task: Arc<Mutex<Option<AbortHandle>>>,
) {
    let mut failures: u32 = 0;
    loop {
        if token.is_cancelled() {
            shared.record_cancelled(&id, &module_task);
            return;
        }
        let Some((module, ctx)) = shared.begin_run(&id) else {
            return;
        };
        let started = Instant::now();
        let handle = shared.tracker.spawn(module.run(ctx, token.clone()));
        *lock(&module_task) = Some(handle.abort_handle());
        let end = RunEnd::of(handle.await);
        lock(&module_task).take();
        let error = match end {
            _ if token.is_cancelled() => {
                shared.record_cancelled(&id, &module_task);
                return;
            }
            RunEnd::Returned => {
                tracing::info!(module = %id, "module returned; not restarting it");
                shared.record_return(&id);
                return;
            }
            RunEnd::Error(error) => error,
        };
        if started.elapsed() >= shared.config.backoff.max {
            failures = 0;
        }
        failures = failures.saturating_add(1);
        let delay = shared.config.backoff.delay(failures);
        tracing::warn!(module = %id, %error, failures, ?delay, "module failed; restarting after backoff");
        shared.record_failure(&id, error);
        tokio::select! {
            () = token.cancelled() => {
                shared.record_cancelled(&id, &module_task);
                return;
            }
            () = tokio::time::sleep(delay) => {}
        }
    }
}
