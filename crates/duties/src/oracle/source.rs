//! Asking one source for its answer: HTTP JSON APIs, AggregatorV3 contracts, the tracker.

use std::{
    collections::BTreeMap,
    fmt,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use alloy_primitives::{Address, I256};
use serde_json::value::RawValue;

use super::{
    config::{BeaconValue, ContractCall, SourceConfig, SourceKind},
    value::{ValueError, format_value, parse_decimal, rescale},
};
use crate::DutyContext;

/// Largest HTTP answer read: a price API answers in a few kilobytes.
const MAX_BODY: usize = 1 << 20;

/// Longest wait for the slot clock (the first call may ask the beacon node for genesis).
const BEACON_TIMEOUT: Duration = Duration::from_secs(10);

/// Gwei have 9 decimals of ETH.
const GWEI_DECIMALS: u8 = 9;

#[allow(missing_docs, unreachable_pub)]
mod bindings {
    alloy_sol_types::sol! {
        /// Chainlink's AggregatorV3Interface, the reads the oracle makes.
        #[sol(rpc)]
        interface AggregatorV3Interface {
            function latestRoundData() external view returns (
                uint80 roundId,
                int256 answer,
                uint256 startedAt,
                uint256 updatedAt,
                uint80 answeredInRound
            );
            function latestAnswer() external view returns (int256);
        }
    }
}

use bindings::AggregatorV3Interface;

/// A source's answer: the value at the feed's decimals and when it was observed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Observation {
    /// The value, scaled by the feed's `10^decimals`.
    pub(crate) value: i128,
    /// Unix seconds.
    pub(crate) observed_at: u64,
}

/// Why a source's answer was not used. Each maps to a fixed metric `reason`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SourceFailure {
    /// No answer within the source's timeout.
    Timeout(Duration),
    /// The HTTP status was not 2xx.
    HttpStatus(u16),
    /// The answer is not usable: not JSON, no value at the pointer, not a number, out of range,
    /// a reverted call, a time in the future.
    Invalid(String),
    /// The observation is older than the feed's `max_age`.
    Stale {
        /// Its age in seconds.
        age: u64,
    },
    /// The answer is too far from the median of all answers.
    Outlier {
        /// The answer.
        value: i128,
        /// The median it was compared with.
        median: i128,
        /// The feed's decimals, to show both.
        decimals: u8,
    },
    /// The source could not be asked: unreachable, no execution endpoint for its chain, no
    /// tracker, no tracked validator.
    Unavailable(String),
}

impl SourceFailure {
    /// Every `reason` label value.
    pub(crate) const REASONS: [&'static str; 6] = [
        "timeout",
        "http_status",
        "invalid",
        "stale",
        "outlier",
        "unavailable",
    ];

    /// The `reason` label value.
    pub(crate) fn reason(&self) -> &'static str {
        match self {
            Self::Timeout(_) => "timeout",
            Self::HttpStatus(_) => "http_status",
            Self::Invalid(_) => "invalid",
            Self::Stale { .. } => "stale",
            Self::Outlier { .. } => "outlier",
            Self::Unavailable(_) => "unavailable",
        }
    }
}

impl fmt::Display for SourceFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout(after) => write!(f, "timeout after {after:?}"),
            Self::HttpStatus(status) => write!(f, "http_status {status}"),
            Self::Invalid(why) => write!(f, "invalid: {why}"),
            Self::Stale { age } => write!(f, "stale: observed {age}s ago"),
            Self::Outlier {
                value,
                median,
                decimals,
            } => write!(
                f,
                "outlier: {} against the median {}",
                format_value(*value, *decimals),
                format_value(*median, *decimals)
            ),
            Self::Unavailable(why) => write!(f, "unavailable: {why}"),
        }
    }
}

