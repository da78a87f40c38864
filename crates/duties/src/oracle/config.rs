//! The oracle module's configuration and its cross-field checks.

use std::{collections::BTreeMap, fmt, time::Duration};

use reqwest::header::{HeaderName, HeaderValue};
use restake_beacon::redact_url;
use restake_signer::{KeyId, Scheme};
use restake_types::ExecutionAddress;
use url::Url;

/// Most decimals a feed keeps. Values are `i128` scaled by `10^decimals`; at 18 decimals (the
/// ERC-20 and Chainlink convention for ETH amounts) that still leaves integer parts up to
/// 1.7·10^20, far above any price or reserve figure, and more decimals carry no information
/// any source gives.
pub const MAX_DECIMALS: u8 = 18;

/// Most decimals a contract source's answer may declare: `10^76` is the largest power of ten
/// that fits `int256`, the type the answer comes in.
pub const MAX_SOURCE_DECIMALS: u8 = 76;

/// Longest feed or source id. Ids are metric labels, store keys and signing domains.
pub const MAX_ID_LEN: usize = 64;

/// The oracle module's configuration: its feeds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OracleConfig {
    /// The feeds, each attested on its own schedule.
    pub feeds: Vec<FeedConfig>,
}

/// One feed: where its value comes from, when a new report is due, which key signs it and
/// where reports go.
#[derive(Clone, PartialEq, Eq)]
pub struct FeedConfig {
    /// The feed's id (`eth-usd`): letters, digits, `-`, `_`, `.`; at most [`MAX_ID_LEN`].
    pub id: String,
    /// Where answers come from.
    pub sources: Vec<SourceConfig>,
    /// How many sources must agree (answer, fresh, not outliers) for a round to be signed.
    pub quorum: usize,
    /// A new report is due when the value moved at least this many basis points of the last
    /// signed value (1..=10000).
    pub deviation_bps: u32,
    /// A new report is due when this long has passed since the last report's observation
    /// time, even if the value did not move (at least 1 s and at least `interval`).
    pub heartbeat: Duration,
    /// How often a round is considered.
    pub interval: Duration,
    /// Source observations older than this are stale and not used.
    pub max_age: Duration,
    /// An answer further than this many basis points from the median of all answers is an
    /// outlier and not used (1..=10000).
    pub outlier_bps: u32,
    /// Decimals of the fixed-point value (at most [`MAX_DECIMALS`]).
    pub decimals: u8,
    /// The key that signs reports: BLS12-381 or BN254.
    pub key: KeyId,
    /// Aggregators each signed report is POSTed to (as JSON).
    pub publish_urls: Vec<Url>,
}

impl fmt::Debug for FeedConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FeedConfig")
            .field("id", &self.id)
            .field("sources", &self.sources)
            .field("quorum", &self.quorum)
            .field("deviation_bps", &self.deviation_bps)
            .field("heartbeat", &self.heartbeat)
            .field("interval", &self.interval)
            .field("max_age", &self.max_age)
            .field("outlier_bps", &self.outlier_bps)
            .field("decimals", &self.decimals)
            .field("key", &self.key.to_string())
            .field(
                "publish_urls",
                &self.publish_urls.iter().map(redact_url).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// One source of a feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceConfig {
    /// The source's id, unique within its feed (same characters as feed ids; it is a metric
    /// label and part of the signed report).
    pub id: String,
    /// What it is.
    pub kind: SourceKind,
}

/// What a source is.
#[derive(Clone, PartialEq, Eq)]
pub enum SourceKind {
    /// A JSON HTTP API, read with a GET.
    Http {
        /// The URL (may carry API keys: only scheme, host and port are ever logged).
        url: Url,
        /// RFC 6901 JSON pointer to the value: a JSON number or a string holding one, read
        /// from its exact decimal text.
        pointer: String,
        /// Optional pointer to the observation time in Unix seconds (number or numeric
        /// string); without it the answer is observed when it arrives.
        timestamp_pointer: Option<String>,
        /// Longest wait for the whole answer.
        timeout: Duration,
        /// Extra request headers (e.g. an API key); values are never logged.
        headers: Vec<(String, String)>,
    },
    /// A Chainlink AggregatorV3-style contract on an execution chain the node is connected to.
    Contract {
        /// The chain (one of the node's execution endpoints must serve it).
        chain_id: u64,
        /// The aggregator contract.
        address: ExecutionAddress,
        /// Which read.
        call: ContractCall,
        /// Decimals of the contract's answer (its `decimals()`), at most
        /// [`MAX_SOURCE_DECIMALS`].
        decimals: u8,
        /// Longest wait for the call.
        timeout: Duration,
    },
    /// A figure of the validators the node's tracker follows (proof of reserve), in ETH.
    Beacon {
        /// Which figure.
        value: BeaconValue,
    },
}

