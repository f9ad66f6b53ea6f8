"""Subject-profile latency on both stores, and community detection time, on a generated graph.

    .venv/bin/python bench/analysis_profiles.py [--entities 1000000] [--subjects 100] [--write]

The graph (bench/graphgen.py: N entities, about 5N links, every item with provenance) is loaded
once per store: the embedded store through its own upsert (kept under var/bench/ for the next
run, and read through once before timing, as a running server's file would be cached), a fresh
throwaway Neo4j through CREATE statements that write the same layout as `Neo4jStore` (the
store's MERGE-based ingest would take an hour at this size; reads do not care how the nodes got
there). Then, for a seeded sample of people, `build_subject_profile` runs on
each store with its documented cap (2 hops, at most `PROFILE_MAX_ENTITIES` entities: hubs of
thousands are cut, and the profile says so); the figures are p50 and p95 of wall time per profile.

Communities: Louvain (networkx) and Leiden (python-igraph) on the same person projections: the
people of the generated graph joined by their social links, and a generated person projection of
`--community-nodes` nodes (1M by default) with planted groups, since the issue's figure is for a
1M-node projection.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from graphgen import Plan, entity_batches, link_batches, person_id  # noqa: E402
from ingest_neo4j import publish, start_server, stop_server  # noqa: E402

from nimgraph.analysis.build import to_networkx  # noqa: E402
from nimgraph.analysis.communities import communities, modularity  # noqa: E402
from nimgraph.ontology import Core, default_model  # noqa: E402
from nimgraph.products.subject import PROFILE_HOPS, PROFILE_MAX_ENTITIES, build_subject_profile  # noqa: E402
from nimgraph.records import Batch  # noqa: E402
from nimgraph.store.embedded import EmbeddedStore  # noqa: E402
from nimgraph.store.neo4j import Neo4jStore  # noqa: E402

CREATE = {
    "upsert_entities": "UNWIND $rows AS row CREATE (n:Entity {id: row.id}) SET n:$(row.labels), "
    "n += row.properties, n.type = row.type, n.sources = row.sources",
    "upsert_records": "UNWIND $rows AS row MERGE (r:Record {key: row.key}) SET r.source = row.source, "
    "r.record_id = row.record_id, r.file = row.file, r.row = row.row, r.date = row.date, r.grade = row.grade, "
    "r.handling = row.handling, r.run = $run",
    "upsert_links": "UNWIND $rows AS row MATCH (a:Entity {id: row.source}) MATCH (b:Entity {id: row.target}) "
    "CREATE (a)-[r:$(row.relationship) {id: row.id}]->(b) SET r += row.properties",
    "upsert_assertions": "UNWIND $rows AS row MATCH (r:Record {key: row.key}) MATCH (n:Entity {id: row.anchor}) "
    "CREATE (r)-[:ASSERTS {item: row.item}]->(n)",
}


def _progress(label: str, total: int) -> Callable[[int], None]:
    started, done = time.perf_counter(), [0]

    def step(n: int) -> None:
        done[0] += n
        if done[0] == total or done[0] % 200_000 < n:
            rate = done[0] / max(time.perf_counter() - started, 1e-9)
            print(f"  {label}: {done[0]:,}/{total:,} ({rate:,.0f}/s)", flush=True)

    return step


def load_embedded(
    plan: Plan, model, name: str = "graph", rewrite: Callable[[EmbeddedStore], Callable[[Batch], Batch]] | None = None
) -> tuple[EmbeddedStore, float]:
    """The generated graph in an embedded store kept under var/bench/<name>-N-seed/, and its load time.

    ``rewrite``, where given, is called once on the new, empty store and returns how each batch is
    rewritten before it is written (bench/workbench_expand.py keys the ids under the store's key).
    """
    folder = ROOT / "var" / "bench" / f"{name}-{plan.entities}-{plan.seed}"
    folder.mkdir(parents=True, exist_ok=True)
    done = folder / "loaded"
    if done.exists():
        return EmbeddedStore(folder / "graph.db", model), float(done.read_text())
    (folder / "graph.db").unlink(missing_ok=True)
    store = EmbeddedStore(folder / "graph.db", model)
    started = time.perf_counter()
    adapt = rewrite(store) if rewrite is not None else (lambda batch: batch)
    step = _progress("embedded entities", plan.entities)
    for batch in entity_batches(plan):
        store.upsert(adapt(batch))
        step(len(batch.entities))
    step = _progress("embedded links", 5 * plan.entities)
    for batch in link_batches(plan):
        store.upsert(adapt(batch))
        step(len(batch.links))
    seconds = time.perf_counter() - started
    done.write_text(f"{seconds:.0f}")
    return store, seconds


def load_neo4j(plan: Plan, model, server) -> tuple[Neo4jStore, float]:
    store = Neo4jStore(server.uri, model, password=server.password)
    store.prepare()
    started = time.perf_counter()
    for label, batches in (("neo4j entities", entity_batches(plan)), ("neo4j links", link_batches(plan))):
        step = _progress(label, plan.entities * (1 if "entities" in label else 5))
        for batch in batches:
            steps = store.encode(batch)

            def work(tx, steps=steps) -> None:
                for name, rows, params in steps:
                    if rows:
                        tx.run(CREATE[name], rows=rows, **params).consume()

            with store.driver.session(database=store.database) as session:
                session.execute_write(work)
            step(len(batch.entities) + len(batch.links))
    return store, time.perf_counter() - started


def warm(path: Path) -> None:
    """Read the store file once, as a running server's would be: in the OS cache, not on disk."""
    with open(path, "rb") as handle:
        while handle.read(1 << 24):
            pass


def profile_latency(store, model, subjects: list[str]) -> dict:
    for subject in subjects[:5]:  # warm caches and query plans
        build_subject_profile(store, model, subject)
    times, capped, sizes = [], 0, []
    for subject in subjects:
        started = time.perf_counter()
        profile = build_subject_profile(store, model, subject)
        times.append(time.perf_counter() - started)
        capped += profile.truncated
        sizes.append(len(profile.associations))
    times.sort()
    return {
        "p50": statistics.median(times) * 1000,
        "p95": times[int(0.95 * (len(times) - 1))] * 1000,
        "max": times[-1] * 1000,
        "capped": capped,
        "associates": statistics.median(sizes),
    }


def social_projection(store: EmbeddedStore, model) -> nx.Graph:
    social = set(model.descendants(Core.ASSOCIATED_WITH))
    graph = to_networkx(store.subgraph(social))
    projection = nx.Graph()
    for u, v in graph.edges():
        if u != v:
            weight = projection.get_edge_data(u, v, {"weight": 0.0})["weight"]
            projection.add_edge(u, v, weight=weight + 1.0)
    return projection


def planted_projection(nodes: int, seed: int) -> nx.Graph:
    """``nodes`` people in groups of 20 with about 5 edges each, most inside their group."""
    rng = random.Random(seed)
    graph = nx.Graph()
    graph.add_nodes_from(range(nodes))
    for a in range(nodes):
        for _ in range(5):
            b = (a // 20) * 20 + rng.randrange(20) if rng.random() < 0.85 else rng.randrange(nodes)
            if a != b:
                graph.add_edge(a, b, weight=1.0)
    return graph


def time_communities(name: str, projection: nx.Graph) -> list[str]:
    rows = []
    for method in ("louvain", "leiden"):
        print(f"  {method} on {name}", flush=True)
        started = time.perf_counter()
        found = communities(projection, method=method, seed=1)
        seconds = time.perf_counter() - started
        rows.append(
            f"| {name} | {projection.number_of_nodes():,} | {projection.number_of_edges():,} | {method} "
            f"| {seconds:.1f} | {len(found):,} | {modularity(projection, found):.3f} |"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--subjects", type=int, default=100)
    parser.add_argument("--community-nodes", type=int, default=1_000_000)
    parser.add_argument(
        "--parts", default="embedded,neo4j,communities", help="which of embedded, neo4j, communities to run"
    )
    parser.add_argument("--write", action="store_true", help="append the figures to bench/RESULTS.md")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    model, plan = default_model(), Plan(args.entities)
    rng = random.Random(3)
    subjects = [person_id(rng.randrange(plan.count("people"))) for _ in range(args.subjects)]
    lines, community_rows = [], []

    print("loading the embedded store", flush=True)
    embedded, load_seconds = load_embedded(plan, model)
    counts = embedded.counts()
    links, entities = sum(counts["links"].values()), sum(counts["entities"].values())
    if "embedded" in parts:
        warm(embedded.path)
        lines.append(_latency_row("embedded", profile_latency(embedded, model, subjects), load_seconds))
    projection = social_projection(embedded, model) if "communities" in parts else None
    embedded.close()

    if "neo4j" in parts:
        server = start_server("profiles")
        try:
            print("loading Neo4j", flush=True)
            neo4j, load_seconds = load_neo4j(plan, model, server)
            lines.append(_latency_row("Neo4j", profile_latency(neo4j, model, subjects), load_seconds))
            neo4j.close()
        finally:
            stop_server(server)

    if projection is not None:
        community_rows = time_communities("people by social links", projection)
        del projection
        community_rows += time_communities("generated, planted groups", planted_projection(args.community_nodes, 5))

    text = (
        f"\n### Subject profiles and communities, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, "
        f"{platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}\n\n"
        f"Generated graph: {entities:,} entities, {links:,} links (bench/graphgen.py, seed {plan.seed}); "
        f"{len(subjects)} subjects sampled with seed 3; profile cap {PROFILE_HOPS} hops, "
        f"{PROFILE_MAX_ENTITIES:,} entities.\n"
    )
    if lines:
        text += (
            "\n| store | load s | profile p50 ms | p95 ms | max ms | capped | median associates |\n"
            "|---|---|---|---|---|---|---|\n" + "\n".join(lines) + "\n"
        )
    if community_rows:
        text += (
            "\n| projection | nodes | edges | method | s | communities | modularity |\n|---|---|---|---|---|---|---|\n"
            + "\n".join(community_rows)
            + "\n"
        )
    publish(text, write=args.write)


def _latency_row(store: str, r: dict, load_seconds: float) -> str:
    return (
        f"| {store} | {load_seconds:,.0f} | {r['p50']:.0f} | {r['p95']:.0f} | {r['max']:.0f} "
        f"| {r['capped']} | {r['associates']:.0f} |"
    )


if __name__ == "__main__":
    main()
