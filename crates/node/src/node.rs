//! The composition root: startup order, the running node, and graceful shutdown.

use std::{
    fs,
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant, SystemTime},
};

use serde::{Deserialize, Serialize};
use tokio::{
    net::TcpListener,
    signal::unix::{SignalKind, signal},
};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use restake_beacon::{BeaconClient, BeaconClientConfig, EndpointHealth, tracker::Tracker};
use restake_signer::{
    ProtectedSigner, SignerHealth,
    protection::{ProtectionDb, ProtectionError},
};

use crate::{
    config::{Config, ConfigErrors},
    dev,
    grpc::{
        self, AdminServices, BearerAuth, KeysApi, ModulesApi, NodeApi, OracleApi, PodsApi,
        ProofsApi, ProtectionApi, SubmitSettings, ValidatorsApi,
    },
    http::{self, HttpState},
    keys::{self, KeyLoadError, KeyMetrics},
    lock::{DataDirLock, LockError},
    metrics,
    modules::{self, ModuleSetupError},
    pods::{self, PodMetrics, PodReports, PodSettings},
    proofs::Prover,
    readiness::{ComponentState, Readiness},
    store::{STORE_FILE, Store, StoreError},
    tracking,
};
use restake_eigenpod::reconcile::{PodReader, ReconcilePolicy};

/// File in the data dir naming the addresses the running node listens on (useful with port 0).
pub const ENDPOINTS_FILE: &str = "endpoints.json";
/// How often the store is checked while running, so a failing disk flips /readyz.
const STORE_PING_INTERVAL: Duration = Duration::from_secs(10);

/// The addresses a running node listens on, as written to [`ENDPOINTS_FILE`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoints {
    /// The HTTP address (metrics, health, `/eigen/node`).
    pub http: SocketAddr,
    /// The gRPC admin address.
    pub grpc: SocketAddr,
    /// Process id of the node.
    pub pid: u32,
}

