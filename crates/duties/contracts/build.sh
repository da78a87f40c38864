#!/usr/bin/env bash
# Regenerates MockAggregatorV3.json and OracleReportDigest.json beside this script (see
# scripts/build-contracts.sh); run it after changing a .sol file and commit the JSON.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec "$here/../../../scripts/build-contracts.sh" "$here" MockAggregatorV3 OracleReportDigest