/// The current time in Unix seconds.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Asks `source` for its answer, at the feed's `decimals`.
pub(crate) async fn observe(
    source: &SourceConfig,
    decimals: u8,
    client: &reqwest::Client,
    ctx: &DutyContext,
) -> Result<Observation, SourceFailure> {
    match &source.kind {
        SourceKind::Http {
            url,
            pointer,
            timestamp_pointer,
            timeout,
            headers,
        } => {
            let request = async {
                let mut request = client.get(url.clone());
                for (name, value) in headers {
                    request = request.header(name.as_str(), value.as_str());
                }
                let mut response = request
                    .send()
                    .await
                    .map_err(|e| SourceFailure::Unavailable(request_error(&e)))?;
                let status = response.status();
                if !status.is_success() {
                    return Err(SourceFailure::HttpStatus(status.as_u16()));
                }
                let mut body = Vec::new();
                while let Some(chunk) = response
                    .chunk()
                    .await
                    .map_err(|e| SourceFailure::Unavailable(request_error(&e)))?
                {
                    if body.len() + chunk.len() > MAX_BODY {
                        return Err(SourceFailure::Invalid(format!(
                            "the answer is larger than {MAX_BODY} bytes"
                        )));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(body)
            };
            let body = tokio::time::timeout(*timeout, request)
                .await
                .map_err(|_| SourceFailure::Timeout(*timeout))??;
            let received = unix_now();
            read_http_answer(
                &body,
                pointer,
                timestamp_pointer.as_deref(),
                decimals,
                received,
            )
            .map_err(SourceFailure::Invalid)
        }
        SourceKind::Contract {
            chain_id,
            address,
            call,
            decimals: answer_decimals,
            timeout,
        } => {
            let read = async {
                let provider = ctx
                    .execution()
                    .get(*chain_id)
                    .await
                    .map_err(|e| SourceFailure::Unavailable(e.to_string()))?;
                let feed = AggregatorV3Interface::new(Address::from(*address.as_bytes()), provider);
                match call {
                    ContractCall::LatestRoundData => {
                        let data = feed
                            .latestRoundData()
                            .call()
                            .await
                            .map_err(contract_failure)?;
                        let updated_at = u64::try_from(data.updatedAt).map_err(|_| {
                            SourceFailure::Invalid(format!(
                                "updatedAt {} is not a time",
                                data.updatedAt
                            ))
                        })?;
                        if updated_at == 0 {
                            return Err(SourceFailure::Invalid(
                                "updatedAt is 0: the round is not complete".to_owned(),
                            ));
                        }
                        Ok((data.answer, updated_at))
                    }
                    ContractCall::LatestAnswer => {
                        let answer = feed.latestAnswer().call().await.map_err(contract_failure)?;
                        Ok((answer, unix_now()))
                    }
                }
            };
            let (answer, observed_at) = tokio::time::timeout(*timeout, read)
                .await
                .map_err(|_| SourceFailure::Timeout(*timeout))??;
            let value = rescale(answer, *answer_decimals, decimals).ok_or_else(|| {
                SourceFailure::Invalid(format!(
                    "answer {answer} at {answer_decimals} decimals is out of range at {decimals}"
                ))
            })?;
            Ok(Observation { value, observed_at })
        }
        SourceKind::Beacon { value } => beacon_figure(*value, decimals, ctx).await,
    }
}

/// The tracked validators' balance sum in ETH, observed at the start of the oldest slot any
/// of them was read at.
async fn beacon_figure(
    figure: BeaconValue,
    decimals: u8,
    ctx: &DutyContext,
) -> Result<Observation, SourceFailure> {
    let tracker = ctx.tracker().ok_or_else(|| {
        SourceFailure::Unavailable("the node runs no validator tracker".to_owned())
    })?;
    let validators: Vec<_> = tracker
        .validators()
        .into_iter()
        .filter(|v| match figure {
            BeaconValue::TrackedBalance => true,
            BeaconValue::PodBalance(pod) => v.pod == Some(pod),
        })
        .collect();
    let oldest = validators.iter().map(|v| v.updated_slot).min();
    let Some(oldest) = oldest else {
        return Err(SourceFailure::Unavailable(match figure {
            BeaconValue::TrackedBalance => "the tracker tracks no validator yet".to_owned(),
            BeaconValue::PodBalance(pod) => {
                format!("the tracker tracks no validator of pod {pod}")
            }
        }));
    };
    let gwei: u128 = validators
        .iter()
        .map(|v| u128::from(v.data.balance.get()))
        .sum();
    let clock = tokio::time::timeout(BEACON_TIMEOUT, ctx.slot_clock())
        .await
        .map_err(|_| SourceFailure::Timeout(BEACON_TIMEOUT))?
        .map_err(|e| SourceFailure::Unavailable(e.to_string()))?;
    let observed_at = clock
        .start_of(oldest)
        .ok_or_else(|| SourceFailure::Invalid(format!("slot {oldest} has no start time")))?
        .as_secs();
    let gwei = I256::try_from(gwei)
        .map_err(|_| SourceFailure::Invalid("the balance sum is out of range".to_owned()))?;
    let value = rescale(gwei, GWEI_DECIMALS, decimals).ok_or_else(|| {
        SourceFailure::Invalid(format!(
            "{gwei} gwei is out of range at {decimals} decimals"
        ))
    })?;
    Ok(Observation { value, observed_at })
}

/// A reqwest error without its URL (which may carry an API key).
fn request_error(error: &reqwest::Error) -> String {
    let kind = if error.is_connect() {
        "cannot connect"
    } else if error.is_timeout() {
        "timed out"
    } else if error.is_body() || error.is_decode() {
        "the answer's body could not be read"
    } else {
        "request failed"
    };
    let mut detail = String::new();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        detail = cause.to_string();
        source = cause.source();
    }
    if detail.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {detail}")
    }
}

