//! Integration tests: the real `restaked` binary on ephemeral ports, driven as an operator would.

// Test helpers fail the test by panicking, like the tests themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

mod beacon;
mod cli;
mod config;
mod dev;
mod grpc;
mod http;
mod keys;
mod lifecycle;
mod modules;
mod pods;
mod process;
mod proofs;
mod protection;
mod restakectl;
mod validators;
