//! The Beacon API client of restaked.
//!
//! [`BeaconClient`] talks to one or more beacon nodes over the standard Beacon API
//! (<https://ethereum.github.io/beacon-APIs>): genesis, chain spec, block headers, blocks and
//! whole states as SSZ (raw bytes plus the fork from `Eth-Consensus-Version`, decoded by the
//! fork-aware containers in [`containers`]), finality checkpoints, validators and balances (GET, or POST
//! for many ids), blob sidecars, and the event stream (`head`, `finalized_checkpoint`,
//! `chain_reorg`) through a small Server-Sent Events parser of its own.
//!
//! Robustness is the point of the crate:
//! - several endpoints, primary first, with per-endpoint health ([`EndpointStatus`]), fallback,
//!   and retries with exponential backoff and jitter ([`RetryPolicy`]);
//! - a timeout and a response-size limit per route ([`RouteLimits`]); bodies are streamed and
//!   cut off past the limit;
//! - malformed, truncated, oversized or wrong-fork responses are [`Error`]s naming the endpoint
//!   and route, never panics; credentials, paths and queries of endpoint URLs never appear in
//!   errors, logs or metrics;
//! - Prometheus metrics registered in the registry passed in: `restaked_beacon_requests_total`
//!   `{endpoint,route,outcome}`, `restaked_beacon_request_duration_seconds{endpoint,route}` and
//!   `restaked_beacon_endpoint_up{endpoint}`, where `endpoint` is the configured index, `route`
//!   a [`Route`] template and `outcome` one of [`OUTCOMES`].
//!
//! JSON integers are quoted decimals on the wire; [`quoted`] is the serde adapter, used with the
//! integer newtypes of `restake-types`.
//!
//! Plain `http://` endpoints work out of the box; `https://` needs the `https` cargo feature
//! (rustls with the ring provider and the system's root certificates).

mod bytes;
mod client;
mod config;
pub mod containers;
mod endpoint;
mod error;
mod events;
mod ids;
mod metrics;
pub mod quoted;
mod sse;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tracker;
mod types;

pub use bytes::{Blob, BlsSignature, ForkVersion, KzgCommitment, KzgProof, Root};
pub use client::{BeaconClient, EventStream};
pub use config::{BeaconClientConfig, CallLimits, RetryPolicy, Route, RouteLimits};
pub use endpoint::{EndpointHealth, EndpointStatus, redact_url};
pub use error::Error;
pub use events::{BeaconEvent, ChainReorgEvent, EventTopic, FinalizedCheckpointEvent, HeadEvent};
pub use ids::{BlockId, StateId, StatusFilter, ValidatorId, ValidatorStatus};
pub use metrics::OUTCOMES;
/// The URL type of [`BeaconClientConfig::endpoints`] (re-exported so callers need no `url` dependency).
pub use reqwest::Url;
pub use types::{
    BeaconBlockHeader, BeaconResponse, BlobSidecar, BlockHeaderData, ChainSpec, Checkpoint,
    FinalityCheckpoints, ForkName, Genesis, SignedBeaconBlockHeader, SszResponse, UnknownForkName,
    Validator, ValidatorBalance, ValidatorData,
};
