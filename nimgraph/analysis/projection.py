"""Projections: the simple weighted graph a graph-wide question is asked of.

An analyst names what the nodes are (entity types), which links join them, and optionally which
entities join two nodes that share one (a phone, an address, an event): people joined by
``knows`` only, or people joined by the events they were involved in together.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from itertools import combinations

import networkx as nx

__all__ = ["Projected", "project"]


@dataclass
class Projected:
    graph: nx.Graph
    # Connectors with more members than the limit (a hostel, a busy street, a mass event) join
    # everyone to everyone and swamp every measure; they are left out and named here.
    skipped_connectors: list[str] = field(default_factory=list)


def _weight_of(kind: str | None, weights: Callable[[str], float]) -> float:
    return weights(kind) if kind else 1.0


def _has_link(graph: nx.MultiDiGraph, u: str, v: str, kind: str | None) -> bool:
    return graph.has_edge(u, v) and any(data.get("type") == kind for data in graph[u][v].values())


def project(
    graph: nx.MultiDiGraph,
    *,
    node_types: Collection[str] | None = None,
    link_types: Collection[str] | None = None,
    via_types: Collection[str] | None = None,
    link_weight: Callable[[str], float] = lambda _: 1.0,
    connector_weight: Callable[[str], float] = lambda _: 1.0,
    max_connector_members: int = 200,
) -> Projected:
    """Nodes of ``node_types`` (all when None), joined by links of ``link_types`` (all when None)
    between two of them, and, for each entity of ``via_types``, between every two nodes it links to.

    Each edge's ``weight`` sums ``link_weight(link type)`` per kind of direct link and
    ``connector_weight(connector type)`` per shared connector; ``links`` and ``shared`` count
    them. A kind of link counts once per pair, whichever way its links run (``a knows b`` and
    ``b knows a`` are one). A link type whose ``link_weight`` is 0 joins nothing, neither
    directly nor through a connector (an officer in case shares every event they investigate).
    Every node of ``node_types`` in ``graph`` is kept, joined or not. Self-links are dropped.

    Examples
    --------
    Two people who know each other, and two who share a phone:

    >>> g = nx.MultiDiGraph()
    >>> for n, t in [("a", "Person"), ("b", "Person"), ("c", "Person"), ("d", "Person"), ("p", "Phone")]:
    ...     g.add_node(n, type=t)
    >>> for u, v, t in [("a", "b", "knows"), ("c", "p", "usesPhone"), ("d", "p", "usesPhone")]:
    ...     _ = g.add_edge(u, v, type=t)
    >>> direct = project(g, node_types={"Person"}, link_types={"knows"}).graph
    >>> sorted(direct.edges()), sorted(direct)
    ([('a', 'b')], ['a', 'b', 'c', 'd'])
    >>> shared = project(g, node_types={"Person"}, link_types={"usesPhone"}, via_types={"Phone"}).graph
    >>> sorted(shared.edges(data="shared"))
    [('c', 'd', 1)]

    Listed both ways, ``knows`` still joins a and b once:

    >>> _ = g.add_edge("b", "a", type="knows")
    >>> project(g, node_types={"Person"}, link_types={"knows"}).graph.edges["a", "b"]
    {'weight': 1.0, 'links': 1, 'shared': 0}
    """
    wanted = None if node_types is None else set(node_types)
    follow = None if link_types is None else set(link_types)
    connectors = set(via_types or ())

    def is_node(node: str) -> bool:
        return wanted is None or graph.nodes[node].get("type") in wanted

    projected = nx.Graph()
    projected.add_nodes_from(n for n in graph if is_node(n))

    def join(a: str, b: str, weight: float, counter: str) -> None:
        if a == b:
            return
        if projected.has_edge(a, b):
            edge = projected[a][b]
            edge["weight"] += weight
            edge[counter] += 1
        else:
            projected.add_edge(a, b, weight=weight, links=0, shared=0)
            projected[a][b][counter] = 1

    members: dict[str, set[str]] = {}
    for u, v, kind in graph.edges(data="type"):
        if follow is not None and kind not in follow:
            continue
        weight = _weight_of(kind, link_weight)
        if weight == 0:
            continue
        if is_node(u) and is_node(v) and not (v < u and _has_link(graph, v, u, kind)):  # counted from v
            join(u, v, weight, "links")
        for connector, member in ((u, v), (v, u)):
            if graph.nodes[connector].get("type") in connectors and is_node(member):
                members.setdefault(connector, set()).add(member)
    skipped = []
    for connector in sorted(members):
        group = members[connector]
        if len(group) > max_connector_members:
            skipped.append(connector)
            continue
        weight = _weight_of(graph.nodes[connector].get("type"), connector_weight)
        for a, b in combinations(sorted(group), 2):
            join(a, b, weight, "shared")
    return Projected(projected, skipped)
