"""Repeats and hotspots: repeat victims, offenders and locations, near-repeats, and areas by volume and trend."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import networkx as nx

__all__ = [
    "NearRepeats",
    "Point",
    "Repeat",
    "event_points",
    "month_range",
    "monthly_counts",
    "near_repeats",
    "rank_areas",
    "repeat_locations",
    "repeat_people",
    "trend",
]


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


def rank_areas(
    graph: nx.MultiDiGraph,
    at_links: set[str],
    within_links: set[str],
    area_types: set[str],
    *,
    window: tuple[str, str] | None = None,
    months: list[str] | None = None,
    by: str = "volume",
) -> list[Repeat]:
    """Areas of ``area_types`` ranked by the events inside them (``by="volume"``) or by trend (``by="trend"``).

    An event counts in every area its location lies within, however many ``within`` steps up.

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> for area in ("north", "south"):
    ...     g.add_node(area, type="Ward")
    >>> for street, area in [("high st", "north"), ("mill ln", "north"), ("quay", "south")]:
    ...     _ = g.add_edge(street, area, type="within")
    >>> for i, (street, month) in enumerate([("high st", 1), ("mill ln", 2), ("quay", 1), ("quay", 1), ("quay", 1)]):
    ...     g.add_node(f"e{i}", type="CrimeIncident", properties={"date": f"2026-0{month}-10"})
    ...     _ = g.add_edge(f"e{i}", street, type="occurredAt")
    >>> [(r.id, r.count) for r in rank_areas(g, {"occurredAt"}, {"within"}, {"Ward"})]
    [('south', 3), ('north', 2)]
    >>> [(r.id, r.trend) for r in rank_areas(g, {"occurredAt"}, {"within"}, {"Ward"}, by="trend")]
    [('north', 0.0), ('south', -3.0)]
    """
    if by not in ("volume", "trend"):
        raise ValueError(f"by must be 'volume' or 'trend'; got {by!r}")
    up: dict[str, set[str]] = {}
    for u, v, kind in graph.edges(data="type"):
        if kind in within_links:
            up.setdefault(u, set()).add(v)

    def areas_of(place: str) -> set[str]:
        seen, todo = set(), [place]
        while todo:
            for parent in up.get(todo.pop(), ()):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return {a for a in seen | {place} if graph.nodes[a].get("type") in area_types}

    events: dict[str, set[str]] = {}
    for event, place, kind in graph.edges(data="type"):
        if kind in at_links and _in_window(graph.nodes[event].get("properties", {}).get("date"), window):
            for area in areas_of(place):
                events.setdefault(area, set()).add(event)
    dated = [graph.nodes[e].get("properties", {}).get("date") for found in events.values() for e in found]
    if months is None and any(dated):
        known = [d[:7] for d in dated if d]
        months = month_range(min(known), max(known))
    found = [_repeat(graph, area, list(e), months) for area, e in events.items()]
    if by == "trend":
        return sorted(found, key=lambda r: (-r.trend, -r.count, r.id))
    return sorted(found, key=lambda r: (-r.count, -r.trend, r.id))


@dataclass(frozen=True)
class Point:
    """An event at a place and a date, for near-repeat analysis."""

    id: str
    date: str
    latitude: float
    longitude: float


def event_points(graph: nx.MultiDiGraph, at_links: set[str], event_types: set[str] | None = None) -> list[Point]:
    """Dated events whose location (through ``at_links``) has a latitude and longitude.

    >>> g = nx.MultiDiGraph()
    >>> g.add_node("e1", type="Burglary", properties={"date": "2026-01-02"})
    >>> g.add_node("flat", properties={"latitude": 53.8, "longitude": -1.55})
    >>> _ = g.add_edge("e1", "flat", type="occurredAt")
    >>> event_points(g, {"occurredAt"})
    [Point(id='e1', date='2026-01-02', latitude=53.8, longitude=-1.55)]
    """
    points = []
    for event, place, kind in graph.edges(data="type"):
        node = graph.nodes[event]
        if kind not in at_links or (event_types is not None and node.get("type") not in event_types):
            continue
        when = node.get("properties", {}).get("date")
        where = graph.nodes[place].get("properties", {})
        if when and where.get("latitude") is not None and where.get("longitude") is not None:
            points.append(Point(event, str(when)[:10], float(where["latitude"]), float(where["longitude"])))
    return sorted(points, key=lambda p: (p.date, p.id))


def _metres(a: Point, b: Point) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(a.latitude), math.radians(b.latitude)
    dp, dl = p2 - p1, math.radians(b.longitude - a.longitude)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(min(h, 1.0)))


def _pairs_within(points: list[Point], metres: float) -> int:
    """Pairs no more than ``metres`` apart, found through a grid of ``metres`` cells, not all pairs."""
    if not points:
        return 0
    mean_latitude = math.radians(sum(p.latitude for p in points) / len(points))
    cells: dict[tuple[int, int], list[Point]] = {}
    for p in points:
        x = math.radians(p.longitude) * math.cos(mean_latitude) * 6_371_000
        y = math.radians(p.latitude) * 6_371_000
        cells.setdefault((int(x // metres), int(y // metres)), []).append(p)
    count = 0
    for (cx, cy), members in cells.items():
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for a in members:
                    for b in cells.get((cx + dx, cy + dy), ()):
                        if (a.id, a.date) < (b.id, b.date) and _metres(a, b) <= metres:
                            count += 1
    return count


@dataclass
class NearRepeats:
    """Pairs of events close in both space and time, their chains, and the Knox ratio.

    ``knox_ratio`` is the close-in-both pairs observed over those expected if space and time were
    independent (close-in-space pairs x close-in-time pairs / all pairs); above 1 means events
    cluster in space-time more than chance, the signature of near-repeat victimisation.
    """

    pairs: list[dict] = field(default_factory=list)
    chains: list[list[str]] = field(default_factory=list)
    close_in_space: int = 0
    close_in_time: int = 0
    all_pairs: int = 0
    knox_ratio: float | None = None


def near_repeats(points: list[Point], *, metres: float = 200.0, days: int = 14) -> NearRepeats:
    """Events within ``metres`` and ``days`` of each other (same place included), chained.

    Examples
    --------
    Three burglaries a street apart within a week, and one far away:

    >>> pts = [Point("a", "2026-01-01", 53.8000, -1.5500), Point("b", "2026-01-03", 53.8005, -1.5500),
    ...        Point("c", "2026-01-06", 53.8010, -1.5500), Point("far", "2026-01-02", 53.9000, -1.4000)]
    >>> found = near_repeats(pts, metres=100, days=7)
    >>> [(p["first"], p["second"]) for p in found.pairs], found.chains
    ([('a', 'b'), ('b', 'c')], [['a', 'b', 'c']])
    """
    found = NearRepeats(all_pairs=len(points) * (len(points) - 1) // 2)
    ordered = sorted(points, key=lambda p: (p.date, p.id))
    day = [date.fromisoformat(p.date).toordinal() for p in ordered]
    for i, a in enumerate(ordered):  # walk forward in time only as far as ``days``
        for j in range(i + 1, len(ordered)):
            if day[j] - day[i] > days:
                break
            found.close_in_time += 1
            apart = _metres(a, ordered[j])
            if apart <= metres:
                found.pairs.append(
                    {"first": a.id, "second": ordered[j].id, "metres": round(apart, 1), "days": day[j] - day[i]}
                )
    found.close_in_space = _pairs_within(ordered, metres)
    order = {p.id: (p.date, p.id) for p in points}
    found.pairs.sort(key=lambda p: (order[p["first"]], order[p["second"]]))
    if found.all_pairs and found.close_in_space and found.close_in_time:
        expected = found.close_in_space * found.close_in_time / found.all_pairs
        found.knox_ratio = round(len(found.pairs) / expected, 4)
    chains = nx.Graph((p["first"], p["second"]) for p in found.pairs)
    found.chains = sorted(
        (sorted(c, key=order.__getitem__) for c in nx.connected_components(chains)), key=lambda c: order[c[0]]
    )
    return found
