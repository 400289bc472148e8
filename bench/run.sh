#!/usr/bin/env bash
# `make bench`: see bench/run.py and bench/README.md. Needs root.
set -euo pipefail
build=${1:-build}
if [[ $(id -u) -ne 0 ]]; then
  exec sudo /usr/bin/python3 "$(dirname "$0")/run.py" "$build"
fi
exec /usr/bin/python3 "$(dirname "$0")/run.py" "$build"
