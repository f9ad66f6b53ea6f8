#!/usr/bin/env bash
# Command 2: install with the test extras, make sure there is a browser, lint, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_python.sh
make_venv "[test]"

if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's chromium for the browser tests"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "note: no Chromium; browser tests will be skipped (install it with: sudo apt-get install chromium)" >&2
  fi
fi

.venv/bin/ruff check .
.venv/bin/ruff format --check .

status=0
.venv/bin/python -m pytest "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure" >&2
  exit 1
fi
exit "$status"
