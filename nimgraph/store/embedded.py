"""The embedded store: one local SQLite file, transactional, no server.

Entities and links are rows with their properties as JSON. Every source record is a row of
``record`` and what it asserted a row of ``asserted``, keyed by (record, item) numbers (the file's
layout: see embedded_layout), so re-ingesting the same record changes nothing. A record written
again asserts exactly what it asserts now: what it no longer asserts loses that assertion, and an
entity or link that no record asserts any more is removed (an entity with its links). Retracting
a source does the same for all its records.
Each assertion keeps what its record said of the item (``props``), and each record its place in a
store-wide write sequence when it was last written (``seq``: batches in commit order, a batch's
records in the order they first appear). An item whose assertions were dropped, or rewritten by a
later run saying something else, gets its properties recomputed from the props of the assertions
that remain, in the order their records were last written (``base.merged_properties``), so a
withdrawn value goes.
What the specs say of each information source (its agency...) is a row of ``information_source``.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any, NamedTuple

from nimgraph.collector import collector_paused
from nimgraph.ids import META_FINGERPRINT, META_SECRET, IdKey, migration, store_key
from nimgraph.ontology import Model
from nimgraph.private_files import create_private
from nimgraph.records import Assertion, Batch, Entity, IncidentRead, Link, Subgraph, WriteStats
from nimgraph.store.base import merged_properties, says_otherwise, source_properties, unattributed
from nimgraph.store.embedded_layout import open_layout, record_key
from nimgraph.store.errors import StoreError
from nimgraph.store.expand import expand
from nimgraph.store.incident_read import AREA_DEPTH, IncidentTypes, RawIncidents, assemble, event_row, told

# Sources are kept on the entity (the few agencies that assert it), so that telling a new entity
# from one joined to another source's does not read every assertion of a busy street.
REFRESH_SOURCES = """
UPDATE entity SET sources = (
    SELECT json_group_array(source) FROM (
        SELECT DISTINCT r.source FROM asserted a JOIN record r ON r.n = a.record WHERE a.item = entity.n
    )
) WHERE n = ?
"""
# Each entity of a batch that the store holds: its number, its sources, and whether what the batch
# says of it would change a stored value (json_patch as the update applies it, against the stored
# value, both minified alike). CROSS JOIN keeps this order: one id lookup per entity in the batch.
ENTITIES_BEFORE = """
SELECT e.id, e.n, e.sources, json_patch(e.props, w.value ->> 1) <> json(e.props)
FROM json_each(?) AS w CROSS JOIN entity AS e ON e.id = w.value ->> 0
"""
LINKS_BEFORE = "SELECT k.id, k.n FROM json_each(?) AS w CROSS JOIN link AS k ON k.id = w.value"
UPDATE_ENTITY = """
UPDATE entity SET
    props = json_patch(props, ?1),
    sources = CASE WHEN ?2 = sources THEN sources ELSE (
        SELECT json_group_array(value) FROM (SELECT value FROM json_each(sources) UNION SELECT value FROM json_each(?2))
    ) END
WHERE n = ?3
"""
# The batch's records the store holds: looked up one by one by key; a hash two records share is told
# apart by their text, in Python.
RECORDS_BEFORE = """
SELECT r.n, r.source, r.record_id, r.run FROM json_each(?) AS w CROSS JOIN record AS r ON r.key = w.value
"""
# What the batch's records that an earlier run wrote asserted, and said of each item: a range of the
# (record, item) key per record.
EARLIER_ASSERTIONS = """
SELECT a.record, a.item, a.props FROM json_each(?) AS w CROSS JOIN asserted AS a ON a.record = w.value
"""
# Within one run, rows that share a record id add up (?9: the record was written earlier in this
# run), so what the record says of an item does too; a later run's record says only what it says.
INSERT_ASSERTED = (
    "INSERT INTO asserted (record, item, file, row, date, grade, handling, props) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
UPSERT_ASSERTED = """
INSERT INTO asserted (record, item, file, row, date, grade, handling, props) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
ON CONFLICT(record, item) DO UPDATE SET
    file = excluded.file, row = excluded.row, date = excluded.date, grade = excluded.grade,
    handling = excluded.handling,
    props = CASE WHEN ?9 AND asserted.props IS NOT NULL AND excluded.props IS NOT NULL
                 THEN json_patch(asserted.props, excluded.props) ELSE excluded.props END
