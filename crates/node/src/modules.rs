//! The duty modules inside the node: the runtime built from `[duties]` and `[modules.<id>]`,
//! each module's keys resolved against the loaded keys, and the modules' state in readiness and
//! the EigenLayer node API.

use std::sync::Arc;

use prometheus::Registry;
use restake_duties::{
    Backoff, ModuleKv, ModuleRuntime, ModuleState, ModuleStatus, Resources, RuntimeConfig,
    oracle::{
        BeaconValue, ContractCall, FeedConfig, OracleConfig, OracleHub, OracleModule, SourceConfig,
        SourceKind,
    },
};
use restake_signer::{KeyId, KeyInfo, ProtectedSigner, Scheme};
use restake_types::ModuleId;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::{
    config::{
        BeaconValueSetting, Config, ContractCallSetting, FeedSettings, ModuleKind, ModuleSettings,
        OracleSettings, SourceSettings,
    },
    readiness::{ComponentState, Readiness},
};

/// Why the configured modules cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum ModuleSetupError {
    /// A module names a key the node does not hold, or leaves the key to the node when it holds
    /// none or several of the scheme.
    #[error("{path}: {message}")]
    Key {
        /// The config key.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The runtime refused a module or its metrics.
    #[error("module runtime: {0}")]
    Runtime(#[from] restake_duties::RuntimeError),
    /// The module store could not be opened.
    #[error("module store: {0}")]
    Store(#[from] restake_duties::StoreError),
}

/// The running duty modules: the runtime and the oracle modules' hubs (for the gRPC API).
pub(crate) struct Modules {
    /// The runtime supervising every module.
    pub(crate) runtime: Arc<ModuleRuntime>,
    /// One hub per oracle module.
    pub(crate) oracle_hubs: Vec<OracleHub>,
}

/// The oracle configuration of `settings`, with each feed's key given by `key` (the feed's
/// config path, its scheme and its configured public key, if any).
pub(crate) fn oracle_config(
    path: &str,
    settings: &OracleSettings,
    mut key: impl FnMut(&str, Scheme, Option<&[u8]>) -> Result<KeyId, ModuleSetupError>,
) -> Result<OracleConfig, ModuleSetupError> {
    let mut feeds = Vec::with_capacity(settings.feeds.len());
    for (id, feed) in &settings.feeds {
        let key = key(
            &format!("{path}.feeds.{id}.key"),
            feed.scheme,
            feed.key.as_deref(),
        )?;
        feeds.push(feed_config(id, feed, key));
    }
    Ok(OracleConfig { feeds })
}

fn feed_config(id: &str, feed: &FeedSettings, key: KeyId) -> FeedConfig {
    FeedConfig {
        id: id.to_owned(),
        sources: feed
            .sources
            .iter()
            .map(|(id, source)| SourceConfig {
                id: id.clone(),
                kind: source_kind(source),
            })
            .collect(),
        quorum: feed.quorum,
        deviation_bps: feed.deviation_bps,
        heartbeat: feed.heartbeat,
        interval: feed.interval,
        max_age: feed.max_age,
        outlier_bps: feed.outlier_bps,
        decimals: feed.decimals,
        key,
        publish_urls: feed.publish_urls.clone(),
    }
}

fn source_kind(source: &SourceSettings) -> SourceKind {
    match source {
        SourceSettings::Http {
            url,
            pointer,
            timestamp_pointer,
            timeout,
            headers,
        } => SourceKind::Http {
            url: url.clone(),
            pointer: pointer.clone(),
            timestamp_pointer: timestamp_pointer.clone(),
            timeout: *timeout,
            headers: headers
                .iter()
                .map(|(name, value)| (name.clone(), value.expose().to_owned()))
                .collect(),
        },
        SourceSettings::Contract {
            chain_id,
            address,
            call,
            decimals,
            timeout,
        } => SourceKind::Contract {
            chain_id: *chain_id,
            address: *address,
            call: match call {
                ContractCallSetting::LatestRoundData => ContractCall::LatestRoundData,
                ContractCallSetting::LatestAnswer => ContractCall::LatestAnswer,
            },
            decimals: *decimals,
            timeout: *timeout,
        },
        SourceSettings::Beacon { value, pod } => SourceKind::Beacon {
            value: match (value, pod) {
                (BeaconValueSetting::PodBalance, Some(pod)) => BeaconValue::PodBalance(*pod),
                _ => BeaconValue::TrackedBalance,
            },
        },
    }
}

/// A stand-in key of the right scheme and length, for checking a configuration before any key
/// is loaded.
pub(crate) fn placeholder_key(scheme: Scheme, public_key: Option<&[u8]>) -> KeyId {
    KeyId {
        scheme,
        public_key: public_key.map_or_else(|| vec![0; scheme.key_id_len()], <[u8]>::to_vec),
    }
}

/// The loaded key a feed signs with: the configured one, or the only loaded key of its scheme.
fn resolve_key(
    keys: &[KeyInfo],
    path: &str,
    scheme: Scheme,
    public_key: Option<&[u8]>,
) -> Result<KeyId, ModuleSetupError> {
    let of_scheme: Vec<&KeyId> = keys
        .iter()
        .map(|k| &k.id)
        .filter(|id| id.scheme == scheme)
        .collect();
    let fail = |message: String| ModuleSetupError::Key {
        path: path.to_owned(),
        message,
    };
    match public_key {
        Some(public_key) => of_scheme
            .iter()
            .find(|id| id.public_key == public_key)
            .map(|id| (*id).clone())
            .ok_or_else(|| {
                fail(format!(
                    "no {scheme} key 0x{} is loaded ({} {scheme} key(s) are)",
                    hex::encode(public_key),
                    of_scheme.len()
                ))
            }),
        None => match of_scheme.as_slice() {
            [only] => Ok((*only).clone()),
            [] => Err(fail(format!(
                "no {scheme} key is loaded (signer.bn254 loads the EigenLayer BLS key); set one, or name another key here"
            ))),
            several => Err(fail(format!(
                "{} {scheme} keys are loaded: name the one this feed signs with",
                several.len()
            ))),
        },
    }
}

/// Builds the runtime and registers every configured module with its keys; nothing starts
/// until [`ModuleRuntime::start`].
pub(crate) fn build(
    config: &Config,
    signer: &ProtectedSigner,
    resources: Resources,
    kv: ModuleKv,
    registry: &Registry,
    tracker: TaskTracker,
) -> Result<Modules, ModuleSetupError> {
    let duties = &config.duties;
    let runtime = ModuleRuntime::new(
        RuntimeConfig {
            backoff: Backoff {
                base: duties.backoff_base,
                max: duties.backoff_max,
            },
            stop_deadline: duties.stop_deadline,
        },
        registry,
        resources,
        kv.clone(),
        tracker,
    )?;
    let keys = signer.keys();
    let mut oracle_hubs = Vec::new();
    for ModuleSettings { id, enabled, kind } in &config.modules {
        let path = format!("modules.{id}");
        match kind {
            ModuleKind::Oracle(settings) => {
                let oracle = Arc::new(oracle_config(&path, settings, |path, s, key| {
                    resolve_key(&keys, path, s, key)
                })?);
                let feed_keys: Vec<KeyId> = oracle.feeds.iter().map(|f| f.key.clone()).collect();
                let hub = OracleHub::new(
                    kv.scoped(id.clone()),
                    oracle.feeds.iter().map(|f| f.id.clone()).collect(),
                );
                let (module_id, module_hub) = (id.clone(), hub.clone());
                runtime.register(
                    id.clone(),
                    move || {
                        Box::new(OracleModule::new(
                            module_id.clone(),
                            oracle.clone(),
                            module_hub.clone(),
                        ))
                    },
                    signer.restricted(feed_keys),
                    *enabled,
                )?;
                oracle_hubs.push(hub);
            }
        }
    }
    Ok(Modules {
        runtime: Arc::new(runtime),
        oracle_hubs,
    })
}

/// Mirrors the modules' states into readiness as one component, `modules`: ready when every
/// enabled module runs; degraded (the node still serves, /readyz stays 200, /eigen/node/health
/// says 206) when one is failed or degraded, since one module must never take the others or
/// the node down; starting while any is starting.
pub(crate) async fn watch_modules(
    runtime: Arc<ModuleRuntime>,
    readiness: Readiness,
    shutdown: CancellationToken,
) {
    let mut statuses = runtime.subscribe();
    loop {
        let (state, message) = summary(&statuses.borrow_and_update());
        if shutdown.is_cancelled() {
            return;
        }
        readiness.set("modules", state, message);
        tokio::select! {
            () = shutdown.cancelled() => return,
            changed = statuses.changed() => if changed.is_err() { return },
        }
    }
}

/// The readiness of the modules as a whole, and why.
pub(crate) fn summary(statuses: &[ModuleStatus]) -> (ComponentState, String) {
    let enabled: Vec<&ModuleStatus> = statuses.iter().filter(|s| s.enabled).collect();
    let troubled: Vec<String> = enabled
        .iter()
        .filter(|s| matches!(s.state, ModuleState::Failed | ModuleState::Degraded))
        .map(|s| match (&s.message, &s.last_error) {
            (Some(why), _) | (None, Some(why)) => format!("{} {}: {why}", s.id, s.state),
            (None, None) => format!("{} {}", s.id, s.state),
        })
        .collect();
    let starting = enabled
        .iter()
        .filter(|s| s.state == ModuleState::Starting)
        .count();
    let disabled = statuses.len() - enabled.len();
    let counts = format!("{} module(s) enabled, {disabled} disabled", enabled.len());
    if !troubled.is_empty() {
        (
            ComponentState::Degraded,
            format!("{counts}; {}", troubled.join("; ")),
        )
    } else if starting > 0 {
        (
            ComponentState::Starting,
            format!("{counts}; {starting} starting"),
        )
    } else {
        (ComponentState::Ready, counts)
    }
}

/// The EigenLayer node API's status of a service: `Up`, `Down` or `Initializing`.
pub(crate) fn service_status(status: &ModuleStatus) -> &'static str {
    match status.state {
        ModuleState::Running | ModuleState::Degraded => "Up",
        ModuleState::Starting => "Initializing",
        ModuleState::Failed | ModuleState::Disabled | ModuleState::Stopped => "Down",
    }
}

/// A module id for display in the services list.
pub(crate) fn service_name(id: &ModuleId, kind: &str) -> String {
    format!("{kind} module {id}")
}
