//! SSZ merkleization with a reusable tree cache, EigenPod proof generation and verification, pod contract bindings.
//!
//! The crate holds both sides of EigenPods:
//! - [`bindings`]: `sol!` bindings of the read interface of EigenLayer's `EigenPod` and
//!   `EigenPodManager`, and the pod's validator key ([`bindings::validator_pubkey_hash`]);
//! - [`reconcile`]: reading a pod over JSON-RPC ([`reconcile::PodReader`]) and comparing it with
//!   the tracker's validators ([`reconcile::reconcile`]) into findings with operator actions;
//! - [`anvil`]: a local anvil chain for `--dev` and the tests;
//! - [`dev`]: test contracts deployed on it at fixed addresses;
//! - [`proofs`]: EigenPod proofs (credentials, checkpoints, stale balances) generated from a
//!   [`tree::StateTree`], verified offline as the pod does, read from Layr-Labs' Go CLI JSON and
//!   encoded as calldata;
//! - [`submit`]: proofs sent to the pod in EIP-1559 transactions signed through a
//!   [`submit::DigestSigner`], batched under a gas limit, followed to their receipts;
//! - [`tree`]: the Merkle tree cache of a `BeaconState` ([`tree::StateTree`]): its root and the
//!   branches of its fields, validators and balances, moved cheaply to later states.

pub mod anvil;
pub mod bindings;
pub mod dev;
mod error;
pub mod proofs;
pub mod reconcile;
mod rpc;
pub mod submit;
pub mod tree;

pub use error::{Error, Result};
