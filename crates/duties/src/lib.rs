//! The duty-module trait, the module runtime (supervision, backoff, enable/disable) and the AVS duty modules.
//!
//! This crate is laid out by the architecture (see `ARCHITECTURE.md`, "Crates") and is filled in
//! by its own issue; it exports nothing yet, so nothing can depend on a placeholder.
