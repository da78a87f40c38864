//! Integration tests: restake-beacon's `BeaconClient` against a running devnet.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api;
mod blobs;
mod events;
mod faults;
mod support;
mod tracker;
mod validators;
