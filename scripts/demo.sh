#!/usr/bin/env bash
# Command 1: install, generate and load the demo partnership, write the profiles, serve them.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_python.sh
make_venv "[resolution]"
exec .venv/bin/nimgraph demo "$@"
