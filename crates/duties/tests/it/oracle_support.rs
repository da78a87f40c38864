//! What the oracle tests run against: price servers and aggregators on local ports, test keys,
//! and a node life (signer, module store, runtime, hub) that can be stopped and started again
//! over the same files.

use std::{
    collections::HashMap,
    net::SocketAddr,
    path::Path,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    extract::{Path as UrlPath, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use prometheus::Registry;
use restake_duties::{
    Backoff, DutyModule, DutyResult, ModuleKv, ModuleRuntime, ModuleStatus, Resources,
    RuntimeConfig,
    oracle::{
        FeedConfig, OracleConfig, OracleHub, OracleModule, SignedReport, SourceConfig, SourceKind,
    },
};
use restake_signer::{KeyId, Keyring, ProtectedSigner, SecretBytes, protection::ProtectionDb};
use restake_types::ModuleId;
use tokio::{
    sync::{broadcast, watch},
    task::JoinHandle,
};
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use url::Url;

/// The id of the oracle module in every test.
pub(crate) const MODULE: &str = "oracle";

/// Longest wait for anything in these tests: a hang guard, not a timing assertion.
pub(crate) const PATIENCE: Duration = Duration::from_secs(30);

pub(crate) fn module_id() -> ModuleId {
    MODULE.parse().unwrap()
}

/// The test keys: one BLS12-381, one BN254.
pub(crate) fn keyring() -> (Keyring, KeyId, KeyId) {
    let mut keyring = Keyring::default();
    let mut bls = [0x42; 32];
    bls[0] = 0x01;
    let bls = keyring
        .add_bls(&SecretBytes::new(bls), None, "oracle test bls")
        .unwrap();
    let mut bn254 = [0u8; 32];
    bn254[31] = 0x2a;
    let bn254 = keyring
        .add_bn254(&SecretBytes::new(bn254), "oracle test bn254")
        .unwrap();
    (keyring, bls, bn254)
}

/// The BLS12-381 test key.
pub(crate) fn bls_key() -> KeyId {
    keyring().1
}

/// The BN254 test key.
pub(crate) fn bn254_key() -> KeyId {
    keyring().2
}

/// A feed with one source per entry of `sources`, quorum 1, 1% deviation, a 1 h heartbeat,
/// 30 ms rounds, 60 s max age, 5% outliers, 8 decimals, no aggregator.
pub(crate) fn feed(id: &str, key: KeyId, sources: Vec<SourceConfig>) -> FeedConfig {
    FeedConfig {
        id: id.to_owned(),
        sources,
        quorum: 1,
        deviation_bps: 100,
        heartbeat: Duration::from_secs(3600),
        interval: Duration::from_millis(30),
        max_age: Duration::from_secs(60),
        outlier_bps: 500,
        decimals: 8,
        key,
        publish_urls: Vec::new(),
    }
}

/// An HTTP source reading `/price` from `url`, with a 1 s timeout.
pub(crate) fn http_source(id: &str, url: Url) -> SourceConfig {
    SourceConfig {
        id: id.to_owned(),
        kind: SourceKind::Http {
            url,
            pointer: "/price".to_owned(),
            timestamp_pointer: None,
            timeout: Duration::from_secs(1),
            headers: vec![("x-api-key".to_owned(), "test-key".to_owned())],
        },
    }
}

/// What the price server answers on one path.
#[derive(Clone, Debug)]
pub(crate) enum Answer {
    /// 200 with this body.
    Body(String),
    /// This status, with a short body.
    Status(u16),
    /// No answer for a minute.
    Hang,
}

type Answers = Arc<Mutex<HashMap<String, Answer>>>;

/// An HTTP server on a local port answering `GET /{name}` as told; answers can change.
pub(crate) struct PriceServer {
    addr: SocketAddr,
    answers: Answers,
    task: JoinHandle<()>,
}

impl PriceServer {
    pub(crate) async fn start() -> Self {
        let answers = Answers::default();
        let app = Router::new()
            .route("/{name}", get(answer))
            .with_state(answers.clone());
        let (addr, task) = serve(app).await;
        Self {
            addr,
            answers,
            task,
        }
    }

    /// Answers `name` with `answer` from now on.
    pub(crate) fn set(&self, name: &str, answer: Answer) {
        self.answers.lock().unwrap().insert(name.to_owned(), answer);
    }

    /// Answers `name` with `{"price": <price>}` (`price` is JSON text: a number or a string).
    pub(crate) fn set_price(&self, name: &str, price: &str) {
        self.set(name, Answer::Body(format!(r#"{{"price": {price}}}"#)));
    }

    pub(crate) fn url(&self, name: &str) -> Url {
        format!("http://{}/{name}", self.addr).parse().unwrap()
    }
}

impl Drop for PriceServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(State(answers): State<Answers>, UrlPath(name): UrlPath<String>) -> Response {
    let answer = answers.lock().unwrap().get(&name).cloned();
    match answer {
        Some(Answer::Body(body)) => ([("content-type", "application/json")], body).into_response(),
        Some(Answer::Status(status)) => (
            StatusCode::from_u16(status).unwrap(),
            "the upstream is down",
        )
            .into_response(),
        Some(Answer::Hang) => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            "{}".into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// An aggregator on a local port: `POST /reports` fails the first `fail_first` attempts with
/// 500, then keeps what it is sent.
#[derive(Clone)]
pub(crate) struct Aggregator {
    addr: SocketAddr,
    inner: Arc<AggregatorInner>,
    task: Arc<JoinHandle<()>>,
}

pub(crate) struct AggregatorInner {
    fail_first: AtomicU32,
    attempts: AtomicU32,
    received: Mutex<Vec<Bytes>>,
}

impl Aggregator {
    pub(crate) async fn start(fail_first: u32) -> Self {
        let inner = Arc::new(AggregatorInner {
            fail_first: AtomicU32::new(fail_first),
            attempts: AtomicU32::new(0),
            received: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/reports", post(receive))
            .with_state(inner.clone());
        let (addr, task) = serve(app).await;
        Self {
            addr,
            inner,
            task: Arc::new(task),
        }
    }

    pub(crate) fn url(&self) -> Url {
        format!("http://{}/reports", self.addr).parse().unwrap()
    }

    pub(crate) fn attempts(&self) -> u32 {
        self.inner.attempts.load(Ordering::SeqCst)
    }

    /// The bodies accepted so far.
    pub(crate) fn received(&self) -> Vec<Bytes> {
        self.inner.received.lock().unwrap().clone()
    }

    /// The accepted bodies as reports.
    pub(crate) fn reports(&self) -> Vec<SignedReport> {
        self.received()
            .iter()
            .map(|body| serde_json::from_slice(body).unwrap())
            .collect()
    }
}

impl Drop for Aggregator {
    fn drop(&mut self) {
        if Arc::strong_count(&self.task) == 1 {
            self.task.abort();
        }
    }
}

async fn receive(State(inner): State<Arc<AggregatorInner>>, body: Bytes) -> StatusCode {
    inner.attempts.fetch_add(1, Ordering::SeqCst);
    let fail = inner
        .fail_first
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if fail {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    inner.received.lock().unwrap().push(body);
    StatusCode::OK
}

async fn serve(app: Router) -> (SocketAddr, JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (addr, task)
}

/// A URL on a local port where nothing listens.
pub(crate) fn closed_port_url() -> Url {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/price").parse().unwrap()
}

/// How a node life signs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Signer {
    /// Normally.
    Open,
    /// Closed from the start: every request is refused as "shutting down", nothing is signed.
    Closed,
}

/// One life of a node running the oracle module: protection store `protection.db` and module
/// store `modules_db` in `dir`.
pub(crate) struct Life {
    pub(crate) runtime: ModuleRuntime,
    pub(crate) registry: Registry,
    pub(crate) hub: OracleHub,
    pub(crate) kv: ModuleKv,
    /// Subscribed before the module started: sees every report of this life.
    pub(crate) reports: broadcast::Receiver<SignedReport>,
    /// Subscribed before the module started: sees every duty of this life.
    pub(crate) results: broadcast::Receiver<DutyResult>,
    pub(crate) statuses: watch::Receiver<Vec<ModuleStatus>>,
    _tasks: TaskTracker,
}

impl Life {
    /// A module with one feed, an open signer and no chain resources, its store `modules.db`
    /// in `dir`.
    pub(crate) fn one_feed(dir: &Path, feed: FeedConfig) -> Self {
        Self::start(
            dir,
            "modules.db",
            OracleConfig { feeds: vec![feed] },
            Resources::default(),
            Signer::Open,
        )
    }

    pub(crate) fn start(
        dir: &Path,
        modules_db: &str,
        config: OracleConfig,
        resources: Resources,
        signer: Signer,
    ) -> Self {
        let registry = Registry::new();
        let (keys, bls, bn254) = keyring();
        let db = ProtectionDb::open(&dir.join("protection.db"), Duration::from_secs(5)).unwrap();
        let protected = ProtectedSigner::start(db, keys, &registry).unwrap();
        if signer == Signer::Closed {
            protected.close();
        }
        let kv = ModuleKv::open(&dir.join(modules_db)).unwrap();
        let tasks = TaskTracker::new();
        let runtime = ModuleRuntime::new(
            RuntimeConfig {
                backoff: Backoff {
                    base: Duration::from_millis(10),
                    max: Duration::from_millis(200),
                },
                stop_deadline: Duration::from_secs(5),
            },
            &registry,
            resources,
            kv.clone(),
            tasks.clone(),
        )
        .unwrap();
        let feeds = config.feeds.iter().map(|f| f.id.clone()).collect();
        let hub = OracleHub::new(kv.scoped(module_id()), feeds);
        let reports = hub.subscribe();
        let results = runtime.subscribe_results();
        let statuses = runtime.subscribe();
        let config = Arc::new(config);
        let factory_hub = hub.clone();
        runtime
            .register(
                module_id(),
                move || {
                    Box::new(OracleModule::new(
                        module_id(),
                        config.clone(),
                        factory_hub.clone(),
                    )) as Box<dyn DutyModule>
                },
                protected.restricted([bls, bn254]),
                true,
            )
            .unwrap();
        runtime.start(CancellationToken::new());
        Self {
            runtime,
            registry,
            hub,
            kv,
            reports,
            results,
            statuses,
            _tasks: tasks,
        }
    }

    /// Stops the module and waits for it.
    pub(crate) async fn stop(self) {
        let report = self.runtime.shutdown(Duration::from_secs(10)).await;
        assert!(report.not_stopped.is_empty(), "{report:?}");
    }

    /// The next report this life signs.
    pub(crate) async fn next_report(&mut self) -> SignedReport {
        tokio::time::timeout(PATIENCE, self.reports.recv())
            .await
            .expect("no report within the patience")
            .unwrap()
    }

    /// Waits for a duty whose detail contains `text`; returns its detail.
    pub(crate) async fn duty_containing(&mut self, text: &str) -> String {
        let wait = async {
            loop {
                match self.results.recv().await {
                    Ok(result) if result.detail.contains(text) => return result.detail,
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => panic!("the runtime is gone"),
                }
            }
        };
        tokio::time::timeout(PATIENCE, wait)
            .await
            .unwrap_or_else(|_| panic!("no duty mentioning {text:?} within the patience"))
    }

    /// Waits until the oracle module's status satisfies `pred`; returns it.
    pub(crate) async fn status_until(
        &mut self,
        pred: impl Fn(&ModuleStatus) -> bool,
    ) -> ModuleStatus {
        let statuses = tokio::time::timeout(
            PATIENCE,
            self.statuses
                .wait_for(|statuses| statuses.iter().any(|s| s.id.as_str() == MODULE && pred(s))),
        )
        .await
        .expect("status not reached within the patience")
        .unwrap()
        .clone();
        statuses
            .into_iter()
            .find(|s| s.id.as_str() == MODULE)
            .unwrap()
    }

    /// The value of the sample `name` whose labels include every pair of `labels`.
    pub(crate) fn metric(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.registry
            .gather()
            .iter()
            .filter(|family| family.name() == name)
            .flat_map(|family| family.get_metric())
            .find(|metric| {
                labels.iter().all(|(key, value)| {
                    metric
                        .get_label()
                        .iter()
                        .any(|l| l.name() == *key && l.value() == *value)
                })
            })
            .map(|m| m.get_counter().get_value() + m.get_gauge().get_value())
    }

    /// Waits until the metric reaches at least `at_least`.
    pub(crate) async fn metric_reaches(&self, name: &str, labels: &[(&str, &str)], at_least: f64) {
        let wait = async {
            while self.metric(name, labels).unwrap_or(0.0) < at_least {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        tokio::time::timeout(PATIENCE, wait)
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "{name}{labels:?} is {:?}, not at least {at_least}",
                    self.metric(name, labels)
                )
            });
    }
}
