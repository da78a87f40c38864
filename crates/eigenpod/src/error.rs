//! The crate's error type.

use std::{path::PathBuf, time::Duration};

use restake_types::ExecutionAddress;

/// What went wrong talking to the execution chain, running anvil, or deploying the dev pods.
///
/// Endpoints appear as `scheme://host:port` only: credentials, paths and queries of RPC URLs
/// (where providers put API keys) never reach an error message.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The RPC endpoint is not an `http://` or `https://` URL with a host.
    #[error("invalid execution RPC endpoint {endpoint}: {reason}")]
    InvalidEndpoint {
        /// The endpoint as given, redacted.
        endpoint: String,
        /// Why it was refused.
        reason: String,
    },
    /// A JSON-RPC call or a contract call failed (unreachable node, revert, undecodable answer).
    #[error("execution RPC {endpoint}: {call} failed: {message}")]
    Rpc {
        /// The endpoint, redacted.
        endpoint: String,
        /// The call: a JSON-RPC method, or a contract, its address and the method.
        call: String,
        /// The underlying error, with the endpoint redacted.
        message: String,
    },
    /// A call got no answer within the configured timeout.
    #[error("execution RPC {endpoint}: {call} timed out after {after:?}")]
    Timeout {
        /// The endpoint, redacted.
        endpoint: String,
        /// The call that timed out.
        call: String,
        /// The timeout.
        after: Duration,
    },
    /// There is no contract at an address that should hold one.
    #[error("execution RPC {endpoint}: no contract code at {address}, expected the {contract}")]
    NoContract {
        /// The endpoint, redacted.
        endpoint: String,
        /// What was expected there (`EigenPod`, `EigenPodManager`).
        contract: &'static str,
        /// The address without code.
        address: ExecutionAddress,
    },
    /// No anvil binary was found.
    #[error(
        "anvil not found (looked at: {searched}); run scripts/test.sh, which installs it under \
         target/tools/anvil, or set RESTAKED_ANVIL to the binary"
    )]
    AnvilNotFound {
        /// Every place looked at, in order.
        searched: String,
    },
    /// Anvil was found but could not be started or did not come up.
    #[error("anvil {path}: {what}")]
    Anvil {
        /// The binary.
        path: PathBuf,
        /// What failed, with the end of anvil's output where there is one.
        what: String,
    },
    /// The dev deployment could not be applied.
    #[error("dev pod deployment on {endpoint}: {what}")]
    DevDeployment {
        /// The endpoint, redacted.
        endpoint: String,
        /// What failed.
        what: String,
    },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
