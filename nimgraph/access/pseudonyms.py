"""Stable pseudonyms for what identifies a person, and the register that turns them back into ids.

A pseudonym is a keyed hash (HMAC-SHA256) of the real id: the same person always gets the same
pseudonym, and nobody without the key can compute one from a name or a nominal number. The
register remembers every pseudonym issued, so a researcher can ask about ``psn-...`` and the
server can find the person; it never tells the caller the real id.
"""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from nimgraph.private_files import create_private

PREFIX = "psn-"
RECORD_PREFIX = "rec-"
BUSY_TIMEOUT_MS = 5000  # SQLite waits this long for another writer (the audit log shares the file)
ATTEMPTS = 5  # a write still locked after the busy timeout is tried again, backing off


class Pseudonyms:
    """The register: thread-safe, and a failed write leaves no transaction open behind it."""

    def __init__(self, path: Path | str, key: str) -> None:
        if not key:
            raise ValueError("pseudonyms need a key: set NIMGRAPH_PSEUDONYM_KEY")
        self._key = key.encode()
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        create_private(path)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS pseudonym (pseudonym TEXT PRIMARY KEY, real_id TEXT NOT NULL)")
        # One connection serves every thread, so every use of it holds the lock: a read on one
        # thread must never run inside another thread's open transaction.
        self._lock = threading.Lock()
        self._issued: dict[str, str] = {}  # pseudonym -> real id, this process's share of the register

    def _digest(self, kind: str, value: str) -> str:
        return hmac.new(self._key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:20]

    def of(self, real_id: str) -> str:
        """The pseudonym of an entity or link id (not yet registered: see ``register``)."""
        return PREFIX + self._digest("id", real_id)

    def of_record(self, source: str, record_id: str) -> str:
        """A pseudonymous record reference: records can be counted and told apart, not looked up."""
        return RECORD_PREFIX + self._digest("record", f"{source}\x1f{record_id}")

    def register(self, real_ids: Iterable[str]) -> None:
        """Remember the pseudonyms of ``real_ids``, so callers can use them in later requests."""
        fresh = {self.of(r): r for r in real_ids}
        fresh = {p: r for p, r in fresh.items() if p not in self._issued}
        if not fresh:
            return
        for attempt in range(ATTEMPTS):
            try:
                self._insert(fresh)
            except sqlite3.OperationalError as err:
                if ("locked" not in str(err) and "busy" not in str(err)) or attempt == ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * 2**attempt)
            else:
                break
        with self._lock:
            self._issued.update(fresh)

    def _insert(self, fresh: dict[str, str]) -> None:
        """One short transaction, rolled back on any error so the connection is clean for the next call."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany("INSERT OR IGNORE INTO pseudonym VALUES (?, ?)", fresh.items())
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def resolve(self, pseudonym: str) -> str | None:
        """The real id behind a pseudonym this register issued, or None."""
        with self._lock:
            if pseudonym in self._issued:
                return self._issued[pseudonym]
            row = self._db.execute("SELECT real_id FROM pseudonym WHERE pseudonym = ?", (pseudonym,)).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        with self._lock:
            self._db.close()
