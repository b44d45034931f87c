#!/usr/bin/env bash
# Fuzzes conform's input readers with cargo-fuzz (libFuzzer). Not part of CI.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Builds the targets of fuzz/ and runs each TARGET (default: all of them, one
# after another) for SECONDS (default 600) with `-max_total_time`. Targets:
#   case_loader       bytes as a scenario file, and as conform.yaml
#   jsonpath_matcher  PATH\0MATCHER\0DOC: a JSONPath, a matcher and a document
#   contract_loader   bytes as an OpenAPI/Swagger document, then validation
#   yaml_reader       text read by the fast YAML reader and by serde-saphyr:
#                     any answer of the first must be the second's
# Each run reads the seeds in fuzz/seeds/TARGET (committed, small) and grows
# fuzz/corpus/TARGET (generated, git-ignored), with fuzz/dict/TARGET.dict
# (yaml_reader reads case files: it takes case_loader's seeds and dict);
# the full libFuzzer output goes to fuzz/target/logs/TARGET.log.
# A slow input (over 10 s, `-timeout=10`) counts as a crash. On a crash the
# script stops and prints the reproducer in fuzz/artifacts/TARGET/, to replay
# with `RUSTC_BOOTSTRAP=1 cargo fuzz run TARGET PATH` (or add
# `cargo fuzz tmin TARGET PATH` to minimise it first).
#
# cargo-fuzz needs nightly rustc flags (-Zsanitizer, -Cpasses=sancov-module);
# with only a stable toolchain, RUSTC_BOOTSTRAP=1 unlocks them. cargo-fuzz
# itself is installed from crates.io when missing. The first build takes about
# 10 minutes on 2 cores. Each target uses one core: on 2 cores, two can run at
# once (`scripts/fuzz.sh 600 case_loader & scripts/fuzz.sh 600 contract_loader`).
# Environment:
#   FUZZ_SANITIZER  address (default) or none (faster, no ASan)
#   FUZZ_ARGS       extra libFuzzer flags, e.g. "-rss_limit_mb=4096"
set -euo pipefail
cd "$(dirname "$0")/.."

export RUSTC_BOOTSTRAP=1

seconds=${1:-600}
[ $# -gt 0 ] && shift
all=(case_loader jsonpath_matcher contract_loader yaml_reader)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
sanitizer=${FUZZ_SANITIZER:-address}
read -r -a extra <<<"${FUZZ_ARGS:-}"

case $seconds in '' | *[!0-9]*)
  echo "usage: $0 [SECONDS] [TARGET...]  (targets: ${all[*]})" >&2
  exit 2
  ;;
esac

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi

for t in "${targets[@]}"; do
  cargo fuzz build --sanitizer "$sanitizer" "$t"
done

for t in "${targets[@]}"; do
  corpus=fuzz/corpus/$t
  artifacts=fuzz/artifacts/$t
  mkdir -p "$corpus" "$artifacts"
  asan_options=${ASAN_OPTIONS:-}
  inputs=$t
  case $t in
  contract_loader)
    max_len=16384 # cases/openapi.yaml is 13 kB
    # jsonschema 0.61 leaks (Arc cycles) compiling a recursive schema that
    # strict mode closes with unevaluatedProperties; a contract loads once per
    # run, so LeakSanitizer is off here (ASAN_OPTIONS=detect_leaks=1 to see it).
    asan_options=detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}
    ;;
  case_loader) max_len=8192 ;;
  yaml_reader)
    max_len=8192
    inputs=case_loader
    ;;
  *) max_len=4096 ;;
  esac
  log=fuzz/target/logs/$t.log
  mkdir -p fuzz/target/logs
  # A marker: crash files newer than it come from this run.
  stamp=$artifacts/.started
  touch "$stamp"
  echo "== $t: ${seconds}s (log: $log)"
  set +e
  ASAN_OPTIONS=$asan_options cargo fuzz run --sanitizer "$sanitizer" "$t" "$corpus" "fuzz/seeds/$inputs" -- \
    -max_total_time="$seconds" -timeout=10 -max_len="$max_len" \
    -dict="fuzz/dict/$inputs.dict" \
    -print_final_stats=1 "${extra[@]}" 2>&1 | tee "$log" |
    grep --line-buffered -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^Done |^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|ERROR|panicked|Test unit written'
  rc=${PIPESTATUS[0]}
  set -e
  if [ "$rc" -ne 0 ]; then
    echo "!! $t failed (exit $rc); reproducer(s):" >&2
    found=$(find "$artifacts" -maxdepth 1 -type f -newer "$stamp" \
      \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' -o -name 'slow-unit-*' \))
    if [ -n "$found" ]; then
      echo "$found" | sed 's/^/   /' >&2
      echo "replay: RUSTC_BOOTSTRAP=1 cargo fuzz run $t $(echo "$found" | head -n1)" >&2
    else
      echo "   none written; see $log" >&2
    fi
    exit "$rc"
  fi
done
echo "no crash in: ${targets[*]}"
