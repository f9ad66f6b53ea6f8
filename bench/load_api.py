"""The API under load: 20 concurrent clients of every role reading entities, associations and profiles.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/load_api.py [--users 20] [--seconds 60] [--workers 2] [--write]

The demo partnership (about 5,000 incidents from six partner files; kept in var/bench/load/) is
served by uvicorn with ``--workers`` processes, as ``nimgraph serve`` runs behind a process
manager, and every request goes through the whole stack: key check, purpose, the cleared view,
the analysis and the audit log (one durable append per read). locust runs headless on the same
two cores, with ``--users`` clients each waiting 0.5-1.5 s between requests, as an analyst's
client would (they start 4 a second, and the figures restart once all run: a client's first
request opens its connection). Clients are analysts, researchers, partner viewers and admins in
the ratio 7:6:5:2; each reads 6 entity lookups to 3 association lists to 1 subject profile over
seeded samples of the demo's people (with the planted network and the vulnerable person and their
sibling, the busiest profiles, among them); researchers list people by pseudonym first and read
through the pseudonyms they were given, and admins also page the audit log. Figures are per role:
requests, server errors, other failures, throughput, p50 and p99; afterwards a researcher must
still be answered (issue 13: a locked pseudonym register once broke the role until a restart).
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
from nimgraph.store.errors import StoreConfigError  # noqa: E402

WORK = ROOT / "var" / "bench" / "load"
# Clients start a few a second and the figures restart once all run: a client's first request
# opens its connection and first touches a server thread (about 100 ms here, measured on a static
# route), which is start-up, not steady state.
RAMP_PER_SECOND = 4
KEY = "dev-analyst"  # the warm-up's key

LOCUSTFILE = """
import json, random
from locust import HttpUser, between, task

IDS = json.loads(open({ids!r}).read())


class Role(HttpUser):
    abstract = True
    wait_time = between(0.5, 1.5)
    role = ""
    ok = (200,)

    def on_start(self):
        self.headers = {{"X-API-Key": "dev-" + self.key, "X-Purpose": "load test"}}
        self.people = IDS["people"]

    def read(self, path):
        # one row per role; a refusal the role should get (a partner viewer's 404) is not a failure
        with self.client.get(path, headers=self.headers, name=self.role, catch_response=True) as response:
            if response.status_code in self.ok:
                response.success()
            else:
                response.failure(f"HTTP {{response.status_code}}")

    @task(6)
    def entity(self):
        self.read(f"/entities/{{random.choice(self.people)}}")

    @task(3)
    def associations(self):
        self.read(f"/entities/{{random.choice(self.people)}}/associations")

    @task(1)
    def profile(self):
        self.read(f"/profiles/subject/{{random.choice(self.people)}}")


class Analyst(Role):
    weight, role, key = 7, "analyst", "analyst"


class Researcher(Role):
    weight, role, key = 6, "researcher", "researcher"

    def on_start(self):
        super().on_start()
        # a researcher can only name people by the pseudonyms it was given: it lists them first
        offset = random.randrange(0, 1500, 50)
        page = self.client.get(
            f"/search?type=Person&limit=50&offset={{offset}}", headers=self.headers, name="researcher"
        ).json()
        self.people = [item["id"] for item in page["items"]]

    @task(2)
    def listing(self):
        self.read(f"/search?type=Person&limit=50&offset={{random.randrange(0, 1500, 50)}}")


class PartnerViewer(Role):
    weight, role, key = 5, "partner_viewer", "partner"
    ok = (200, 404)  # the people only C records name do not exist for a partner viewer


class Admin(Role):
    weight, role, key = 2, "admin", "admin"

    @task(1)
    def audit(self):
        self.read("/audit?limit=50")
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
        try:
            store.id_key()
        except StoreConfigError:  # built before ids were keyed
            print(f"migrated {store.migrate_ids():,} ids to keyed ids", flush=True)
        people = sorted(e.id for e in store.find(Core.PERSON, limit=100_000))
        planted = json.loads((WORK / "data" / "planted.json").read_text())
        nominals = [*planted["network"], planted["vulnerable"], planted["vulnerable_relative"]]
        busiest = [e.id for n in nominals for e in store.find(Core.PERSON, n) if e.properties.get("nominalId") == n]
    finally:
        store.close()
    rng = random.Random(5)
    return WORK / "graph.db", {
        "people": rng.sample(people, 200) + busiest,
        "subjects": rng.sample(people, 40) + busiest,
    }


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


def researcher_answers(base: str) -> str:
    request = urllib.request.Request(
        f"{base}/search?type=Person&limit=5", headers={"X-API-Key": "dev-researcher", "X-Purpose": "after the load"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            items = json.loads(response.read())["items"]
            return f"{response.status} with {len(items)} pseudonymised people"
    except OSError as err:
        return f"not at all ({err})"


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
            locustfile.write_text(LOCUSTFILE.format(ids=str(Path(tmp) / "ids.json")))
            warm_up(base, ids)
            subprocess.run(
                [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless", "-u", str(args.users),
                 "-r", str(RAMP_PER_SECOND), "--reset-stats", "-t", f"{args.seconds}s", "--host", base,
                 "--csv", str(Path(tmp) / "run"), "--only-summary"],
                check=False,  # locust exits 1 when any request failed: the table says which
                cwd=tmp,
            )  # fmt: skip
            with (Path(tmp) / "run_stats.csv").open() as handle:
                stats = list(csv.DictReader(handle))
            with (Path(tmp) / "run_failures.csv").open() as handle:
                failures = list(csv.DictReader(handle))
            after = researcher_answers(base)
    finally:
        server.terminate()
        server.wait(timeout=30)
    server_errors: dict[str, int] = {}
    for failure in failures:
        if "HTTP 5" in failure["Error"] or "500" in failure["Error"]:
            server_errors[failure["Name"]] = server_errors.get(failure["Name"], 0) + int(failure["Occurrences"])
    rows = []
    for row in stats:
        errors = server_errors.get(row["Name"], 0) if row["Name"] != "Aggregated" else sum(server_errors.values())
        rows.append(
            f"| {row['Name']} | {int(row['Request Count']):,} | {errors} | {int(row['Failure Count']) - errors} | "
            f"{float(row['Requests/s']):.1f} | {row['50%']} | {row['99%']} | {row['Max Response Time'].split('.')[0]} |"
        )
    text = (
        f"\n### API under load, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, "
        f"{platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}\n\n"
        f"bench/load_api.py: the demo partnership on the embedded store, uvicorn with {args.workers} workers; "
        f"locust headless on the same machine, {args.users} concurrent clients each waiting 0.5-1.5 s between "
        f"requests, {args.seconds} s (figures from when all clients run); analysts, researchers, partner viewers "
        "and admins 7:6:5:2, each 6 entity : 3 associations : 1 subject profile (researchers also list people, "
        "admins page the audit log); every read keyed, purposed, cleared and audited. Target (issue 13): "
        "0 server errors, and a researcher answered afterwards.\n\n"
        "| role | requests | server errors | other failures | req/s | p50 ms | p99 ms | max ms |\n"
        "|---|---|---|---|---|---|---|---|\n"
        + "\n".join(rows)
        + f"\n\nAfterwards, a researcher's listing answered {after}.\n"
    )
    publish(text, write=args.write)


if __name__ == "__main__":
    main()
