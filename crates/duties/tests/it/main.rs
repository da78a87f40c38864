//! Integration tests of the module runtime and the module store.

// Test helpers fail the test by panicking, like the tests themselves.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod runtime;
mod store;
mod support;