/// Why the node stopped with an error, with the exit code for each case.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The configuration is invalid.
    #[error("{0}")]
    Config(#[from] ConfigErrors),
    /// The data dir could not be locked.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// The store could not be opened or closed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Keys could not be loaded.
    #[error(transparent)]
    Keys(#[from] KeyLoadError),
    /// The protection tables could not be opened.
    #[error(transparent)]
    Protection(#[from] ProtectionError),
    /// The signer could not start.
    #[error(transparent)]
    Signer(#[from] restake_signer::StartError),
    /// The beacon client could not be set up (e.g. an https endpoint in a build without TLS).
    #[error("beacon.endpoints: {0}")]
    Beacon(restake_beacon::Error),
    /// The execution endpoint cannot be used.
    #[error("execution.rpc_url: {0}")]
    Execution(restake_eigenpod::Error),
    /// A listening socket could not be bound.
    #[error("cannot listen on {addr} ({key}): {source}")]
    Bind {
        /// The config key holding the address.
        key: &'static str,
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Any other I/O failure, with what the node was doing.
    #[error("{action}: {source}")]
    Io {
        /// What the node was doing.
        action: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The metrics registry could not be built.
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    /// The `--dev` chains could not start.
    #[error(transparent)]
    Dev(#[from] dev::DevError),
    /// The configured duty modules cannot be set up (a key they name is not loaded, ...).
    #[error(transparent)]
    Modules(#[from] ModuleSetupError),
    /// A server task failed.
    #[error("{0}")]
    Server(String),
}

impl NodeError {
    /// Process exit code, following sysexits(3) so supervisors can tell causes apart: 64 for a
    /// bad config and 78 for keys that cannot be loaded (do not restart), 65 for a store file
    /// that needs an operator, 75 when the data dir is in use, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Config(_) | Self::Beacon(_) | Self::Execution(_) => 64,
            Self::Modules(ModuleSetupError::Key { .. }) => 64,
            Self::Store(e) if e.is_data_error() => 65,
            Self::Protection(
                ProtectionError::Corrupt { .. } | ProtectionError::NewerSchema { .. },
            ) => 65,
            Self::Keys(_) => 78,
            Self::Lock(LockError::Held { .. }) => 75,
            _ => 1,
        }
    }
}

/// How the node was started.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Running with `--dev`.
    pub dev: bool,
}

async fn bind(key: &'static str, addr: SocketAddr) -> Result<TcpListener, NodeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| NodeError::Bind { key, addr, source })
}

fn write_endpoints(data_dir: &Path, endpoints: &Endpoints) -> Result<(), NodeError> {
    let io = |source| NodeError::Io {
        action: format!("write {}", data_dir.join(ENDPOINTS_FILE).display()),
        source,
    };
    let tmp = data_dir.join(format!("{ENDPOINTS_FILE}.tmp"));
    let json = serde_json::to_vec_pretty(endpoints).map_err(|e| io(e.into()))?;
    fs::write(&tmp, json).map_err(io)?;
    fs::rename(&tmp, data_dir.join(ENDPOINTS_FILE)).map_err(io)
}

fn is_loopback(addr: SocketAddr) -> bool {
    addr.ip().is_loopback()
}

/// Runs the node until SIGTERM, SIGINT or a gRPC `Shutdown`, then shuts down gracefully.
pub async fn run(mut config: Config, options: RunOptions) -> Result<(), NodeError> {
    let started = Instant::now();
    let started_at = SystemTime::now();
    let mut terminate = signal(SignalKind::terminate()).map_err(|source| NodeError::Io {
        action: "install SIGTERM handler".to_owned(),
        source,
    })?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(|source| NodeError::Io {
        action: "install SIGINT handler".to_owned(),
        source,
    })?;

    let _lock = DataDirLock::acquire(&config.data_dir)?;
    let data_dir = fs::canonicalize(&config.data_dir).map_err(|source| NodeError::Io {
        action: format!("resolve {}", config.data_dir.display()),
        source,
    })?;

    let readiness = Readiness::default();
    for component in ["store", "keys", "signer", "http", "grpc"] {
        readiness.set(component, ComponentState::Starting, "starting");
    }
    let store_path = data_dir.join(STORE_FILE);
    let store_settings = config.store.clone();
    let (store, report) =
        tokio::task::spawn_blocking(move || Store::open(&store_path, &store_settings))
            .await
            .map_err(|e| NodeError::Server(format!("store open task: {e}")))??;
    let store = Arc::new(store);
    if report.previous_run_unclean {
        tracing::warn!(store = %store.path().display(), "the previous run did not shut down cleanly");
    }
    readiness.ready("store");

    let registry = metrics::node_registry(started, readiness.clone())?;
    let key_metrics = KeyMetrics::register(&registry)?;
    let signer_settings = config.signer.clone();
    let dev = options.dev;
    let keys_dir = data_dir.clone();
    let keyring = tokio::task::spawn_blocking(move || {
        keys::load(&signer_settings, &keys_dir, dev, &key_metrics)
    })
    .await
    .map_err(|e| NodeError::Server(format!("key loading task: {e}")))??;
    readiness.set(
        "keys",
        ComponentState::Ready,
        format!("{} key(s) loaded", keyring.len()),
    );
    let protection_path = store.path().to_owned();
    let busy_timeout = config.store.busy_timeout;
    let protection =
        tokio::task::spawn_blocking(move || ProtectionDb::open(&protection_path, busy_timeout))
            .await
            .map_err(|e| NodeError::Server(format!("protection store task: {e}")))??;
    let signer = ProtectedSigner::start(protection, keyring, &registry)?;
    readiness.ready("signer");
    // Stopped after the node's tasks, so the tracker never sees its beacon node vanish.
    let dev_shutdown = CancellationToken::new();
    let _dev_anvil = if options.dev && config.beacon.endpoints.is_empty() {
        dev::start(&mut config, dev_shutdown.clone()).await?
    } else {
        None
    };
    let beacon = if config.beacon.endpoints.is_empty() {
        None
    } else {
        readiness.set("beacon", ComponentState::Starting, "connecting");
        let client_config = BeaconClientConfig::new(config.beacon.endpoints.clone());
        Some(BeaconClient::new(client_config, &registry).map_err(NodeError::Beacon)?)
    };
    let validator_tracker = match &beacon {
        Some(client) => {
            let tracker_config = tracking::tracker_config(&config, &signer.keys(), &[]);
            Some(Tracker::new(
                client.clone(),
                tracker_config,
                store.path(),
                &registry,
            )?)
        }
        None => None,
    };
    let pod_reports = PodReports::default();
    let reconciler = match (&config.execution.rpc_url, &validator_tracker, &beacon) {
        (Some(url), Some(tracker), Some(client)) => {
            let reader = PodReader::new(
                url.as_str(),
                config.eigenpod.manager,
                EXECUTION_CALL_TIMEOUT,
            )
            .map_err(NodeError::Execution)?;
            let settings = PodSettings {
                reader,
                pods: config.tracker.pods.clone(),
                owners: config.eigenpod.owners.clone(),
                interval: config.eigenpod.reconcile_interval,
                policy: ReconcilePolicy {
                    unrestaked_threshold: restake_types::Gwei(
                        config.eigenpod.unrestaked_threshold_gwei,
                    ),
                },
            };
            readiness.set(
                "pods",
                ComponentState::Starting,
                "first reconciliation pending",
            );
            Some((
                settings,
                tracker.clone(),
                client.clone(),
                PodMetrics::register(&registry)?,
            ))
        }
        _ => None,
    };

    let shutdown = CancellationToken::new();
    let tracker = TaskTracker::new();

    let kv_path = store.path().to_owned();
    let kv = tokio::task::spawn_blocking(move || restake_duties::ModuleKv::open(&kv_path))
        .await
        .map_err(|e| NodeError::Server(format!("module store task: {e}")))?
        .map_err(ModuleSetupError::from)?;
    let execution_urls: Vec<url::Url> = config
        .execution
        .rpc_url
        .iter()
        .chain(&config.execution.extra_rpc_urls)
        .cloned()
        .collect();
    let duty_modules = modules::build(
        &config,
        &signer,
        restake_duties::Resources {
            beacon: beacon.clone(),
            execution: restake_duties::ExecutionProviders::new(&execution_urls),
            tracker: validator_tracker.clone(),
            slot_clock: None,
        },
        kv,
        &registry,
        tracker.clone(),
    )?;
    readiness.set("modules", ComponentState::Starting, "starting");

    let http_listener = bind("http.listen", config.http.listen).await?;
    let grpc_listener = bind("grpc.listen", config.grpc.listen).await?;
    let endpoints = Endpoints {
        http: http_listener.local_addr().map_err(|source| NodeError::Io {
            action: "read HTTP address".to_owned(),
            source,
        })?,
        grpc: grpc_listener.local_addr().map_err(|source| NodeError::Io {
            action: "read gRPC address".to_owned(),
            source,
        })?,
        pid: std::process::id(),
    };
    if !is_loopback(endpoints.grpc) && config.grpc.auth_token.is_none() {
        tracing::warn!(addr = %endpoints.grpc, "the gRPC admin API listens beyond loopback without grpc.auth_token: anyone who can reach it can shut the node down");
    }

    let node_name: Arc<str> = config.node.name.as_str().into();
    let http_state = HttpState {
        registry,
        readiness: readiness.clone(),
        node_name: node_name.clone(),
        modules: duty_modules.runtime.clone(),
    };
    let failure = CancellationToken::new();
    spawn_server(
        &tracker,
        "http",
        &readiness,
        &failure,
        http::serve(http_listener, http_state, shutdown.clone()),
    );
    let auth = BearerAuth::new(config.grpc.auth_token.as_ref())
        .map_err(|e| NodeError::Server(format!("grpc.auth_token is not valid in a header: {e}")))?;
    let services = AdminServices {
        node: NodeApi {
            started,
            started_at,
            node_name,
            data_dir: data_dir.clone(),
            dev_mode: options.dev,
            readiness: readiness.clone(),
            shutdown: shutdown.clone(),
        },
        keys: KeysApi {
            signer: signer.clone(),
            data_dir: data_dir.clone(),
            dev_mode: options.dev,
        },
        protection: ProtectionApi {
            store_path: store.path().to_owned(),
            busy_timeout: config.store.busy_timeout,
        },
        validators: ValidatorsApi {
            tracker: validator_tracker.clone(),
            shutdown: shutdown.clone(),
        },
        pods: PodsApi {
            reports: reconciler.is_some().then(|| pod_reports.clone()),
        },
        modules: ModulesApi {
            runtime: duty_modules.runtime.clone(),
            shutdown: shutdown.clone(),
        },
        oracle: OracleApi {
            hubs: duty_modules.oracle_hubs.clone(),
            shutdown: shutdown.clone(),
        },
        proofs: ProofsApi {
            prover: beacon.clone().map(Prover::new),
            tracker: validator_tracker.clone(),
            submit: config
                .execution
                .rpc_url
                .clone()
                .map(|rpc_url| SubmitSettings {
                    rpc_url,
                    signer: signer.clone(),
                }),
        },
    };
    let (health, health_service) = tonic_health::server::health_reporter();
    spawn_server(
        &tracker,
        "grpc",
        &readiness,
        &failure,
        grpc::serve(
            grpc_listener,
            services,
            auth,
            health,
            health_service,
            shutdown.clone(),
        ),
    );
    tracker.spawn(watch_store(
        store.clone(),
        readiness.clone(),
        shutdown.clone(),
    ));
    tracker.spawn(watch_signer(
        signer.health(),
        readiness.clone(),
        shutdown.clone(),
    ));
    if let Some(beacon) = beacon {
        tracker.spawn(watch_beacon(beacon, readiness.clone(), shutdown.clone()));
    }
    if let Some(validator_tracker) = validator_tracker.clone() {
        readiness.set("tracker", ComponentState::Starting, "starting");
        let running = validator_tracker.clone();
        let stop = shutdown.clone();
        tracker.spawn(async move {
            // Errors are logged by the tracker and shown by readiness; the node keeps serving.
            let _ = running.run(stop).await;
        });
        if let Some((settings, pod_tracker, client, pod_metrics)) = reconciler {
            tracker.spawn(pods::run(
                settings,
                pod_tracker,
                client,
                pod_reports.clone(),
                pod_metrics,
                readiness.clone(),
                shutdown.clone(),
            ));
        }
        tracker.spawn(tracking::watch_tracker(
            validator_tracker,
            readiness.clone(),
            shutdown.clone(),
        ));
    }
    // Modules start after the tracker, so a beacon-derived feed finds it running.
    duty_modules.runtime.start(shutdown.child_token());
    tracker.spawn(modules::watch_modules(
        duty_modules.runtime.clone(),
        readiness.clone(),
        shutdown.clone(),
    ));
    write_endpoints(&data_dir, &endpoints)?;

    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        data_dir = %data_dir.display(),
        "restaked {} ready: metrics http://{}/metrics, health http://{}/readyz, gRPC {}",
        env!("CARGO_PKG_VERSION"),
        endpoints.http,
        endpoints.http,
        endpoints.grpc,
    );
    if options.dev {
        let endpoint_flag = if config.grpc.listen.to_string() == crate::config::DEFAULT_GRPC_LISTEN
        {
            String::new()
        } else {
            format!(" --endpoint http://{}", endpoints.grpc)
        };
        tracing::info!(
            "dev mode: data dir {} is temporary; in another terminal try `cargo run -p restakectl -- status{endpoint_flag}`",
            data_dir.display()
        );
    }

    let reason = tokio::select! {
        _ = terminate.recv() => "SIGTERM",
        _ = interrupt.recv() => "SIGINT",
        () = shutdown.cancelled() => "gRPC Shutdown request",
        () = failure.cancelled() => "a server failed",
    };
    tracing::info!(reason, drain_timeout = %humantime::format_duration(config.shutdown.drain_timeout), "shutting down");
    readiness.stopping();
    // No new signature from here on; requests already queued are still answered and recorded.
    signer.close();
    shutdown.cancel();
    let stopped = duty_modules
        .runtime
        .shutdown(config.duties.stop_deadline)
        .await;
    if !stopped.not_stopped.is_empty() {
        tracing::warn!(modules = ?stopped.not_stopped, "duty modules did not stop within duties.stop_deadline and were aborted");
    }
    tracker.close();
    tokio::select! {
        () = tracker.wait() => tracing::info!("all tasks stopped"),
        () = tokio::time::sleep(config.shutdown.drain_timeout) => {
            tracing::warn!(remaining = tracker.len(), "drain deadline passed; stopping with tasks still running");
        }
        _ = terminate.recv() => tracing::warn!("second SIGTERM: stopping without waiting for tasks"),
        _ = interrupt.recv() => tracing::warn!("second SIGINT: stopping without waiting for tasks"),
    }

    dev_shutdown.cancel();
    let closing = store.clone();
    tokio::task::spawn_blocking(move || closing.close())
        .await
        .map_err(|e| NodeError::Server(format!("store close task: {e}")))??;
    if let Err(e) = fs::remove_file(data_dir.join(ENDPOINTS_FILE)) {
        tracing::warn!(error = %e, "cannot remove {ENDPOINTS_FILE}");
    }
    tracing::info!(uptime_s = started.elapsed().as_secs(), "stopped");
    if failure.is_cancelled() {
        return Err(NodeError::Server(
            "a server task failed; see the errors above".to_owned(),
        ));
    }
    Ok(())
}

/// Spawns a server, marks it ready, and on error marks it failed and starts a shutdown.
fn spawn_server<E: std::fmt::Display>(
    tracker: &TaskTracker,
    component: &'static str,
    readiness: &Readiness,
    failure: &CancellationToken,
    server: impl Future<Output = Result<(), E>> + Send + 'static,
) {
    let readiness = readiness.clone();
    let failure = failure.clone();
    readiness.ready(component);
    tracker.spawn(async move {
        if let Err(e) = server.await {
            tracing::error!(component, error = %e, "server failed");
            readiness.set(component, ComponentState::Failed, e.to_string());
            failure.cancel();
        }
    });
}

/// Pings the store periodically; a store that stops answering makes the node unready.
async fn watch_store(store: Arc<Store>, readiness: Readiness, shutdown: CancellationToken) {
    let mut interval = tokio::time::interval(STORE_PING_INTERVAL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = interval.tick() => {}
        }
        let pinged = store.clone();
        let result = tokio::task::spawn_blocking(move || pinged.ping()).await;
        if shutdown.is_cancelled() {
            return;
        }
        match result {
            Ok(Ok(())) => readiness.ready("store"),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "store check failed");
                readiness.set("store", ComponentState::Failed, e.to_string());
            }
            Err(e) => readiness.set(
                "store",
                ComponentState::Failed,
                format!("store check task: {e}"),
            ),
        }
    }
}

