//! Test modules and a runtime to run them in.

use std::{
    sync::{Arc, atomic::AtomicU32},
    time::Duration,
};

use prometheus::Registry;
use restake_duties::{
    Backoff, DutyContext, DutyFuture, DutyModule, ModuleKv, ModuleRuntime, ModuleStatus, Resources,
    RuntimeConfig,
};
use restake_signer::{Keyring, ProtectedSigner, protection::ProtectionDb};
use restake_types::ModuleId;
use tokio::sync::watch;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

pub(crate) use restake_duties::testing::Behaviour;
use restake_duties::testing::TestModule;

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
        let (factory, runs) = TestModule::factory(id(name), behaviour);
        self.runtime
            .register(id(name), factory, self.signer.restricted([]), enabled)
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
