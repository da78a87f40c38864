//! Integration tests of the module runtime, the module store and the oracle module.

// Test helpers fail the test by panicking, like the tests themselves.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod oracle;
mod oracle_support;
mod runtime;
mod store;
mod support;
