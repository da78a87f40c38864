#!/usr/bin/env bash
# Prints the time to scan a mainnet-sized Electra state (1.1M validators) for one pod's
# validators with the zero-copy RegistryView (goal <= 2 s) and the peak RSS meanwhile as a
# multiple of the state's size (goal <= 2), with full decoding's figures for comparison.
# RESTAKED_BENCH_VALIDATORS sets the registry's size (default 1100000).
# Then the per-epoch update of 10,000 tracked validators over the devnet's Beacon API: fetch,
# compare and commit to SQLite (goal <= 100 ms; RESTAKED_BENCH_TRACKED sets the count).
# Not part of the test suite: timings belong in benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --locked -p restake-beacon --features testing --bench registry "$@"
cargo bench --locked -p restake-devnet --bench tracker_update "$@"