/// A failed contract read: an error answer from the node (a revert) or an undecodable result
/// (no contract at the address) is invalid; anything else means the chain was not reachable.
fn contract_failure(error: alloy_contract::Error) -> SourceFailure {
    match &error {
        alloy_contract::Error::TransportError(e) if e.as_error_resp().is_none() => {
            SourceFailure::Unavailable(e.to_string())
        }
        _ => SourceFailure::Invalid(error.to_string()),
    }
}

/// The value (and observation time, else `received`) in an HTTP source's JSON answer.
pub(crate) fn read_http_answer(
    body: &[u8],
    pointer: &str,
    timestamp_pointer: Option<&str>,
    decimals: u8,
    received: u64,
) -> Result<Observation, String> {
    let document: &RawValue = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let value = number_at(document, pointer, decimals)?;
    let observed_at = match timestamp_pointer {
        None => received,
        Some(pointer) => {
            let seconds = number_at(document, pointer, 0)?;
            u64::try_from(seconds)
                .map_err(|_| format!("the time at {pointer:?} ({seconds}) is not a Unix time"))?
        }
    };
    Ok(Observation { value, observed_at })
}

/// The number at `pointer`, a JSON number or a string holding one, at `decimals`.
fn number_at(document: &RawValue, pointer: &str, decimals: u8) -> Result<i128, String> {
    let raw = lookup(document, pointer)?;
    let text = raw.get().trim();
    let parsed = if text.starts_with('"') {
        let string: String = serde_json::from_str(text).map_err(|e| e.to_string())?;
        parse_decimal(&string, decimals)
    } else if text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        parse_decimal(text, decimals)
    } else {
        return Err(format!("the value at {pointer:?} is not a number"));
    };
    parsed.map_err(|e| match e {
        ValueError::Syntax(_) => format!("the value at {pointer:?} is not a number: {e}"),
        ValueError::OutOfRange(..) => format!("the value at {pointer:?}: {e}"),
    })
}

