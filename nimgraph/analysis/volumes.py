"""Counting incidents: by a key, by month, and the parties they name. Pure functions over rows.

An assessment reads incidents as flat rows (``nimgraph.records.Incident``), not as a graph: a
year of a busy partnership's incidents is a million rows and these counts are all it needs of them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence

from nimgraph.records import Incident, Involvement


def count_by(incidents: Iterable[Incident], key: Callable[[Incident], Hashable | None]) -> Counter:
    """How many incidents share each value of ``key``; incidents whose key is None are not counted.

    >>> rows = [Incident("e1", "ASBIncident", "2026-01-02", "Nuisance"), Incident("e2", "T", "2026-02-02", "Nuisance")]
    >>> count_by(rows, lambda i: i.category)
    Counter({'Nuisance': 2})
    """
    counts: Counter = Counter()
    for incident in incidents:
        value = key(incident)
        if value is not None:
            counts[value] += 1
    return counts


def count_by_area(incidents: Iterable[Incident], areas: set[str]) -> Counter:
    """Incidents per area, counting an incident once in each of ``areas`` it lies within.

    >>> rows = [Incident("e1", "Crime", "2026-01-02", "Robbery", areas=("a1", "w1"))]
    >>> count_by_area(rows, {"a1", "a2"})
    Counter({'a1': 1})
    """
    counts: Counter = Counter()
    for incident in incidents:
        for area in incident.areas:
            if area in areas:
                counts[area] += 1
    return counts


def monthly(incidents: Iterable[Incident], months: Sequence[str]) -> list[int]:
    """Counts for each month (YYYY-MM) in ``months``; incidents in other months are not counted.

    >>> rows = [Incident("e1", "T", "2026-01-02", "c"), Incident("e2", "T", "2026-01-31", "c")]
    >>> monthly(rows, ["2025-12", "2026-01"])
    [0, 2]
    """
    index = {month: n for n, month in enumerate(months)}
    counts = [0] * len(months)
    for incident in incidents:
        n = index.get(incident.date[:7])
        if n is not None:
            counts[n] += 1
    return counts


def parties(involvements: Iterable[Involvement], roles: set[str], events: set[str]) -> Counter:
    """How many of ``events`` each party took part in, in any of ``roles`` (once per event).

    >>> links = [Involvement("p1", "e1", "victimIn"), Involvement("p1", "e2", "victimIn")]
    >>> links.append(Involvement("p2", "e1", "offenderIn"))
    >>> parties(links, {"victimIn"}, {"e1", "e2"})
    Counter({'p1': 2})
    """
    pairs = {(i.person, i.event) for i in involvements if i.role in roles and i.event in events}
    return Counter(person for person, _ in pairs)


def finest_area_type(incidents: Iterable[Incident], type_of: Callable[[str], str | None]) -> str | None:
    """The area type with the most distinct areas among the incidents': the finest unit to count by.

    >>> rows = [Incident("e1", "T", "2026-01-02", "c", areas=("l1", "w1"))]
    >>> rows.append(Incident("e2", "T", "2026-01-02", "c", areas=("l2", "w1")))
    >>> finest_area_type(rows, {"l1": "LSOA", "l2": "LSOA", "w1": "Ward"}.get)
    'LSOA'
    """
    areas = {area for incident in incidents for area in incident.areas}
    by_type = Counter(t for area in areas if (t := type_of(area)) is not None)
    if not by_type:
        return None
    return min(by_type, key=lambda t: (-by_type[t], t))
