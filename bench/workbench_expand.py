"""Expanding a node in the workbench: the network read behind it, through the real API, on the 1M graph.

    .venv/bin/python bench/workbench_expand.py [--entities 1000000] [--sample 200] [--breakdown] [--write]

The graph is bench/graphgen.py's (seed 7: N entities, about 5N links, every item with
provenance), loaded into the embedded store by bench/analysis_profiles.py's loader and kept under
var/bench/keyed-graph-N-7/. Its ids are keyed as ingest keys them now: the loader's ``rewrite``
hook asks the new, empty store for its id key (``store.id_key()``, which makes the key and keeps
it in the store's ``meta`` table) and writes every entity as ``Type-`` + HMAC(key, unkeyed id)
(``IdKey.entity_id(type, "generated", [generated id])``), every link as a hash of its type, its
keyed ends and its place in the plan (so the graph has the same links as analysis_profiles'
one). ``store.migrate_ids()`` would not do: it rewrites only ids that look like key hashes, and
the plan's ``P00000123`` would stay as it is, which the API refuses as a path parameter (ids are
``Type-...``). So the API's start-up check (``id_key()``) accepts the store as it is.

The API is ``api.main.create_app`` under uvicorn in a subprocess (one worker, on a free port),
with production settings: no development keys or secrets, generated API keys of the analyst and
the partner-viewer roles, pseudonym and audit keys, its own access database and audit anchor
under var/bench/workbench/. Every request is keyed, purposed, cleared and audited, as the
workbench's are. The request timed is the workbench's expand:
``GET /entities/{id}/network?hops=1&max_entities=200`` (JSON), on a kept-alive connection, from
sending to the last byte of the body.

The sample: distinct neighbours per entity are counted from the plan itself (every generated link,
both ways, duplicates once; cached as neighbours.npy beside the store), and ``--sample`` entities
are drawn with seed 11 among those with 40 to 60 (all of them if there are fewer; in this plan,
all people: the ones the social links' skew makes moderately busy), and 20 with 20 to 39 for the
warm-up. The store file is read through
once first, as a running server's would be cached, then the warm-up requests run. Each sampled
entity is then asked for by the analyst and by the partner viewer, alternating which goes first,
so the ratio between the two roles comes from the same minutes of the same run. A partner viewer
is cleared for P records only, so its walk checks each link's records (``handling=``) and it sees
fewer neighbours (the intelligence links graded C are hidden).

``--breakdown`` (and any run whose analyst p95 is over the target) then times the same requests'
parts in this process, with the server stopped: the store's walk alone, the cleared view (walk and
clearing), the NetworkX graph, and the JSON body (``graph_public`` and pydantic's serialisation);
what the HTTP figure has beyond them is the app around it (key, purpose, audit append, FastAPI).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import secrets
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from analysis_profiles import load_embedded, warm  # noqa: E402
from graphgen import Plan, link_batches  # noqa: E402
from ingest_neo4j import publish  # noqa: E402

from api.graphs import graph_public  # noqa: E402
from nimgraph.access.roles import Role, clearance_for  # noqa: E402
from nimgraph.access.view import ClearedView  # noqa: E402
from nimgraph.analysis.build import to_networkx  # noqa: E402
from nimgraph.ids import unkeyed_id  # noqa: E402
from nimgraph.ontology import default_model  # noqa: E402
from nimgraph.records import Batch, Link  # noqa: E402
from nimgraph.store.embedded import EmbeddedStore  # noqa: E402

WORK = ROOT / "var" / "bench" / "workbench"
TARGET_P95_MS = 300
HOPS, MAX_ENTITIES = 1, 200
LOW, HIGH = 40, 60  # distinct neighbours of a sampled entity
# the route's parts, timed in-process: the first is the store's walk alone, for reference; the
# others are what the route does in turn (the view's neighbourhood walks the store again)
BREAKDOWN = ("store walk", "entity read", "cleared walk", "NetworkX graph", "JSON body")
SAMPLE_SEED, WARM_UP = 11, 20
# graphgen's id prefixes, in its order of kinds (the index of an entity is its kind's offset + number)
KINDS = [("P", "Person", "people"), ("C", "CrimeIncident", "crimes"), ("A", "Address", "addresses")]
KINDS += [("T", "Phone", "phones"), ("V", "Vehicle", "vehicles")]
TYPES = {prefix: type_name for prefix, type_name, _ in KINDS}


# ---------------------------------------------------------------------------------------- the store
def keyed_ids(store: EmbeddedStore) -> Callable[[Batch], Batch]:
    """How each generated batch is written with keyed ids: under the key the new store makes and keeps."""
    key = store.id_key()
    known: dict[str, str] = {}

    def entity_id(generated: str) -> str:
        keyed = known.get(generated)
        if keyed is None:
            keyed = known[generated] = key.entity_id(TYPES[generated[0]], "generated", [generated])
        return keyed

    def link(item: Link) -> Link:
        source, target, place = entity_id(item.source), entity_id(item.target), item.id.rsplit(":", 1)[1]
        return replace(item, id=unkeyed_id(item.type, "link", [source, target, place]), source=source, target=target)

    def rewrite(batch: Batch) -> Batch:
        entities = [replace(e, id=entity_id(e.id)) for e in batch.entities]
        return Batch(entities=entities, links=[link(k) for k in batch.links], run=batch.run)

    return rewrite


def keyed(store: EmbeddedStore) -> Callable[[str], str]:
    """The keyed id of a generated id, for a store that was built by ``keyed_ids``."""
    key = store.id_key()
    return lambda generated: key.entity_id(TYPES[generated[0]], "generated", [generated])


def index_of(plan: Plan) -> Callable[[str], int]:
    offsets, start = {}, 0
    for prefix, _, kind in KINDS:
        offsets[prefix] = start
        start += plan.count(kind)
    return lambda generated: offsets[generated[0]] + int(generated[1:])


def generated_id(plan: Plan, index: int) -> str:
    for prefix, _, kind in KINDS:
        if index < plan.count(kind):
            return f"{prefix}{index:08d}"
        index -= plan.count(kind)
    raise IndexError(index)


def neighbour_counts(plan: Plan, folder: Path) -> np.ndarray:
    """Distinct neighbours of every entity of the plan (by index), from its links; cached in ``folder``."""
    cached = folder / "neighbours.npy"
    if cached.exists():
        return np.load(cached)
    print("counting neighbours in the plan", flush=True)
    index = index_of(plan)
    pairs = []
    for batch in link_batches(plan):
        ends = np.array([(index(k.source), index(k.target)) for k in batch.links], dtype=np.int64)
        low, high = ends.min(axis=1), ends.max(axis=1)
        pairs.append(low << 32 | high)
    unique = np.unique(np.concatenate(pairs))
    low, high = unique >> 32, unique & 0xFFFFFFFF
    counts = np.bincount(low[low != high], minlength=plan.entities)
    counts += np.bincount(high[low != high], minlength=plan.entities)
    np.save(cached, counts.astype(np.int32))
    return counts


def sample(counts: np.ndarray, size: int) -> tuple[list[int], list[int], int]:
    """Up to ``size`` entity indexes with LOW-HIGH distinct neighbours (seeded), WARM_UP entities with
    fewer (but at least half LOW) for the warm-up, and how many qualify."""
    rng = random.Random(SAMPLE_SEED)
    candidates = [int(i) for i in np.flatnonzero((counts >= LOW) & (counts <= HIGH))]
    others = [int(i) for i in np.flatnonzero((counts >= LOW // 2) & (counts < LOW))]
    chosen = rng.sample(candidates, min(size, len(candidates)))
    return chosen, rng.sample(others, WARM_UP), len(candidates)


# ---------------------------------------------------------------------------------------- the API
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(db: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Production settings for the server (no development keys or secrets), and the keys by role."""
    keys = {"analyst": secrets.token_urlsafe(32), "partner_viewer": secrets.token_urlsafe(32)}
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIMGRAPH_")}
    env.update(
        NIMGRAPH_ENV="production",
        NIMGRAPH_STORE=str(db),
        NIMGRAPH_WORK_DIR=str(WORK),
        NIMGRAPH_ACCESS_DB=str(WORK / "access.db"),
        NIMGRAPH_AUDIT_ANCHOR=str(WORK / "audit-anchor.log"),
        NIMGRAPH_PSEUDONYM_KEY=secrets.token_urlsafe(32),
        NIMGRAPH_AUDIT_KEY=secrets.token_urlsafe(32),
        NIMGRAPH_API_KEYS=json.dumps({key: {"name": f"bench {role}", "role": role} for role, key in keys.items()}),
    )
    return env, keys


