"""The column-wise mapper alone: rows/s on the street-crime file, against the row mapper, in one run.

    .venv/bin/python bench/column_mapper.py [--incidents 100000 --incidents 1000000] [--write]

The police.uk street-level crime file of the generated partnership (as ``bench/ingest_embedded.py``
loads it) is read once into memory; then, timed apart, the row mapper (``RowMapper``, the reference)
maps every row, and the column-wise mapper (``ColumnMapper``) maps the same rows in chunks of the
size ingest uses. Neither writes anything. Reading the file (CSV to rows) and making the chunks
(rows to columns) are timed too, since ingest pays for both. Both mappers must agree on how many rows
they reject; the parity tests check the rest.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

HEADING = "The column-wise mapper"
INTRO = (
    "The police.uk street-level crime file of the generated partnership, read into memory once, mapped by\n"
    "the row mapper (the reference) and by the column-wise mapper in ingest's chunks, nothing written.\n"
    "Issue 20's target: at least 100,000 rows/s for the column-wise mapper alone."
)


def measure(incidents: int) -> dict:
    from nimgraph.demo.generate import write_dataset
    from nimgraph.ids import IdKey
    from nimgraph.ingest.columns import Chunk, ColumnMapper
    from nimgraph.ingest.engine import CHUNK_ROWS
    from nimgraph.ingest.mapper import Row, RowError, RowMapper
    from nimgraph.ingest.readers import open_source
    from nimgraph.ingest.spec import load_spec
    from nimgraph.mappings import mapping_path
    from nimgraph.ontology import default_model

    data = ROOT / "var" / "bench" / str(incidents)
    if not (data / "planted.json").exists():
        write_dataset(data, incidents=incidents)
    model = default_model()
    spec = load_spec(mapping_path("police_uk_street"), model)
    path = data / "police_street_crime.csv"
    source = open_source(path, spec.read)
    columns = source.columns()
    key = IdKey("bench")

    started = time.perf_counter()
    rows = [(line, values) for line, values, _fields in source.rows()]
    read_seconds = time.perf_counter() - started

    gc.collect()
    started = time.perf_counter()
    row_mapper, row_rejects = RowMapper(spec, model, key), 0
    for line, values in rows:
        try:
            row_mapper.map(Row(values, line, path.name))
        except RowError:
            row_rejects += 1
    row_seconds = time.perf_counter() - started

    gc.collect()
    started = time.perf_counter()
    chunks = [Chunk.of_rows(path.name, rows[i : i + CHUNK_ROWS], columns) for i in range(0, len(rows), CHUNK_ROWS)]
    chunk_seconds = time.perf_counter() - started

    gc.collect()
    started = time.perf_counter()
    column_mapper, column_rejects = ColumnMapper(spec, model, key), 0
    for chunk in chunks:
        column_rejects += len(column_mapper.map(chunk).rejected)
    column_seconds = time.perf_counter() - started
    if column_rejects != row_rejects:
        raise SystemExit(f"the mappers disagree: {row_rejects} rows rejected by one, {column_rejects} by the other")
    return {
        "incidents": incidents,
        "rows": len(rows),
        "read": read_seconds,
        "chunk": chunk_seconds,
        "row": row_seconds,
        "column": column_seconds,
        "rejects": row_rejects,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, action="append")
    parser.add_argument("--write", action="store_true", help="append the figures to bench/RESULTS.md")
    args = parser.parse_args()
    from ingest_neo4j import publish, publish_once

    results = [measure(n) for n in args.incidents or [100_000, 1_000_000]]
    lines = [
        f"| {r['incidents']:,} | {r['rows']:,} | {r['rows'] / r['read']:,.0f} | {r['rows'] / r['chunk']:,.0f} "
        f"| {r['rows'] / r['row']:,.0f} | **{r['rows'] / r['column']:,.0f}** | {r['row'] / r['column']:.1f}x "
        f"| {r['rejects']:,} |"
        for r in results
    ]
    text = (
        f"\n### {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {platform.node()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}\n\n"
        "| incidents | street-crime rows | reading, rows/s | into chunks, rows/s | row mapper, rows/s "
        "| column-wise mapper, rows/s | column-wise / row | rows rejected (both) |\n"
        "|---|---|---|---|---|---|---|---|\n" + "\n".join(lines) + "\n"
    )
    if args.write:
        publish_once(HEADING, INTRO, "column_mapper.py", "the column-wise mapper alone against the row mapper")
    publish(text, write=args.write)


if __name__ == "__main__":
    main()
