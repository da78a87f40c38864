//! Keystores, signing schemes and the protection store: the only path to a signature.
//!
//! This crate is laid out by the architecture (see `ARCHITECTURE.md`, "Crates") and is filled in
//! by its own issue; it exports nothing yet, so nothing can depend on a placeholder.
