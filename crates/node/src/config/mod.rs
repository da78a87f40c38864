//! Node configuration: defaults < TOML file < `RESTAKED_*` environment < command-line flags.
//!
//! Every key is documented in `docs/config.md`. Loading collects all problems at once, each with
//! the key's path and where its value came from, so an operator fixes a file in one pass.

mod modules;
mod reader;

use std::{
    collections::HashMap, fmt, net::SocketAddr, ops::RangeInclusive, path::PathBuf, time::Duration,
};

use config::{ConfigError, Environment, File, FileFormat, Map, Source, Value, ValueKind};
use serde::{Serialize, Serializer};
use zeroize::Zeroizing;

pub use modules::{
    BeaconValueSetting, ContractCallSetting, DutiesSettings, FeedSettings, ModuleKind,
    ModuleSettings, OracleSettings, SourceSettings,
};
pub use reader::ConfigIssue;
use reader::{Reader, duration, non_empty, one_of, parsed, text};

/// Prefix of the environment variables that set config keys: `RESTAKED_HTTP__LISTEN` sets `http.listen`.
pub const ENV_PREFIX: &str = "RESTAKED";
/// Separator between sections in environment variable names.
pub const ENV_SEPARATOR: &str = "__";
const ENV_ORIGIN: &str = "the environment";
const CLI_ORIGIN: &str = "the command line";

/// Default HTTP listen address (metrics, health, EigenLayer node API).
pub const DEFAULT_HTTP_LISTEN: &str = "127.0.0.1:7600";
/// Default gRPC listen address (admin API).
pub const DEFAULT_GRPC_LISTEN: &str = "127.0.0.1:7601";
/// Default data directory, the systemd unit's `StateDirectory`.
pub const DEFAULT_DATA_DIR: &str = "/var/lib/restaked";

/// The effective configuration of a node.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    /// Directory holding the store, the lock file and `endpoints.json`.
    pub data_dir: PathBuf,
    /// Identity of this node.
    pub node: NodeSettings,
    /// The HTTP server.
    pub http: HttpSettings,
    /// The gRPC admin server.
    pub grpc: GrpcSettings,
    /// Logging.
    pub log: LogSettings,
    /// Graceful shutdown.
    pub shutdown: ShutdownSettings,
    /// The SQLite store.
    pub store: StoreSettings,
    /// Keys and the protected signer.
    pub signer: SignerSettings,
    /// Beacon nodes.
    pub beacon: BeaconSettings,
    /// What the validator tracker follows.
    pub tracker: TrackerSettings,
    /// The execution chain (pod contracts).
    pub execution: ExecutionSettings,
    /// The operator's EigenPods and their reconciliation.
    pub eigenpod: EigenPodSettings,
    /// How the duty-module runtime supervises modules.
    pub duties: DutiesSettings,
    /// The duty modules, by id (`[modules.<id>]`).
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "modules_by_id"
    )]
    pub modules: Vec<ModuleSettings>,
}

fn modules_by_id<S: Serializer>(
    modules: &[ModuleSettings],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_map(modules.iter().map(|m| (m.id.as_str(), m)))
}

/// `[tracker]`: which validators the node tracks, and how.
#[derive(Debug, Clone, Serialize)]
pub struct TrackerSettings {
    /// Public keys to track.
    pub pubkeys: Vec<restake_types::BlsPublicKey>,
    /// Validator index ranges to track (`"100-199"` or `"42"`).
    #[serde(serialize_with = "ranges")]
    pub validator_indices: Vec<RangeInclusive<u64>>,
    /// EigenPod addresses: every validator whose `0x01`/`0x02` credentials point at one is tracked.
    pub pods: Vec<restake_types::ExecutionAddress>,
    /// Also track the public keys of the loaded BLS keystores.
    pub track_keystores: bool,
    /// Read the tracked set every `epoch` or every `slot`.
    pub update_every: restake_beacon::tracker::UpdateEvery,
    /// A balance drop (Gwei) between two updates beyond this is an event.
    pub balance_drop_threshold_gwei: u64,
    /// Rescan the whole registry for the pods' validators every this many epochs; 0: never
    /// (the blocks' deposits keep the set current).
    pub rescan_every_epochs: u64,
    /// One metric series per tracked validator (its balance); off by default for cardinality.
    pub per_validator_metrics: bool,
}

