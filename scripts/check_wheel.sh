#!/usr/bin/env bash
# Build the wheel, install it in a clean virtual environment outside the checkout, and run the demo and
# the API from there: proof that the package carries everything it reads (ontology, queries, templates,
# mappings, workbench and drawing assets) and finds it through importlib.resources, not the source tree.
#
#   scripts/check_wheel.sh            uses the project's .venv to build (scripts/test.sh runs it)
set -euo pipefail
cd "$(dirname "$0")/.."
checkout=$(pwd)
source scripts/_python.sh
python=$(find_python)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/nimgraph-wheel.XXXXXX")
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT

echo "Building the wheel"
"$python" -m pip wheel --quiet --no-deps --wheel-dir "$scratch/dist" . >/dev/null
wheel=$(ls "$scratch"/dist/nimgraph-*.whl)
"$python" - "$wheel" <<'EOF'
import sys
import zipfile

names = set(zipfile.ZipFile(sys.argv[1]).namelist())
wanted = ["nimgraph/ontology/nim.ttl", "nimgraph/ontology/shapes.ttl", "nimgraph/queries/read_meta.cypher",
          "nimgraph/templates/workbench.html", "nimgraph/mappings/police_uk_street.yaml",
          "nimgraph/workbench/matches.js", "nimgraph/data/resolution.yaml"]
missing = [name for name in wanted if name not in names]
assert not missing, f"the wheel lacks {missing}"
EOF

echo "Installing it in a clean virtual environment: $scratch/venv"
"$python" -m venv "$scratch/venv"
"$scratch/venv/bin/python" -m pip install --quiet --upgrade pip
"$scratch/venv/bin/python" -m pip install --quiet "$wheel"

# Outside the checkout, so nothing can be read from the source tree by accident.
cd "$scratch"
export NIMGRAPH_STORE="$scratch/demo.db" NIMGRAPH_WORK_DIR="$scratch/work" NIMGRAPH_ACCESS_DB="$scratch/access.db"
export NIMGRAPH_AUDIT_ANCHOR="$scratch/anchor" NIMGRAPH_ENV=development
"$scratch/venv/bin/python" - "$checkout" <<'EOF'
import sys
from pathlib import Path

import nimgraph
from nimgraph.ontology import default_model
from nimgraph.store.queries import load_queries

checkout = Path(sys.argv[1]).resolve()
installed = Path(nimgraph.__file__).resolve()
assert checkout not in installed.parents, f"nimgraph was imported from the checkout: {installed}"
model, queries = default_model(), load_queries()
assert model.entities and queries, "the installed package found no ontology or no queries"
print(f"installed package {installed.parent}: {len(model.entities)} entity types, {len(queries)} queries")
EOF
"$scratch/venv/bin/nimgraph" demo --no-serve --incidents 1500

port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
NIMGRAPH_PORT=$port "$scratch/venv/bin/nimgraph" serve >"$scratch/serve.log" 2>&1 &
server=$!
fetch() {
  "$python" -c 'import sys, urllib.error, urllib.request
request = urllib.request.Request(sys.argv[1], headers={"X-API-Key": "dev-analyst"})
try:
    body = urllib.request.urlopen(request, timeout=10).read().decode()
except urllib.error.HTTPError as error:
    sys.exit(f"check_wheel: {sys.argv[1]} answered {error.code}: {error.read().decode()[:300]}")
assert sys.argv[2] in body, f"{sys.argv[1]} does not show {sys.argv[2]!r}"' "$@"
}
for _ in $(seq 1 60); do
  if fetch "http://127.0.0.1:$port/health" status 2>/dev/null; then break; fi
  kill -0 "$server" 2>/dev/null || { echo "check_wheel: nimgraph serve exited:" >&2; cat "$scratch/serve.log" >&2; exit 1; }
  sleep 0.5
done
fetch "http://127.0.0.1:$port/health" status
fetch "http://127.0.0.1:$port/workbench" "window.nimgraphMatches = function"
fetch "http://127.0.0.1:$port/ontology/classes" "Person"
report=$(ls "$scratch"/work/reports/*.html | head -1)
fetch "http://127.0.0.1:$port/reports/$(basename "$report")?purpose=wheel+check" "<html"
echo "The wheel installs and runs outside the checkout: demo, API, workbench and reports"
