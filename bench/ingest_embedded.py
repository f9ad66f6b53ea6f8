"""Embedded-store ingest: rows/s and peak memory, at 100k and 1M generated incident rows.

    .venv/bin/python bench/ingest_embedded.py [--incidents 100000 --incidents 1000000] [--write]

Each size runs in its own process (so peak memory is that run's alone) on a fresh store: the
three incident files of the demo partnership (police street-level crime, council ASB, deliberate
fires) through their ready mappings. Rows are input rows read; peak memory is the process's
maximum resident set size. Memory that does not grow with the file is the point of streaming.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

INCIDENT_FILES = {
    "police_uk_street": "police_street_crime.csv",
    "council_asb": "council_asb.csv",
    "fire_deliberate": "fire_deliberate.csv",
}


def measure(incidents: int) -> dict:
    """Run in a child process: ingest the incident files, report rows, seconds and peak memory."""
    from nimgraph.ingest.engine import ingest_file
    from nimgraph.ingest.spec import load_spec
    from nimgraph.mappings import mapping_path
    from nimgraph.ontology import default_model
    from nimgraph.store.embedded import EmbeddedStore

    data = ROOT / "var" / "bench" / str(incidents)
    model = default_model()
    rows = 0
    with tempfile.TemporaryDirectory() as folder:
        store = EmbeddedStore(Path(folder) / "graph.db", model)
        started = time.perf_counter()
        for mapping, filename in INCIDENT_FILES.items():
            spec = load_spec(mapping_path(mapping), model)
            rows += ingest_file(store, model, spec, data / filename, rejects_dir=folder).rows_read
        seconds = time.perf_counter() - started
        store.close()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"incidents": incidents, "rows": rows, "seconds": seconds, "peak_mib": peak_mib}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, action="append")
    parser.add_argument("--write", action="store_true", help="append the figures to bench/RESULTS.md")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child)))
        return
    results = []
    for incidents in args.incidents or [100_000, 1_000_000]:
        data = ROOT / "var" / "bench" / str(incidents)
        if not (data / "planted.json").exists():  # here, so the child's peak memory is the ingest's alone
            from nimgraph.demo.generate import write_dataset

            print(f"generating {incidents:,} incidents", flush=True)
            write_dataset(data, incidents=incidents)
        print(f"ingesting {incidents:,} incidents", flush=True)
        child = subprocess.run(
            [sys.executable, __file__, "--child", str(incidents)], capture_output=True, text=True, check=True
        )
        results.append(json.loads(child.stdout.strip().splitlines()[-1]))
    from ingest_neo4j import publish

    lines = [
        f"| {r['incidents']:,} | {r['rows']:,} | {r['seconds']:.0f} | {r['rows'] / r['seconds']:,.0f} "
        f"| {r['peak_mib']:,.0f} |"
        for r in results
    ]
    text = (
        f"\n### Embedded ingest, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {platform.node()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}\n\n"
        "| incidents | incident rows read | s | rows/s | peak memory, MiB |\n|---|---|---|---|---|\n"
        + "\n".join(lines)
        + "\n"
    )
    if len(results) >= 2:
        small, large = results[0], results[-1]
        text += (
            f"\nPeak memory at {large['rows']:,} rows is {large['peak_mib'] / small['peak_mib']:.2f}x that at "
            f"{small['rows']:,} rows ({large['rows'] / small['rows']:.0f}x the rows).\n"
        )
    publish(text, write=args.write)


if __name__ == "__main__":
    main()
