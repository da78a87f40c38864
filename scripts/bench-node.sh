#!/usr/bin/env bash
# Prints the idle RSS and start-to-ready time of a non-dev node (release build), each as a
# ratio to its goal (40 MB, 0.5 s). Not part of the test suite: timings belong in benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo bench --locked -p restaked --bench node_startup