/// `[execution]`: the execution-layer JSON-RPC endpoint.
#[derive(Debug, Clone, Serialize)]
pub struct ExecutionSettings {
    /// JSON-RPC URL; `None`: no execution chain, no pod reconciliation.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "redacted_url"
    )]
    pub rpc_url: Option<url::Url>,
    /// JSON-RPC URLs of other chains, for duty modules that read contracts there (an oracle's
    /// aggregator on an L2); each one's chain id is asked when a module first needs it.
    #[serde(serialize_with = "redacted_urls")]
    pub extra_rpc_urls: Vec<url::Url>,
}

/// `[eigenpod]`: the operator's EigenPods on the execution chain.
#[derive(Debug, Clone, Serialize)]
pub struct EigenPodSettings {
    /// The EigenPodManager contract; needed to find the pods of `owners`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manager: Option<restake_types::ExecutionAddress>,
    /// Pod owners whose pods (from the manager) are tracked and reconciled.
    pub owners: Vec<restake_types::ExecutionAddress>,
    /// How often the pods are reconciled with the beacon chain.
    #[serde(serialize_with = "human_duration")]
    pub reconcile_interval: Duration,
    /// ETH (in Gwei) sitting in a pod, not yet restaked, beyond which a checkpoint is advised.
    pub unrestaked_threshold_gwei: u64,
}

fn ranges<S: Serializer>(ranges: &[RangeInclusive<u64>], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(ranges.iter().map(|r| {
        if r.start() == r.end() {
            r.start().to_string()
        } else {
            format!("{}-{}", r.start(), r.end())
        }
    }))
}

fn redacted_url<S: Serializer>(url: &Option<url::Url>, serializer: S) -> Result<S::Ok, S::Error> {
    redacted_urls(url.as_slice(), serializer)
}

/// An `http://` or `https://` URL.
fn http_url(value: &Value) -> Result<url::Url, String> {
    let text = non_empty(value)?;
    let url = url::Url::parse(&text).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(format!("{text:?}: scheme {other:?} is not http or https")),
    }
}

/// A validator index range: `"7"` or `"100-199"`.
fn index_range(value: &Value) -> Result<RangeInclusive<u64>, String> {
    let s = text(value)?;
    let number = |part: &str| {
        part.trim()
            .parse::<u64>()
            .map_err(|e| format!("{s:?} is not an index or a range such as \"100-199\": {e}"))
    };
    let range = match s.split_once('-') {
        Some((start, end)) => number(start)?..=number(end)?,
        None => {
            let i = number(&s)?;
            i..=i
        }
    };
    if range.start() > range.end() {
        return Err(format!("{s:?}: the range is empty (start after end)"));
    }
    if range.end() - range.start() >= MAX_INDEX_RANGE {
        return Err(format!(
            "{s:?} spans more than {MAX_INDEX_RANGE} indices; track pods or pubkeys instead"
        ));
    }
    Ok(range)
}

/// The widest index range accepted, so a typo cannot make the node track the whole registry.
const MAX_INDEX_RANGE: u64 = 100_000;

/// A `true`/`false` value (environment variables and flags give it as text).
fn boolean(value: &Value) -> Result<bool, String> {
    match &value.kind {
        ValueKind::Boolean(b) => Ok(*b),
        _ => match text(value)?.as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(format!("{other:?} is not true or false")),
        },
    }
}

/// `[beacon]`: the beacon nodes the node reads the chain from.
#[derive(Debug, Clone, Serialize)]
pub struct BeaconSettings {
    /// Beacon API base URLs, primary first; the others are fallbacks. Empty: no beacon node.
    #[serde(serialize_with = "redacted_urls")]
    pub endpoints: Vec<url::Url>,
}

/// URLs may carry credentials (basic auth, API keys in the path); the dump shows scheme, host
/// and port only.
fn redacted_urls<S: Serializer>(urls: &[url::Url], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(urls.iter().map(redact))
}

