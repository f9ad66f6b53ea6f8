#!/usr/bin/env bash
# A throwaway Neo4j Community 5.26 for the tests, without Docker: an embedded database with Bolt on
# 127.0.0.1, a free port, a temporary data directory and a capped heap. Jars stay in ~/.m2.
#
#   scripts/neo4j.sh build   build the launcher if needed (start does it too; before several starts at once)
#   scripts/neo4j.sh start   build the launcher if needed, start, wait for Bolt, print the URI
#   scripts/neo4j.sh stop    stop it and delete its data
#   scripts/neo4j.sh env     print the NIMGRAPH_TEST_NEO4J_* variables of the running server
#   scripts/neo4j.sh admin database import full ...
#                            Neo4j's own neo4j-admin (the same Maven artifacts) against this state's data
#                            directory, made if there is none yet; the server must be stopped. A later
#                            start serves that data. `admin server start` is start: what a bulk load runs
#                            with NIMGRAPH_NEO4J_ADMIN="scripts/neo4j.sh admin".
#
# NIMGRAPH_NEO4J_STATE names the state folder (default var/neo4j-test), so that several can run;
# NIMGRAPH_NEO4J_HEAP sets the heap (default 1g); NIMGRAPH_NEO4J_IMPORT lets LOAD CSV read a folder;
# NIMGRAPH_NEO4J_PORT and NIMGRAPH_NEO4J_PASSWORD fix the Bolt port and the password (default: a free
# port, a random password), for a caller that must know them before the server starts.
set -euo pipefail
cd "$(dirname "$0")/.."
STATE=${NIMGRAPH_NEO4J_STATE:-var/neo4j-test}
LAUNCHER=tools/neo4j-launcher
HEAP=${NIMGRAPH_NEO4J_HEAP:-1g}

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "neo4j.sh: $1 is not installed; $2" >&2; exit 3; }
}

build() {
  local classpath=$LAUNCHER/target/classpath.txt
  if [ ! -s "$classpath" ] || [ "$LAUNCHER/pom.xml" -nt "$classpath" ] ||
     [ -n "$(find "$LAUNCHER/src" -newer "$classpath" -print -quit)" ]; then
    echo "Building the Neo4j launcher (first run downloads Neo4j Community into ~/.m2)" >&2
    mvn -q -B -Dstyle.color=never -f "$LAUNCHER/pom.xml" package -DskipTests >&2
    touch "$classpath"  # Maven leaves an unchanged classpath file as it was
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  need java "install Java 17 or newer"
  need mvn "install Maven"
  if [ -f "$STATE/pid" ] && kill -0 "$(cat "$STATE/pid")" 2>/dev/null; then
    echo "neo4j.sh: already running ($(cat "$STATE/uri"))" >&2
    cat "$STATE/uri"
    return 0
  fi
  build
  mkdir -p "$STATE"
  local port password data
  port=${NIMGRAPH_NEO4J_PORT:-$(free_port)}
  password=${NIMGRAPH_NEO4J_PASSWORD:-$(python3 -c 'import secrets; print(secrets.token_hex(16))')}
  if [ -f "$STATE/prepared" ]; then
    data=$(cat "$STATE/data")  # what `admin` imported into
  else
    data=$(mktemp -d "${TMPDIR:-/tmp}/nimgraph-neo4j.XXXXXX")
  fi
  nohup java "-Xms256m" "-Xmx$HEAP" -XX:+UseParallelGC \
    -cp "$LAUNCHER/target/classes:$(cat "$LAUNCHER/target/classpath.txt")" \
    org.nimgraph.launcher.Neo4jLauncher "$data" "$port" "$password" ${NIMGRAPH_NEO4J_IMPORT:+"$NIMGRAPH_NEO4J_IMPORT"} \
    >"$STATE/neo4j.log" 2>&1 &
  echo $! >"$STATE/pid"
  echo "$data" >"$STATE/data"
  echo "bolt://127.0.0.1:$port" >"$STATE/uri"
  umask 077
  printf 'export NIMGRAPH_TEST_NEO4J_URI=bolt://127.0.0.1:%s\nexport NIMGRAPH_TEST_NEO4J_USER=neo4j\nexport NIMGRAPH_TEST_NEO4J_PASSWORD=%s\n' \
    "$port" "$password" >"$STATE/env"
  for _ in $(seq 1 240); do
    if grep -q '^READY' "$STATE/neo4j.log" 2>/dev/null; then
      echo "Neo4j is up at bolt://127.0.0.1:$port" >&2
      cat "$STATE/uri"
      return 0
    fi
    if ! kill -0 "$(cat "$STATE/pid")" 2>/dev/null; then
      echo "neo4j.sh: Neo4j exited during start-up; its log:" >&2
      tail -40 "$STATE/neo4j.log" >&2
      stop
      exit 1
    fi
    sleep 0.5
  done
  echo "neo4j.sh: Neo4j did not answer within 120 s; its log:" >&2
  tail -40 "$STATE/neo4j.log" >&2
  stop
  exit 1
}

stop() {
  [ -d "$STATE" ] || return 0
  if [ -f "$STATE/pid" ]; then
    local pid
    pid=$(cat "$STATE/pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  [ -f "$STATE/data" ] && rm -rf "$(cat "$STATE/data")"
  rm -rf "$STATE"
}

admin() {
  if [ "${1:-} ${2:-}" = "server start" ]; then
    start >/dev/null
    return 0
  fi
  need java "install Java 17 or newer"
  need mvn "install Maven"
  if [ -f "$STATE/pid" ] && kill -0 "$(cat "$STATE/pid")" 2>/dev/null; then
    echo "neo4j.sh: the server of $STATE is running; stop it first (Community imports only into a stopped database)" >&2
    exit 1
  fi
  build
  mkdir -p "$STATE"
  if [ ! -f "$STATE/prepared" ]; then
    mktemp -d "${TMPDIR:-/tmp}/nimgraph-neo4j.XXXXXX" >"$STATE/data"
    touch "$STATE/prepared"
  fi
  local data
  data=$(cat "$STATE/data")
  NEO4J_HOME="$data" NEO4J_CONF="$data/conf" java "-Xmx$HEAP" \
    -cp "$LAUNCHER/target/classes:$(cat "$LAUNCHER/target/classpath.txt")" org.neo4j.cli.AdminTool "$@"
}

case "${1:-}" in
  build) need java "install Java 17 or newer"; need mvn "install Maven"; build ;;
  start) start ;;
  stop) stop ;;
  env) cat "$STATE/env" ;;
  admin) shift; admin "$@" ;;
  *) echo "usage: scripts/neo4j.sh build|start|stop|env|admin ARGS..." >&2; exit 2 ;;
esac
