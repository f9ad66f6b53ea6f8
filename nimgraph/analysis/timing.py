"""When events happen: the hour x weekday heat matrix, honest about what each record can say.

A date-time gives both weekday and hour; a date to the day gives the weekday only; a date to the
month (police.uk street-level data, ``datePrecision`` Month) gives neither, and is counted apart
rather than piled onto the first of the month.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

import networkx as nx

__all__ = ["WEEKDAYS", "HeatMatrix", "hour_weekday"]

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass
class HeatMatrix:
    """``cells[weekday][hour]`` counts; weekdays Monday first, as in :data:`WEEKDAYS`."""

    cells: list[list[int]] = field(default_factory=lambda: [[0] * 24 for _ in WEEKDAYS])
    weekday_only: list[int] = field(default_factory=lambda: [0] * len(WEEKDAYS))  # day known, hour not
    month_only: int = 0
    undated: int = 0

    def peak(self) -> tuple[str, int, int] | None:
        """The busiest (weekday, hour) cell and its count; None when no event has a time."""
        count, weekday, hour = max((c, -w, -h) for w, row in enumerate(self.cells) for h, c in enumerate(row))
        return (WEEKDAYS[-weekday], -hour, count) if count else None

    def share(self, weekdays: Iterable[str], hours: Iterable[int]) -> float:
        """The fraction of timed events that fall in those weekdays and hours."""
        total = sum(map(sum, self.cells))
        days, wanted = {WEEKDAYS.index(d) for d in weekdays}, set(hours)
        inside = sum(c for w, row in enumerate(self.cells) if w in days for h, c in enumerate(row) if h in wanted)
        return inside / total if total else 0.0


def hour_weekday(graph: nx.MultiDiGraph, events: Iterable[str]) -> HeatMatrix:
    """Count ``events`` by weekday and hour from their ``dateTime``, ``date`` and ``datePrecision``.

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> g.add_node("asb1", properties={"date": "2026-03-06", "dateTime": "2026-03-06T21:15:00"})
    >>> g.add_node("asb2", properties={"date": "2026-03-07"})
    >>> g.add_node("crime", properties={"date": "2026-03-01", "datePrecision": "Month"})
    >>> m = hour_weekday(g, ["asb1", "asb2", "crime"])
    >>> m.peak(), m.weekday_only[WEEKDAYS.index("Saturday")], m.month_only
    (('Friday', 21, 1), 1, 1)
    """
    matrix = HeatMatrix()
    for event in events:
        props = graph.nodes[event].get("properties", {})
        if props.get("dateTime"):
            moment = datetime.fromisoformat(str(props["dateTime"]))
            matrix.cells[moment.weekday()][moment.hour] += 1
        elif str(props.get("datePrecision") or "day").lower() == "month":
            matrix.month_only += 1
        elif props.get("date"):
            matrix.weekday_only[date.fromisoformat(str(props["date"])[:10]).weekday()] += 1
        else:
            matrix.undated += 1
    return matrix
