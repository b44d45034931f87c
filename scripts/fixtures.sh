#!/usr/bin/env bash
# Writes the report fixtures of the report tests (tests/fixtures/reports/)
# from runs of the bundled suite against the embedded reference server:
# passing.json (unbroken), failing.json (cancel answers {}), verdicts.json
# (a broken clause, deviations and an unmet precondition at once).
# v1-failing.json is a report of format version 1, kept as it was written.
# After it, the golden files follow with UPDATE_GOLDEN=1 cargo test.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q
bin=target/debug/conform
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fixtures=tests/fixtures/reports
run() { local name=$1; shift; "$bin" run -q --reports "$out/$name" "$@" >/dev/null 2>&1 || true; cp "$out/$name/report.json" "$fixtures/$name.json"; }
run passing
run failing --server-fault cancel-empty-object
run verdicts --server-fault cancel-204 --server-fault row-count-number --server-fault no-rows