impl fmt::Debug for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Http {
                url,
                pointer,
                timestamp_pointer,
                timeout,
                headers,
            } => f
                .debug_struct("Http")
                .field("url", &redact_url(url))
                .field("pointer", pointer)
                .field("timestamp_pointer", timestamp_pointer)
                .field("timeout", timeout)
                .field(
                    "headers",
                    &headers.iter().map(|(name, _)| name).collect::<Vec<_>>(),
                )
                .finish(),
            Self::Contract {
                chain_id,
                address,
                call,
                decimals,
                timeout,
            } => f
                .debug_struct("Contract")
                .field("chain_id", chain_id)
                .field("address", address)
                .field("call", call)
                .field("decimals", decimals)
                .field("timeout", timeout)
                .finish(),
            Self::Beacon { value } => f.debug_struct("Beacon").field("value", value).finish(),
        }
    }
}

/// The read a contract source makes (Chainlink's AggregatorV3Interface).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContractCall {
    /// `latestRoundData()`: the answer and its `updatedAt`, the observation time.
    LatestRoundData,
    /// `latestAnswer()`: the answer only; it is observed when read, so staleness cannot be
    /// judged. Prefer `LatestRoundData`.
    LatestAnswer,
}

/// A figure of the tracked validators, in ETH at the feed's decimals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BeaconValue {
    /// The sum of the actual balances of every validator the tracker tracks.
    TrackedBalance,
    /// The sum of the actual balances of the tracked validators whose credentials point at
    /// this pod.
    PodBalance(ExecutionAddress),
}

/// Whether `id` is a valid feed or source id.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Why `pointer` is not an RFC 6901 JSON pointer, if it is not.
pub(crate) fn pointer_problem(pointer: &str) -> Option<String> {
    if pointer.is_empty() {
        return None;
    }
    if !pointer.starts_with('/') {
        return Some(format!(
            "{pointer:?} is not a JSON pointer: it must be empty or start with '/'"
        ));
    }
    let mut chars = pointer.chars();
    while let Some(c) = chars.next() {
        if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
            return Some(format!(
                "{pointer:?} is not a JSON pointer: '~' must be followed by 0 or 1"
            ));
        }
    }
    None
}

impl OracleConfig {
    /// Every cross-field problem, as (path relative to the oracle's configuration, message):
    /// `("feeds.eth-usd.quorum", "3 exceeds the 2 sources")`. Empty when the configuration is
    /// usable.
    pub fn check(&self) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        if self.feeds.is_empty() {
            problems.push(("feeds".to_owned(), "no feed is configured".to_owned()));
        }
        let mut paths = IdPaths::new("feeds", "feed");
        for (index, feed) in self.feeds.iter().enumerate() {
            let base = paths.path(index, &feed.id, |path, message| {
                problems.push((path, message));
            });
            feed.check(&base, &mut problems);
        }
        problems
    }
}

/// The config paths of a list's items: `<list>.<id>`, or `<list>[i]` for an item whose id is
/// invalid or repeated, which is reported.
struct IdPaths<'a> {
    list: &'static str,
    what: &'static str,
    seen: BTreeMap<&'a str, usize>,
}

impl<'a> IdPaths<'a> {
    fn new(list: &'static str, what: &'static str) -> Self {
        Self {
            list,
            what,
            seen: BTreeMap::new(),
        }
    }

    /// The path of item `index` with `id`; a bad id goes to `problem` (path, message).
    fn path(&mut self, index: usize, id: &'a str, problem: impl FnOnce(String, String)) -> String {
        let (list, what) = (self.list, self.what);
        let duplicate = self.seen.insert(id, index);
        let indexed = format!("{list}[{index}]");
        if !valid_id(id) {
            problem(format!("{indexed}.id"), id_message(id));
        } else if let Some(first) = duplicate {
            problem(
                format!("{indexed}.id"),
                format!("duplicate {what} id {id:?} (also {list}[{first}])"),
            );
        } else {
            return format!("{list}.{id}");
        }
        indexed
    }
}

fn id_message(id: &str) -> String {
    format!("{id:?} is not a valid id: 1 to {MAX_ID_LEN} letters, digits, '-', '_' or '.'")
}

