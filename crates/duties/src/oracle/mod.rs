//! The oracle attestation module: signed, numbered reports of feed values (prices, proof of
//! reserve) from several sources, with quorum, outlier filtering, deviation and heartbeat
//! triggers, and restart safety.
//!
//! # A round
//! Every `interval` a feed asks all its [`SourceKind`]s at once, each within its timeout:
//! HTTP JSON APIs (the value at a JSON pointer, read from its exact decimal text), Chainlink
//! AggregatorV3 contracts on an execution chain, or a sum of tracked validator balances.
//! Answers that fail (`timeout`, `http_status`, `invalid`, `unavailable`), are older than
//! `max_age` (`stale`) or further than `outlier_bps` from the median of the remaining answers
//! (`outlier`) are dropped and counted by reason. If fewer than `quorum` sources remain the
//! round is skipped and the module is degraded; otherwise their median is the value (for an
//! even count, the mean of the middle two rounded down) and the oldest of their observation
//! times is the report's `observed_at`.
//!
//! A [`Report`] is signed when the feed has none yet, when `|value − last| ≥ deviation_bps` of
//! `|last|`, or when `heartbeat` has passed since the last report's `observed_at` and the
//! answers were observed after it. Observation times never go backwards within a feed.
//!
//! # Values
//! Exact fixed-point integers (`i128`) scaled by `10^decimals`, decimals at most 18. Digits
//! beyond the feed's decimals are rounded to the nearest, ties to even. Contract answers are
//! rescaled from the source's decimals, beacon balances from gwei (9 decimals of ETH).
//!
//! # Signing and restart safety
//! The request is `{key, domain: "oracle/<feed>", conflict_key: round as 8 big-endian bytes,
//! ordering: Some(round), message: Report::digest()}`. Write-ahead, in the module's store:
//! the report is stored under `pending/<feed>` before signing; after signing it is stored
//! under `report/<feed>/<round, 20 digits>`, `last_round/<feed>` advances and the pending
//! report is deleted; then it is broadcast and POSTed. At start a pending report is signed
//! again unchanged (the signer returns the recorded signature) and published. If the signer
//! refuses a round as a conflicting message (the protection store signed another report for
//! it, e.g. after the module store was lost), that round is never published: the refusal is
//! logged and counted, and the value goes out as the next round. An ordering refusal moves the
//! feed past the rounds signed before; any other refusal skips the round (degraded).
//!
//! # Metrics
//! `restaked_oracle_value`, `restaked_oracle_round`, `restaked_oracle_staleness_seconds`
//! (gauges, `feed`), `restaked_oracle_rounds_signed_total`,
//! `restaked_oracle_publish_failures_total` (`feed`),
//! `restaked_oracle_source_failures_total` (`feed`, `source`, `reason`),
//! `restaked_oracle_signing_refusals_total` (`feed`, `reason`), each with the `module` label.

mod aggregate;
mod config;
mod hub;
mod module;
mod publish;
mod report;
mod source;
mod value;

pub use config::{
    BeaconValue, ContractCall, FeedConfig, MAX_DECIMALS, MAX_ID_LEN, MAX_SOURCE_DECIMALS,
    OracleConfig, SourceConfig, SourceKind,
};
pub use hub::OracleHub;
pub use module::OracleModule;
pub use report::{REPORT_TYPEHASH_PREIMAGE, Report, SignedReport};
