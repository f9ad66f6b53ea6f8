"""What SQLite alone costs: the embedded store's write of already-mapped batches, and its floors.

    .venv/bin/python bench/embedded_ceiling.py --incidents 100000 [--write]

Maps the three incident files that bench/ingest_embedded.py loads once (timing the Python side
into a store that writes nothing), then replays the same batches into a fresh SQLite file for
each variant, timing the process's CPU:

- shipped: `EmbeddedStore.stage(batch)()`, the store's own write (encoding, upserts with JSON
  property merges, assertions, the stale-assertion check for corrected files, the counts);
- plain inserts: the same rows, already encoded, as `INSERT OR IGNORE` into the same tables and
  indexes: what keeping every entity, link and assertion costs with no merging logic at all;
- integer-keyed records: a design not shipped, measured to size the redesign: one row per
  source record (source, record id, file, row, date, grade, handling, run) and assertions as
  (item rowid, record rowid) pairs, looked up through the text ids in SQL;
- entity ids only: `INSERT OR IGNORE INTO entity (id, type)` for the entity rows: a floor for
  any write that stores the entities at all.

Rows are input incident rows, as in the issue's target. Two bounds are reported: rows / write
CPU (what the write allows if mapping cost nothing), and rows / ((mapping CPU + write CPU) / cores)
(what two cores allow if both sides overlapped perfectly).
"""

from __future__ import annotations

import argparse
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
from nimgraph.ingest.spec import load_spec  # noqa: E402
from nimgraph.mappings import mapping_path  # noqa: E402
from nimgraph.ontology import default_model  # noqa: E402
from nimgraph.records import Batch  # noqa: E402
from nimgraph.store.embedded import EmbeddedStore  # noqa: E402


def map_files(data: Path) -> tuple[list[Batch], int, float]:
    model, capture = default_model(), Capture()
    rows, started = 0, time.process_time()
    with tempfile.TemporaryDirectory() as rejects:
        for mapping, filename in INCIDENT_FILES.items():
            spec = load_spec(mapping_path(mapping), model)
            report = ingest_file(capture, model, spec, data / filename, rejects_dir=rejects)  # type: ignore[arg-type]
            rows += report.rows_read
    return capture.batches, rows, time.process_time() - started


def _encoded(batch: Batch) -> tuple[list[tuple], list[tuple], list[tuple]]:
    entities = [(e.id, e.type, json.dumps(e.properties, default=str), "[]") for e in batch.entities]
    links = [(k.id, k.type, k.source, k.target, json.dumps(k.properties, default=str)) for k in batch.links]
    assertions = [
        (item.id, a.source, a.record_id, a.file, a.row, a.date, a.grade, a.handling, batch.run)
        for item in [*batch.entities, *batch.links]
        for a in item.provenance
    ]
    return entities, links, assertions


INTEGER_KEYED = """
CREATE TABLE item (n INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, type TEXT NOT NULL, props TEXT NOT NULL);
CREATE TABLE record (n INTEGER PRIMARY KEY, source TEXT, record_id TEXT, file TEXT, row INTEGER, date TEXT,
    grade TEXT, handling TEXT, run TEXT, UNIQUE (source, record_id));
CREATE TABLE asserts (item INTEGER, record INTEGER, PRIMARY KEY (item, record)) WITHOUT ROWID;
CREATE INDEX asserts_record ON asserts(record);
CREATE TEMP TABLE pair (item_id TEXT, source TEXT, record_id TEXT);
"""


def _integer_keyed(db: sqlite3.Connection, encoded: list[tuple[list[tuple], list[tuple], list[tuple]]]) -> None:
    db.executescript(INTEGER_KEYED)
    for entities, links, assertions in encoded:
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT OR IGNORE INTO item (id, type, props) VALUES (?, ?, ?)", [e[:3] for e in entities])
        db.executemany(
            "INSERT OR IGNORE INTO item (id, type, props) VALUES (?, ?, ?)", [(k[0], k[1], k[4]) for k in links]
        )
        records = {(a[1], a[2]): a[1:] for a in assertions}
        db.executemany(
            "INSERT OR IGNORE INTO record (source, record_id, file, row, date, grade, handling, run) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            list(records.values()),
        )
        db.execute("DELETE FROM temp.pair")
        db.executemany("INSERT INTO temp.pair VALUES (?, ?, ?)", [a[:3] for a in assertions])
        db.execute(
            "INSERT OR IGNORE INTO asserts SELECT i.n, r.n FROM temp.pair p "
            "JOIN item i ON i.id = p.item_id JOIN record r ON r.source = p.source AND r.record_id = p.record_id"
        )
        db.execute("COMMIT")


def replay(name: str, batches: list[Batch]) -> float:
    """CPU seconds (this process) to write the batches with one variant into a fresh file."""
    model = default_model()
    with tempfile.TemporaryDirectory() as folder:
        store = EmbeddedStore(Path(folder) / "graph.db", model)
        if name == "shipped":
            started = time.process_time()
            for batch in batches:
                store.stage(batch)()
            cpu = time.process_time() - started
        else:
            encoded = [_encoded(batch) for batch in batches]
            db: sqlite3.Connection = store._db  # the same connection, pragmas and tables
            started = time.process_time()
            if name == "integer-keyed records":
                _integer_keyed(db, encoded)
            for entities, links, assertions in [] if name == "integer-keyed records" else encoded:
                db.execute("BEGIN IMMEDIATE")
                if name == "entity ids only":
                    db.executemany("INSERT OR IGNORE INTO entity (id, type) VALUES (?, ?)", [e[:2] for e in entities])
                else:
                    db.executemany("INSERT OR IGNORE INTO entity VALUES (?, ?, ?, ?)", entities)
                    db.executemany("INSERT OR IGNORE INTO link VALUES (?, ?, ?, ?, ?)", links)
                    db.executemany("INSERT OR IGNORE INTO assertion VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", assertions)
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
    for name in ("shipped", "plain inserts", "integer-keyed records", "entity ids only"):
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
