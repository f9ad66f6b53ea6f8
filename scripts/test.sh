#!/usr/bin/env bash
# Command 2: install with the test extras, make sure there is a browser, lint, start a throwaway
# Neo4j, run every test, stop Neo4j.
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

# A throwaway Neo4j for the store tests, stopped however the tests end.
if command -v java >/dev/null 2>&1 && command -v mvn >/dev/null 2>&1; then
  export NIMGRAPH_NEO4J_STATE=var/neo4j-test
  trap 'scripts/neo4j.sh stop' EXIT
  scripts/neo4j.sh start >/dev/null
  eval "$(scripts/neo4j.sh env)"
elif [ "${NIMGRAPH_REQUIRE_NEO4J:-}" = 1 ]; then
  echo "NIMGRAPH_REQUIRE_NEO4J=1 but Java or Maven is missing: install Java 17+ and Maven" >&2
  exit 1
else
  echo "note: no Java or Maven; the Neo4j tests will be skipped (install Java 17+ and Maven)" >&2
fi

status=0
.venv/bin/python -m pytest "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure" >&2
  exit 1
fi
exit "$status"
