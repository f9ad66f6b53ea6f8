"""What the server alone costs: Neo4j's CPU for the same mapped batches, with and without provenance.

    .venv/bin/python bench/neo4j_ceiling.py --incidents 100000 [--write]

Maps the demo partnership's files once (timing the Python side into a store that writes nothing),
then replays the same batches, already encoded, into a fresh throwaway Neo4j for each variant:

- shipped: nimgraph's own write (entities, records, links, assertions) as `Neo4jStore` sends it;
- graph only: the entity and link queries alone, no provenance;
- entity ids only: `MERGE (n:Entity {id})` for the entity rows, nothing else: a floor for any node write.

Right after the shipped replay it runs nimgraph's own ingest of the same files (`ingest_plan`, the
mapping in processes beside the writer) into a fresh server, so the achieved rate and the bound it is
held to come from one run.

For each it records wall time and the server's CPU time (user + system, read from /proc), so the
rows/s a 2-core machine can reach is bounded by rows / ((server CPU + Python CPU) / cores).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from capture import Capture  # noqa: E402
from ingest_neo4j import Server, nimgraph_ingest, publish, start_server, stop_server  # noqa: E402

from nimgraph.demo import PLAN  # noqa: E402
from nimgraph.demo.generate import write_dataset  # noqa: E402
from nimgraph.ingest.engine import ingest_file  # noqa: E402
from nimgraph.ingest.spec import load_spec  # noqa: E402
from nimgraph.mappings import mapping_path  # noqa: E402
from nimgraph.ontology import default_model  # noqa: E402
from nimgraph.records import Batch  # noqa: E402
from nimgraph.store.neo4j import Neo4jStore  # noqa: E402
from nimgraph.store.queries import query  # noqa: E402

ENTITY_IDS_ONLY = "UNWIND $rows AS row MERGE (n:Entity {id: row.id})"


def map_files(data: Path) -> tuple[list[Batch], float]:
    model, capture = default_model(), Capture()
    started = time.process_time()
    for mapping, filename in PLAN:
        spec = load_spec(mapping_path(mapping), model)
        ingest_file(  # type: ignore[arg-type]
            capture, model, spec, data / filename, rejects_dir=data / "rejects", mapping_process=False
        )  # the batches are captured here, and the mapping timed here
    return capture.batches, time.process_time() - started


def server_cpu_seconds(server: Server) -> float:
    pid = (ROOT / server.state / "pid").read_text().strip()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def replay(name: str, batches: list[Batch]) -> tuple[float, float]:
    """Wall seconds and server CPU seconds to write the batches with one variant."""
    model = default_model()
    server = start_server("ceiling")
    try:
        store = Neo4jStore(server.uri, model, password=server.password)
        store.prepare()
        writes = [_encoded(name, store, batch) for batch in batches]
        cpu_before, started = server_cpu_seconds(server), time.perf_counter()
        for write in writes:
            write()
        wall = time.perf_counter() - started
        cpu = server_cpu_seconds(server) - cpu_before
        store.close()
    finally:
        stop_server(server)
    return wall, cpu


def ingest(data: Path) -> tuple[int, float, float]:
    """Rows written, wall seconds and server CPU seconds of nimgraph's own ingest of the files, into a fresh server."""
    server = start_server("ceiling")
    try:
        cpu_before = server_cpu_seconds(server)
        rows, wall = nimgraph_ingest(server, data, list(PLAN))
        cpu = server_cpu_seconds(server) - cpu_before
    finally:
        stop_server(server)
    return rows, wall, cpu


def _encoded(name: str, store: Neo4jStore, batch: Batch) -> Callable[[], None]:
    if name == "shipped":
        return store.stage(batch)
    steps = store.encode(batch)
    if name == "graph only":
        chosen = [(q, rows) for q, rows, _ in steps if q in ("upsert_entities", "upsert_links")]
    else:
        chosen = [(q, [{"id": row["id"]} for row in rows]) for q, rows, _ in steps if q == "upsert_entities"]

    def write() -> None:
        def work(tx) -> None:
            for q, rows in chosen:
                if rows:
                    tx.run(ENTITY_IDS_ONLY if name == "entity ids only" else query(q).text, rows=rows).consume()

        with store.driver.session(database=store.database) as session:
            session.execute_write(work)

    return write


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--write", action="store_true", help="append the figures to bench/RESULTS.md")
    args = parser.parse_args()
    data = ROOT / "var" / "bench" / str(args.incidents)
    if not (data / "planted.json").exists():
        write_dataset(data, incidents=args.incidents)
    batches, python_cpu = map_files(data)
    rows = sum(len(b.entities) + len(b.links) for b in batches)
    cores = os.cpu_count() or 1
    lines = [f"| Python: map the files (no writes) | {rows:,} | | {python_cpu:.0f} | |"]
    achieved = ""
    for name in ("shipped", "graph only", "entity ids only"):
        print(f"replaying: {name}", flush=True)
        wall, cpu = replay(name, batches)
        variant_rows = rows if name != "entity ids only" else sum(len(b.entities) for b in batches)
        bound = variant_rows / ((cpu + python_cpu) / cores)
        lines.append(f"| Neo4j: {name} | {variant_rows:,} | {wall:.0f} | {cpu:.0f} | {bound:,.0f} |")
        if name == "shipped":  # the ingest next to the bound it is held to, minutes apart on one machine
            print("ingesting as shipped", flush=True)
            ingested, ingest_wall, ingest_cpu = ingest(data)
            lines.append(f"| nimgraph: the ingest as shipped | {ingested:,} | {ingest_wall:.0f} | {ingest_cpu:.0f} | |")
            rate = ingested / ingest_wall
            achieved = f"The ingest as shipped: {rate:,.0f} rows/s, {rate / bound:.1%} of the shipped write's bound.\n"
    text = (
        f"\n### Server ceiling, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {platform.node()}, "
        f"{cores} cores, {args.incidents:,} incidents, a fresh Neo4j 5.26.30 per variant (heap 2g)\n\n"
        "| what | rows | wall s | CPU s | rows/s bound on this machine |\n|---|---|---|---|---|\n"
        + "\n".join(lines)
        + "\n\n"
        + achieved
    )
    publish(text, write=args.write)


if __name__ == "__main__":
    main()
