#!/usr/bin/env bash
# Regenerates TestEigenPod.json and TestEigenPodManager.json beside this script (see
# scripts/build-contracts.sh); run it after changing a .sol file and commit the JSON.
# If the pod's bytecode changes, its CREATE2 address changes too: update `DEV_POD` in
# src/dev.rs to the address the dev deployment then reports.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec "$here/../../../scripts/build-contracts.sh" "$here" TestEigenPod TestEigenPodManager
