//! SSZ merkleization with a reusable tree cache, EigenPod proof generation and verification, pod contract bindings.
//!
//! This crate is laid out by the architecture (see `ARCHITECTURE.md`, "Crates") and is filled in
//! by its own issue; it exports nothing yet, so nothing can depend on a placeholder.
