#!/usr/bin/env bash
# Prints, for a generated mainnet-sized Electra state (1.1M validators), the state tree cache's
# full hash (StateTree::new, both cores) as a ratio to raw SHA-256 over the 64-byte inputs it
# needs (goal <= 1.5), the time for 1,000 validator branches from the hashed tree (goal
# <= 50 ms), the update after 1% of the balances changed, and the peak RSS.
# RESTAKED_BENCH_VALIDATORS sets the registry's size (default 1100000).
# Not part of the test suite: timings belong in benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --locked -p restake-eigenpod --bench tree "$@"
