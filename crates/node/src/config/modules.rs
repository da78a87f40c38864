//! `[duties]` (the module runtime) and `[modules.<id>]` (one section per duty module), read
//! with the rest of the configuration so every problem is reported at once.

use std::{collections::BTreeMap, time::Duration};

use config::Value;
use restake_signer::Scheme;
use restake_types::{ExecutionAddress, ModuleId};
use serde::Serialize;

use crate::modules::{oracle_config, placeholder_key};

use super::{
    Secret, boolean, http_url, human_duration,
    reader::{Reader, duration, non_empty, one_of, parsed, text},
    redact, redacted_urls,
};

/// `[duties]`: how the module runtime supervises modules.
#[derive(Debug, Clone, Serialize)]
pub struct DutiesSettings {
    /// Delay before restarting a module after its first failure; doubles per failure.
    #[serde(serialize_with = "human_duration")]
    pub backoff_base: Duration,
    /// Longest restart delay.
    #[serde(serialize_with = "human_duration")]
    pub backoff_max: Duration,
    /// How long a disable or restart waits for a module to stop before aborting it.
    #[serde(serialize_with = "human_duration")]
    pub stop_deadline: Duration,
}

/// `[modules.<id>]`: one duty module.
#[derive(Debug, Clone, Serialize)]
pub struct ModuleSettings {
    /// The module id (the table's name).
    #[serde(skip)]
    pub id: ModuleId,
    /// Whether the module starts enabled; `restakectl modules enable|disable` changes it live.
    pub enabled: bool,
    /// The module kind and its settings.
    #[serde(flatten)]
    pub kind: ModuleKind,
}

/// The kinds of duty module the node has.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModuleKind {
    /// Oracle attestation: signed price / proof-of-reserve reports.
    Oracle(OracleSettings),
}

/// The settings of an oracle module.
#[derive(Debug, Clone, Serialize)]
pub struct OracleSettings {
    /// The feeds, by id.
    pub feeds: BTreeMap<String, FeedSettings>,
}

/// `[modules.<id>.feeds.<feed>]`: one oracle feed.
#[derive(Debug, Clone, Serialize)]
pub struct FeedSettings {
    /// Decimals of the signed fixed-point value.
    pub decimals: u8,
    /// Agreeing sources needed to sign a round.
    pub quorum: usize,
    /// Change (basis points of the last report) that makes a round publish before the heartbeat.
    pub deviation_bps: u32,
    /// A report is published at least this often, changed or not.
    #[serde(serialize_with = "human_duration")]
    pub heartbeat: Duration,
    /// How often a round is considered.
    #[serde(serialize_with = "human_duration")]
    pub interval: Duration,
    /// Source observations older than this are stale.
    #[serde(serialize_with = "human_duration")]
    pub max_age: Duration,
    /// An answer further than this (basis points) from the median of all answers is an outlier.
    pub outlier_bps: u32,
    /// The signing scheme: `bn254` (EigenLayer AVS key) or `bls12-381`.
    #[serde(serialize_with = "scheme_name")]
    pub scheme: Scheme,
    /// The public key to sign with (hex); `None`: the node's only key of `scheme`.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "hex_key")]
    pub key: Option<Vec<u8>>,
    /// Aggregator URLs each signed report is POSTed to.
    #[serde(serialize_with = "redacted_urls")]
    pub publish_urls: Vec<url::Url>,
    /// The sources, by id.
    pub sources: BTreeMap<String, SourceSettings>,
}

