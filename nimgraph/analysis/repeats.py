"""Repeat victims, repeat offenders and repeat locations, with counts per month and the trend."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import networkx as nx

__all__ = ["Repeat", "month_range", "monthly_counts", "repeat_locations", "repeat_people", "trend"]


@dataclass
class Repeat:
    """An entity that recurs across events: a person in one role, or a place."""

    id: str
    count: int
    events: list[str] = field(default_factory=list)
    by_month: dict[str, int] = field(default_factory=dict)
    by_type: dict[str, int] = field(default_factory=dict)
    trend: float = 0.0


def _in_window(date: str | None, window: tuple[str, str] | None) -> bool:
    if window is None:
        return True
    return date is not None and window[0] <= date <= window[1]


def monthly_counts(dates: Iterable[str | None]) -> dict[str, int]:
    """Events per ``YYYY-MM``, in month order.

    >>> monthly_counts(["2026-01-04", "2026-01-30", "2025-12-01", None])
    {'2025-12': 1, '2026-01': 2}
    """
    counts = Counter(d[:7] for d in dates if d)
    return dict(sorted(counts.items()))


def month_range(first: str, last: str) -> list[str]:
    """Every ``YYYY-MM`` from ``first`` to ``last`` inclusive.

    >>> month_range("2025-11", "2026-02")
    ['2025-11', '2025-12', '2026-01', '2026-02']
    """
    year, month = int(first[:4]), int(first[5:7])
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def trend(by_month: dict[str, int], months: list[str] | None = None) -> float:
    """Least-squares slope of monthly counts, in events per month; months with none count as 0.

    Without ``months``, the months from the first to the last in ``by_month`` are used.

    >>> trend({"2026-01": 1, "2026-02": 2, "2026-03": 3})
    1.0
    >>> trend({"2026-01": 3, "2026-03": 1})
    -1.0
    """
    if not by_month:
        return 0.0
    months = months or month_range(min(by_month), max(by_month))
    if len(months) < 2:
        return 0.0
    ys = [by_month.get(m, 0) for m in months]
    xs = range(len(ys))
    mean_x, mean_y = sum(xs) / len(ys), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    return round(sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread, 6)


def _repeat(graph: nx.MultiDiGraph, node: str, events: list[str], months: list[str] | None) -> Repeat:
    dates = [graph.nodes[e].get("properties", {}).get("date") for e in events]
    by_month = monthly_counts(dates)
    return Repeat(
        id=node,
        count=len(events),
        events=sorted(events),
        by_month=by_month,
        by_type=dict(Counter(graph.nodes[e]["type"] for e in events).most_common()),
        trend=trend(by_month, months),
    )


def repeat_people(
    graph: nx.MultiDiGraph,
    link_types: set[str],
    *,
    min_count: int = 2,
    window: tuple[str, str] | None = None,
    months: list[str] | None = None,
) -> list[Repeat]:
    """People linked to ``min_count`` or more events by ``link_types`` (e.g. victim roles).

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> for e, d in [("e1", "2026-01-02"), ("e2", "2026-02-03"), ("e3", "2026-02-09")]:
    ...     g.add_node(e, type="CrimeIncident", properties={"date": d})
    >>> for p, e in [("ann", "e1"), ("ann", "e2"), ("bob", "e3")]:
    ...     _ = g.add_edge(p, e, type="victimIn")
    >>> [(r.id, r.count, r.by_month) for r in repeat_people(g, {"victimIn"})]
    [('ann', 2, {'2026-01': 1, '2026-02': 1})]
    """
    events: dict[str, set[str]] = {}
    for person, event, kind in graph.edges(data="type"):
        if kind in link_types and _in_window(graph.nodes[event].get("properties", {}).get("date"), window):
            events.setdefault(person, set()).add(event)
    repeats = [_repeat(graph, p, list(e), months) for p, e in events.items() if len(e) >= min_count]
    return sorted(repeats, key=lambda r: (-r.count, r.id))


def repeat_locations(
    graph: nx.MultiDiGraph,
    at_links: set[str],
    *,
    locations: Iterable[str] | None = None,
    event_types: set[str] | None = None,
    min_count: int = 2,
    window: tuple[str, str] | None = None,
    months: list[str] | None = None,
) -> list[Repeat]:
    """Locations ranked by the events that happened there (``event -at_links-> location``).

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> for i, (place, month) in enumerate([("parade", 1), ("parade", 3), ("parade", 3), ("lane", 2)]):
    ...     g.add_node(f"e{i}", type="ASBIncident", properties={"date": f"2026-0{month}-01"})
    ...     _ = g.add_edge(f"e{i}", place, type="occurredAt")
    >>> [(r.id, r.count, r.by_month, r.trend) for r in repeat_locations(g, {"occurredAt"})]
    [('parade', 3, {'2026-01': 1, '2026-03': 2}, 0.5)]
    """
    allowed = set(locations) if locations is not None else None
    events: dict[str, set[str]] = {}
    for event, place, kind in graph.edges(data="type"):
        if kind not in at_links or (allowed is not None and place not in allowed):
            continue
        node = graph.nodes[event]
        if event_types is not None and node.get("type") not in event_types:
            continue
        if _in_window(node.get("properties", {}).get("date"), window):
            events.setdefault(place, set()).add(event)
    repeats = [_repeat(graph, p, list(e), months) for p, e in events.items() if len(e) >= min_count]
    return sorted(repeats, key=lambda r: (-r.count, r.id))
