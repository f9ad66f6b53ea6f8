"""A record's history: the records behind it, oldest first, each with its author and what it said."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nimgraph.records import Assertion, Entity
from nimgraph.tasking.writes import SOURCE, change_time

__all__ = ["Revision", "history"]


@dataclass(frozen=True)
class Revision:
    """One record behind an entity: the partnership's change (author, time) or a partner's row."""

    at: str  # when: a partnership change's time, else the record's date
    author: str | None  # who wrote a partnership change; None for a partner's record
    source: str
    record_id: str
    handling: str
    said: dict[str, Any] | None  # what it said of the properties (a null removed a value); None if not kept

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def _revision(record: Assertion) -> Revision:
    ours = record.source == SOURCE
    stamp = change_time(record.record_id) if ours else None
    return Revision(
        at=stamp or record.date or "",
        author=record.file if ours else None,
        source=record.source,
        record_id=record.record_id,
        handling=record.handling,
        said=dict(record.properties) if record.properties is not None else None,
    )


def history(entity: Entity) -> list[Revision]:
    """The records behind ``entity`` as its reader may see them, oldest first.

    >>> from nimgraph.records import Assertion, Entity
    >>> change = lambda at, author, said: Assertion(
    ...     "partnership", f"Tasking-1@{at}-0a0b0c", author, 0, at[:10], "1AP", "P", properties=said)
    >>> tasking = Entity("Tasking-1", "Tasking", {}, [
    ...     change("2026-11-02T09:00:00.000000Z", "PC Lee", {"taskingStatus": "done"}),
    ...     change("2026-11-01T10:30:00.000000Z", "Sgt Shah", {"title": "Visit", "owner": "PC Lee"})])
    >>> [(r.author, r.said) for r in history(tasking)]
    [('Sgt Shah', {'title': 'Visit', 'owner': 'PC Lee'}), ('PC Lee', {'taskingStatus': 'done'})]
    """
    return sorted((_revision(a) for a in entity.provenance), key=lambda r: (r.at, r.source, r.record_id))