/// `[modules.<id>.feeds.<feed>.sources.<source>]`: one source of a feed.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SourceSettings {
    /// A JSON document over HTTP.
    Http {
        /// The URL.
        #[serde(serialize_with = "redacted_one")]
        url: url::Url,
        /// JSON pointer (RFC 6901) to the value.
        pointer: String,
        /// JSON pointer to the observation time (Unix seconds), if the document has one.
        #[serde(skip_serializing_if = "Option::is_none")]
        timestamp_pointer: Option<String>,
        /// How long the request may take.
        #[serde(serialize_with = "human_duration")]
        timeout: Duration,
        /// Extra request headers (API keys): redacted in the dump.
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        headers: BTreeMap<String, Secret>,
    },
    /// A Chainlink-style aggregator read with `eth_call`.
    Contract {
        /// The chain, served by one of `execution.rpc_url` / `execution.extra_rpc_urls`.
        chain_id: u64,
        /// The aggregator contract.
        address: ExecutionAddress,
        /// `latest_round_data` or `latest_answer`.
        call: ContractCallSetting,
        /// Decimals of the aggregator's answer.
        decimals: u8,
        /// How long the call may take.
        #[serde(serialize_with = "human_duration")]
        timeout: Duration,
    },
    /// A value derived from the tracker's view of the beacon chain.
    Beacon {
        /// `tracked_balance` or `pod_balance`.
        value: BeaconValueSetting,
        /// The pod, for `pod_balance`.
        #[serde(skip_serializing_if = "Option::is_none")]
        pod: Option<ExecutionAddress>,
    },
}

/// Which aggregator function a contract source calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContractCallSetting {
    /// `latestRoundData()`: the answer and its `updatedAt`.
    LatestRoundData,
    /// `latestAnswer()`: the answer only (observed at the time of the call).
    LatestAnswer,
}

/// Which beacon-derived figure a beacon source gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BeaconValueSetting {
    /// The total balance of every tracked validator, in ETH.
    TrackedBalance,
    /// The total balance of the validators of one pod, in ETH.
    PodBalance,
}

fn scheme_name<S: serde::Serializer>(scheme: &Scheme, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(scheme.as_str())
}

fn redacted_one<S: serde::Serializer>(url: &url::Url, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&redact(url))
}

fn hex_key<S: serde::Serializer>(key: &Option<Vec<u8>>, serializer: S) -> Result<S::Ok, S::Error> {
    match key {
        Some(key) => serializer.serialize_str(&format!("0x{}", hex::encode(key))),
        None => serializer.serialize_none(),
    }
}

const ADDRESS: &str = "an execution address (0x + 40 hex digits)";

fn positive_duration(value: &Value) -> Result<Duration, String> {
    let d = duration(value)?;
    if d.is_zero() {
        Err("must be more than 0s".to_owned())
    } else {
        Ok(d)
    }
}

/// Reads `[duties]`.
pub(super) fn read_duties(r: &mut Reader<'_>) -> DutiesSettings {
    let settings = DutiesSettings {
        backoff_base: r.read(
            "duties.backoff_base",
            Duration::from_secs(1),
            positive_duration,
        ),
        backoff_max: r.read(
            "duties.backoff_max",
            Duration::from_secs(300),
            positive_duration,
        ),
        stop_deadline: r.read(
            "duties.stop_deadline",
            Duration::from_secs(10),
            positive_duration,
        ),
    };
    if settings.backoff_max < settings.backoff_base {
        r.issue(
            "duties.backoff_max",
            format!(
                "{} is shorter than duties.backoff_base ({})",
                humantime::format_duration(settings.backoff_max),
                humantime::format_duration(settings.backoff_base)
            ),
        );
    }
    settings
}

/// Reads every `[modules.<id>]` section.
pub(super) fn read_modules(r: &mut Reader<'_>) -> Vec<ModuleSettings> {
    let mut modules = Vec::new();
    let mut feed_owners = BTreeMap::new();
    for name in r.table_keys("modules") {
        let path = format!("modules.{name}");
        let id = match name.parse::<ModuleId>() {
            Ok(id) => Some(id),
            Err(e) => {
                r.issue(&path, e.to_string());
                None
            }
        };
        let enabled = r.read(&format!("{path}.enabled"), true, boolean);
        let kind = required(
            r,
            &format!("{path}.kind"),
            one_of(&["oracle"]),
            "the module kind (\"oracle\")",
        );
        let kind = match kind.as_deref() {
            Some("oracle") => {
                let oracle = read_oracle(r, &path);
                check_oracle(r, &path, &oracle, &mut feed_owners);
                Some(ModuleKind::Oracle(oracle))
            }
            _ => None,
        };
        if let (Some(id), Some(kind)) = (id, kind) {
            modules.push(ModuleSettings { id, enabled, kind });
        }
    }
    modules
}