/// Scheme, host and port of `u`, with anything that may be a secret replaced by `<redacted>`.
fn redact(u: &url::Url) -> String {
    let has_secret = !u.username().is_empty()
        || u.password().is_some()
        || u.path() != "/"
        || u.query().is_some();
    let base = restake_beacon::redact_url(u);
    if has_secret {
        format!("{base}/<redacted>")
    } else {
        base
    }
}

/// `[node]`: identity of this node.
#[derive(Debug, Clone, Serialize)]
pub struct NodeSettings {
    /// Name reported by `/eigen/node` and `GetStatus`.
    pub name: String,
}

/// `[http]`: metrics, health and the EigenLayer AVS node API.
#[derive(Debug, Clone, Serialize)]
pub struct HttpSettings {
    /// Address to listen on.
    pub listen: SocketAddr,
}

/// `[grpc]`: the admin API.
#[derive(Debug, Clone, Serialize)]
pub struct GrpcSettings {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Bearer token required on admin calls; `None` means no authentication (loopback use).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_token: Option<Secret>,
}

/// `[log]`: logging.
#[derive(Debug, Clone, Serialize)]
pub struct LogSettings {
    /// `tracing` filter directives, e.g. `info` or `info,restaked=debug`.
    pub level: String,
    /// Output format.
    pub format: LogFormat,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Human,
    /// One JSON object per line.
    Json,
}

/// `[shutdown]`: graceful shutdown.
#[derive(Debug, Clone, Serialize)]
pub struct ShutdownSettings {
    /// How long in-flight work may take to finish after SIGTERM before the node stops anyway.
    #[serde(serialize_with = "human_duration")]
    pub drain_timeout: Duration,
}

/// `[store]`: the SQLite store.
#[derive(Debug, Clone, Serialize)]
pub struct StoreSettings {
    /// How long a writer waits for a lock held by another connection before giving up.
    #[serde(serialize_with = "human_duration")]
    pub busy_timeout: Duration,
    /// Integrity check run at startup.
    pub integrity_check: IntegrityCheck,
}

/// `[signer]`: where the node's keys come from.
#[derive(Debug, Clone, Serialize)]
pub struct SignerSettings {
    /// Directory of EIP-2335 keystores (Lighthouse, Teku or flat layout); `None` loads none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keystores_dir: Option<PathBuf>,
    /// Where each keystore's password is; required with `keystores_dir`.
    #[serde(flatten)]
    pub passwords: Option<PasswordSettings>,
    /// What a keystore that cannot be loaded does to startup.
    pub on_bad_keystore: OnBadKeystore,
    /// Threads decrypting keystores at startup; 0 means one per CPU core.
    pub decrypt_threads: usize,
    /// The EigenLayer BN254 (AVS BLS) key: an eigensdk keystore and its password file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bn254: Option<KeyFile>,
    /// The secp256k1 (ECDSA) key: a web3 secret-storage keystore and its password file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ecdsa: Option<KeyFile>,
}

/// One keystore file and the file holding its password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyFile {
    /// The keystore.
    pub keystore: PathBuf,
    /// Its password (one trailing newline is ignored).
    pub password_file: PathBuf,
}

/// The one configured source of keystore passwords.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PasswordSettings {
    /// `signer.secrets_dir`: Lighthouse's secrets directory, a file per `0x<pubkey>`.
    SecretsDir(PathBuf),
    /// `signer.passwords_dir`: a `<keystore name>.txt` per keystore (Teku, Web3Signer).
    PasswordsDir(PathBuf),
    /// `signer.password_file`: one password for every keystore.
    PasswordFile(PathBuf),
}

/// What a keystore that cannot be loaded (bad JSON, wrong password, unsupported KDF) does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnBadKeystore {
    /// Refuse to start (exit 78), naming every bad file.
    Fail,
    /// Log it, count it in `restaked_signer_keystore_errors_total`, and start without it.
    Skip,
}

/// Which SQLite integrity check runs at startup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IntegrityCheck {
    /// `PRAGMA quick_check`: structure of every page, linear in file size.
    Quick,
    /// `PRAGMA integrity_check`: also checks that indexes match their tables.
    Full,
}

/// A secret value from the config: zeroized on drop, never printed.
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("<redacted>")
    }
}

