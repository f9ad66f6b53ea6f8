"""What makes the embedded store's write cost per row grow with the store: seconds per SQL statement,
by tenths of one ingest.

    .venv/bin/python bench/embedded_growth.py [--incidents 1000000] [--write]

Ingests the generated police.uk street-crime file (bench/ingest_embedded.py's data) into a fresh
embedded store with nimgraph's own ingest, and times every statement the store's write path sends
to SQLite (wall time, as the writer thread sees it; reads run on their own connections). The
figures are summed over each tenth of the batches, so a statement whose cost grows with the store
shows a rising row. This is a probe for issue 20 ("no slow-down with size"): it says where the
time goes, not how fast ingest is (bench/ingest_embedded.py says that).
"""

from __future__ import annotations

import argparse
import collections
import os
import platform
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

HEADING = "Embedded write cost as the store grows"
INTRO = (
    "Seconds per SQL statement of the embedded store's write path, summed over each tenth of one\n"
    "ingest of the street-crime file into a fresh store: a rising row is a cost that grows with the\n"
    'store (issue 20, "no slow-down with size").'
)
SHOWN = 8  # statements, the costliest first


class TimedConnection:
    """The store's writing connection, timing each statement by its first words."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.spent: collections.Counter[str] = collections.Counter()
        self.commits = 0

    def _timed(self, sql: str, run: Any, *arguments: Any) -> Any:
        started = time.perf_counter()
        result = run(sql, *arguments)
        if sql.lstrip().upper().startswith(("SELECT", "INSERT INTO META")):
            result = _Rows(result.fetchall())  # a query's cost is in fetching its rows
        self.spent[" ".join(sql.split())[:60]] += time.perf_counter() - started
        self.commits += sql.strip().upper() == "COMMIT"
        return result

    def execute(self, sql: str, *arguments: Any) -> Any:
        return self._timed(sql, self.db.execute, *arguments)

    def executemany(self, sql: str, *arguments: Any) -> Any:
        return self._timed(sql, self.db.executemany, *arguments)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.db, name)


class _Rows(list):
    def fetchone(self) -> Any:
        return self[0] if self else None

    def fetchall(self) -> list:
        return list(self)


def measure(incidents: int) -> tuple[list[dict[str, float]], int, float, int]:
    from nimgraph.demo.generate import write_dataset
    from nimgraph.ingest.engine import ingest_file
    from nimgraph.ingest.spec import load_spec
    from nimgraph.mappings import mapping_path
    from nimgraph.ontology import default_model
    from nimgraph.store.embedded import EmbeddedStore

    data = ROOT / "var" / "bench" / str(incidents)
    if not (data / "planted.json").exists():
        write_dataset(data, incidents=incidents)
    model = default_model()
    spec = load_spec(mapping_path("police_uk_street"), model)
    path = data / "police_street_crime.csv"
    lines = sum(1 for _ in path.open(encoding="utf-8"))
    segments: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(dir=ROOT / "var") as folder:
        store = EmbeddedStore(Path(folder) / "graph.db", model)
        timed = TimedConnection(store._db)
        store._db = timed  # type: ignore[assignment]
        tenth, mapped = max(1, lines // 10), [0]

        def progress(rows: int) -> None:  # a tenth of the rows mapped: what the writer spent so far (it trails)
            mapped[0] += rows
            if mapped[0] >= tenth * (len(segments) + 1):
                segments.append(dict(timed.spent))
                timed.spent.clear()

        started = time.perf_counter()
        report = ingest_file(store, model, spec, path, rejects_dir=folder, progress=progress)
        seconds = time.perf_counter() - started
        segments.append(dict(timed.spent))
        store._db = timed.db
        store.close()
    return segments, report.rows_read, seconds, timed.commits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--write", action="store_true", help="append the figures to bench/RESULTS.md")
    args = parser.parse_args()
    from ingest_neo4j import publish, publish_once

    segments, rows, seconds, commits = measure(args.incidents)
    totals: collections.Counter[str] = collections.Counter()
    for segment in segments:
        totals.update(segment)
    shown = [name for name, _ in totals.most_common(SHOWN)]
    header = "| statement | " + " | ".join(f"{n + 1}" for n in range(len(segments))) + " | all |"
    lines = [
        f"| `{name}` | " + " | ".join(f"{s.get(name, 0):.1f}" for s in segments) + f" | {totals[name]:.1f} |"
        for name in shown
    ]
    text = (
        f"\n### {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {platform.node()}, {os.cpu_count()} cores, "
        f"SQLite {sqlite3.sqlite_version}, {args.incidents:,} incidents: {rows:,} street-crime rows in "
        f"{seconds:.0f} s, {commits} commits\n\n"
        + header
        + "\n|---|"
        + "---|" * (len(segments) + 1)
        + "\n"
        + "\n".join(lines)
        + "\n"
    )
    if args.write:
        publish_once(HEADING, INTRO, "embedded_growth.py", "the embedded write's cost per SQL statement as it grows")
    publish(text, write=args.write)


if __name__ == "__main__":
    main()
