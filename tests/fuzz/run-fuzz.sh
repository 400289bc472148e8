#!/usr/bin/env bash
# Runs one libFuzzer target for SECONDS over its seed corpus, without writing into the
# repository: new inputs go to a scratch corpus directory, crashes to ARTIFACTS (default: a
# scratch directory, printed on failure). Exit status: libFuzzer's (0: no crash, leak or
# timeout over 1 s). Usage: run-fuzz.sh BINARY SEED_CORPUS SECONDS [ARTIFACTS]
set -euo pipefail
binary=$1 seeds=$2 seconds=$3
scratch=$(mktemp -d)
artifacts=${4:-$scratch/artifacts}
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/corpus" "$artifacts"
# -timeout=1 (FUZZ_TIMEOUT): an input taking over a second is a hang (raise it only for runs
# starved of CPU, e.g. under nice on a loaded machine, and re-run what times out at 1 s); -rss_limit_mb bounds memory;
# -max_len covers the largest seed (topology files, traces).
set +e
"$binary" -max_total_time="$seconds" -timeout="${FUZZ_TIMEOUT:-1}" -rss_limit_mb=2048 -max_len=65536 \
  -detect_leaks=1 -print_final_stats=1 -artifact_prefix="$artifacts/" \
  "$scratch/corpus" "$seeds" 2>&1 | tail -n 40
status=${PIPESTATUS[0]}
set -e
if [[ $status -ne 0 ]]; then
  echo "run-fuzz: $(basename "$binary") failed (status $status); inputs: $(ls "$artifacts")"
  for input in "$artifacts"/*; do [[ -f $input ]] && od -c "$input" | head -n 20; done
fi
exit "$status"