fn human_duration<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&humantime::format_duration(*value))
}

/// Where a configuration comes from.
#[derive(Debug, Clone, Default)]
pub struct ConfigSources {
    /// The TOML file, if any; it must exist when given.
    pub file: Option<PathBuf>,
    /// Environment variables to read; `None` reads the process environment.
    pub env: Option<HashMap<String, String>>,
    /// `(key, value)` pairs from command-line flags, highest precedence.
    pub overrides: Vec<(String, String)>,
    /// Default for `data_dir` when no layer sets it; `None` uses [`DEFAULT_DATA_DIR`].
    pub default_data_dir: Option<PathBuf>,
}

/// Everything wrong with a configuration.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigIssue>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        writeln!(
            f,
            "invalid configuration ({n} problem{}):",
            if n == 1 { "" } else { "s" }
        )?;
        for issue in &self.0 {
            writeln!(f, "  {issue}")?;
        }
        Ok(())
    }
}

/// Command-line overrides as a `config` source, so their origin shows in errors.
#[derive(Debug, Clone)]
struct CommandLine(Vec<(String, String)>);

impl Source for CommandLine {
    fn clone_into_box(&self) -> Box<dyn Source + Send + Sync> {
        Box::new(self.clone())
    }

    fn collect(&self) -> Result<Map<String, Value>, ConfigError> {
        let origin = CLI_ORIGIN.to_owned();
        Ok(self
            .0
            .iter()
            .map(|(key, value)| {
                (
                    key.clone(),
                    Value::new(Some(&origin), ValueKind::String(value.clone())),
                )
            })
            .collect())
    }
}

/// The environment variable that sets `path`.
pub fn env_var_for(path: &str) -> String {
    format!(
        "{ENV_PREFIX}_{}",
        path.replace('.', ENV_SEPARATOR).to_uppercase()
    )
}

impl Config {
    /// Loads and validates the configuration from its layers.
    pub fn load(sources: &ConfigSources) -> Result<Self, ConfigErrors> {
        let mut builder = config::Config::builder();
        if let Some(file) = &sources.file {
            builder = builder.add_source(
                File::from(file.as_path())
                    .format(FileFormat::Toml)
                    .required(true),
            );
        }
        builder = builder.add_source(
            Environment::with_prefix(ENV_PREFIX)
                .prefix_separator("_")
                .separator(ENV_SEPARATOR)
                .try_parsing(true)
                .source(sources.env.clone()),
        );
        builder = builder.add_source(CommandLine(sources.overrides.clone()));
        let merged = builder.build().and_then(|c| c.collect()).map_err(|e| {
            let path = sources
                .file
                .as_ref()
                .map_or_else(|| "config".to_owned(), |f| f.display().to_string());
            ConfigErrors(vec![ConfigIssue {
                path,
                message: e.to_string(),
                origin: None,
            }])
        })?;
        let mut reader = Reader::new(&merged);
        let config = Self::read(&mut reader, sources);
        let mut issues = reader.finish();
        if issues.is_empty() {
            return Ok(config);
        }
        for issue in &mut issues {
            issue.origin = match issue.origin.as_deref() {
                Some(ENV_ORIGIN) => {
                    Some(format!("environment variable {}", env_var_for(&issue.path)))
                }
                Some(CLI_ORIGIN) => Some(CLI_ORIGIN.to_owned()),
                // `config` records file origins relative to the working directory; name the
                // file as the operator gave it.
                Some(_) => sources.file.as_ref().map(|f| f.display().to_string()),
                None => None,
            };
        }
        Err(ConfigErrors(issues))
    }

