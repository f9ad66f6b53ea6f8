"""A first load into Neo4j three ways, in one run: bulk (nimgraph neo4j load --bulk's steps), LOAD CSV
and nimgraph's incremental ingest, on the same two police files of the generated partnership.

    .venv/bin/python bench/neo4j_bulk.py --incidents 1000000 [--write]

The data and the LOAD CSV statements (equivalent MERGEs, provenance included) are those of
bench/ingest_neo4j.py; each contender gets a fresh throwaway Neo4j (scripts/neo4j.sh, heap 2g).
Bulk is timed end to end, from the partner files to a server answering with the schema in place:
mapping into FirstLoad, writing the CSV, neo4j-admin database import full (the launcher's
artifacts), starting the server and creating the schema; each step is shown too.
With --write, the figures are appended to bench/RESULTS.md. Ratios come from one run on one machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest_neo4j import (  # noqa: E402
    POLICE_FILES,
    Server,
    load_csv,
    nimgraph_ingest,
    publish,
    publish_once,
    start_server,
    stop_server,
)

from nimgraph.demo import PLAN  # noqa: E402
from nimgraph.demo.generate import write_dataset  # noqa: E402
from nimgraph.exports.neo4j_bulk import write_import_files  # noqa: E402
from nimgraph.ingest.bulk import FirstLoad  # noqa: E402
from nimgraph.ingest.engine import ingest_files, open_sources  # noqa: E402
from nimgraph.ingest.spec import load_spec  # noqa: E402
from nimgraph.mappings import mapping_path  # noqa: E402
from nimgraph.ontology import default_model  # noqa: E402
from nimgraph.store import neo4j_admin  # noqa: E402
from nimgraph.store.neo4j import Neo4jStore  # noqa: E402

HEADING = "Neo4j first load in bulk"
INTRO = (
    "The two police files of the generated partnership (about 85% of its rows) loaded into a fresh\n"
    "Neo4j three ways in one run: bulk (`nimgraph neo4j load --bulk`'s steps: map into `FirstLoad`,\n"
    "write the import CSV, `neo4j-admin database import full`, start the server, create the schema),\n"
    "`LOAD CSV` with `bench/ingest_neo4j.py`'s equivalent MERGEs and provenance, and `nimgraph ingest`.\n"
    "Rows = entity and link writes of the ingest. Target from issue 19: bulk at least 10x faster than LOAD CSV."
)
STATE = "var/neo4j-bench-bulk"
PASSWORD = "bench-bulk-password-81x"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bulk(data: Path, batch_size: int = 5000) -> dict[str, float]:
    """Bulk, step by step, into a fresh throwaway Neo4j; seconds per step."""
    model = default_model()
    port = _free_port()
    os.environ.update(
        NIMGRAPH_NEO4J_STATE=STATE, NIMGRAPH_NEO4J_HEAP="2g", NIMGRAPH_NEO4J_PORT=str(port),
        NIMGRAPH_NEO4J_PASSWORD=PASSWORD,
    )  # fmt: skip
    admin = [str(ROOT / "scripts" / "neo4j.sh"), "admin"]
    uri = f"bolt://127.0.0.1:{port}"
    seconds: dict[str, float] = {}
    load = FirstLoad(model)
    rows = 0
    try:
        started = time.perf_counter()
        for mapping, filename in PLAN:
            if filename not in POLICE_FILES:
                continue
            spec = load_spec(mapping_path(mapping), model)
            sources = open_sources(spec, model, [data / filename])
            for report in ingest_files(load, model, spec, sources, rejects_dir=data / "rejects-bulk",
                                       batch_size=batch_size):  # fmt: skip
                rows += report.entities_written + report.links_written
        seconds["map"] = time.perf_counter() - started
        mark = time.perf_counter()
        files = write_import_files(load.graph, model, data / "neo4j-import")
        seconds["csv"] = time.perf_counter() - mark
        del load  # the import tool wants the memory
        mark = time.perf_counter()
        neo4j_admin.run_import(admin, "neo4j", files, lambda line: None)
        seconds["import"] = time.perf_counter() - mark
        mark = time.perf_counter()
        neo4j_admin.start_server(admin)

        def connect() -> Neo4jStore:
            return Neo4jStore(uri, model, password=PASSWORD)

        store = neo4j_admin.wait_for(connect, uri, 300)
        store.prepare()
        counts = store.counts()
        store.close()
        seconds["start"] = time.perf_counter() - mark
        seconds["total"] = time.perf_counter() - started
    finally:
        os.environ.pop("NIMGRAPH_NEO4J_PORT", None)
        os.environ.pop("NIMGRAPH_NEO4J_PASSWORD", None)
        stop_server(Server(uri, PASSWORD, STATE))
    seconds["rows"] = rows
    seconds["nodes"], seconds["relationships"] = files.node_count, files.relationship_count
    seconds["entities"] = sum(counts["entities"].values())
    return seconds


def run(incidents: int) -> dict:
    data = ROOT / "var" / "bench" / str(incidents)
    if not (data / "planted.json").exists():
        print(f"generating {incidents} incidents into {data}", flush=True)
        write_dataset(data, incidents=incidents)
    result: dict = {"incidents": incidents}
    print("bulk: map, write CSV, neo4j-admin import, start, schema", flush=True)
    result["bulk"] = bulk(data)
    server = start_server("loadcsv", import_dir=data)
    try:
        print("LOAD CSV, the two police files", flush=True)
        result["load_csv_seconds"] = load_csv(server)
    finally:
        stop_server(server)
    server = start_server("incremental")
    try:
        print("nimgraph ingest, the two police files", flush=True)
        police = [p for p in PLAN if p[1] in POLICE_FILES]
        result["ingest_rows"], result["ingest_seconds"] = nimgraph_ingest(server, data, police)
    finally:
        stop_server(server)
    return result


def report(result: dict) -> str:
    b = result["bulk"]
    return (
        f"| {result['incidents']:,} | {b['rows']:,} | {b['nodes']:,} / {b['relationships']:,} "
        f"| {b['total']:.1f} ({b['map']:.1f} + {b['csv']:.1f} + {b['import']:.1f} + {b['start']:.1f}) "
        f"| {result['load_csv_seconds']:.1f} | {result['ingest_seconds']:.1f} "
        f"| {result['load_csv_seconds'] / b['total']:.1f}x | {result['ingest_seconds'] / b['total']:.1f}x "
        f"| {result['load_csv_seconds'] / b['import']:.1f}x |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, action="append", help="sizes to run (repeatable)")
    parser.add_argument("--write", action="store_true", help="append the figures to bench/RESULTS.md")
    args = parser.parse_args()
    lines = [report(run(n)) for n in (args.incidents or [1_000_000])]
    header = (
        f"\n### {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, Neo4j Community 5.26.30 embedded (heap 2g)\n\n"
        "| incidents | rows | nodes / relationships imported | bulk s (map + CSV + import + start and schema) "
        "| LOAD CSV s | nimgraph ingest s | LOAD CSV / bulk | ingest / bulk | LOAD CSV / import alone |\n"
        "|---|---|---|---|---|---|---|---|---|\n"
    )
    if args.write:
        publish_once(
            HEADING,
            INTRO,
            "neo4j_bulk.py",
            "A first load of the two police files into a fresh Neo4j: bulk (map, CSV, neo4j-admin import, "
            "start, schema) against LOAD CSV and nimgraph ingest, in one run",
        )
    publish(header + "\n".join(lines) + "\n", write=args.write)


if __name__ == "__main__":
    main()
