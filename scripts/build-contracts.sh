#!/usr/bin/env bash
# Regenerates the committed artifacts (ABI and creation bytecode) of test contracts: for each
# CONTRACT, DIR/CONTRACT.json from DIR/CONTRACT.sol, with solc-js from npm at the pinned version.
# Needs node and npm (npx). The Rust tests read the artifacts with alloy's `sol!`, so cargo never
# needs solc; each crate's contracts/build.sh calls this with its contracts.
#
# usage: scripts/build-contracts.sh DIR CONTRACT...
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 DIR CONTRACT..." >&2
  exit 64
fi
cd "$1"
shift

SOLC_VERSION=0.8.30
CONTRACTS=("$@")

out=$(mktemp)
trap 'rm -f "$out"' EXIT

# Standard JSON: optimised, Cancun, no metadata hash (so comment edits leave the bytecode alone).
node - "${CONTRACTS[@]}" <<'JS' | npx --yes "solc@${SOLC_VERSION}" --standard-json >"$out"
const fs = require("fs");
const sources = {};
for (const name of process.argv.slice(2)) {
  sources[`${name}.sol`] = { content: fs.readFileSync(`${name}.sol`, "utf8") };
}
process.stdout.write(JSON.stringify({
  language: "Solidity",
  sources,
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: "cancun",
    metadata: { bytecodeHash: "none", appendCBOR: false },
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
  },
}));
JS

node - "$out" "${CONTRACTS[@]}" <<'JS'
const fs = require("fs");
const [outPath, ...names] = process.argv.slice(2);
// solc-js prints a notice about SMT solvers before the JSON on stdout: start at the first brace.
const raw = fs.readFileSync(outPath, "utf8");
const output = JSON.parse(raw.slice(raw.indexOf("{")));
const errors = (output.errors || []).filter((e) => e.severity === "error");
if (errors.length > 0) {
  for (const e of errors) console.error(e.formattedMessage);
  process.exit(1);
}
for (const name of names) {
  const contract = output.contracts[`${name}.sol`][name];
  const artifact = { abi: contract.abi, bytecode: `0x${contract.evm.bytecode.object}` };
  fs.writeFileSync(`${name}.json`, JSON.stringify(artifact, null, 2) + "\n");
  console.error(`wrote ${name}.json`);
}
JS
