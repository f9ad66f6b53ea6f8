"""The audit log (DPA 2018 s62): one row per request for anything beyond public reference data.

Each row says who (the key's name and role; ``(no key)`` or ``(unrecognised key)`` for a refusal,
never the key presented), when, what (the request, and the personal-data items or ingest job it
released or made), why (the stated purpose, as sent) and how it ended (the status, and how many
items were withheld). Nothing in the API writes to it except ``append``.

Three layers keep it honest:

- Triggers refuse UPDATE and DELETE, so nothing that goes through SQLite changes it by accident.
- Each row carries an HMAC-SHA256 of itself, its sequence number and the row before, under the
  audit key: someone who edits the file (after dropping the triggers) cannot recompute the chain.
- Each append also adds a checkpoint line (the log's id, the new length and head hash) to the
  anchor file. A chain alone cannot show that rows were cut from its end, or that someone holding
  the key re-chained it; the anchor can, as long as the API host cannot rewrite it. So put the
  anchor where the host may only append: another volume, a WORM mount, or a file a log shipper
  forwards as it grows. The log's id lets one anchor serve several logs.

A log made before the key existed keeps its plain SHA-256 chain: ``audit_meta.keyed_from`` holds
the first keyed sequence number, and ``verify`` says the entries before it are unkeyed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nimgraph.private_files import create_private

if TYPE_CHECKING:
    from nimgraph.config import Settings

_REFUSE = "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
_SCHEMA = f"""
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    who TEXT NOT NULL,
    role TEXT NOT NULL,
    purpose TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    status INTEGER NOT NULL,
    items TEXT NOT NULL,
    withheld TEXT NOT NULL,
    prev TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_who ON audit (who, at);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit {_REFUSE};
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit {_REFUSE};
CREATE TABLE IF NOT EXISTS audit_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS audit_meta_no_update BEFORE UPDATE ON audit_meta {_REFUSE};
CREATE TRIGGER IF NOT EXISTS audit_meta_no_delete BEFORE DELETE ON audit_meta {_REFUSE};
-- A log older than the key keeps its rows as they are: the keyed chain starts after them.
INSERT OR IGNORE INTO audit_meta VALUES ('keyed_from', (SELECT COALESCE(MAX(seq), 0) + 1 FROM audit));
INSERT OR IGNORE INTO audit_meta VALUES ('log_id', lower(hex(randomblob(16))));
COMMIT;
"""
_COLUMNS = "seq, at, who, role, purpose, method, path, status, items, withheld, prev, hash"
GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    who: str
    role: str
    purpose: str
    method: str
    path: str
    status: int
    items: list[str] = field(default_factory=list)  # real ids of the personal-data items released
    withheld: dict[str, int] = field(default_factory=dict)
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="milliseconds"))


@dataclass(frozen=True)
class Verification:
    """What ``verify`` found: intact only when the keyed chain holds and reaches every checkpoint."""

    entries: int
    first_broken: int | None = None  # the first entry whose chain does not hold
    anchored: int = 0  # the longest length the anchor vouches for
    unkeyed_before: int | None = None  # entries before this one predate the key: only SHA-256 chains them
    problems: tuple[str, ...] = ()

    @property
    def intact(self) -> bool:
        return not self.problems

    def describe(self) -> list[str]:
        """One line per finding, for an admin."""
        lines = list(self.problems) or [f"intact: {self.entries} entries, {self.anchored} anchored"]
        if self.unkeyed_before is not None:
            lines.append(
                f"entries before seq {self.unkeyed_before} were written under the old unkeyed chain (plain "
                "SHA-256): anyone with the file could have rewritten and re-chained them"
            )
        return lines


def _body(entry: AuditEntry) -> str:
    return json.dumps(asdict(entry), sort_keys=True, separators=(",", ":"))


def _unkeyed_link(prev: str, entry: AuditEntry) -> str:
    """The chain before the audit key existed: anyone holding the file can recompute it."""
    return hashlib.sha256((prev + _body(entry)).encode()).hexdigest()


def _keyed_link(key: bytes, seq: int, prev: str, entry: AuditEntry) -> str:
    # The sequence number is inside the MAC, so rows cannot be renumbered or reordered either.
    return hmac.new(key, f"{seq}:{prev}{_body(entry)}".encode(), hashlib.sha256).hexdigest()


def _head(db: sqlite3.Connection, seq: int) -> str | None:
    row = db.execute("SELECT hash FROM audit WHERE seq = ?", (seq,)).fetchone()
    return row[0] if row else None


class Anchor:
    """The checkpoint file: one line per append, ``<log id> <seq> <head hash> <at>``, only ever appended."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, log_id: str, seq: int, head: str, at: str) -> None:
        # Opened for each line, so a log shipper may rotate the file; one unbuffered O_APPEND write
        # lands whole at the end even with several processes appending.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, f"{log_id} {seq} {head} {at}\n".encode())
        finally:
            os.close(fd)

    def size(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0

    def checkpoints(self, log_id: str, size: int) -> Iterator[tuple[int, str]]:
        """(seq, head) of this log's checkpoints in the file's first ``size`` bytes.

        Lines of other logs, and a torn last line, are skipped.
        """
        if not size:
            return
        with self.path.open("rb") as lines:
            for raw in lines:
                if (size := size - len(raw)) < 0:
                    return
                parts = raw.decode("ascii", errors="replace").split()
                if len(parts) >= 3 and parts[0] == log_id and parts[1].isdigit():
                    yield int(parts[1]), parts[2]


class AuditLog:
    def __init__(self, path: Path | str, key: str, anchor: Path | str) -> None:
        if not key:
            raise ValueError("the audit log needs a key: set NIMGRAPH_AUDIT_KEY")
        self._key = key.encode()
        self.anchor = Anchor(anchor)
        self._path = Path(path)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        create_private(path)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.executescript(_SCHEMA)
        meta = dict(self._db.execute("SELECT name, value FROM audit_meta").fetchall())
        self.log_id = meta["log_id"]
        self._keyed_from = int(meta["keyed_from"])
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> AuditLog:
        return cls(settings.access_db, settings.secret("audit_key"), settings.audit_anchor)

    def append(self, entry: AuditEntry) -> int:
        """Write one entry, chained to the last, and checkpoint it in the anchor; returns its sequence number."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")  # the chain needs the true last row, across processes too
            try:
                last = self._db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
                seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
                head = _keyed_link(self._key, seq, prev, entry)
                self._db.execute(
                    f"INSERT INTO audit ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        seq,
                        entry.at,
                        entry.who,
                        entry.role,
                        entry.purpose,
                        entry.method,
                        entry.path,
                        entry.status,
                        json.dumps(entry.items),
                        json.dumps(entry.withheld, sort_keys=True),
                        prev,
                        head,
                    ),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            # After the commit: a crash in between leaves the anchor one entry behind, which verify
            # allows; the other way round it would accuse an intact log of being cut.
            self.anchor.write(self.log_id, seq, head, entry.at)
        return seq

    def query(
        self,
        *,
        who: str | None = None,
        item: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Entries, oldest first, by holder, by an item they released, and by time (ISO 8601)."""
        clauses, params = [], []
        if who is not None:
            clauses.append("who = ?")
            params.append(who)
        if item is not None:
            clauses.append("EXISTS (SELECT 1 FROM json_each(audit.items) WHERE json_each.value = ?)")
            params.append(item)
        if since is not None:
            clauses.append("at >= ?")
            params.append(since)
        if until is not None:
            clauses.append("at < ?")
            params.append(until)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._lock:  # one connection: never read inside another thread's open append
            rows = self._db.execute(
                f"SELECT seq, at, who, role, purpose, method, path, status, items, withheld, hash FROM audit {where}"
                " ORDER BY seq LIMIT ? OFFSET ?",
                [*params, limit, offset],
            ).fetchall()
        names = ("seq", "at", "who", "role", "purpose", "method", "path", "status", "items", "withheld", "hash")
        entries = [dict(zip(names, row, strict=True)) for row in rows]
        for entry in entries:
            entry["items"] = json.loads(entry["items"])
            entry["withheld"] = json.loads(entry["withheld"])
        return entries

    def verify(self) -> Verification:
        """Walk the whole chain under the key, then hold the log against every checkpoint in the anchor."""
        # The anchor is measured first and the log read after, in one snapshot: an append racing
        # this check can only make the log longer than the checkpoints read, never shorter.
        anchor_size = self.anchor.size()
        db = sqlite3.connect(self._path, isolation_level=None)
        try:
            db.execute("BEGIN")
            entries, broken = self._walk_chain(db)
            anchored, anchor_problems = self._hold_to_anchor(db, entries, anchor_size)
            db.execute("COMMIT")
        finally:
            db.close()
        problems = []
        if broken is not None:
            problems.append(
                f"entry {broken} does not hold to the chain: it or the one before was changed, removed or "
                "re-chained without the audit key"
            )
        unkeyed = self._keyed_from if self._keyed_from > 1 else None
        return Verification(entries, broken, anchored, unkeyed, (*problems, *anchor_problems))

    def _walk_chain(self, db: sqlite3.Connection) -> tuple[int, int | None]:
        """The number of entries, and the first whose link does not hold (or is out of sequence)."""
        entries = int(db.execute("SELECT COUNT(*) FROM audit").fetchone()[0])
        prev, expected_seq = GENESIS, 1
        for seq, at, who, role, purpose, method, path, status, items, withheld, stored_prev, stored in db.execute(
            f"SELECT {_COLUMNS} FROM audit ORDER BY seq"
        ):
            entry = AuditEntry(who, role, purpose, method, path, status, json.loads(items), json.loads(withheld), at)
            if (
                seq != expected_seq
                or stored_prev != prev
                or not hmac.compare_digest(self._link(seq, prev, entry), stored)
            ):
                return entries, int(seq)
            prev, expected_seq = stored, expected_seq + 1
        return entries, None

    def _link(self, seq: int, prev: str, entry: AuditEntry) -> str:
        return _unkeyed_link(prev, entry) if seq < self._keyed_from else _keyed_link(self._key, seq, prev, entry)

    def _hold_to_anchor(self, db: sqlite3.Connection, entries: int, anchor_size: int) -> tuple[int, list[str]]:
        """The longest anchored length, and what the checkpoints say is wrong with the log."""
        highest, mismatch = 0, None
        for seq, head in self.anchor.checkpoints(self.log_id, anchor_size):
            highest = max(highest, seq)
            if seq <= entries and (mismatch is None or seq < mismatch) and _head(db, seq) != head:
                mismatch = seq
        problems = []
        if highest > entries:
            problems.append(
                f"the log has {entries} entries; the anchor says {highest}: entries were removed from its end"
            )
        if mismatch is not None:
            problems.append(f"entry {mismatch} is not the one the anchor recorded: the log was rewritten from there on")
        if highest == 0 and entries >= self._keyed_from:
            problems.append(
                f"the anchor ({self.anchor.path}) holds no checkpoint for this log, so entries removed from its "
                "end would not show"
            )
        return highest, problems

    def close(self) -> None:
        self._db.close()
