//! The restaked node: configuration, the store, the HTTP and gRPC surfaces, and the
//! startup/shutdown sequence that ties them together. `main.rs` only calls [`cli::main`].

pub mod cli;
pub mod config;
mod dev;
pub mod grpc;
pub mod http;
pub mod keys;
pub mod lock;
pub mod metrics;
pub mod modules;
pub mod node;
pub mod pod_tx;
pub mod pods;
pub mod probe;
pub mod proofs;
pub mod readiness;
pub mod store;
pub mod telemetry;
mod tracking;
