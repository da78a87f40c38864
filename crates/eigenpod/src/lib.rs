//! SSZ merkleization with a reusable tree cache, EigenPod proof generation and verification, pod contract bindings.
//!
//! Today the crate holds the execution-chain side of EigenPods:
//! - [`bindings`]: `sol!` bindings of the read interface of EigenLayer's `EigenPod` and
//!   `EigenPodManager`, and the pod's validator key ([`bindings::validator_pubkey_hash`]);
//! - [`reconcile`]: reading a pod over JSON-RPC ([`reconcile::PodReader`]) and comparing it with
//!   the tracker's validators ([`reconcile::reconcile`]) into findings with operator actions;
//! - [`anvil`]: a local anvil chain for `--dev` and the tests;
//! - [`dev`]: test contracts deployed on it at fixed addresses.

pub mod anvil;
pub mod bindings;
pub mod dev;
mod error;
pub mod reconcile;
mod rpc;

pub use error::{Error, Result};
