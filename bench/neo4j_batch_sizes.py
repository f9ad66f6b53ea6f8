"""Neo4j ingest at several batch sizes: the street-crime file into a fresh Neo4j per size.

    .venv/bin/python bench/neo4j_batch_sizes.py [--incidents 100000] [--batch-size N ...] [--write]

Ingests the generated police.uk street-crime file (bench/ingest_embedded.py's data) with nimgraph's
own ingest into a fresh Neo4j (scripts/neo4j.sh, heap 2g) for each batch size, and reports the
street-crime rows loaded per second (the rows written, entity and link writes with their
provenance, count an item again in each batch that asserts it, so they grow as batches shrink) and
the server's CPU (its process's, from /proc) per 1,000 rows loaded. Issue 20 asks for the batch sizes to be measured.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest_neo4j import publish, publish_once, start_server, stop_server  # noqa: E402

from nimgraph.demo.generate import write_dataset  # noqa: E402
from nimgraph.ingest.engine import ingest_file  # noqa: E402
from nimgraph.ingest.spec import load_spec  # noqa: E402
from nimgraph.mappings import mapping_path  # noqa: E402
from nimgraph.ontology import default_model  # noqa: E402
from nimgraph.store.neo4j import Neo4jStore  # noqa: E402

HEADING = "Neo4j ingest by batch size"
INTRO = (
    "The generated street-crime file ingested by nimgraph into a fresh Neo4j for each batch size\n"
    "(items per write transaction, `NIMGRAPH_BATCH_SIZE`). Rows written are entity and link writes,\n"
    "each with its provenance; an item asserted in several batches is written once in each."
)
DEFAULT_SIZES = (1000, 5000, 20000)


def server_cpu_seconds(state: str) -> float:
    """CPU seconds the Neo4j process of ``state`` has used (utime + stime, from /proc)."""
    pid = (ROOT / state / "pid").read_text().strip()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(data: Path, size: int) -> tuple[int, int, float, float]:
    """Rows loaded, rows written, seconds, and the server's CPU seconds, for one batch size on a fresh server."""
    server = start_server(f"batch-{size}")
    try:
        model = default_model()
        store = Neo4jStore(server.uri, model, password=server.password)
        store.prepare()
        spec = load_spec(mapping_path("police_uk_street"), model)
        cpu_before, started = server_cpu_seconds(server.state), time.perf_counter()
        with tempfile.TemporaryDirectory() as rejects:
            report = ingest_file(
                store, model, spec, data / "police_street_crime.csv", rejects_dir=rejects, batch_size=size
            )
        seconds = time.perf_counter() - started
        cpu = server_cpu_seconds(server.state) - cpu_before
        store.close()
    finally:
        stop_server(server)
    return report.rows_loaded, report.entities_written + report.links_written, seconds, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, action="append")
    parser.add_argument("--write", action="store_true", help="append the figures to bench/RESULTS.md")
    args = parser.parse_args()
    data = ROOT / "var" / "bench" / str(args.incidents)
    if not (data / "planted.json").exists():
        write_dataset(data, incidents=args.incidents)
    lines = []
    for size in args.batch_size or DEFAULT_SIZES:
        print(f"batch size {size:,}", flush=True)
        loaded, written, seconds, cpu = measure(data, size)
        rate, server_ms = loaded / seconds, 1e6 * cpu / loaded
        lines.append(f"| {size:,} | {loaded:,} | {written:,} | {seconds:.1f} | {rate:,.0f} | {server_ms:,.0f} |")
    if args.write:
        publish_once(HEADING, INTRO, "neo4j_batch_sizes.py", "Neo4j ingest of the street-crime file by batch size")
    text = (
        f"\n### {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, Neo4j Community 5.26.30 embedded (heap 2g), "
        f"{args.incidents:,} incidents\n\n"
        "| batch size | rows loaded | rows written | s | rows loaded/s | server CPU ms per 1,000 rows loaded |\n"
        "|---|---|---|---|---|---|\n" + "\n".join(lines) + "\n"
    )
    publish(text, write=args.write)


if __name__ == "__main__":
    main()
