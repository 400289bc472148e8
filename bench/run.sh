#!/usr/bin/env bash
# `make bench` (bench/run.py) and `make bench-soak` (bench/run.sh BUILD soak: bench/soak.py);
# see bench/README.md. Needs root.
set -euo pipefail
build=${1:-build}
script="$(dirname "$0")/${2:-run}.py"
# sudo resets the environment: pass the settings on.
settings=()
for name in BENCH_SECONDS BENCH_LONG_RATE BENCH_JAPAN_RATE BENCH_REPEATS BENCH_FIDELITY_RATES \
    BENCH_FIDELITY_SECONDS BENCH_ONLY BENCH_API_PAIRS BENCH_API_RTT SOAK_SECONDS; do
  if [[ -n ${!name:-} ]]; then settings+=("$name=${!name}"); fi
done
if [[ $(id -u) -ne 0 ]]; then
  exec sudo /usr/bin/env "${settings[@]}" /usr/bin/python3 "$script" "$build"
fi
exec /usr/bin/python3 "$script" "$build"
