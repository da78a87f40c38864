//! Integration tests of the signer as a process sees it: crashes and resource exhaustion.

// Test helpers fail the test by panicking, like the tests themselves.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    unreachable_pub,
    missing_docs
)]

mod child;
mod crash;
mod exhaustion;