def start_api(db: Path) -> tuple[subprocess.Popen, int, dict[str, str]]:
    WORK.mkdir(parents=True, exist_ok=True)
    for name in ("access.db", "access.db-wal", "access.db-shm", "audit-anchor.log"):  # a fresh log per run
        (WORK / name).unlink(missing_ok=True)
    env, keys = production_env(db)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory", "--port", str(port),
         "--workers", "1", "--log-level", "warning", "--no-access-log"],
        env=env,
        cwd=ROOT,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"the API exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                return server, port, keys
        except OSError:
            time.sleep(0.3)
    server.terminate()
    sys.exit("the API did not start within 120 s")


class Client:
    """One kept-alive connection, as a browser tab keeps one to the workbench's server."""

    def __init__(self, port: int, key: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.headers = {"X-API-Key": key, "X-Purpose": "bench: workbench expand", "Accept": "application/json"}

    def expand(self, entity_id: str) -> tuple[float, dict]:
        path = f"/entities/{entity_id}/network?hops={HOPS}&max_entities={MAX_ENTITIES}"
        started = time.perf_counter()
        self.connection.request("GET", path, headers=self.headers)
        response = self.connection.getresponse()
        body = response.read()
        seconds = time.perf_counter() - started
        if response.status != 200:
            sys.exit(f"GET {path} answered {response.status}: {body[:300]!r}")
        return seconds, json.loads(body)


def time_expands(port: int, keys: dict[str, str], ids: list[str], warm_ids: list[str]) -> dict[str, dict]:
    clients = {role: Client(port, key) for role, key in keys.items()}
    for entity_id in warm_ids:
        for client in clients.values():
            client.expand(entity_id)
    times: dict[str, list[float]] = {role: [] for role in clients}
    neighbours: dict[str, list[int]] = {role: [] for role in clients}
    truncated = dict.fromkeys(clients, 0)
    roles = list(clients)
    for n, entity_id in enumerate(ids):
        for role in roles if n % 2 == 0 else roles[::-1]:  # alternate who goes first
            seconds, graph = clients[role].expand(entity_id)
            times[role].append(seconds)
            neighbours[role].append(len(graph["nodes"]) - 1)
            truncated[role] += bool(graph["truncated"])
        if (n + 1) % 50 == 0:
            print(f"  {n + 1}/{len(ids)} expanded", flush=True)
    return {role: _summary(times[role], neighbours[role], truncated[role]) for role in roles}


def _summary(times: list[float], neighbours: list[int], truncated: int) -> dict:
    ordered = sorted(t * 1000 for t in times)
    return {
        "requests": len(ordered),
        "p50": statistics.median(ordered),
        "p95": ordered[int(0.95 * (len(ordered) - 1))],
        "max": ordered[-1],
        "neighbours": statistics.mean(neighbours),
        "truncated": truncated,
    }


class OtherLoad:
    """CPU time that processes other than this one and the server used while it ran, as a share of all cores."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self.started = (time.monotonic(), self._busy(), self._own())

    @staticmethod
    def _busy() -> float:
        fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = fields[3] + fields[4]  # idle and iowait
        return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")

    def _own(self) -> float:
        mine = os.times()
        try:
            fields = Path(f"/proc/{self.server_pid}/stat").read_text().rsplit(")", 1)[1].split()
            server = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError):
            server = 0.0
        return mine.user + mine.system + server

    def share(self) -> float:
        wall, busy, own = self.started
        seconds = time.monotonic() - wall
        others = (self._busy() - busy) - (self._own() - own)
        return max(others, 0.0) / (seconds * (os.cpu_count() or 1))


def shared_note(share: float) -> str:
    if share >= 0.05:
        return (
            f"The machine was shared: other processes used {share:.0%} of its {os.cpu_count()} cores "
            "while the requests ran."
        )
    return f"The machine was otherwise idle (other processes used {share:.0%} of its cores while the requests ran)."


# ---------------------------------------------------------------------------------------- breakdown
def breakdown(db: Path, ids: list[str]) -> dict[str, dict[str, float]]:
    """Median ms per part of the route, in this process, for each role's clearance."""
    model = default_model()
    store = EmbeddedStore(db, model)
    parts: dict[str, dict[str, float]] = {}
    try:
        for role in (Role.ANALYST, Role.PARTNER_VIEWER):
            clearance = clearance_for(role)
            only = None if clearance.sees_everything else clearance.handling
            timed: dict[str, list[float]] = {name: [] for name in BREAKDOWN}
            for entity_id in ids:
                started = time.perf_counter()
                store.neighbourhood([entity_id], HOPS, None, MAX_ENTITIES, True, handling=only)
                walked = time.perf_counter()
                view = ClearedView(store, model, clearance)
                view.get(entity_id)
                got = time.perf_counter()
                sub = view.neighbourhood([entity_id], hops=HOPS, link_types=None, max_entities=MAX_ENTITIES)
                cleared = time.perf_counter()
                graph = to_networkx(sub)
                built = time.perf_counter()
                graph_public(graph, model, truncated=sub.truncated).model_dump_json()
                done = time.perf_counter()
                for name, seconds in zip(
                    BREAKDOWN,
                    (walked - started, got - walked, cleared - got, built - cleared, done - built),
                    strict=True,
                ):
                    timed[name].append(seconds)
            parts[role.value] = {name: statistics.median(values) * 1000 for name, values in timed.items()}
    finally:
        store.close()
    return parts


# ---------------------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--breakdown", action="store_true", help="also time the route's parts in-process")
    parser.add_argument("--note", default="", help="a sentence for the results (e.g. that the machine was shared)")
    parser.add_argument("--write", action="store_true", help="append the figures to bench/RESULTS.md")
    args = parser.parse_args()
    model, plan = default_model(), Plan(args.entities)

    print("loading the embedded store (keyed ids)", flush=True)
    store, load_seconds = load_embedded(plan, model, name="keyed-graph", rewrite=keyed_ids)
    try:
        store.id_key()  # what the API's start-up asks: refused here rather than in the server
        to_keyed = keyed(store)
        counts = store.counts()
    finally:
        store.close()
    db = store.path
    entities, links = sum(counts["entities"].values()), sum(counts["links"].values())
    planned = neighbour_counts(plan, db.parent)
    chosen, warm_chosen, qualifying = sample(planned, args.sample)
    planned_mean = statistics.mean(int(planned[i]) for i in chosen)
    kinds = sorted({TYPES[generated_id(plan, i)[0]] for i in chosen})
    ids = [to_keyed(generated_id(plan, i)) for i in chosen]
    warm_ids = [to_keyed(generated_id(plan, i)) for i in warm_chosen]

    print(f"reading {db.name} through ({db.stat().st_size / 2**30:.1f} GiB)", flush=True)
    warm(db)
    load_before = os.getloadavg()
    server, port, keys = start_api(db)
    try:
        print(f"expanding {len(ids)} entities as analyst and partner viewer", flush=True)
        started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
        others = OtherLoad(server.pid)
        results = time_expands(port, keys, ids, warm_ids)
        others_share = others.share()
    finally:
        server.terminate()
        server.wait(timeout=60)
    load_after = os.getloadavg()
    analyst, partner = results["analyst"], results["partner_viewer"]
    parts = breakdown(db, ids) if args.breakdown or analyst["p95"] > TARGET_P95_MS else None

    rows = [
        f"| {role} | {r['requests']} | {r['p50']:.0f} | {r['p95']:.0f} | {r['max']:.0f} | {r['neighbours']:.1f} "
        f"| {r['truncated']} |"
        for role, r in results.items()
    ]
    met = "met" if analyst["p95"] <= TARGET_P95_MS else "**not met**"
    text = (
        f"\n### Workbench expand, {started} UTC, {platform.node()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}\n\n"
        f"bench/workbench_expand.py: generated graph, {entities:,} entities, {links:,} links (bench/graphgen.py, "
        f"seed {plan.seed}, ids keyed under the store's own key; embedded store, loaded in {load_seconds:,.0f} s, "
        f"store file read through first); the API (`create_app`, uvicorn, 1 worker, production settings) on the "
        f"same machine, every request keyed, purposed, cleared and audited. Timed: "
        f"`GET /entities/{{id}}/network?hops={HOPS}&max_entities={MAX_ENTITIES}` (JSON) on a kept-alive "
        f"connection, for {len(ids)} entities drawn with seed {SAMPLE_SEED} among the {qualifying:,} with "
        f"{LOW}-{HIGH} distinct neighbours in the plan ({', '.join(kinds)}; mean {planned_mean:.1f}), after "
        f"{len(warm_ids)} with {LOW // 2}-{LOW - 1} as warm-up; each entity asked by both keys, alternating "
        "which first. "
        f"Target (issue 14): expanding a node with 50 neighbours p95 <= {TARGET_P95_MS} ms.\n\n"
        "| key's role | requests | p50 ms | p95 ms | max ms | mean neighbours returned | capped |\n"
        "|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        f"Partner viewer / analyst, same run: p50 {partner['p50'] / analyst['p50']:.2f}x, "
        f"p95 {partner['p95'] / analyst['p95']:.2f}x. Target: {met} (analyst p95 {analyst['p95']:.0f} ms). "
        f"Load average (1 min) {load_before[0]:.2f} before the requests, {load_after[0]:.2f} after. "
        + shared_note(others_share)
        + (f" {args.note}" if args.note else "")
        + "\n"
    )
    if parts:
        text += (
            "\nWhere the time goes (the same entities in this process, server stopped; median ms): the store "
            "walk alone is for reference and comes first, so it meets SQLite's page cache as each request does "
            "(the file is in the OS cache, its pages not yet in SQLite's); the cleared walk does it again, "
            "from SQLite's cache, and clears what it read. What the HTTP figures have beyond the parts is the "
            "app around them (key, purpose, the audit append, FastAPI's validation and response) and the "
            "machine's other load.\n\n"
            f"| key's role | {' | '.join(BREAKDOWN)} |\n|---|{'---|' * len(BREAKDOWN)}\n"
            + "\n".join(
                f"| {role} | " + " | ".join(f"{p[name]:.1f}" for name in BREAKDOWN) + " |" for role, p in parts.items()
            )
            + "\n"
        )
    publish(text, write=args.write)


if __name__ == "__main__":
    main()
