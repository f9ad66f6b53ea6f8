"""What SQLite alone costs: the embedded store's write of already-mapped batches, and its floors.

    .venv/bin/python bench/embedded_ceiling.py --incidents 100000 [--write]

Maps the three incident files that bench/ingest_embedded.py loads once (timing the Python side
into a store that writes nothing), then replays the same batches into a fresh SQLite file for
each variant, timing the process's CPU:

- shipped: the store's own write as ingest makes it, one write group (encoding, upserts with JSON
  property merges, assertions, the stale-assertion check for corrected files, the counts, a commit
  every `GROUP_ITEMS` items);
- plain inserts: the same rows, already encoded and numbered, as `INSERT OR IGNORE` into the same
  tables and indexes (store layout 3: records by key, (record, item) assertions by number), committed
  as often: what keeping every entity, link and assertion costs with no lookups or merging logic at all;
- entity ids only: `INSERT OR IGNORE INTO entity (id, type)` for the entity rows: a floor for
  any write that stores the entities at all.

Rows are input incident rows, as in the issue's target. Two bounds are reported: rows / write
CPU (what the write allows if mapping cost nothing), and rows / ((mapping CPU + write CPU) / cores)
(what two cores allow if both sides overlapped perfectly).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from capture import Capture  # noqa: E402
from ingest_embedded import INCIDENT_FILES  # noqa: E402
from ingest_neo4j import publish  # noqa: E402

from nimgraph.demo.generate import write_dataset  # noqa: E402
from nimgraph.ingest.engine import ingest_file  # noqa: E402
from nimgraph.ingest.process import CHILD_GC_THRESHOLDS  # noqa: E402
from nimgraph.ingest.spec import load_spec  # noqa: E402
from nimgraph.mappings import mapping_path  # noqa: E402
from nimgraph.ontology import default_model  # noqa: E402
from nimgraph.records import Batch  # noqa: E402
from nimgraph.store.embedded import GROUP_ITEMS, EmbeddedStore  # noqa: E402
from nimgraph.store.embedded_layout import record_key  # noqa: E402


def map_files(data: Path) -> tuple[list[Batch], int, float]:
    model, capture = default_model(), Capture()
    gc.freeze()  # the collector as the mapping process sets it (nimgraph.ingest.process)
    gc.set_threshold(*CHILD_GC_THRESHOLDS)
    rows, started = 0, time.process_time()
    with tempfile.TemporaryDirectory() as rejects:
        for mapping, filename in INCIDENT_FILES.items():
            spec = load_spec(mapping_path(mapping), model)
            report = ingest_file(  # type: ignore[arg-type]
                capture, model, spec, data / filename, rejects_dir=rejects, mapping_process=False
            )  # the batches are captured here, and the mapping timed here
            rows += report.rows_read
    return capture.batches, rows, time.process_time() - started


def _encoded(batches: list[Batch]) -> list[tuple[list[tuple], list[tuple], list[tuple], list[tuple]]]:
    """Each batch's rows as the store's tables take them, numbered as the store numbers them."""
    items: dict[str, int] = {}
    records: dict[tuple[str, str], int] = {}
    encoded = []
    for batch in batches:
        entities, links, fresh_records, asserted = [], [], [], []
        for e in batch.entities:
            if e.id not in items:
                items[e.id] = len(items) + 1
                entities.append((items[e.id], e.id, e.type, json.dumps(e.properties, default=str), "[]"))
        for k in batch.links:
            if k.id not in items:
                items[k.id] = len(items) + 1
                links.append((items[k.id], k.id, k.type, k.source, k.target, json.dumps(k.properties, default=str)))
        for item in [*batch.entities, *batch.links]:
            for a in item.provenance:
                if (a.source, a.record_id) not in records:
                    records[a.source, a.record_id] = n = len(records) + 1
                    fresh_records.append((n, record_key(a.source, a.record_id), a.source, a.record_id, batch.run, n))
                said = json.dumps(item.properties if a.properties is None else a.properties, default=str)
                asserted.append(
                    (records[a.source, a.record_id], items[item.id], 1, a.row, a.date, a.grade, a.handling, said)
                )
        encoded.append((entities, links, fresh_records, asserted))
    return encoded


def replay(name: str, batches: list[Batch]) -> float:
    """CPU seconds (this process) to write the batches with one variant into a fresh file."""
    model = default_model()
    with tempfile.TemporaryDirectory() as folder:
        store = EmbeddedStore(Path(folder) / "graph.db", model)
        if name == "shipped":
            started = time.process_time()
            group, encoder = store.write_group(), store.encoder()
            for batch in batches:
                group.write(encoder(batch))
            group.close()
            cpu = time.process_time() - started
        else:
            encoded = _encoded(batches)
            db: sqlite3.Connection = store._db  # the same connection, pragmas and tables
            db.execute("INSERT INTO file (n, name) VALUES (1, 'the file')")
            started = time.process_time()
            grouped = 0  # committed every GROUP_ITEMS items, as the store commits an ingest's batches
            db.execute("BEGIN IMMEDIATE")
            for entities, links, records, asserted in encoded:
                if name == "entity ids only":
                    db.executemany("INSERT OR IGNORE INTO entity (id, type) VALUES (?, ?)", [e[1:3] for e in entities])
                else:
                    db.executemany("INSERT OR IGNORE INTO entity VALUES (?, ?, ?, ?, ?)", entities)
                    db.executemany("INSERT OR IGNORE INTO link VALUES (?, ?, ?, ?, ?, ?)", links)
                    db.executemany("INSERT OR IGNORE INTO record VALUES (?, ?, ?, ?, ?, ?)", records)
                    db.executemany("INSERT OR IGNORE INTO asserted VALUES (?, ?, ?, ?, ?, ?, ?, ?)", asserted)
                grouped += len(entities) + len(links)
                if grouped >= GROUP_ITEMS:
                    db.execute("COMMIT")
                    db.execute("BEGIN IMMEDIATE")
                    grouped = 0
            db.execute("COMMIT")
            cpu = time.process_time() - started
        store.close()
    return cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--write", action="store_true", help="append the figures to bench/RESULTS.md")
    args = parser.parse_args()
    data = ROOT / "var" / "bench" / str(args.incidents)
    if not (data / "planted.json").exists():
        write_dataset(data, incidents=args.incidents)
    batches, rows, mapping_cpu = map_files(data)
    written = {
        "entities": sum(len(b.entities) for b in batches),
        "links": sum(len(b.links) for b in batches),
        "assertions": sum(len(i.provenance) for b in batches for i in [*b.entities, *b.links]),
    }
    cores = os.cpu_count() or 1
    lines = [f"| Python: map the files (no writes) | {mapping_cpu:.1f} | {rows / mapping_cpu:,.0f} | |"]
    for name in ("shipped", "plain inserts", "entity ids only"):
        print(f"replaying: {name}", flush=True)
        cpu = replay(name, batches)
        both = rows / ((cpu + mapping_cpu) / cores)
        lines.append(f"| SQLite: {name} | {cpu:.1f} | {rows / cpu:,.0f} | {both:,.0f} |")
    text = (
        f"\n### Embedded ceiling, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {platform.node()}, "
        f"{cores} cores, SQLite {sqlite3.sqlite_version}, {rows:,} incident rows "
        f"({written['entities']:,} entity, {written['links']:,} link and {written['assertions']:,} assertion "
        "writes)\n\n"
        "| what | CPU s | rows/s if only this ran | rows/s bound with mapping, both cores |\n|---|---|---|---|\n"
        + "\n".join(lines)
        + "\n"
    )
    publish(text, write=args.write)


if __name__ == "__main__":
    main()