/// Mirrors the signer's health into readiness: a signer that cannot record refuses to sign, and
/// the node must say so on /readyz.
async fn watch_signer(
    mut health: tokio::sync::watch::Receiver<SignerHealth>,
    readiness: Readiness,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            changed = health.changed() => if changed.is_err() { return },
        }
        let SignerHealth { healthy, message } = health.borrow_and_update().clone();
        if shutdown.is_cancelled() {
            return;
        }
        if healthy {
            readiness.ready("signer");
        } else {
            readiness.set(
                "signer",
                ComponentState::Failed,
                format!("refusing to sign: {message}"),
            );
        }
    }
}

/// How long one execution JSON-RPC call may take.
const EXECUTION_CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// How often the beacon connection is checked for readiness.
const BEACON_CHECK_INTERVAL: Duration = Duration::from_secs(12);

/// Checks the beacon nodes in the background. Unreachable beacon nodes make the node degraded,
/// not unready: the signer and admin API still work, and the client keeps retrying.
async fn watch_beacon(beacon: BeaconClient, readiness: Readiness, shutdown: CancellationToken) {
    let mut interval = tokio::time::interval(BEACON_CHECK_INTERVAL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = interval.tick() => {}
        }
        let result = tokio::select! {
            () = shutdown.cancelled() => return,
            result = beacon.genesis() => result,
        };
        let statuses = beacon.endpoint_statuses();
        let healthy = statuses
            .iter()
            .filter(|s| matches!(s.health, EndpointHealth::Healthy))
            .count();
        match result {
            Ok(_) if healthy == statuses.len() => readiness.ready("beacon"),
            Ok(_) => readiness.set(
                "beacon",
                ComponentState::Degraded,
                format!("{healthy} of {} beacon endpoints healthy", statuses.len()),
            ),
            Err(e) => {
                tracing::warn!(error = %e, "no beacon endpoint answers; retrying in the background");
                readiness.set(
                    "beacon",
                    ComponentState::Degraded,
                    format!("no beacon endpoint answers: {e}"),
                );
            }
        }
    }
}

/// The endpoints a running node wrote to `data_dir`, if it is running.
pub fn read_endpoints(data_dir: &Path) -> Option<Endpoints> {
    let path: PathBuf = data_dir.join(ENDPOINTS_FILE);
    serde_json::from_slice(&fs::read(path).ok()?).ok()
}
