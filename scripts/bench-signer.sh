#!/usr/bin/env bash
# Prints raw vs protected signatures/s (goal: protected/raw >= 0.8) and the parallel efficiency
# of loading scrypt keystores (goal >= 0.9), each against a limit measured in the same run.
# RESTAKED_BENCH_KEYSTORES sets how many keystores to load (default 1000: many minutes).
# Not part of the test suite: timings belong in benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo bench --locked -p restake-signer --bench signing "$@"
