#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine, then runs every check and test.
# This is the README's test command, and .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Debian packages: promtool (prometheus) checks /metrics; systemd-analyze checks the unit file.
packages=()
command -v promtool >/dev/null 2>&1 || packages+=(prometheus)
command -v systemd-analyze >/dev/null 2>&1 || packages+=(systemd)
if [ ${#packages[@]} -gt 0 ]; then
  step "installing ${packages[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

# Cargo tools.
command -v cargo-nextest >/dev/null 2>&1 || { step "installing cargo-nextest"; cargo install --locked cargo-nextest; }
command -v cargo-deny >/dev/null 2>&1 || { step "installing cargo-deny"; cargo install --locked cargo-deny; }

step "format"
cargo fmt --all --check

step "clippy"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

step "dependency policy (cargo-deny: bans, licenses, sources)"
cargo deny --locked check bans licenses sources

step "build"
cargo build --workspace --locked

step "systemd unit"
unit_dir=$(mktemp -d)
trap 'rm -rf "$unit_dir"' EXIT
# systemd-analyze checks that ExecStart exists: point the unit at the binary just built.
sed "s|/usr/local/bin/restaked|$PWD/target/debug/restaked|g" deploy/systemd/restaked.service >"$unit_dir/restaked.service"
systemd-analyze verify "$unit_dir/restaked.service"

step "sample config"
target/debug/restaked config check deploy/restaked.toml

step "Lodestar devnet (a real consensus client for the beacon integration test)"
../shared/tools/lodestar-devnet/build.sh "${CARGO_TARGET_DIR:-target}/lodestar-devnet"

# anvil (a local execution chain for restake-eigenpod's tests and `--dev`), from npm.
anvil_version=1.7.1
anvil_bin=target/tools/anvil/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil
case "$("$anvil_bin" --version 2>/dev/null || true)" in
  *"Version: $anvil_version"*) ;;
  *)
    step "installing anvil $anvil_version"
    npm install --prefix target/tools/anvil --no-audit --no-fund "@foundry-rs/anvil-linux-amd64@$anvil_version" >/dev/null
    ;;
esac
export RESTAKED_ANVIL="$PWD/$anvil_bin"

step "tests"
cargo nextest run --workspace --locked --no-fail-fast
