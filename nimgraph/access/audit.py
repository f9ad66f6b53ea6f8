"""The audit log: one row per read of personal data, append-only and hash-chained.

Who (the key's name and role), when, what (the request and the personal-data items it released),
why (the stated purpose) and how it ended (the status, and how many items were withheld).
Triggers refuse any UPDATE or DELETE, and each row carries the hash of the one before, so an
edit made behind SQLite's back shows up in ``verify``. Nothing in the API writes to it except
``append``.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_SCHEMA = """
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
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""
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


def _chain(prev: str, entry: dict[str, Any]) -> str:
    body = json.dumps(entry, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev + body).encode()).hexdigest()


class AuditLog:
    def __init__(self, path: Path | str) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def append(self, entry: AuditEntry) -> int:
        """Write one entry, chained to the last; returns its sequence number."""
        row = asdict(entry)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")  # the chain needs the true last row, across processes too
            try:
                last = self._db.execute("SELECT hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
                prev = last[0] if last else GENESIS
                cursor = self._db.execute(
                    "INSERT INTO audit (at, who, role, purpose, method, path, status, items, withheld, prev, hash)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
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
                        _chain(prev, row),
                    ),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return int(cursor.lastrowid or 0)

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

    def verify(self) -> int | None:
        """The sequence number of the first entry whose chain is broken, or None if the log is intact."""
        prev = GENESIS
        rows = self._db.execute(
            "SELECT seq, at, who, role, purpose, method, path, status, items, withheld, prev, hash"
            " FROM audit ORDER BY seq"
        )
        for seq, at, who, role, purpose, method, path, status, items, withheld, stored_prev, stored in rows:
            entry = AuditEntry(who, role, purpose, method, path, status, json.loads(items), json.loads(withheld), at)
            if stored_prev != prev or _chain(prev, asdict(entry)) != stored:
                return int(seq)
            prev = stored
        return None

    def close(self) -> None:
        self._db.close()