/// The oracle's own checks (the ones that need the whole feed), and feed ids unique across
/// modules: a feed's reports are signed in the domain `oracle/<feed>`, so two modules with one
/// feed id would refuse each other's rounds.
fn check_oracle(
    r: &mut Reader<'_>,
    path: &str,
    oracle: &OracleSettings,
    feed_owners: &mut BTreeMap<String, String>,
) {
    let placeholder = oracle_config(path, oracle, |_, scheme, key| {
        Ok(placeholder_key(scheme, key))
    });
    // A feed with a source already reported as bad would also get "no source" or "quorum
    // exceeds the sources" from the whole-feed check: noise next to the real problem.
    let incomplete: Vec<String> = oracle
        .feeds
        .iter()
        .filter(|(id, feed)| {
            r.table_keys(&format!("{path}.feeds.{id}.sources")).len() != feed.sources.len()
        })
        .flat_map(|(id, _)| [format!("feeds.{id}.sources"), format!("feeds.{id}.quorum")])
        .collect();
    if let Ok(config) = placeholder {
        for (relative, message) in config.check() {
            if !incomplete.contains(&relative) {
                r.issue(&format!("{path}.{relative}"), message);
            }
        }
    }
    for feed in oracle.feeds.keys() {
        if let Some(other) = feed_owners.insert(feed.clone(), path.to_owned()) {
            r.issue(
                &format!("{path}.feeds.{feed}"),
                format!("feed {feed:?} is also configured in {other}: feed ids must be unique"),
            );
        }
    }
}

fn read_oracle(r: &mut Reader<'_>, module: &str) -> OracleSettings {
    let feeds_path = format!("{module}.feeds");
    let names = r.table_keys(&feeds_path);
    let feeds = names
        .into_iter()
        .map(|name| {
            let feed = read_feed(r, &format!("{feeds_path}.{name}"));
            (name, feed)
        })
        .collect();
    OracleSettings { feeds }
}

fn read_feed(r: &mut Reader<'_>, path: &str) -> FeedSettings {
    let key = |k: &str| format!("{path}.{k}");
    let sources_path = key("sources");
    let source_names = r.table_keys(&sources_path);
    let configured = source_names.len();
    let sources: BTreeMap<String, SourceSettings> = source_names
        .into_iter()
        .filter_map(|name| {
            let source = read_source(r, &format!("{sources_path}.{name}"))?;
            Some((name, source))
        })
        .collect();
    let majority = configured / 2 + 1;
    let feed = FeedSettings {
        decimals: r.read(&key("decimals"), 8, parsed("a number of decimals")),
        quorum: r.read(&key("quorum"), majority, parsed("a number of sources")),
        deviation_bps: r.read(
            &key("deviation_bps"),
            50,
            parsed("a number of basis points"),
        ),
        heartbeat: r.read(
            &key("heartbeat"),
            Duration::from_secs(3600),
            positive_duration,
        ),
        interval: r.read(&key("interval"), Duration::from_secs(30), positive_duration),
        max_age: r.read(&key("max_age"), Duration::from_secs(900), positive_duration),
        outlier_bps: r.read(
            &key("outlier_bps"),
            1000,
            parsed("a number of basis points"),
        ),
        scheme: r.read(&key("scheme"), Scheme::Bn254, |v| {
            let name = one_of(&["bn254", "bls12-381"])(v)?;
            Scheme::from_name(&name).ok_or_else(|| format!("{name:?} is not a scheme"))
        }),
        key: r.optional(&key("key"), |v| {
            let s = non_empty(v)?;
            hex::decode(s.trim_start_matches("0x"))
                .map_err(|e| format!("{s:?} is not a hex public key: {e}"))
        }),
        publish_urls: r.list(&key("publish_urls"), http_url),
        sources,
    };
    if let Some(public_key) = &feed.key {
        let expected = feed.scheme.key_id_len();
        if public_key.len() != expected {
            r.issue(
                &key("key"),
                format!(
                    "a {} public key is {expected} bytes, this one is {}",
                    feed.scheme,
                    public_key.len()
                ),
            );
        }
    }
    feed
}