impl FeedConfig {
    fn check(&self, base: &str, problems: &mut Vec<(String, String)>) {
        let mut problem = |field: &str, message: String| {
            problems.push((format!("{base}.{field}"), message));
        };
        if self.sources.is_empty() {
            problem("sources", "a feed needs at least one source".to_owned());
        }
        if self.quorum == 0 {
            problem("quorum", "must be at least 1".to_owned());
        } else if self.quorum > self.sources.len() {
            problem(
                "quorum",
                format!(
                    "{} exceeds the number of sources ({})",
                    self.quorum,
                    self.sources.len()
                ),
            );
        }
        for (field, bps) in [
            ("deviation_bps", self.deviation_bps),
            ("outlier_bps", self.outlier_bps),
        ] {
            if bps == 0 || bps > 10_000 {
                problem(field, format!("{bps} is outside 1..=10000 basis points"));
            }
        }
        if self.decimals > MAX_DECIMALS {
            problem(
                "decimals",
                format!("{} exceeds the maximum of {MAX_DECIMALS}", self.decimals),
            );
        }
        if !matches!(self.key.scheme, Scheme::Bls12381 | Scheme::Bn254) {
            problem(
                "key",
                format!(
                    "a {} key cannot sign oracle reports: use a BLS12-381 or BN254 key",
                    self.key.scheme
                ),
            );
        }
        if self.interval.is_zero() {
            problem("interval", "must be more than zero".to_owned());
        }
        if self.heartbeat < self.interval {
            problem(
                "heartbeat",
                format!(
                    "{:?} is shorter than the interval ({:?})",
                    self.heartbeat, self.interval
                ),
            );
        }
        if self.heartbeat < Duration::from_secs(1) {
            problem(
                "heartbeat",
                "must be at least 1s (observation times are whole seconds)".to_owned(),
            );
        }
        if self.max_age < Duration::from_secs(1) {
            problem(
                "max_age",
                "must be at least 1s (observation times are whole seconds)".to_owned(),
            );
        }
        for (index, url) in self.publish_urls.iter().enumerate() {
            if !matches!(url.scheme(), "http" | "https") {
                problem(
                    &format!("publish_urls[{index}]"),
                    format!("{} is not an http(s) URL", redact_url(url)),
                );
            }
        }
        let mut paths = IdPaths::new("sources", "source");
        for (index, source) in self.sources.iter().enumerate() {
            let path = paths.path(index, &source.id, |path, message| problem(&path, message));
            source.kind.check(&path, &mut problem);
        }
    }
}

