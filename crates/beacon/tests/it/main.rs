//! Integration tests of the Beacon API client against real HTTP servers on 127.0.0.1.

// Test helpers fail the test by panicking, like the tests themselves.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    unreachable_pub,
    missing_docs
)]

mod endpoints;
mod events;
mod fallback;
mod lodestar;
mod metrics;
mod responses;
mod support;
