"""The embedded store's file layout, and the upgrade of a file written in the layout before it.

Layout 2 numbers things as they are written, so that what ingest adds lands at the end of each
B-tree instead of all over it (the cost of a commit grew with the store when every assertion was
keyed by long random text, see bench/RESULTS.md, "Embedded write cost as the store grows"):

- ``entity`` and ``link`` rows have an item number ``n`` from one numbering shared by both, next
  to their text ``id``;
- a source record is a row of ``record``, numbered when first written, with the run that last
  wrote it and its place in the write sequence then (``seq``);
- what a record asserts is a row of ``asserted``: (record number, item number), with the row of the
  file it came from, its date, grade and handling code, and what it said of the item (``props``).
  Files are numbered in ``file``.

Layout 3 finds a record by ``key``, a 64-bit hash of its source and record id (:func:`record_key`),
in place of layout 2's unique index of the (source, record id) text: record ids are often long
(64 hex digits in police.uk's files), and at a million records that index was 67 MB of random
inserts and lookups outgrowing the page cache, against 9 MB for the hashes. A hash two records
share is told apart by their text.

Layout 1 kept one ``assertion`` row per (item id, source, record id), all as text. A store does not
open a layout 1 or 2 file; ``upgrade`` rewrites it in place, in one transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from hashlib import blake2b
from pathlib import Path

from nimgraph.store.errors import StoreError

LAYOUT = "3"

SCHEMA = """
CREATE TABLE IF NOT EXISTS entity (
    n INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    props TEXT NOT NULL DEFAULT '{}',
    sources TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS entity_type ON entity(type);
CREATE TABLE IF NOT EXISTS link (
    n INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    props TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS link_source ON link(source, type);
CREATE INDEX IF NOT EXISTS link_target ON link(target, type);
CREATE INDEX IF NOT EXISTS link_type ON link(type);
CREATE TABLE IF NOT EXISTS record (
    n INTEGER PRIMARY KEY,
    key INTEGER NOT NULL,
    source TEXT NOT NULL,
    record_id TEXT NOT NULL,
    run TEXT NOT NULL DEFAULT '',
    seq INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS record_key ON record(key);
CREATE INDEX IF NOT EXISTS record_source ON record(source);
CREATE TABLE IF NOT EXISTS file (n INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS asserted (
    record INTEGER NOT NULL,
    item INTEGER NOT NULL,
    file INTEGER NOT NULL,
    row INTEGER NOT NULL,
    date TEXT,
    grade TEXT NOT NULL,
    handling TEXT NOT NULL,
    props TEXT,
    PRIMARY KEY (record, item)
);
CREATE INDEX IF NOT EXISTS asserted_item ON asserted(item, handling);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS information_source (name TEXT PRIMARY KEY, props TEXT NOT NULL DEFAULT '{}');
"""


def record_key(source: str, record_id: str) -> int:
    """A record's key in the ``record`` table: the first 8 bytes of a BLAKE2b hash of its source and
    record id, as a signed 64-bit integer (SQLite's).

    >>> record_key("police-uk-street-crime", "ab12") == record_key("police-uk-street-crime", "ab12")
    True
    >>> record_key("a", "bc") == record_key("ab", "c")
    False
    """
    text = f"{source}\0{record_id}".encode("utf-8", "surrogatepass")
    return int.from_bytes(blake2b(text, digest_size=8).digest(), "big", signed=True)


LAYOUT_1_INDEXES = ("entity_type", "link_source", "link_target", "link_type", "assertion_record")

# Layout 1's own late additions, for a file written before them (read as: not known, first).
LAYOUT_1_COLUMNS = {
    "assertion": {
        "run": "ALTER TABLE assertion ADD COLUMN run TEXT NOT NULL DEFAULT ''",
        "props": "ALTER TABLE assertion ADD COLUMN props TEXT",
        "seq": "ALTER TABLE assertion ADD COLUMN seq INTEGER NOT NULL DEFAULT 0",
    },
    "entity": {"sources": "ALTER TABLE entity ADD COLUMN sources TEXT NOT NULL DEFAULT '[]'"},
}

# Each record once, numbered in the order records were last written; its run is that of its
# latest assertion (SQLite takes a bare column from the row that gives the max).
LAYOUT_1_RECORDS = """
INSERT INTO record (key, source, record_id, run, seq)
SELECT record_key(source, record_id), source, record_id, run, max(seq) FROM assertion
GROUP BY source, record_id ORDER BY max(seq), source, record_id
"""
# Layout 2 kept records unique by (source, record id), an index of long text; layout 3 by its hash.
LAYOUT_2_RECORDS = """
INSERT INTO record (n, key, source, record_id, run, seq)
SELECT n, record_key(source, record_id), source, record_id, run, seq FROM record_v2 ORDER BY n
"""
LAYOUT_1_ASSERTS = """
INSERT INTO asserted (record, item, file, row, date, grade, handling, props)
SELECT r.n, coalesce(e.n, l.n), f.n, a.row, a.date, a.grade, a.handling, a.props
FROM assertion a
JOIN record r ON r.source = a.source AND r.record_id = a.record_id
JOIN file f ON f.name = a.file
LEFT JOIN entity e ON e.id = a.item_id
LEFT JOIN link l ON l.id = a.item_id
WHERE coalesce(e.n, l.n) IS NOT NULL
"""
LAYOUT_1_SOURCES = """
UPDATE entity_v1 SET sources = (
    SELECT json_group_array(source) FROM (SELECT DISTINCT source FROM assertion WHERE item_id = entity_v1.id)
)
"""


def schema_statements(tables: bool = True, indexes: bool = True) -> list[str]:
    """The schema's statements, one by one (``executescript`` would commit a transaction under way)."""
    statements = [s.strip() for s in SCHEMA.split(";") if s.strip()]
    return [s for s in statements if (tables, indexes)[s.startswith("CREATE INDEX")]]


# The tables and indexes SCHEMA makes: a file of this layout lacking one (a table added later) gets it.
SCHEMA_NAMES = {statement.split()[5] for statement in schema_statements()}


class StoreLayoutError(StoreError):
    """The store file was written in a layout this version does not read."""


def layout_of(db: sqlite3.Connection) -> str | None:
    """The file's layout: None for a new, empty file."""
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "assertion" in tables:
        return "1"
    if "entity" not in tables:
        return None
    if "meta" in tables:
        row = db.execute("SELECT value FROM meta WHERE name = 'layout'").fetchone()
        if row is not None:
            return str(row[0])
    return "1" if "asserted" not in tables else LAYOUT


def open_layout(db: sqlite3.Connection, path: Path) -> None:
    """Create the tables of a new file, or check that an existing one is in this layout."""
    found = layout_of(db)
    held = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'index')")}
    if found == LAYOUT and held >= SCHEMA_NAMES and db.execute("SELECT 1 FROM meta WHERE name = 'layout'").fetchone():
        return  # all there: opening it writes nothing, so it need not wait for an ingest's write lock
    if found not in (None, LAYOUT):
        raise StoreLayoutError(
            f"{path} was written by an earlier nimgraph, in store layout {found}; this version reads layout "
            f"{LAYOUT}. Upgrade the file once with: nimgraph --store {path} store upgrade "
            "(it rewrites the file in place in one transaction; keep a copy until it has finished)"
        )
    for statement in schema_statements():
        db.execute(statement)
    db.execute("INSERT OR IGNORE INTO meta (name, value) VALUES ('layout', ?)", (LAYOUT,))


def upgrade(path: str | Path, progress: Callable[[str], None] = lambda step: None) -> dict[str, int]:
    """Rewrite a layout 1 or 2 file in the current layout, in one transaction (a failure leaves it as it was).

    Returns what was carried over: entities, links, records, assertions, and ``dropped``, the
    assertions of items the file no longer held (nothing read them). A file already in the current
    layout is left alone (all counts 0).
    """
    path = Path(path)
    if not path.exists():
        raise StoreLayoutError(f"{path}: no such store file")
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA cache_size=-262144")
        db.create_function("record_key", 2, record_key, deterministic=True)
        db.execute("BEGIN IMMEDIATE")
        try:
            found = layout_of(db)
            if found == "1":
                counts = _upgrade(db, progress)
            elif found == "2":
                counts = _upgrade_2(db, progress)
            else:
                counts = dict.fromkeys(_COUNTED, 0)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    return counts


_COUNTED = ("entities", "links", "records", "assertions", "dropped")


def _upgrade_2(db: sqlite3.Connection, progress: Callable[[str], None]) -> dict[str, int]:
    """Layout 2 to 3: the record table rebuilt with its keys; everything else is as it was."""
    progress("records")
    db.execute("ALTER TABLE record RENAME TO record_v2")
    for statement in schema_statements(indexes=False):
        db.execute(statement)
    db.execute(LAYOUT_2_RECORDS)
    db.execute("DROP TABLE record_v2")
    progress("indexes")
    for statement in schema_statements(tables=False):
        db.execute(statement)
    db.execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('layout', ?)", (LAYOUT,))
    counted = {"entities": "entity", "links": "link", "records": "record", "assertions": "asserted"}
    return {name: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for name, table in counted.items()} | {
        "dropped": 0
    }


def _upgrade(db: sqlite3.Connection, progress: Callable[[str], None]) -> dict[str, int]:
    for table, columns in LAYOUT_1_COLUMNS.items():
        present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        for column, alter in columns.items():
            if column not in present:
                db.execute(alter)
    db.execute("ALTER TABLE entity RENAME TO entity_v1")
    db.execute("ALTER TABLE link RENAME TO link_v1")
    if db.execute("SELECT 1 FROM entity_v1 WHERE sources = '[]' LIMIT 1").fetchone():
        db.execute(LAYOUT_1_SOURCES)  # a file from before entities kept their sources
    for index in LAYOUT_1_INDEXES:
        db.execute(f"DROP INDEX IF EXISTS {index}")
    for statement in schema_statements(indexes=False):
        db.execute(statement)
    progress("entities")
    db.execute(
        "INSERT INTO entity (n, id, type, props, sources) SELECT rowid, id, type, props, sources FROM entity_v1 "
        "ORDER BY rowid"
    )
    progress("links")
    db.execute(
        "INSERT INTO link (n, id, type, source, target, props) "
        "SELECT rowid + (SELECT coalesce(max(n), 0) FROM entity), id, type, source, target, props "
        "FROM link_v1 ORDER BY rowid"
    )
    progress("records")
    db.execute(LAYOUT_1_RECORDS)
    db.execute("INSERT INTO file (name) SELECT DISTINCT file FROM assertion ORDER BY file")
    progress("assertions")
    assertions = db.execute("SELECT count(*) FROM assertion").fetchone()[0]
    kept = db.execute(LAYOUT_1_ASSERTS).rowcount
    progress("indexes")
    for statement in schema_statements(tables=False):  # the indexes, built once over the copied rows
        db.execute(statement)
    counts = {
        "entities": db.execute("SELECT count(*) FROM entity").fetchone()[0],
        "links": db.execute("SELECT count(*) FROM link").fetchone()[0],
        "records": db.execute("SELECT count(*) FROM record").fetchone()[0],
        "assertions": kept,
        "dropped": assertions - kept,
    }
    for table in ("assertion", "entity_v1", "link_v1"):
        db.execute(f"DROP TABLE {table}")
    db.execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('layout', ?)", (LAYOUT,))
    return counts
