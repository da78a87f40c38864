//! The crate's error type.

use std::{path::PathBuf, time::Duration};

use restake_types::{ExecutionAddress, ValidatorIndex};

use crate::proofs::ProofError;

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
    /// A proof bundle has no calldata (a validator index past the pod's `uint40`).
    #[error(transparent)]
    Proof(ProofError),
    /// One proof alone is estimated over the batch gas limit: it cannot be split further.
    #[error(
        "{function} for validator(s) {validators:?} is estimated at {estimate} gas, over the \
         batch limit of {limit}"
    )]
    GasOverLimit {
        /// The pod function.
        function: &'static str,
        /// The validators of the smallest batch.
        validators: Vec<ValidatorIndex>,
        /// Its gas estimate.
        estimate: u64,
        /// The configured limit.
        limit: u64,
    },
    /// The signer refused the transaction, or its signature is not by the sender.
    #[error("signing the transaction of {from} with nonce {nonce}: {reason}")]
    Signing {
        /// The sender.
        from: ExecutionAddress,
        /// The transaction's nonce.
        nonce: u64,
        /// Why.
        reason: String,
    },
    /// The pod reverted the call: when estimated (no hash) or on chain.
    #[error("{what} reverted{}: {reason}", tx_hash.map(|h| format!(" in transaction 0x{}", hex_of(&h))).unwrap_or_default())]
    Reverted {
        /// The call.
        what: String,
        /// The transaction, if it was mined.
        tx_hash: Option<[u8; 32]>,
        /// The revert reason.
        reason: String,
    },
    /// A sent transaction did not reach its confirmations in time.
    #[error(
        "transaction 0x{} did not reach {confirmations} confirmation(s) within {after:?}",
        hex_of(tx_hash)
    )]
    ReceiptTimeout {
        /// The transaction.
        tx_hash: [u8; 32],
        /// The confirmations waited for.
        confirmations: u64,
        /// The timeout.
        after: Duration,
    },
}

fn hex_of(bytes: &[u8]) -> String {
    alloy_primitives::hex::encode(bytes)
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