impl SourceKind {
    fn check(&self, path: &str, problem: &mut impl FnMut(&str, String)) {
        match self {
            Self::Http {
                url,
                pointer,
                timestamp_pointer,
                timeout,
                headers,
            } => {
                if !matches!(url.scheme(), "http" | "https") {
                    problem(
                        &format!("{path}.url"),
                        format!("{} is not an http(s) URL", redact_url(url)),
                    );
                }
                if let Some(message) = pointer_problem(pointer) {
                    problem(&format!("{path}.pointer"), message);
                }
                if let Some(message) = timestamp_pointer.as_deref().and_then(pointer_problem) {
                    problem(&format!("{path}.timestamp_pointer"), message);
                }
                if timeout.is_zero() {
                    problem(
                        &format!("{path}.timeout"),
                        "must be more than zero".to_owned(),
                    );
                }
                for (index, (name, value)) in headers.iter().enumerate() {
                    if HeaderName::from_bytes(name.as_bytes()).is_err() {
                        problem(
                            &format!("{path}.headers[{index}]"),
                            format!("{name:?} is not a valid header name"),
                        );
                    } else if HeaderValue::from_str(value).is_err() {
                        problem(
                            &format!("{path}.headers[{index}]"),
                            format!("the value of {name} is not a valid header value"),
                        );
                    }
                }
            }
            Self::Contract {
                decimals, timeout, ..
            } => {
                if *decimals > MAX_SOURCE_DECIMALS {
                    problem(
                        &format!("{path}.decimals"),
                        format!("{decimals} exceeds the maximum of {MAX_SOURCE_DECIMALS}"),
                    );
                }
                if timeout.is_zero() {
                    problem(
                        &format!("{path}.timeout"),
                        "must be more than zero".to_owned(),
                    );
                }
            }
            Self::Beacon { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn http(id: &str) -> SourceConfig {
        SourceConfig {
            id: id.to_owned(),
            kind: SourceKind::Http {
                url: "https://api.example/price?key=secret".parse().unwrap(),
                pointer: "/data/price".to_owned(),
                timestamp_pointer: None,
                timeout: Duration::from_secs(2),
                headers: vec![("x-api-key".to_owned(), "secret".to_owned())],
            },
        }
    }

    fn feed(id: &str) -> FeedConfig {
        FeedConfig {
            id: id.to_owned(),
            sources: vec![http("a"), http("b"), http("c")],
            quorum: 2,
            deviation_bps: 50,
            heartbeat: Duration::from_secs(3600),
            interval: Duration::from_secs(30),
            max_age: Duration::from_secs(120),
            outlier_bps: 300,
            decimals: 8,
            key: KeyId {
                scheme: Scheme::Bn254,
                public_key: vec![1; 64],
            },
            publish_urls: vec!["https://aggregator.example/reports".parse().unwrap()],
        }
    }

    fn paths(config: &OracleConfig) -> Vec<String> {
        config.check().into_iter().map(|(path, _)| path).collect()
    }

    #[test]
    fn a_sound_config_has_no_problem() {
        let config = OracleConfig {
            feeds: vec![feed("eth-usd"), feed("steth.eth")],
        };
        assert_eq!(config.check(), []);
    }

    #[test]
    fn every_cross_field_problem_is_reported_with_its_path() {
        let mut bad = feed("eth-usd");
        bad.quorum = 4;
        bad.deviation_bps = 0;
        bad.outlier_bps = 10_001;
        bad.decimals = 19;
        bad.key.scheme = Scheme::Secp256k1;
        bad.heartbeat = Duration::from_secs(10);
        bad.sources[1].id = "a".to_owned();
        bad.sources[2] = SourceConfig {
            id: "x,y".to_owned(),
            kind: SourceKind::Contract {
                chain_id: 1,
                address: ExecutionAddress::new([1; 20]),
                call: ContractCall::LatestRoundData,
                decimals: 77,
                timeout: Duration::ZERO,
            },
        };
        if let SourceKind::Http {
            pointer, headers, ..
        } = &mut bad.sources[0].kind
        {
            *pointer = "data/price".to_owned();
            headers.push(("bad header".to_owned(), "v".to_owned()));
        }
        let mut empty = feed("empty");
        empty.sources.clear();
        empty.interval = Duration::ZERO;
        let config = OracleConfig {
            feeds: vec![bad, feed("eth-usd"), empty],
        };
        assert_eq!(
            paths(&config),
            [
                "feeds.eth-usd.quorum",
                "feeds.eth-usd.deviation_bps",
                "feeds.eth-usd.outlier_bps",
                "feeds.eth-usd.decimals",
                "feeds.eth-usd.key",
                "feeds.eth-usd.heartbeat",
                "feeds.eth-usd.sources.a.pointer",
                "feeds.eth-usd.sources.a.headers[1]",
                "feeds.eth-usd.sources[1].id",
                "feeds.eth-usd.sources[2].id",
                "feeds.eth-usd.sources[2].decimals",
                "feeds.eth-usd.sources[2].timeout",
                "feeds[1].id",
                "feeds.empty.sources",
                "feeds.empty.quorum",
                "feeds.empty.interval",
            ]
        );
        let messages = config.check();
        assert_eq!(messages[0].1, "4 exceeds the number of sources (3)",);
        assert!(messages[12].1.contains("duplicate feed id"), "{messages:?}");
    }

    #[test]
    fn no_feed_and_a_bad_feed_id_are_problems() {
        assert_eq!(paths(&OracleConfig::default()), ["feeds"]);
        let config = OracleConfig {
            feeds: vec![feed("eth/usd")],
        };
        assert_eq!(paths(&config), ["feeds[0].id"]);
    }

    #[test]
    fn json_pointers_are_checked() {
        assert_eq!(pointer_problem(""), None);
        assert_eq!(pointer_problem("/a/0/b~1c~0"), None);
        assert!(pointer_problem("a").is_some());
        assert!(pointer_problem("/a~2").is_some());
        assert!(pointer_problem("/a~").is_some());
    }

    #[test]
    fn debug_output_hides_credentials() {
        let text = format!("{:?}", feed("eth-usd"));
        assert!(!text.contains("secret"), "{text}");
        assert!(text.contains("https://api.example"), "{text}");
        assert!(text.contains("x-api-key"), "{text}");
    }
}