"""
# What each record that asserts an item says of it, in the order the records were last written
# (those from before the write sequence first, by source and record id).
SAID_OF_ITEM = """
SELECT a.props FROM asserted a JOIN record r ON r.n = a.record WHERE a.item = ?
ORDER BY r.seq, r.source, r.record_id
"""
# Takes the next ? numbers of the write sequence (one per record of a batch); returns the last.
NEXT_SEQUENCE = """
INSERT INTO meta (name, value) VALUES ('write_sequence', ?1)
ON CONFLICT(name) DO UPDATE SET value = CAST(meta.value AS INTEGER) + ?1
RETURNING CAST(value AS INTEGER)
"""
_ASSERTED = "SELECT 1 FROM asserted WHERE item = ? LIMIT 1"
LAST_ITEM = "SELECT max(coalesce((SELECT max(n) FROM entity), 0), coalesce((SELECT max(n) FROM link), 0))"
# The custodian, once set, is kept: the first to load a source keeps it (see the ontology's nim:custodian).
REGISTER_SOURCE = """
INSERT INTO information_source (name, props) VALUES (?, ?)
ON CONFLICT(name) DO UPDATE SET props = json_patch(
    json_patch(information_source.props, excluded.props),
    json_object('custodian', coalesce(information_source.props ->> 'custodian', excluded.props ->> 'custodian'))
)
"""
# An item's provenance: each record that asserts it, with its row.
PROVENANCE = """
SELECT x.id, r.source, r.record_id, f.name, a.row, a.date, a.grade, a.handling, a.props, r.seq
FROM wanted_items w JOIN {table} x ON x.id = w.id JOIN asserted a ON a.item = x.n
JOIN record r ON r.n = a.record JOIN file f ON f.n = a.file
ORDER BY r.source, r.record_id
"""

# The writer's page cache. With the appending B-trees of layout 2 and later, 64 MiB ingests a 1M-incident street file as
# fast as 256 MiB did (92-96 s both, two runs each), and 256 MiB was a peak 210 MiB higher once full.
CACHE_KIB = 64 * 1024
READER_CACHE_KIB = 32 * 1024  # each reading thread's own page cache, beside the pages mmap shares
READER_MMAP_BYTES = 1 << 30
READER_BUSY_MS = 5000  # a reader that meets a checkpoint's lock waits for it rather than failing
REBUILD_BATCH = 5000  # items recomputed per transaction by rebuild_properties
# An ingest's batches are committed together until they hold this many items or the oldest has
# waited this long. A commit writes every page its transaction dirtied to the write-ahead log, and
# the random id indexes put a batch's inserts on thousands of pages: committed one batch at a time,
# the 1M-incident street file wrote 15.6 GB for a 1 GB store, and COMMIT took 40% of the write.
# Ten batches a commit wrote 5.5 GB (18% faster), twenty-five 3.6 GB (22%), one run each. A failure
# loses the group's uncommitted batches, not the run: ingest is idempotent, and a re-run writes them.
GROUP_ITEMS = 100_000
GROUP_SECONDS = 5.0  # a reader sees an ingest advance at least this often, and another writer waits no longer
# How long a write waits for another connection's (another process's ingest group) before failing.
WRITE_WAIT_SECONDS = 30.0
CHECKPOINT_PAGES = 50_000  # about 200 MB of write-ahead log between checkpoints


_ENCODER = c_make_encoder(None, str, encode_basestring_ascii, None, ": ", ", ", False, False, True)


def encode_json(value: dict[str, Any]) -> str:
    """``json.dumps(value, default=str)``, without making an encoder per call (a write encodes
    several values a row).

    >>> encode_json({"name": "Ann", "date": __import__("datetime").date(2026, 1, 2)}), encode_json({})
    ('{"name": "Ann", "date": "2026-01-02"}', '{}')
    """
    return "".join(_ENCODER(value, 0)) if value else "{}"


def merge_patch(target: Any, patch: Any) -> Any:
    """``patch`` applied to ``target`` as SQLite's json_patch does (RFC 7396).

    >>> merge_patch({"a": 1, "b": {"c": 2}}, {"b": {"d": 3}, "a": None})
    {'b': {'c': 2, 'd': 3}}
    """
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


@dataclass
class _Staged:
    """A batch encoded for the store: each entity, link, record and assertion once, the JSON made.

    Made without a connection (by :class:`BatchEncoder`), so a mapping process can make it and send it
    to the process that writes.
    """

    run: str
    entities: dict[str, tuple[str, str, list[str]]]  # id -> type, properties (JSON), sources
    links: dict[str, tuple[str, str, str, str]]  # id -> type, source, target, properties (JSON)
    records: dict[tuple[str, str], int]  # (source, record id) -> place in the batch, first seen first
    keys: list[int]  # each record's key (embedded_layout.record_key), in the order of ``records``
    # (source, record id, item id) -> file, row, date, grade, handling, what it said (JSON)
    said: dict[tuple[str, str, str], list[Any]]
    files: list[str]
    entity_json: str  # [[id, properties], ...]: the batch's entities, for ENTITIES_BEFORE
    link_ids: str
    record_keys: str

    @classmethod
    def of(cls, batch: Batch) -> _Staged:
        entities: dict[str, tuple[str, dict[str, Any], list[str]]] = {}
        links: dict[str, tuple[str, str, str, dict[str, Any]]] = {}
        records: dict[tuple[str, str], int] = {}
        said: dict[tuple[str, str, str], list[Any]] = {}
        for entity in batch.entities:
            known = entities.get(entity.id)
            provenance = entity.provenance
            sources = [provenance[0].source] if len(provenance) == 1 else sorted({a.source for a in provenance})
            if known is None:  # merge_patch copies: the item's own dict is kept, not changed
                entities[entity.id] = (entity.type, entity.properties, sources)
            else:  # the same id twice: the second adds to the first, as a second write would
                merged = merge_patch(known[1], entity.properties)
                entities[entity.id] = (known[0], merged, sorted({*known[2], *sources}))
        for link in batch.links:
            known_link = links.get(link.id)
            properties = link.properties if known_link is None else merge_patch(known_link[3], link.properties)
            links[link.id] = (link.type, link.source, link.target, properties)
        for item in [*batch.entities, *batch.links]:
            item_id = item.id
            for a in item.provenance:
                source, record_id = a.source, a.record_id
                records.setdefault((source, record_id), len(records))
                key = (source, record_id, item_id)
                props = item.properties if a.properties is None else a.properties
                before = said.get(key)
                if before is not None:  # two rows of one record: what they say adds up
                    props = merge_patch(before[5], props)
                said[key] = [a.file, a.row, a.date, a.grade, a.handling, props]
        # An item asserted by one record shares its dict with the assertion (nimgraph.ingest.columns):
        # encoded once. Every dict looked up existed before the first was encoded: no two share an id().
        texts: dict[int, str] = {}
        for row in said.values():
            if props := row[5]:
                text = texts.get(id(props))
                if text is None:
                    text = texts[id(props)] = "".join(_ENCODER(props, 0))
                row[5] = text
            else:
                row[5] = "{}"
        encoded_entities = {}
        for i, (t, props, sources) in entities.items():
            text = texts.get(id(props)) if props else "{}"
            encoded_entities[i] = (t, text if text is not None else encode_json(props), sources)
        files = sorted({row[0] for row in said.values()})
        return cls(
            run=batch.run,
            entities=encoded_entities,
            links={i: (t, source, target, encode_json(props)) for i, (t, source, target, props) in links.items()},
            records=records,
            said=said,
            files=files,
            entity_json="[" + ",".join(f"[{json.dumps(i)},{e[1]}]" for i, e in encoded_entities.items()) + "]",
            link_ids=json.dumps(list(links)),
            keys=(keys := [record_key(s, r) for s, r in records]),
            record_keys=json.dumps(keys),
        )


@dataclass(frozen=True)
class BatchEncoder:
    """The first half of the embedded store's write: checks a batch's types and encodes it, with no
    connection; ``EmbeddedStore.write_encoded`` is the second."""

    model: Model

    def __call__(self, batch: Batch) -> _Staged:
        for entity in batch.entities:
            self.model.entity_type(entity.type)  # only ontology types reach the store
        for link in batch.links:
            self.model.link_type(link.type)
        return _Staged.of(batch)


class _Earlier(NamedTuple):
    """What a record said of an item in an earlier run, which the run writing it has not said (yet)."""

    props: str | None
    run: str


# A run's (record, item) numbers said by an earlier run and not yet by it: stale if still unsaid at its end
Unsaid = dict[tuple[int, int], _Earlier]


class GroupLostError(StoreError):
    """A group's batches were not committed: another caller's commit of them failed."""


class _GroupedWrites:
    """An ingest's writes to an embedded store, committed ``GROUP_ITEMS`` items at a time (a WriteGroup)."""

    def __init__(self, store: EmbeddedStore) -> None:
        self.store = store
        self.items = 0  # written since the group's transaction opened
        self.opened = 0.0  # when it opened (time.monotonic)
        self.lost: sqlite3.Error | None = None  # why a commit another caller made of this group failed
        self.unsaid: Unsaid = {}

    def write(self, staged: _Staged) -> WriteStats:
        return self.store._write_staged(staged, self)

    def close(self) -> None:
        """The run is over: what its records no longer say goes, and the group commits."""
        if self.unsaid:
            with self.store._in_group(self, 0) as db:
                self.store._drop_unsaid(db, self.unsaid)
        self.abandon()

    def abandon(self) -> None:
        """Commit what was written, and drop no assertion: a run that did not end cannot tell what
        its records no longer say (running it again does; see base.WriteGroup)."""
        self.unsaid.clear()
        with self.store._lock:
            if self.store._open_group is self:
                self.store._commit_group(owner=self)
            self.check()

    def check(self) -> None:
        """Raise if batches this group wrote were lost (see EmbeddedStore._commit_group)."""
        if self.lost is not None:
            raise GroupLostError(
                f"batches written since the last commit were not committed ({self.lost}); "
                "run the ingest again to write them"
            ) from self.lost

    def commit_later(self) -> None:
        timer = threading.Timer(GROUP_SECONDS, self.store._commit_if_idle, args=(self, self.opened))
        timer.daemon = True
        timer.start()