/// Resolves an RFC 6901 JSON pointer in `document` without parsing any number.
pub(crate) fn lookup<'a>(document: &'a RawValue, pointer: &str) -> Result<&'a RawValue, String> {
    if pointer.is_empty() {
        return Ok(document);
    }
    let missing = || format!("nothing at {pointer:?}");
    let tokens = pointer.strip_prefix('/').ok_or_else(missing)?.split('/');
    let mut current = document;
    for token in tokens {
        let token = token.replace("~1", "/").replace("~0", "~");
        let text = current.get().trim_start();
        current = if text.starts_with('{') {
            let object: BTreeMap<String, &'a RawValue> =
                serde_json::from_str(current.get()).map_err(|e| e.to_string())?;
            *object.get(&token).ok_or_else(missing)?
        } else if text.starts_with('[') {
            let array: Vec<&'a RawValue> =
                serde_json::from_str(current.get()).map_err(|e| e.to_string())?;
            let canonical = token == "0" || (!token.starts_with('0') && !token.is_empty());
            let index: usize = token
                .parse()
                .ok()
                .filter(|_| canonical && token.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(missing)?;
            *array.get(index).ok_or_else(missing)?
        } else {
            return Err(missing());
        };
    }
    Ok(current)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn read(body: &str, pointer: &str) -> Result<i128, String> {
        read_http_answer(body.as_bytes(), pointer, None, 4, 99).map(|o| o.value)
    }

    #[test]
    fn reads_numbers_and_numeric_strings_exactly_at_a_pointer() {
        let body = r#"{"data": {"price": 3412.5512, "quote": "3412.55125", "list": [1, "2.5"]},
                      "a/b": {"m~n": 7}, "t": "1700000000"}"#;
        assert_eq!(read(body, "/data/price"), Ok(34_125_512));
        // Half to even at 4 decimals.
        assert_eq!(read(body, "/data/quote"), Ok(34_125_512));
        assert_eq!(read(body, "/data/list/0"), Ok(10_000));
        assert_eq!(read(body, "/data/list/1"), Ok(25_000));
        assert_eq!(read(body, "/a~1b/m~0n"), Ok(70_000));
        assert_eq!(read("42", ""), Ok(420_000));
        let observed = read_http_answer(body.as_bytes(), "/data/price", Some("/t"), 4, 99).unwrap();
        assert_eq!(observed.observed_at, 1_700_000_000);
        let received = read_http_answer(body.as_bytes(), "/data/price", None, 4, 99).unwrap();
        assert_eq!(received.observed_at, 99);
    }

    #[test]
    fn garbage_and_missing_values_are_errors() {
        let body = r#"{"data": {"price": "n/a", "flag": true, "none": null, "obj": {},
                       "list": [1, 2], "big": 1e400}}"#;
        for pointer in [
            "/data/price",
            "/data/flag",
            "/data/none",
            "/data/obj",
            "/data/missing",
            "/data/list/2",
            "/data/list/01",
            "/data/list/-",
            "/data/price/x",
            "data",
            "/data/big",
        ] {
            assert!(read(body, pointer).is_err(), "{pointer}");
        }
        assert!(read("<html>busy</html>", "/price").is_err());
        assert!(read("", "").is_err());
        assert!(read(r#"{"price": 1}"#, "/price").is_ok());
        assert!(
            read_http_answer(br#"{"p": 1, "t": -5}"#, "/p", Some("/t"), 0, 0)
                .unwrap_err()
                .contains("not a Unix time")
        );
    }

    #[test]
    fn failure_reasons_are_the_fixed_set() {
        let failures = [
            SourceFailure::Timeout(Duration::from_secs(1)),
            SourceFailure::HttpStatus(500),
            SourceFailure::Invalid("x".to_owned()),
            SourceFailure::Stale { age: 5 },
            SourceFailure::Outlier {
                value: 1,
                median: 2,
                decimals: 0,
            },
            SourceFailure::Unavailable("x".to_owned()),
        ];
        let reasons: Vec<_> = failures.iter().map(SourceFailure::reason).collect();
        assert_eq!(reasons, SourceFailure::REASONS);
        assert_eq!(failures[1].to_string(), "http_status 500");
    }
}
