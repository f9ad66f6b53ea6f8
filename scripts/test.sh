#!/usr/bin/env bash
# Command 2: install with the test extras, make sure there is a browser, lint, check the built wheel,
# start a throwaway Neo4j, run every test, stop Neo4j.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_python.sh
# The wheel, built and installed in a clean environment outside the checkout, runs the demo and serves
# (scripts/check_wheel.sh). It runs while the project's environment installs and Neo4j starts (both
# wait on the network and the disk more than on the cores), and must pass like any test.
mkdir -p var
scripts/check_wheel.sh >var/check-wheel.log 2>&1 &
wheel_check=$!
make_venv "[test,resolution]"

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


# The suite runs on one pytest-xdist worker a core (NIMGRAPH_TEST_WORKERS, default 2), each test file
# on one worker, and each worker with a throwaway Neo4j of its own (Community has one database, and
# the store tests empty it), stopped however the tests end.
workers=${NIMGRAPH_TEST_WORKERS:-2}
if command -v java >/dev/null 2>&1 && command -v mvn >/dev/null 2>&1; then
  stop_all() {
    for ((i = 0; i < workers; i++)); do NIMGRAPH_NEO4J_STATE=var/neo4j-test-gw$i scripts/neo4j.sh stop || true; done
  }
  trap stop_all EXIT
  scripts/neo4j.sh build
  starting=()
  for ((i = 0; i < workers; i++)); do
    NIMGRAPH_NEO4J_STATE=var/neo4j-test-gw$i scripts/neo4j.sh start >/dev/null &
    starting+=($!)
  done
  for pid in "${starting[@]}"; do wait "$pid"; done
  for ((i = 0; i < workers; i++)); do
    # each worker's server under its own names: NIMGRAPH_TEST_NEO4J_URI_GW0, ..._PASSWORD_GW1
    eval "$(NIMGRAPH_NEO4J_STATE=var/neo4j-test-gw$i scripts/neo4j.sh env | sed "s/=/_GW$i=/")"
  done
elif [ "${NIMGRAPH_REQUIRE_NEO4J:-}" = 1 ]; then
  echo "NIMGRAPH_REQUIRE_NEO4J=1 but Java or Maven is missing: install Java 17+ and Maven" >&2
  exit 1
else
  echo "note: no Java or Maven; the Neo4j tests will be skipped (install Java 17+ and Maven)" >&2
fi

if ! wait "$wheel_check"; then
  echo "The built wheel does not work outside the checkout (scripts/check_wheel.sh):" >&2
  tail -40 var/check-wheel.log >&2
  exit 1
fi
tail -1 var/check-wheel.log

status=0
.venv/bin/python -m pytest -n "$workers" --dist loadfile --durations=25 "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure" >&2
  exit 1
fi
exit "$status"
