"""Saved workbench charts, kept per user in the access database beside the pseudonym register.

A chart is kept as what the analyst arranged (entity and link ids, positions, pins, what was
hidden, the view's filters), never as the entities' data: a reopened chart reads each item again
through the caller's cleared view, so it shows what the caller may see now, not what it could see
when it was saved (``api/routes/charts.py``).

Only its owner (the key holder's name, as the audit log records it) gets a chart back: asked by
anyone else, a chart is missing, exactly as an id that was never issued. Ids are random, so they
say nothing about how many charts exist or whose they are.

>>> import tempfile, pathlib
>>> charts = Charts(pathlib.Path(tempfile.mkdtemp()) / "access.db")
>>> saved = charts.save("DC 1234 Hughes", "Op Larch", {"nodes": [{"id": "Person-1"}], "links": []})
>>> charts.get("DC 1234 Hughes", saved.id).body["nodes"]
[{'id': 'Person-1'}]
>>> charts.get("PC 99 Other", saved.id) is None
True
>>> [c.name for c in charts.owned_by("DC 1234 Hughes")], charts.owned_by("PC 99 Other")
(['Op Larch'], [])
>>> charts.close()
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nimgraph.access.roles import Clearance
from nimgraph.private_files import create_private

__all__ = ["PREFIX", "Charts", "SavedChart", "owner"]

PREFIX = "chart-"
BUSY_TIMEOUT_MS = 5000  # the audit log and the pseudonym register write to the same file
_SCHEMA = """
CREATE TABLE IF NOT EXISTS chart (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    created TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chart_by_owner ON chart (owner, created);
"""


def owner(holder: str, clearance: Clearance) -> str:
    """Who a chart belongs to: the key holder *at a clearance*. Its layout was made with what that
    clearance showed (a gap in a ring of positions is a hidden neighbour), so a key of the same
    holder with another clearance (a downgraded key, a second key) finds it missing.

    >>> from nimgraph.access.roles import Role, clearance_for
    >>> owner("DC 1", clearance_for(Role.ANALYST)) == owner("DC 1", clearance_for(Role.PARTNER_VIEWER))
    False
    """
    return json.dumps([holder, sorted(clearance.handling), clearance.pseudonymised])


@dataclass(frozen=True)
class SavedChart:
    id: str
    name: str
    created: str
    body: dict[str, Any] = field(default_factory=dict)  # empty in listings


class Charts:
    """The chart table of the access database: one connection, used by one request at a time."""

    def __init__(self, path: Path | str) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        create_private(path)
        # A request's dependency may open it on one worker thread and close it on another.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def save(self, owner: str, name: str, body: dict[str, Any], most: int | None = None) -> SavedChart | None:
        """Keep a new chart for ``owner``; returns it with its id, or None when ``owner`` has
        ``most`` charts already (counted and written in one transaction, so a burst cannot pass it)."""
        chart = SavedChart(PREFIX + secrets.token_urlsafe(16), name, _now(), body)
        self._db.execute("BEGIN IMMEDIATE")
        try:
            if most is not None and self.count(owner) >= most:
                self._db.execute("ROLLBACK")
                return None
            self._db.execute(
                "INSERT INTO chart (id, owner, name, created, body) VALUES (?, ?, ?, ?, ?)",
                (chart.id, owner, chart.name, chart.created, json.dumps(body, separators=(",", ":"))),
            )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return chart

    def delete(self, owner: str, chart_id: str) -> bool:
        """Remove ``owner``'s chart; False for another's and a missing one alike."""
        return self._db.execute("DELETE FROM chart WHERE id = ? AND owner = ?", (chart_id, owner)).rowcount == 1

    def get(self, owner: str, chart_id: str) -> SavedChart | None:
        """The chart if ``owner`` saved it; None for another's and a missing one alike."""
        row = self._db.execute(
            "SELECT id, name, created, body FROM chart WHERE id = ? AND owner = ?", (chart_id, owner)
        ).fetchone()
        return SavedChart(row[0], row[1], row[2], json.loads(row[3])) if row else None

    def owned_by(self, owner: str) -> list[SavedChart]:
        """The owner's charts, newest first, without their bodies."""
        rows = self._db.execute(
            "SELECT id, name, created FROM chart WHERE owner = ? ORDER BY created DESC, id", (owner,)
        ).fetchall()
        return [SavedChart(*row) for row in rows]

    def count(self, owner: str) -> int:
        return self._db.execute("SELECT COUNT(*) FROM chart WHERE owner = ?", (owner,)).fetchone()[0]

    def close(self) -> None:
        self._db.close()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
