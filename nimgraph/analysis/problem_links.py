"""Links between problems: the people, places, objects and events that two or more problems share.

A problem reaches an entity through its links (what it ``concerns``, the events in its scope, a
sub-problem's). Two problems are linked when the same entity lies within ``hops`` of both. Each
shared entity contributes ``weight(type) / (distance to one + distance to the other - 1)``, so an
entity both problems name directly counts in full and one found further out counts less; the
records on the links that reach it are its evidence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations, pairwise

import networkx as nx

from nimgraph.analysis.paths import link_view

__all__ = ["ProblemLink", "Shared", "problem_links"]


@dataclass(frozen=True)
class Shared:
    """One entity two problems share, how far it is from each, and the records that reach it."""

    id: str
    type: str
    distances: tuple[int, int]
    weight: float
    records: tuple[dict, ...]


@dataclass
class ProblemLink:
    problems: tuple[str, str]
    strength: float = 0.0
    shared: list[Shared] = field(default_factory=list)


def _records_along(graph: nx.MultiDiGraph, view: nx.MultiGraph, path: list[str]) -> list[dict]:
    records: list[dict] = []
    for u, v in pairwise(path):
        for key in view[u][v]:
            data = graph.edges[u, v, key] if graph.has_edge(u, v, key) else graph.edges[v, u, key]
            records.extend(data.get("provenance", []))
    return records


def problem_links(
    graph: nx.MultiDiGraph,
    problems: Iterable[str],
    *,
    hops: int = 1,
    link_types: Iterable[str] | None = None,
    shared_types: set[str] | None = None,
    type_weights: Mapping[str, float] | None = None,
) -> list[ProblemLink]:
    """Pairs of ``problems`` that share entities within ``hops``, strongest first.

    ``shared_types`` keeps only entities of those types (e.g. people, places, objects, events);
    ``type_weights`` weighs a shared entity by its type (default 1.0); other problems are never
    counted as shared entities.

    Examples
    --------
    Two problems both concern the parade; the second's incident involved Kim, whom the first
    names too.

    >>> g = nx.MultiDiGraph()
    >>> for n, t in [("p1", "Problem"), ("p2", "Problem"), ("parade", "Street"), ("kim", "Person"),
    ...              ("e1", "ASBIncident")]:
    ...     g.add_node(n, type=t)
    >>> rec = [{"source": "council", "record_id": "7", "grade": "1AP"}]
    >>> for u, v in [("p1", "parade"), ("p2", "parade"), ("p1", "kim"), ("p2", "e1")]:
    ...     _ = g.add_edge(u, v, type="concerns", provenance=rec)
    >>> _ = g.add_edge("kim", "e1", type="offenderIn", provenance=rec)
    >>> [(s.id, s.distances, s.weight) for s in problem_links(g, ["p1", "p2"], hops=2)[0].shared]
    [('parade', (1, 1), 1.0), ('kim', (1, 2), 0.5), ('e1', (2, 1), 0.5)]
    >>> [(s.id, s.weight) for s in problem_links(g, ["p1", "p2"])[0].shared]
    [('parade', 1.0)]
    """
    chosen = [p for p in dict.fromkeys(problems) if p in graph]
    view = link_view(graph, link_types)
    reach: dict[str, dict[str, list[str]]] = {p: nx.single_source_shortest_path(view, p, cutoff=hops) for p in chosen}
    weights = type_weights or {}
    found = []
    for a, b in combinations(chosen, 2):
        link = ProblemLink(problems=(a, b))
        for node in sorted(set(reach[a]) & set(reach[b]) - set(chosen)):
            kind = graph.nodes[node].get("type", "")
            if shared_types is not None and kind not in shared_types:
                continue
            da, db = len(reach[a][node]) - 1, len(reach[b][node]) - 1
            weight = weights.get(kind, 1.0) / (da + db - 1)
            records = _records_along(graph, view, reach[a][node]) + _records_along(graph, view, reach[b][node])
            unique = {(r.get("source"), r.get("record_id")): r for r in records}
            link.shared.append(Shared(node, kind, (da, db), round(weight, 6), tuple(unique.values())))
            link.strength += weight
        if link.shared:
            link.strength = round(link.strength, 6)
            link.shared.sort(key=lambda s: (-s.weight, s.distances, s.id))
            found.append(link)
    return sorted(found, key=lambda k: (-k.strength, k.problems))