class _ThreadReader:
    """One thread's read-only connection. A thread-local holds it, so it closes when its thread ends
    (a server's worker threads come and go); the store keeps a weak set of them to close the rest."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(  # used by its thread only; closed by the store's close(), from any
            f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
        )
        self.db.execute(f"PRAGMA cache_size=-{READER_CACHE_KIB}")
        self.db.execute(f"PRAGMA mmap_size={READER_MMAP_BYTES}")  # the readers share the file's pages
        self.db.execute("PRAGMA temp_store=MEMORY")
        self.db.execute(f"PRAGMA busy_timeout={READER_BUSY_MS}")

    def __del__(self) -> None:
        self.db.close()


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class EmbeddedStore:
    """A GraphStore in a single SQLite file."""

    def __init__(self, path: str | Path, model: Model, id_key: str = "") -> None:
        self.path = Path(path)
        self.model = model
        self._configured_id_key = id_key
        self.path.parent.mkdir(parents=True, exist_ok=True)
        create_private(self.path)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=WRITE_WAIT_SECONDS)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        # Ingest writes land all over the id indexes: a larger page cache and rarer checkpoints keep
        # a batch's commit from copying the write-ahead log back on every transaction.
        self._db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        self._db.execute("PRAGMA temp_store=MEMORY")
        self._db.execute(f"PRAGMA wal_autocheckpoint={CHECKPOINT_PAGES}")
        self._lock = threading.RLock()
        self._readers = threading.local()
        self._reader_connections: weakref.WeakSet[_ThreadReader] = weakref.WeakSet()
        self._closed = False
        self._open_group: _GroupedWrites | None = None  # the group whose transaction is open, if any
        with self._lock:
            open_layout(self._db, self.path)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._commit_group()  # a group's writes go before any other
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._commit()

    def _commit(self) -> None:
        """COMMIT; one that fails (a deferred constraint, a full disk) is rolled back, so the store is
        not left inside a transaction that refuses every later write."""
        try:
            self._db.execute("COMMIT")
        except sqlite3.Error:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise

    @contextmanager
    def _in_group(self, group: _GroupedWrites, items: int) -> Iterator[sqlite3.Connection]:
        """One write of ``group``, inside the group's open transaction.

        A write that fails rolls back the group's writes since its last commit: a savepoint a write,
        to undo that write alone, cost a fifth of the 1M street-crime file's write time in copies of
        the pages each write touched again.
        """
        with self._lock:
            group.check()
            if self._open_group is not group:
                self._commit_group()
                self._db.execute("BEGIN IMMEDIATE")
                self._open_group, group.opened, group.items = group, time.monotonic(), 0
                group.commit_later()
            try:
                yield self._db
            except BaseException:
                self._open_group = None
                if self._db.in_transaction:  # a failure SQLite rolled back itself leaves none
                    self._db.execute("ROLLBACK")
                raise
            group.items += items
            if group.items >= GROUP_ITEMS or time.monotonic() - group.opened >= GROUP_SECONDS:
                self._commit_group(owner=group)

    def _commit_group(self, owner: _GroupedWrites | None = None) -> None:
        """Commit what an open group holds (called with the lock held).

        If the commit fails, the group's owner hears of it: at once when it is the owner committing,
        else at its next write or close (the caller that happened to commit it has its own work to do).
        """
        group = self._open_group
        if group is None:
            return
        self._open_group = None
        try:
            self._commit()
        except sqlite3.Error as err:
            if group is owner:
                raise
            group.lost = err

    def _commit_if_idle(self, group: _GroupedWrites, opened: float) -> None:
        """A group still open ``GROUP_SECONDS`` after it opened (its ingest waiting on its source, say)
        is committed: readers see it, and the write lock is let go."""
        with self._lock:
            if self._open_group is group and group.opened == opened:  # close() commits, so none is open after it
                self._commit_group()

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        # One transaction a read: the ids it puts in temporary tables are written together, not one
        # commit each (a million incidents' ids: 16 s one by one, 3 s together), and it reads one snapshot.
        # Each thread reads on a connection of its own (WAL lets readers run beside each other and the
        # writer): one long read, a whole-graph export, must not hold up every other caller's.
        db = self._reader()
        db.execute("SAVEPOINT reading")  # nests, should one read ever run inside another
        try:
            yield db
        finally:
            db.execute("RELEASE reading")

    def _reader(self) -> sqlite3.Connection:
        held: _ThreadReader | None = getattr(self._readers, "held", None)
        if held is None:
            if self._closed:
                raise sqlite3.ProgrammingError("the store is closed")
            held = _ThreadReader(self.path)
            self._readers.held = held  # goes, and closes its connection, when the thread ends
            with self._lock:
                self._reader_connections.add(held)
        return held.db

    # ------------------------------------------------------------------ writes
    def prepare(self) -> list[str]:
        return []  # the tables and indexes are created when the file is opened

    def upsert(self, batch: Batch) -> WriteStats:
        return self.stage(batch)()

    def encoder(self) -> BatchEncoder:
        return BatchEncoder(self.model)

    def stage(self, batch: Batch) -> Callable[[], WriteStats]:
        staged = self.encoder()(batch)
        return lambda: self.write_encoded(staged)

    def write_group(self) -> _GroupedWrites:
        return _GroupedWrites(self)

    def write_encoded(self, staged: _Staged) -> WriteStats:
        return self._write_staged(staged, None)

    def _write_staged(self, staged: _Staged, group: _GroupedWrites | None) -> WriteStats:
        stats = WriteStats()
        items = len(staged.entities) + len(staged.links)
        with self._transaction() if group is None else self._in_group(group, items) as db:
            last = db.execute(NEXT_SEQUENCE, (len(staged.records),)).fetchone()[0]
            first = last - len(staged.records) + 1
            files = self._file_numbers(db, staged.files)
            # records: those held keep their number; the others are numbered next, in batch order
            held_records = {
                (s, r): (n, was)
                for n, s, r, was in db.execute(RECORDS_BEFORE, (staged.record_keys,))
                if (s, r) in staged.records
            }
            next_record = first_new_record = (db.execute("SELECT max(n) FROM record").fetchone()[0] or 0) + 1
            record_n: dict[tuple[str, str], int] = {}
            fresh_records = []
            for (record, place), key in zip(staged.records.items(), staged.keys, strict=True):
                if record in held_records:
                    record_n[record] = held_records[record][0]
                else:
                    record_n[record] = next_record
                    fresh_records.append((next_record, key, *record, staged.run, first + place))
                    next_record += 1
            # items: those held keep their number; the others are numbered next
            before: dict[str, set[str]] = {}
            differs: set[str] = set()
            item_n: dict[str, int] = {}
            for entity_id, n, known, changes in db.execute(ENTITIES_BEFORE, (staged.entity_json,)):
                item_n[entity_id] = n
                before[entity_id] = set(json.loads(known))
                if changes:
                    differs.add(entity_id)
            held_links = dict(db.execute(LINKS_BEFORE, (staged.link_ids,)).fetchall())
            item_n.update(held_links)
            next_item = db.execute(LAST_ITEM).fetchone()[0] + 1
            for item_id in [*staged.entities, *staged.links]:
                if item_id not in item_n:
                    item_n[item_id] = next_item
                    next_item += 1
            # A record an earlier run wrote asserts only what this run says (a corrected file): what
            # it now says otherwise is recomputed; what it has not said is stale once the run ends,
            # for its later rows may say it in a later batch (``unsaid``).
            rewritten = {n for n, was in held_records.values() if was != staged.run}
            unsaid: Unsaid = group.unsaid if group is not None else {}
            now: dict[tuple[int, int], str] = {}
            corrected: set[int] = set()
            said_again: set[tuple[int, int]] = set()  # said by an earlier run, not yet by this one, until now
            if rewritten or unsaid:
                for (s, r, i), row in staged.said.items():
                    pair = (n := record_n[s, r], item_n[i])
                    earlier = unsaid.pop(pair, None)  # said now, whatever another run wrote meanwhile
                    if n in rewritten:
                        now[pair] = row[5]
                    elif earlier is not None:
                        said_again.add(pair)
                        if says_otherwise(earlier.props, row[5]):
                            corrected.add(pair[1])
            for record, item, props in db.execute(EARLIER_ASSERTIONS, (json.dumps(sorted(rewritten)),)):
                said_now = now.get((record, item))
                if said_now is None:
                    unsaid[record, item] = _Earlier(props, staged.run)
                elif says_otherwise(props, said_now):
                    corrected.add(item)
            stale = [] if group is not None else sorted(unsaid)  # a write of its own is its whole run
            touched = corrected | {item for _, item in stale}
            batch_entities = {item_n[i]: i for i in staged.entities}
            held = self._props(db, touched & batch_entities.keys())  # what the batch's touched entities held
            # an entity re-asserted as it is, by sources it already has, is not rewritten
            db.executemany(
                "INSERT INTO entity (n, id, type, props, sources) VALUES (?, ?, ?, ?, ?)",
                [
                    (item_n[i], i, t, props, json.dumps(sources))
                    for i, (t, props, sources) in staged.entities.items()
                    if i not in before
                ],
            )
            db.executemany(
                UPDATE_ENTITY,
                [
                    (props, json.dumps(sources), item_n[i])
                    for i, (_, props, sources) in staged.entities.items()
                    if i in before and (i in differs or not before[i].issuperset(sources))
                ],
            )
            db.executemany(
                "INSERT INTO link (n, id, type, source, target, props) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (item_n[i], i, t, source, target, props)
                    for i, (t, source, target, props) in staged.links.items()
                    if i not in held_links
                ],
            )
            db.executemany(
                "UPDATE link SET props = json_patch(props, ?) WHERE n = ?",
                [(k[3], item_n[i]) for i, k in staged.links.items() if i in held_links],
            )
            db.executemany(
                "INSERT INTO record (n, key, source, record_id, run, seq) VALUES (?, ?, ?, ?, ?, ?)", fresh_records
            )
            db.executemany(
                "UPDATE record SET run = ?, seq = ? WHERE n = ?",
                [(staged.run, first + staged.records[r], n) for r, (n, _) in held_records.items()],
            )
            adds_up = {n for n, was in held_records.values() if was == staged.run}
            rows = [
                (record_n[s, r], item_n[i], files[f], row, date, grade, handling, props)
                for (s, r, i), (f, row, date, grade, handling, props) in staged.said.items()
            ]
            # a record new to the store has nothing to merge with: plain inserts (the batch holds each pair once)
            db.executemany(INSERT_ASSERTED, [r for r in rows if r[0] >= first_new_record])
            db.executemany(
                UPSERT_ASSERTED,
                [(*r, r[0] in adds_up and r[:2] not in said_again) for r in rows if r[0] < first_new_record],
            )
            if stale:
                db.executemany("DELETE FROM asserted WHERE record = ? AND item = ?", stale)
                self._prune(db, {item for _, item in stale})
            self._recompute(db, touched)
            after = self._props(db, set(held))  # recomputing changes some: a correction that empties a value
            changed = differs | {batch_entities[n] for n, props in held.items() if after.get(n) != props}
            for entity_id, (_, _, sources) in staged.entities.items():
                stats.count(entity_id, before.get(entity_id), set(sources), entity_id in changed)
        return stats

    def _drop_unsaid(self, db: sqlite3.Connection, unsaid: Unsaid) -> None:
        """At a run's end: drop what its records said before and not this run, prune what no record
        asserts any more, and recompute what stands. A record another run wrote since is that run's."""
        stale = [
            (record, item)
            for (record, item), earlier in sorted(unsaid.items())
            if db.execute("SELECT 1 FROM record WHERE n = ? AND run = ?", (record, earlier.run)).fetchone()
        ]
        db.executemany("DELETE FROM asserted WHERE record = ? AND item = ?", stale)
        touched = {item for _, item in stale}
        self._prune(db, touched)
        self._recompute(db, touched)

    @staticmethod
    def _file_numbers(db: sqlite3.Connection, names: list[str]) -> dict[str, int]:
        db.executemany("INSERT OR IGNORE INTO file (name) VALUES (?)", [(name,) for name in names])
        return dict(
            db.execute("SELECT name, n FROM file WHERE name IN (SELECT value FROM json_each(?))", (json.dumps(names),))
        )

    @staticmethod
    def _props(db: sqlite3.Connection, numbers: set[int]) -> dict[int, dict]:
        """The properties these entities hold now, by item number."""
        held = {}
        for n in sorted(numbers):
            row = db.execute("SELECT props FROM entity WHERE n = ?", (n,)).fetchone()
            if row is not None:
                held[n] = json.loads(row[0])
        return held

    @staticmethod
    def _recompute(db: sqlite3.Connection, items: Iterable[int]) -> Counter[str]:
        """Give each of these items (by number) that still stands the properties its remaining
        records say, merged in the order they were written, in place of what it held; how many
        ``entities`` and ``links`` changed.

        An item one of whose records was written before stores kept what records say keeps what it
        has: there is nothing to recompute it from. Those holding a value no other record gives are
        counted as ``unknown``.
        """
        counts: Counter[str] = Counter()
        for n in sorted(set(items)):
            said = [r[0] for r in db.execute(SAID_OF_ITEM, (n,))]
            if not said:  # gone with its last record
                continue
            merged = merged_properties(said)
            for table, kind in (("entity", "entities"), ("link", "links")):
                row = db.execute(f"SELECT props FROM {table} WHERE n = ?", (n,)).fetchone()
                if row is None:
                    continue
                held = json.loads(row[0])
                if merged is None:
                    counts["unknown"] += unattributed(held, said)
                elif merged != held:
                    db.execute(f"UPDATE {table} SET props = ? WHERE n = ?", (json.dumps(merged), n))
                    counts[kind] += 1
        return counts

    def _prune(self, db: sqlite3.Connection, items: set[int]) -> tuple[int, int]:
        """Remove those of ``items`` (by number) that no record asserts any more; an entity takes its links along."""
        unasserted = [n for n in sorted(items) if db.execute(_ASSERTED, (n,)).fetchone() is None]
        entities = {
            n: row[0]
            for n in unasserted
            if (row := db.execute("SELECT id FROM entity WHERE n = ?", (n,)).fetchone()) is not None
        }
        links = set(unasserted) - set(entities)
        for entity_id in entities.values():
            links |= {
                r[0] for r in db.execute("SELECT n FROM link WHERE source = ? OR target = ?", (entity_id, entity_id))
            }
        db.executemany("DELETE FROM asserted WHERE item = ?", [(n,) for n in links])
        removed_links = db.executemany("DELETE FROM link WHERE n = ?", [(n,) for n in sorted(links)]).rowcount
        removed_entities = db.executemany("DELETE FROM entity WHERE n = ?", [(n,) for n in entities]).rowcount
        db.executemany(REFRESH_SOURCES, [(n,) for n in sorted(items - set(entities))])
        return removed_entities, removed_links

    def register_source(self, name: str, properties: dict[str, str]) -> None:
        said = json.dumps(source_properties(self.model, name, properties))
        with self._transaction() as db:
            db.execute(REGISTER_SOURCE, (name, said))

    def retract(self, source: str, record_ids: Iterable[str] | None = None) -> dict[str, int]:
        with self._transaction() as db:
            if record_ids is None:
                records = [r[0] for r in db.execute("SELECT n FROM record WHERE source = ?", (source,))]
            else:
                named = set(record_ids)
                keys = json.dumps(sorted({record_key(source, r) for r in named}))
                records = [  # the text compared here: SQLite's JSON functions stop a string at a NUL
                    n
                    for n, record_id in db.execute(
                        "SELECT r.n, r.record_id FROM json_each(?) AS w CROSS JOIN record AS r "
                        "ON r.key = w.value AND r.source = ?",
                        (keys, source),
                    )
                    if record_id in named
                ]
            items: set[int] = set()
            record_count = 0
            for n in records:
                found = {r[0] for r in db.execute("SELECT item FROM asserted WHERE record = ?", (n,))}
                record_count += bool(found)  # a record all of whose items went with others asserts nothing now
                items |= found
            db.executemany("DELETE FROM asserted WHERE record = ?", [(n,) for n in records])
            db.executemany("DELETE FROM record WHERE n = ?", [(n,) for n in records])
            entities, links = self._prune(db, items)
            self._recompute(db, items)  # what stays says only what its remaining records say
        return {"records": record_count, "entities": entities, "links": links}

    def rebuild_properties(self) -> dict[str, int]:
        """Recompute every item's properties from what its records say (see base.GraphStore), a
        transaction per few thousand items."""
        rebuilt: Counter[str] = Counter({"entities": 0, "links": 0, "unknown": 0})
        for table in ("entity", "link"):
            after = 0
            while True:
                with self._transaction() as db:
                    numbers = [
                        r[0]
                        for r in db.execute(
                            f"SELECT n FROM {table} WHERE n > ? ORDER BY n LIMIT ?", (after, REBUILD_BATCH)
                        )
                    ]
                    rebuilt.update(self._recompute(db, numbers))
                if len(numbers) < REBUILD_BATCH:
                    break
                after = numbers[-1]
        return dict(rebuilt)

    # ------------------------------------------------------------------ ids
    def id_key(self) -> IdKey:
        """The key behind this store's entity ids (see nimgraph.ids); made with a new store."""
        with self._transaction() as db:
            meta = dict(db.execute("SELECT name, value FROM meta").fetchall())
            has_entities = db.execute("SELECT 1 FROM entity LIMIT 1").fetchone() is not None
            return store_key(self._configured_id_key, meta, has_entities, lambda rows: self._write_meta(db, rows))

    def migrate_ids(self) -> int:
        """Rewrite ids made before ids were keyed, in one transaction; the number of entities rewritten."""
        with self._transaction() as db:
            if db.execute("SELECT 1 FROM meta WHERE name = ?", (META_FINGERPRINT,)).fetchone():
                return 0
            key = IdKey(self._configured_id_key) if self._configured_id_key else IdKey.generate()
            entities, links, turned = migration(
                key,
                [r[0] for r in db.execute("SELECT id FROM entity")],
                db.execute("SELECT id, type, source, target FROM link").fetchall(),
                self.model.oriented,
            )
            db.execute("CREATE TEMP TABLE id_map (old TEXT PRIMARY KEY, new TEXT NOT NULL)")
            try:
                db.executemany("INSERT INTO id_map VALUES (?, ?)", [*entities.items(), *links.items()])
                for table, column in (("entity", "id"), ("link", "id"), ("link", "source"), ("link", "target")):
                    db.execute(
                        f"UPDATE {table} SET {column} = (SELECT new FROM id_map WHERE old = {column})"
                        f" WHERE {column} IN (SELECT old FROM id_map)"
                    )
            finally:
                db.execute("DROP TABLE temp.id_map")
            # a symmetric link's ends, in the order ingest now gives them with the keyed ids
            db.executemany("UPDATE link SET source = target, target = source WHERE id = ?", [(i,) for i in turned])
            fresh = {META_FINGERPRINT: key.fingerprint}
            if not self._configured_id_key:
                fresh[META_SECRET] = key.secret
            self._write_meta(db, fresh)
        return len(entities)

    @staticmethod
    def _write_meta(db: sqlite3.Connection, rows: dict[str, str]) -> None:
        db.executemany("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", rows.items())

    # ------------------------------------------------------------------ reads
    def get(self, entity_id: str) -> Entity | None:
        with self._reading() as db:
            entities = self._entities(db, [entity_id])
        return entities.get(entity_id)

    def find(
        self, type_name: str | None = None, text: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[Entity]:
        clauses, params = [], []
        if type_name:
            types = sorted(self.model.descendants(type_name))
            clauses.append(f"type IN ({','.join('?' * len(types))})")
            params.extend(types)
        if text:
            # Also what any one record said, though a later record overwrote it: a reader who may see
            # only that record is shown its value, and must find it by it (the view checks what it shows).
            clauses.append(
                "(id = ? OR EXISTS (SELECT 1 FROM json_each(entity.props) "
                "WHERE lower(json_each.value) LIKE ? ESCAPE '\\') "
                "OR EXISTS (SELECT 1 FROM asserted a "
                "WHERE a.item = entity.n AND lower(a.props) LIKE ? ESCAPE '\\'))"
            )
            params.extend([text, _like(text), _like(text)])
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._reading() as db:
            ids = [
                r[0]
                for r in db.execute(
                    f"SELECT id FROM entity {where} ORDER BY id LIMIT ? OFFSET ?", [*params, limit, offset]
                )
            ]
            found = self._entities(db, ids)
        return [found[i] for i in ids]

    def neighbourhood(
        self,
        seeds: Iterable[str],
        hops: int,
        link_types: Iterable[str] | None = None,
        max_entities: int = 5000,
        entity_provenance: bool = True,
        handling: Iterable[str] | None = None,
    ) -> Subgraph:
        types = sorted(set(link_types)) if link_types is not None else None
        type_filter = f" AND type IN ({','.join('?' * len(types))})" if types is not None else ""
        parameters: list[str] = types or []
        if handling is not None:  # only what a record of these codes asserts, so the cap counts nothing else
            codes = sorted(set(handling))
            among = ",".join("?" * len(codes))
            type_filter += "".join(
                f" AND EXISTS (SELECT 1 FROM asserted a WHERE a.item = {item} AND a.handling IN ({among}))"
                for item in ("link.n", _entity_number("link.source"), _entity_number("link.target"))
            )
            parameters = [*parameters, *codes, *codes, *codes]
        with self._reading() as db:
            seen, links, truncated = expand(
                seeds,
                hops,
                max_entities,
                lambda ids, limit: [
                    self._link_from_row(row) for row in self._links_touching(db, ids, type_filter, parameters, limit)
                ],
            )
            entities = self._entities(db, seen, entity_provenance)
            self._attach_provenance(db, links, "link")
        return Subgraph(entities=entities, links=links, truncated=truncated)

    def subgraph(self, link_types: Iterable[str]) -> Subgraph:
        types = sorted(set(link_types))
        with self._reading() as db:
            rows = db.execute(
                f"SELECT id, type, source, target, props FROM link WHERE type IN ({','.join('?' * len(types))})",
                types,
            ).fetchall()
            links = {r[0]: self._link_from_row(r) for r in rows}
            ends = {end for k in links.values() for end in (k.source, k.target)}
            entities = self._entities(db, ends)
            self._attach_provenance(db, links, "link")
        return Subgraph(entities=entities, links=links)

    @collector_paused()
    def incidents(self, since: str, until: str, handling: Iterable[str] | None = None) -> IncidentRead:
        types = IncidentTypes.of(self.model)
        codes = sorted(set(handling)) if handling is not None else None
        raw = RawIncidents()
        with self._reading() as db:
            read_events = self._incident_rows(db, raw, types, since, until, codes)
            read = assemble(raw, self.model, since, until)
            seen = f" AND a.handling IN ({','.join('?' * len(codes))})" if codes is not None else ""
            if len(read.incidents) == len(raw.events):  # the rows the records are counted for
                events, parameters = read_events
            else:
                self._load_ids(db, "assessed_events", (i.id for i in read.incidents))
                events = "SELECT e.n AS n FROM assessed_events x JOIN entity e ON e.id = x.id"
                parameters = []
            rows = db.execute(
                f"SELECT r.source, a.grade, a.handling, count(*) FROM ({events}) AS event "
                f"JOIN asserted a ON a.item = event.n{seen} JOIN record r ON r.n = a.record "
                "GROUP BY r.source, a.grade, a.handling",
                [*parameters, *(codes or [])],
            )
            read.records = {(source, grade, code): n for source, grade, code, n in rows}
        return read

    def _incident_rows(
        self,
        db: sqlite3.Connection,
        raw: RawIncidents,
        types: IncidentTypes,
        since: str,
        until: str,
        codes: list[str] | None,
    ) -> tuple[str, list[str]]:
        """Fill ``raw``; return the SQL (and its parameters) that selects the numbers of the events read.

        Events are found by their type and date and joined to what hangs off them, without copying
        their ids into a temporary table first: a million ids cost more to write than to find again.
        """
        among = lambda names: ",".join("?" * len(names))  # noqa: E731
        seen = f"a.handling IN ({among(codes)})" if codes is not None else "1"
        hidden = f"a.handling NOT IN ({among(codes)})" if codes is not None else "0"
        shown: list[str] = codes or []

        def visible(item: str) -> str:  # ``item``: SQL giving an item's number
            if codes is None:
                return ""
            return f" AND EXISTS (SELECT 1 FROM asserted a WHERE a.item = {item} AND {seen})"

        def hides(item: str) -> str:
            return f"EXISTS (SELECT 1 FROM asserted a WHERE a.item = {item} AND {hidden})"

        def text(key: str) -> str:  # a property that is text and not empty, as incident_read.stated_text takes it
            return (
                f"CASE json_type(entity.props, '$.{key}') WHEN 'text' "
                f"THEN nullif(json_extract(entity.props, '$.{key}'), '') END"
            )

        # The day as assemble() reads it (incident_read.stated_day, then window_day), so that the window
        # decided here for an event only visible records assert is the one assemble() applies to the others.
        dated = f"coalesce({text('date')}, substr({text('dateTime')}, 1, 10))"
        day = f"substr({dated} || '-01', 1, 10)"
        # A stored value a hidden record gave must not decide whether a filtered caller counts the
        # event, so events that hidden records also assert are read whatever their stored date.
        in_window = f"({day} BETWEEN ? AND ?" + (f" OR {hides('entity.n')})" if codes is not None else ")")
        where = f"entity.type IN ({among(types.events)}) AND {in_window}{visible('entity.n')}"
        where_parameters = [*types.events, since, until, *shown, *shown]
        # rows in the shape assemble() takes, so an unfiltered read uses them as they come
        raw.events = db.execute(
            f"SELECT entity.id, entity.type, {dated}, json_extract(entity.props, '$.datePrecision'), "
            f"coalesce({text('category')}, {text('crimeType')}), "
            "json_extract(entity.props, '$.latitude'), json_extract(entity.props, '$.longitude'), "
            f"(SELECT min(link.target) FROM link WHERE link.source = entity.id AND link.type IN ({among(types.placed)})"
            f"{visible('link.n')}{visible(_entity_number('link.target'))}) "
            f"FROM entity WHERE {where}",
            [*types.placed, *shown, *shown, *where_parameters],
        ).fetchall()
        if codes is not None:  # an event hidden records also assert is what its visible records said
            hidden_ones = [
                r[0]
                for r in db.execute(
                    f"SELECT entity.id FROM entity WHERE {where} AND {hides('entity.n')}", [*where_parameters, *shown]
                )
            ]
            retold = self._told(db, hidden_ones, shown)
            positions = {row[0]: n for n, row in enumerate(raw.events)}
            for event_id in hidden_ones:
                n = positions[event_id]
                type_name, location = raw.events[n][1], raw.events[n][7]
                raw.events[n] = event_row(event_id, type_name, retold.get(event_id, {}), location)
        link_shown = f"{visible('link.n')}{visible(_entity_number('link.target'))}"
        frontier = {row[7] for row in raw.events if row[7] is not None}
        named = set(frontier)
        for _ in range(AREA_DEPTH):
            self._load_ids(db, "assessed_places", frontier)
            step = db.execute(
                f"SELECT link.source, link.target FROM link WHERE link.type IN ({among(types.within)}) "
                f"AND link.source IN (SELECT id FROM assessed_places){link_shown}",
                [*types.within, *shown, *shown],
            ).fetchall()
            raw.within.extend(step)
            frontier = {target for _, target in step} - named
            named |= frontier
            if not frontier:
                break
        self._load_ids(db, "assessed_places", named)
        places = db.execute(
            f"SELECT id, type, props, {hides('entity.n')} FROM entity WHERE id IN (SELECT id FROM assessed_places)",
            shown,
        ).fetchall()
        retold = self._told(db, [r[0] for r in places if r[3]], shown) if codes is not None else {}
        for place_id, type_name, props, has_hidden in places:
            raw.places[place_id] = (type_name, retold.get(place_id, {}) if has_hidden else json.loads(props))
        raw.involvements = db.execute(
            f"SELECT link.source, link.target, link.type FROM entity JOIN link ON link.target = entity.id "
            f"AND link.type IN ({among(types.roles)}) WHERE {where}"
            f"{visible('link.n')}{visible(_entity_number('link.source'))}",
            [*types.roles, *where_parameters, *shown, *shown],
        ).fetchall()
        reports = db.execute(
            f"SELECT id, props, {hides('entity.n')}, (SELECT group_concat(a.grade, char(31)) FROM asserted a "
            f"WHERE a.item = entity.n AND {seen}) FROM entity WHERE type IN ({among(types.reports)})"
            f"{visible('entity.n')}",
            [*shown, *shown, *types.reports, *shown],
        ).fetchall()
        retold = self._told(db, [r[0] for r in reports if r[2]], shown) if codes is not None else {}
        for report_id, props, has_hidden, grades in reports:
            properties = retold.get(report_id, {}) if has_hidden else json.loads(props)
            raw.reports.append((report_id, properties, grades.split("\x1f") if grades else []))
        return f"SELECT entity.n AS n FROM entity WHERE {where}", where_parameters

    def _told(self, db: sqlite3.Connection, ids: list[str], codes: list[str]) -> dict[str, dict]:
        """What the records of these codes say of each item, merged in the order they were written."""
        if not ids:
            return {}
        self._load_ids(db, "told_items", ids)
        said: dict[str, list[str | None]] = {}
        rows = db.execute(
            "SELECT e.id, a.props FROM told_items t JOIN entity e ON e.id = t.id JOIN asserted a ON a.item = e.n "
            f"JOIN record r ON r.n = a.record WHERE a.handling IN ({','.join('?' * len(codes))}) "
            "ORDER BY e.id, r.seq, r.source, r.record_id",
            codes,
        )
        for item_id, props in rows:
            said.setdefault(item_id, []).append(props)
        return {item_id: told(texts) for item_id, texts in said.items()}

    def sources(self) -> dict[str, dict[str, str]]:
        with self._reading() as db:
            rows = db.execute("SELECT name, props FROM information_source ORDER BY name").fetchall()
        return {name: json.loads(props) for name, props in rows}

    def counts(self) -> dict[str, dict[str, int]]:
        with self._reading() as db:
            entities = dict(db.execute("SELECT type, count(*) FROM entity GROUP BY type ORDER BY type"))
            links = dict(db.execute("SELECT type, count(*) FROM link GROUP BY type ORDER BY type"))
        return {"entities": entities, "links": links}

    def close(self) -> None:
        with self._lock:
            self._commit_group()  # what an ingest wrote is kept, as it would be had each batch committed
            self._closed = True
            for reader in list(self._reader_connections):
                reader.db.close()
            self._reader_connections.clear()
            self._db.close()

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _load_ids(db: sqlite3.Connection, table: str, ids: Iterable[str]) -> None:
        db.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table} (id TEXT PRIMARY KEY)")
        db.execute(f"DELETE FROM {table}")
        db.executemany(f"INSERT OR IGNORE INTO {table} (id) VALUES (?)", ((i,) for i in ids))

    def _links_touching(
        self, db: sqlite3.Connection, ids: set[str], type_filter: str, parameters: list[str], limit: int
    ) -> list[tuple]:
        self._load_ids(db, "wanted_ends", ids)
        sql = (
            "SELECT id, type, source, target, props FROM link "
            f"WHERE source IN (SELECT id FROM wanted_ends){type_filter} "
            "UNION SELECT id, type, source, target, props FROM link "
            f"WHERE target IN (SELECT id FROM wanted_ends){type_filter} ORDER BY 1 LIMIT ?"
        )
        return db.execute(sql, [*parameters, *parameters, limit]).fetchall()

    @staticmethod
    def _link_from_row(row: tuple) -> Link:
        return Link(id=row[0], type=row[1], source=row[2], target=row[3], properties=json.loads(row[4]))

    def _entities(self, db: sqlite3.Connection, ids: Iterable[str], provenance: bool = True) -> dict[str, Entity]:
        self._load_ids(db, "wanted_entities", ids)
        rows = db.execute("SELECT id, type, props FROM entity WHERE id IN (SELECT id FROM wanted_entities)").fetchall()
        entities = {r[0]: Entity(id=r[0], type=r[1], properties=json.loads(r[2])) for r in rows}
        if provenance:
            self._attach_provenance(db, entities, "entity")
        return entities

    def _attach_provenance(
        self, db: sqlite3.Connection, items: dict[str, Entity] | dict[str, Link], table: str
    ) -> None:
        self._load_ids(db, "wanted_items", items)
        for item_id, *fields, said, seq in db.execute(PROVENANCE.format(table=table)):
            items[item_id].provenance.append(
                Assertion(*fields, properties=json.loads(said) if said else None, written=seq)
            )


def _entity_number(id_column: str) -> str:
    """SQL giving the number of the entity whose id ``id_column`` holds (a link's end)."""
    return f"(SELECT e.n FROM entity e WHERE e.id = {id_column})"
