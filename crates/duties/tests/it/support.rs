//! Test modules and a runtime to run them in.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use prometheus::Registry;
use restake_duties::{
    Backoff, DutyContext, DutyError, DutyFuture, DutyModule, DutyOutcome, ModuleKv, ModuleRuntime,
    ModuleStatus, Resources, RuntimeConfig,
};
use restake_signer::{Keyring, ProtectedSigner, protection::ProtectionDb};
use restake_types::ModuleId;
use tokio::sync::watch;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

/// What a test module does in each run.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Behaviour {
    /// Panics at once.
    Panic,
    /// Counts the run in a module metric, then returns an error.
    Fail,
    /// Ignores the shutdown token forever.
    Hang,
    /// Records a duty every few milliseconds until shut down.
    Healthy,
    /// Reports itself degraded, then waits for shutdown.
    Degraded,
}

pub(crate) struct TestModule {
    id: ModuleId,
    behaviour: Behaviour,
    runs: Arc<AtomicU32>,
}

impl DutyModule for TestModule {
    fn id(&self) -> ModuleId {
        self.id.clone()
    }

    fn kind(&self) -> &'static str {
        "test"
    }

    fn run(self: Box<Self>, ctx: DutyContext, shutdown: CancellationToken) -> DutyFuture {
        Box::pin(async move {
            self.runs.fetch_add(1, Ordering::SeqCst);
            match self.behaviour {
                Behaviour::Panic => panic!("boom"),
                Behaviour::Fail => {
                    ctx.metrics()
                        .counter("restaked_test_runs_total", "Runs of the test module.")?
                        .inc();
                    Err(DutyError::failed("endpoint unreachable"))
                }
                Behaviour::Hang => std::future::pending().await,
                Behaviour::Healthy => {
                    let mut rounds: u64 = 0;
                    loop {
                        tokio::select! {
                            () = shutdown.cancelled() => return Ok(()),
                            () = tokio::time::sleep(Duration::from_millis(5)) => {}
                        }
                        rounds += 1;
                        ctx.store().put("rounds", &rounds.to_be_bytes())?;
                        ctx.record_duty(
                            Duration::from_millis(1),
                            DutyOutcome::Done,
                            format!("round {rounds}"),
                        );
                    }
                }
                Behaviour::Degraded => {
                    ctx.status().degraded("beacon node syncing");
                    shutdown.cancelled().await;
                    Ok(())
                }
            }
        })
    }
}

/// A runtime over a temporary store, with a small backoff.
pub(crate) struct Harness {
    pub(crate) runtime: ModuleRuntime,
    pub(crate) registry: Registry,
    pub(crate) signer: ProtectedSigner,
    pub(crate) tracker: TaskTracker,
    pub(crate) shutdown: CancellationToken,
    _dir: tempfile::TempDir,
}

pub(crate) fn id(s: &str) -> ModuleId {
    s.parse().unwrap()
}

impl Harness {
    pub(crate) fn new(backoff: Backoff) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let registry = Registry::new();
        let db =
            ProtectionDb::open(&dir.path().join("protection.db"), Duration::from_secs(1)).unwrap();
        let signer = ProtectedSigner::start(db, Keyring::default(), &registry).unwrap();
        let kv = ModuleKv::open(&dir.path().join("modules.db")).unwrap();
        let tracker = TaskTracker::new();
        let config = RuntimeConfig {
            backoff,
            stop_deadline: Duration::from_millis(200),
        };
        let runtime =
            ModuleRuntime::new(config, &registry, Resources::default(), kv, tracker.clone())
                .unwrap();
        Self {
            runtime,
            registry,
            signer,
            tracker,
            shutdown: CancellationToken::new(),
            _dir: dir,
        }
    }

    pub(crate) fn small_backoff() -> Self {
        Self::new(Backoff {
            base: Duration::from_millis(10),
            max: Duration::from_millis(100),
        })
    }

    /// Registers a test module; returns its run counter.
    pub(crate) fn add(&self, name: &str, behaviour: Behaviour, enabled: bool) -> Arc<AtomicU32> {
        let runs = Arc::new(AtomicU32::new(0));
        let counter = runs.clone();
        let module_id = id(name);
        let factory_id = module_id.clone();
        self.runtime
            .register(
                module_id,
                move || {
                    Box::new(TestModule {
                        id: factory_id.clone(),
                        behaviour,
                        runs: counter.clone(),
                    }) as Box<dyn DutyModule>
                },
                self.signer.restricted([]),
                enabled,
            )
            .unwrap();
        runs
    }

    pub(crate) fn start(&self) {
        self.runtime.start(self.shutdown.clone());
    }

    /// The value of the sample `name` (exactly, before its labels) whose labels include every
    /// `key="value"` of `labels`.
    pub(crate) fn metric(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let text = prometheus::TextEncoder::new()
            .encode_to_string(&self.registry.gather())
            .unwrap();
        text.lines()
            .filter(|line| line.starts_with(&format!("{name}{{")))
            .find(|line| {
                labels
                    .iter()
                    .all(|(key, value)| line.contains(&format!("{key}=\"{value}\"")))
            })
            .and_then(|line| line.rsplit(' ').next()?.parse().ok())
    }
}

pub(crate) fn status<'a>(statuses: &'a [ModuleStatus], name: &str) -> &'a ModuleStatus {
    statuses.iter().find(|s| s.id.as_str() == name).unwrap()
}

/// Waits (at most 10 s, as a hang guard) until `pred` holds for the statuses.
pub(crate) async fn wait_until(
    rx: &mut watch::Receiver<Vec<ModuleStatus>>,
    pred: impl FnMut(&Vec<ModuleStatus>) -> bool,
) -> Vec<ModuleStatus> {
    tokio::time::timeout(Duration::from_secs(10), rx.wait_for(pred))
        .await
        .expect("condition not reached within 10 s")
        .unwrap()
        .clone()
}

/// A module that only has an id (for registration checks); it waits for shutdown.
pub(crate) struct NamedModule(pub(crate) ModuleId);

impl DutyModule for NamedModule {
    fn id(&self) -> ModuleId {
        self.0.clone()
    }

    fn kind(&self) -> &'static str {
        "named"
    }

    fn run(self: Box<Self>, _ctx: DutyContext, shutdown: CancellationToken) -> DutyFuture {
        Box::pin(async move {
            shutdown.cancelled().await;
            Ok(())
        })
    }
}
