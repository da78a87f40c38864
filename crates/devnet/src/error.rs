//! The devnet's one error type.

use std::net::SocketAddr;

/// What can go wrong starting or driving the devnet.
#[derive(Debug, thiserror::Error)]
pub enum DevnetError {
    /// The configuration is invalid; every problem is listed, each naming its field.
    #[error("invalid devnet configuration: {}", problems.join("; "))]
    InvalidConfig {
        /// One line per problem.
        problems: Vec<String>,
    },
    /// The Beacon API port could not be bound.
    #[error("binding the devnet's Beacon API to {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why it failed.
        source: std::io::Error,
    },
    /// c-kzg refused a blob (a bug: the devnet's blobs are canonical by construction).
    #[error("KZG commitment of blob {index} at slot {slot}: {reason}")]
    Kzg {
        /// The slot of the block.
        slot: u64,
        /// The blob's index in the block.
        index: usize,
        /// c-kzg's error.
        reason: String,
    },
    /// A list went over its SSZ limit while building a container (a bug).
    #[error("building {container} at slot {slot}: {reason}")]
    Container {
        /// The container or field being built.
        container: &'static str,
        /// The slot being produced.
        slot: u64,
        /// The SSZ library's error.
        reason: String,
    },
    /// A background task of the devnet panicked or was cancelled.
    #[error("devnet task {task} failed: {reason}")]
    Task {
        /// Which task.
        task: &'static str,
        /// The join error.
        reason: String,
    },
    /// The devnet has been shut down: no more slots are produced.
    #[error("the devnet has been shut down")]
    Stopped,
}