    fn read(r: &mut Reader<'_>, sources: &ConfigSources) -> Self {
        let default_addr = |s: &str| {
            s.parse::<SocketAddr>()
                .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 0)))
        };
        let default_data_dir = sources
            .default_data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let config = Self {
            data_dir: r.read("data_dir", default_data_dir, |v| non_empty(v).map(PathBuf::from)),
            node: NodeSettings {
                name: r.read("node.name", "restaked".to_owned(), |v| {
                    let name = non_empty(v)?;
                    if name.len() > 64 { Err("must be at most 64 characters".to_owned()) } else { Ok(name) }
                }),
            },
            http: HttpSettings {
                listen: r.read("http.listen", default_addr(DEFAULT_HTTP_LISTEN), parsed("a socket address (IP:PORT)")),
            },
            grpc: GrpcSettings {
                listen: r.read("grpc.listen", default_addr(DEFAULT_GRPC_LISTEN), parsed("a socket address (IP:PORT)")),
                auth_token: r.optional("grpc.auth_token", |v| {
                    let token = text(v)?;
                    if token.len() < 16 {
                        Err("must be at least 16 characters".to_owned())
                    } else {
                        Ok(Secret(Zeroizing::new(token)))
                    }
                }),
            },
            log: LogSettings {
                level: r.read("log.level", "info".to_owned(), |v| {
                    let level = text(v)?;
                    tracing_subscriber::EnvFilter::try_new(&level)
                        .map(|_| level.clone())
                        .map_err(|e| format!("{level:?} is not a log filter such as \"info\" or \"info,restaked=debug\": {e}"))
                }),
                format: r.read("log.format", LogFormat::Human, |v| {
                    one_of(&["human", "json"])(v).map(|s| if s == "json" { LogFormat::Json } else { LogFormat::Human })
                }),
            },
            shutdown: ShutdownSettings {
                drain_timeout: r.read("shutdown.drain_timeout", Duration::from_secs(30), |v| {
                    let d = duration(v)?;
                    if d.is_zero() || d > Duration::from_secs(600) {
                        Err("must be more than 0s and at most 10m".to_owned())
                    } else {
                        Ok(d)
                    }
                }),
            },
            store: StoreSettings {
                busy_timeout: r.read("store.busy_timeout", Duration::from_secs(5), |v| {
                    let d = duration(v)?;
                    if d > Duration::from_secs(60) { Err("must be at most 60s".to_owned()) } else { Ok(d) }
                }),
                integrity_check: r.read("store.integrity_check", IntegrityCheck::Quick, |v| {
                    one_of(&["quick", "full"])(v).map(|s| if s == "full" { IntegrityCheck::Full } else { IntegrityCheck::Quick })
                }),
            },
            signer: Self::read_signer(r),
            beacon: BeaconSettings {
                endpoints: r.list("beacon.endpoints", http_url),
            },
            tracker: Self::read_tracker(r),
            execution: ExecutionSettings {
                rpc_url: r.optional("execution.rpc_url", http_url),
                extra_rpc_urls: r.list("execution.extra_rpc_urls", http_url),
            },
            eigenpod: EigenPodSettings {
                manager: r.optional("eigenpod.manager", parsed("an execution address (0x + 40 hex digits)")),
                owners: r.list("eigenpod.owners", |v| parsed("an execution address (0x + 40 hex digits)")(v)),
                reconcile_interval: r.read("eigenpod.reconcile_interval", Duration::from_secs(60), |v| {
                    let d = duration(v)?;
                    if d < Duration::from_secs(1) { Err("must be at least 1s".to_owned()) } else { Ok(d) }
                }),
                unrestaked_threshold_gwei: r.read("eigenpod.unrestaked_threshold_gwei", 1_000_000_000, parsed("a number of Gwei")),
            },
            duties: modules::read_duties(r),
            modules: modules::read_modules(r),
        };
        if !config.eigenpod.owners.is_empty() {
            if config.eigenpod.manager.is_none() {
                r.issue(
                    "eigenpod.owners",
                    "needs eigenpod.manager to find the owners' pods",
                );
            }
            if config.execution.rpc_url.is_none() {
                r.issue(
                    "eigenpod.owners",
                    "needs execution.rpc_url to find the owners' pods",
                );
            }
        }
        if let Some(dir) = &config.signer.keystores_dir {
            if config.signer.passwords.is_none() {
                r.issue(
                    "signer.keystores_dir",
                    format!(
                        "{} needs a password source: set one of signer.secrets_dir, signer.passwords_dir, signer.password_file",
                        dir.display()
                    ),
                );
            }
        } else if config.signer.passwords.is_some() {
            r.issue(
                "signer.keystores_dir",
                "a password source is set but signer.keystores_dir is not",
            );
        }
        if config.http.listen == config.grpc.listen && config.http.listen.port() != 0 {
            r.issue(
                "grpc.listen",
                format!("same address as http.listen ({})", config.http.listen),
            );
        }
        config
    }

    fn read_signer(r: &mut Reader<'_>) -> SignerSettings {
        let path = |v: &Value| non_empty(v).map(PathBuf::from);
        let sources = [
            r.optional("signer.secrets_dir", path)
                .map(PasswordSettings::SecretsDir),
            r.optional("signer.passwords_dir", path)
                .map(PasswordSettings::PasswordsDir),
            r.optional("signer.password_file", path)
                .map(PasswordSettings::PasswordFile),
        ];
        let mut set = sources.into_iter().flatten();
        let passwords = set.next();
        if set.next().is_some() {
            r.issue(
                "signer.password_file",
                "set only one of signer.secrets_dir, signer.passwords_dir, signer.password_file",
            );
        }
        SignerSettings {
            keystores_dir: r.optional("signer.keystores_dir", path),
            passwords,
            on_bad_keystore: r.read("signer.on_bad_keystore", OnBadKeystore::Fail, |v| {
                one_of(&["fail", "skip"])(v).map(|s| {
                    if s == "skip" {
                        OnBadKeystore::Skip
                    } else {
                        OnBadKeystore::Fail
                    }
                })
            }),
            bn254: Self::read_key_file(r, "bn254"),
            ecdsa: Self::read_key_file(r, "ecdsa"),
            decrypt_threads: r.read("signer.decrypt_threads", 0, |v| {
                let n: usize = parsed("a number of threads")(v)?;
                if n > 1024 {
                    Err("must be at most 1024".to_owned())
                } else {
                    Ok(n)
                }
            }),
        }
    }

    fn read_tracker(r: &mut Reader<'_>) -> TrackerSettings {
        use restake_beacon::tracker::UpdateEvery;
        TrackerSettings {
            pubkeys: r.list("tracker.pubkeys", |v| {
                parsed("a BLS public key (0x + 96 hex digits)")(v)
            }),
            validator_indices: r.list("tracker.validator_indices", index_range),
            pods: r.list("tracker.pods", |v| {
                parsed("an execution address (0x + 40 hex digits)")(v)
            }),
            track_keystores: r.read("tracker.track_keystores", true, boolean),
            update_every: r.read("tracker.update_every", UpdateEvery::Epoch, |v| {
                one_of(&["epoch", "slot"])(v).map(|s| {
                    if s == "slot" {
                        UpdateEvery::Slot
                    } else {
                        UpdateEvery::Epoch
                    }
                })
            }),
            balance_drop_threshold_gwei: r.read(
                "tracker.balance_drop_threshold_gwei",
                100_000_000,
                parsed("a number of Gwei"),
            ),
            rescan_every_epochs: r.read(
                "tracker.rescan_every_epochs",
                0,
                parsed("a number of epochs"),
            ),
            per_validator_metrics: r.read("tracker.per_validator_metrics", false, boolean),
        }
    }

    /// `signer.<scheme>.keystore` and `signer.<scheme>.password_file`, which go together.
    fn read_key_file(r: &mut Reader<'_>, scheme: &str) -> Option<KeyFile> {
        let keystore_key = format!("signer.{scheme}.keystore");
        let password_key = format!("signer.{scheme}.password_file");
        let path = |v: &Value| non_empty(v).map(PathBuf::from);
        let keystore = r.optional(&keystore_key, path);
        let password_file = r.optional(&password_key, path);
        match (keystore, password_file) {
            (Some(keystore), Some(password_file)) => Some(KeyFile {
                keystore,
                password_file,
            }),
            (None, None) => None,
            (Some(_), None) => {
                r.issue(&keystore_key, format!("needs {password_key}"));
                None
            }
            (None, Some(_)) => {
                r.issue(&password_key, format!("needs {keystore_key}"));
                None
            }
        }
    }

    /// The effective configuration as TOML, secrets redacted.
    pub fn dump(&self) -> String {
        toml::to_string(self)
            .unwrap_or_else(|e| format!("# the configuration could not be printed: {e}\n"))
    }
}

#[cfg(test)]
mod tests;