fn read_source(r: &mut Reader<'_>, path: &str) -> Option<SourceSettings> {
    let key = |k: &str| format!("{path}.{k}");
    let kind = r.optional(&key("kind"), one_of(&["http", "contract", "beacon"]));
    let timeout = |r: &mut Reader<'_>| {
        r.read(&key("timeout"), Duration::from_secs(5), |v| {
            let d = positive_duration(v)?;
            if d > Duration::from_secs(60) {
                Err("must be at most 60s".to_owned())
            } else {
                Ok(d)
            }
        })
    };
    match kind.as_deref() {
        Some("http") => {
            let url = required(r, &key("url"), http_url, "the URL of the JSON document");
            let pointer = required(
                r,
                &key("pointer"),
                |v: &Value| text(v),
                "the JSON pointer to the value, e.g. \"/data/price\"",
            );
            let headers_path = key("headers");
            let headers = r
                .table_keys(&headers_path)
                .into_iter()
                .filter_map(|name| {
                    let value = r.optional(&format!("{headers_path}.{name}"), |v| {
                        text(v).map(|s| Secret(zeroize::Zeroizing::new(s)))
                    })?;
                    Some((name, value))
                })
                .collect();
            let timestamp_pointer = r.optional(&key("timestamp_pointer"), |v: &Value| text(v));
            let timeout = timeout(r);
            Some(SourceSettings::Http {
                url: url?,
                pointer: pointer?,
                timestamp_pointer,
                timeout,
                headers,
            })
        }
        Some("contract") => {
            let chain_id = required(
                r,
                &key("chain_id"),
                parsed("a chain id"),
                "the chain the aggregator is on",
            );
            let address = required(
                r,
                &key("address"),
                parsed(ADDRESS),
                "the aggregator contract's address",
            );
            let call = r.read(&key("call"), ContractCallSetting::LatestRoundData, |v| {
                one_of(&["latest_round_data", "latest_answer"])(v).map(|s| {
                    if s == "latest_answer" {
                        ContractCallSetting::LatestAnswer
                    } else {
                        ContractCallSetting::LatestRoundData
                    }
                })
            });
            let answer_decimals = r.read(&key("decimals"), 8, parsed("a number of decimals"));
            let timeout = timeout(r);
            Some(SourceSettings::Contract {
                chain_id: chain_id?,
                address: address?,
                call,
                decimals: answer_decimals,
                timeout,
            })
        }
        Some("beacon") => {
            let value = required(
                r,
                &key("value"),
                |v| {
                    one_of(&["tracked_balance", "pod_balance"])(v).map(|s| {
                        if s == "pod_balance" {
                            BeaconValueSetting::PodBalance
                        } else {
                            BeaconValueSetting::TrackedBalance
                        }
                    })
                },
                "\"tracked_balance\" or \"pod_balance\"",
            );
            let pod = r.optional(&key("pod"), parsed(ADDRESS));
            match (value, pod) {
                (None, _) => None,
                (Some(BeaconValueSetting::PodBalance), None) => {
                    r.issue(&key("pod"), "pod_balance needs the pod's address");
                    None
                }
                (Some(BeaconValueSetting::TrackedBalance), Some(_)) => {
                    r.issue(
                        &key("pod"),
                        "only pod_balance takes a pod; tracked_balance sums every tracked validator",
                    );
                    None
                }
                (Some(value), pod) => Some(SourceSettings::Beacon { value, pod }),
            }
        }
        Some(_) => None,
        None => {
            if !r.is_set(&key("kind")) {
                r.issue(
                    &key("kind"),
                    "missing: the source kind (\"http\", \"contract\" or \"beacon\")",
                );
            }
            None
        }
    }
}

/// A key without a default: recorded as missing when absent (a bad value is recorded by
/// `optional` itself).
fn required<T>(
    r: &mut Reader<'_>,
    path: &str,
    parse: impl FnOnce(&Value) -> Result<T, String>,
    what: &str,
) -> Option<T> {
    let value = r.optional(path, parse);
    if value.is_none() && !r.is_set(path) {
        r.issue(path, format!("missing: {what}"));
    }
    value
}
