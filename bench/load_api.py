"""The API under load: 20 concurrent clients reading entities, associations and subject profiles.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/load_api.py [--users 20] [--seconds 60] [--workers 2] [--write]

The demo partnership (about 5,000 incidents from six partner files; kept in var/bench/load/) is
served by uvicorn with ``--workers`` processes, as ``nimgraph serve`` runs behind a process
manager, and every request goes through the whole stack: key check, purpose, the cleared view,
the analysis and the audit log (one durable append per read). locust runs headless on the same
two cores, with ``--users`` clients each waiting 0.5-1.5 s between requests, as an analyst's
client would (they start 4 a second, and the figures restart once all run: a client's first
request opens its connection); the mix is 6 entity lookups to 3 association lists to 1 subject profile, over
seeded samples of the demo's people, with the planted drugs network and the vulnerable person
and their sibling (the demo's busiest profiles) among the subjects. Figures are per endpoint:
requests, throughput, p50 and p99.
Targets (issue 7): lookups p99 <= 50 ms, profiles p99 <= 500 ms.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest_neo4j import publish  # noqa: E402

from nimgraph.demo import run_demo  # noqa: E402
from nimgraph.ontology import Core, default_model  # noqa: E402
from nimgraph.store.embedded import EmbeddedStore  # noqa: E402

WORK = ROOT / "var" / "bench" / "load"
# Clients start a few a second and the figures restart once all run: a client's first request
# opens its connection and first touches a server thread (about 100 ms here, measured on a static
# route), which is start-up, not steady state.
RAMP_PER_SECOND = 4
KEY = "dev-analyst"

LOCUSTFILE = """
import json, random
from locust import HttpUser, between, task

IDS = json.loads(open({ids!r}).read())
HEADERS = {{"X-API-Key": {key!r}, "X-Purpose": "load test"}}


class Analyst(HttpUser):
    wait_time = between(0.5, 1.5)

    @task(6)
    def entity(self):
        self.client.get(f"/entities/{{random.choice(IDS['people'])}}", headers=HEADERS, name="GET /entities/{{id}}")

    @task(3)
    def associations(self):
        self.client.get(
            f"/entities/{{random.choice(IDS['people'])}}/associations",
            headers=HEADERS,
            name="GET /entities/{{id}}/associations",
        )

    @task(1)
    def profile(self):
        self.client.get(
            f"/profiles/subject/{{random.choice(IDS['subjects'])}}",
            headers=HEADERS,
            name="GET /profiles/subject/{{id}}",
        )
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepared_store() -> tuple[Path, dict]:
    """The demo store (built once), and seeded samples of its people."""
    model = default_model()
    store = EmbeddedStore(WORK / "graph.db", model)
    try:
        if not store.counts()["entities"]:
            print("building the demo store", flush=True)
            run_demo(store, model, WORK, say=lambda _: None)
        people = sorted(e.id for e in store.find(Core.PERSON, limit=100_000))
        planted = json.loads((WORK / "data" / "planted.json").read_text())
        nominals = [*planted["network"], planted["vulnerable"], planted["vulnerable_relative"]]
        busiest = [e.id for n in nominals for e in store.find(Core.PERSON, n) if e.properties.get("nominalId") == n]
    finally:
        store.close()
    rng = random.Random(5)
    return WORK / "graph.db", {"people": rng.sample(people, 200), "subjects": rng.sample(people, 40) + busiest}


def wait_for(base: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the API exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    sys.exit("the API did not start within 60 s")


def warm_up(base: str, ids: dict) -> None:
    """A few of each request first: each worker's first reads import modules and fill caches."""
    for person in ids["subjects"][:20]:
        for path in (f"/entities/{person}", f"/entities/{person}/associations", f"/profiles/subject/{person}"):
            request = urllib.request.Request(base + path, headers={"X-API-Key": KEY, "X-Purpose": "warm-up"})
            urllib.request.urlopen(request, timeout=60).read()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--write", action="store_true", help="append the figures to bench/RESULTS.md")
    args = parser.parse_args()

    db, ids = prepared_store()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "NIMGRAPH_STORE": str(db),
        "NIMGRAPH_WORK_DIR": str(WORK),
        "NIMGRAPH_ACCESS_DB": str(WORK / "access.db"),
        "NIMGRAPH_ENV": "development",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory", "--port", str(port),
         "--workers", str(args.workers), "--log-level", "warning", "--no-access-log"],
        env=env,
        cwd=ROOT,
    )  # fmt: skip
    try:
        wait_for(base, server)
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "ids.json").write_text(json.dumps(ids))
            locustfile = Path(tmp) / "locustfile.py"
            locustfile.write_text(LOCUSTFILE.format(ids=str(Path(tmp) / "ids.json"), key=KEY))
            warm_up(base, ids)
            subprocess.run(
                [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless", "-u", str(args.users),
                 "-r", str(RAMP_PER_SECOND), "--reset-stats", "-t", f"{args.seconds}s", "--host", base,
                 "--csv", str(Path(tmp) / "run"), "--only-summary"],
                check=True,
                cwd=tmp,
            )  # fmt: skip
            with (Path(tmp) / "run_stats.csv").open() as handle:
                stats = list(csv.DictReader(handle))
    finally:
        server.terminate()
        server.wait(timeout=30)
    rows = []
    for row in stats:
        rows.append(
            f"| {row['Name']} | {int(row['Request Count']):,} | {int(row['Failure Count'])} | "
            f"{float(row['Requests/s']):.1f} | {row['50%']} | {row['99%']} | {row['Max Response Time'].split('.')[0]} |"
        )
    text = (
        f"\n### API under load, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, "
        f"{platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}\n\n"
        f"bench/load_api.py: the demo partnership on the embedded store, uvicorn with {args.workers} workers; "
        f"locust headless on the same machine, {args.users} concurrent clients each waiting 0.5-1.5 s between "
        f"requests, {args.seconds} s (figures from when all clients run); mix 6 entity : 3 associations : "
        "1 subject profile; every read keyed, purposed, cleared and audited. "
        "Targets: lookups p99 <= 50 ms, profiles p99 <= 500 ms.\n\n"
        "| endpoint | requests | failures | req/s | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|---|---|\n"
        + "\n".join(rows)
        + "\n"
    )
    publish(text, write=args.write)


if __name__ == "__main__":
    main()
