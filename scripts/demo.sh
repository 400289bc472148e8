#!/usr/bin/env bash
# `make run`: see scripts/demo.py.
set -euo pipefail
exec /usr/bin/python3 "$(dirname "$0")/demo.py" "$@"
