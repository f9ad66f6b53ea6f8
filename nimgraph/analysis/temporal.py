"""The network in time: as at a date, over a window, and what changed between two windows.

A link's date is the date of the records behind it (the earliest, for "known by then"); an
event's own ``date`` property keeps future events out of a past picture. Links whose records carry
no date (e.g. a street within an LSOA) are structural and kept unless ``include_undated`` is off.
As at a date, an entity first recorded later is left out; over a window, only events are
filtered by their own date, since people and places outlast the records that mention them.
ISO dates compare as text, so a window's end may be a month's ``-31`` without calendar arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from nimgraph.analysis.centrality import centrality

__all__ = ["Changes", "as_at", "changes", "during"]


def _dates(records: list[dict]) -> list[str]:
    return sorted(str(r["date"])[:10] for r in records if r.get("date"))


def _node_dates(graph: nx.MultiDiGraph, node: str, by_records: bool) -> list[str]:
    """An event's own date; with ``by_records``, other entities' dates are their records' dates."""
    data = graph.nodes[node]
    value = data.get("properties", {}).get("date")
    if value:
        return [str(value)[:10]]
    return _dates(data.get("provenance") or []) if by_records else []


def _keep(graph: nx.MultiDiGraph, test, include_undated: bool, by_records: bool) -> nx.MultiDiGraph:
    nodes = [n for n in graph if ((dates := _node_dates(graph, n, by_records)) and test(dates)) or not dates]
    kept = graph.subgraph(nodes).copy()
    dropped = [
        (u, v, k)
        for u, v, k, records in kept.edges(keys=True, data="provenance")
        if not (((dates := _dates(records or [])) and test(dates)) or (not dates and include_undated))
    ]
    kept.remove_edges_from(dropped)
    return kept


def as_at(graph: nx.MultiDiGraph, when: str, *, include_undated: bool = True) -> nx.MultiDiGraph:
    """The graph as it stood on ``when``: links recorded by then, events that had happened.

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> g.add_node("e1", properties={"date": "2026-01-05"}); g.add_node("e2", properties={"date": "2026-03-01"})
    >>> _ = g.add_edge("ann", "e1", type="victimIn", provenance=[{"date": "2026-01-05"}])
    >>> _ = g.add_edge("ann", "e2", type="victimIn", provenance=[{"date": "2026-03-01"}])
    >>> sorted(as_at(g, "2026-02-01").edges())
    [('ann', 'e1')]
    """
    return _keep(graph, lambda dates: dates[0] <= when, include_undated, by_records=True)


def during(graph: nx.MultiDiGraph, start: str, end: str, *, include_undated: bool = True) -> nx.MultiDiGraph:
    """Links with a record dated inside ``start``..``end`` (inclusive), and the events inside it.

    >>> g = nx.MultiDiGraph()
    >>> _ = g.add_edge("ann", "bob", type="knows", provenance=[{"date": "2025-06-01"}])
    >>> _ = g.add_edge("ann", "cat", type="knows", provenance=[{"date": "2026-02-01"}])
    >>> sorted(during(g, "2026-01-01", "2026-12-31").edges())
    [('ann', 'cat')]
    """
    return _keep(graph, lambda dates: any(start <= d <= end for d in dates), include_undated, by_records=False)


@dataclass
class Changes:
    """What changed between two projections of the same people."""

    new: list[tuple[str, str]] = field(default_factory=list)
    lost: list[tuple[str, str]] = field(default_factory=list)
    strengthened: list[dict] = field(default_factory=list)
    weakened: list[dict] = field(default_factory=list)
    movers: list[dict] = field(default_factory=list)


def _pairs(projection: nx.Graph) -> set[tuple[str, str]]:
    return {(u, v) if u <= v else (v, u) for u, v in projection.edges()}


def changes(
    before: nx.Graph,
    after: nx.Graph,
    *,
    measure: str = "pagerank",
    weight: str = "weight",
    top: int = 10,
    seed: int = 0,
) -> Changes:
    """New and lost associations, ties that grew or faded, and the biggest movers in ``measure``.

    Examples
    --------
    >>> before = nx.Graph([("ann", "bob"), ("bob", "cat")])
    >>> after = nx.Graph([("bob", "cat"), ("cat", "dan"), ("cat", "eve"), ("cat", "ann")])
    >>> found = changes(before, after, measure="degree")
    >>> found.new, found.lost
    ([('ann', 'cat'), ('cat', 'dan'), ('cat', 'eve')], [('ann', 'bob')])
    >>> found.movers[0]
    {'id': 'cat', 'before': 1, 'after': 4, 'change': 3}
    """
    old, new = _pairs(before), _pairs(after)
    found = Changes(new=sorted(new - old), lost=sorted(old - new))
    for u, v in sorted(old & new):
        a, b = before.edges[u, v].get(weight, 1.0), after.edges[u, v].get(weight, 1.0)
        row = {"pair": (u, v), "before": round(a, 6), "after": round(b, 6), "change": round(b - a, 6)}
        if b > a:
            found.strengthened.append(row)
        elif b < a:
            found.weakened.append(row)
    found.strengthened.sort(key=lambda r: (-r["change"], r["pair"]))
    found.weakened.sort(key=lambda r: (r["change"], r["pair"]))
    then, now = centrality(before, weight=weight, seed=seed), centrality(after, weight=weight, seed=seed)
    rows = []
    for node in set(then) | set(now):
        a = then.get(node, {}).get(measure, 0)
        b = now.get(node, {}).get(measure, 0)
        if a != b:
            rows.append({"id": node, "before": a, "after": b, "change": round(b - a, 6)})
    found.movers = sorted(rows, key=lambda r: (-abs(r["change"]), r["id"]))[:top]
    return found
