"""Neighbourhoods, paths, and the network that connects several subjects."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import combinations
from typing import Literal

import networkx as nx

__all__ = ["ConnectingNetwork", "connecting_network", "link_view", "neighbourhood", "shortest_paths"]

Direction = Literal["both", "out", "in"]
PATHS_SORTED = 1000  # equal shortest paths gathered, then sorted, before the first ``limit`` are kept


def link_view(
    graph: nx.MultiDiGraph, link_types: Iterable[str] | None, direction: Direction = "both"
) -> nx.MultiGraph | nx.MultiDiGraph:
    """A view with only ``link_types``, followed in ``direction`` (``both`` ignores direction)."""
    if direction not in ("both", "out", "in"):
        raise ValueError(f"direction must be 'both', 'out' or 'in'; got {direction!r}")
    # A copy, not to_undirected's view: the view lists neighbours from a set union, whose order
    # changes with the process's hash seed, and so would the order of equal shortest paths.
    view = nx.MultiGraph(graph) if direction == "both" else graph
    if direction == "in":
        view = graph.reverse(copy=False)
    if link_types is None:
        return view
    wanted = set(link_types)
    return nx.subgraph_view(view, filter_edge=lambda u, v, k: view.edges[u, v, k]["type"] in wanted)


def neighbourhood(
    graph: nx.MultiDiGraph, seeds: Iterable[str], hops: int, link_types: Iterable[str] | None = None
) -> nx.MultiDiGraph:
    """The part of ``graph`` within ``hops`` links of any seed, ignoring direction.

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> g.add_edge("ann", "e1", type="victimIn"); g.add_edge("bob", "e1", type="offenderIn")
    0
    0
    >>> g.add_edge("bob", "e2", type="offenderIn")
    0
    >>> sorted(neighbourhood(g, ["ann"], 2))
    ['ann', 'bob', 'e1']
    """
    view = link_view(graph, link_types)
    keep: set[str] = set()
    for seed in seeds:
        if seed in view:
            keep |= set(nx.single_source_shortest_path_length(view, seed, cutoff=hops))
    return graph.subgraph(keep).copy()


def shortest_paths(
    graph: nx.MultiDiGraph,
    source: str,
    target: str,
    link_types: Iterable[str] | None = None,
    max_hops: int | None = None,
    limit: int = 10,
    direction: Direction = "both",
) -> list[list[str]]:
    """All shortest paths between two entities (node ids), at most ``limit``, in id order.

    ``direction`` is ``both`` (ignore direction), ``out`` (follow links from source to target) or
    ``in`` (follow them backwards); ``link_types`` keeps only those links.

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> for u, v in [("ann", "e1"), ("bob", "e1"), ("bob", "phone"), ("cat", "phone")]:
    ...     _ = g.add_edge(u, v, type="x")
    >>> shortest_paths(g, "ann", "cat")
    [['ann', 'e1', 'bob', 'phone', 'cat']]
    >>> shortest_paths(g, "ann", "cat", max_hops=3)
    []
    >>> shortest_paths(g, "ann", "cat", direction="out")
    []
    >>> shortest_paths(g, "ann", "e1", direction="out", link_types={"x"})
    [['ann', 'e1']]
    """
    view = link_view(graph, link_types, direction)
    if source not in view or target not in view:
        return []
    try:
        paths = []
        for path in nx.all_shortest_paths(view, source, target):
            if max_hops is not None and len(path) - 1 > max_hops:
                return []
            paths.append(path)
            if len(paths) >= max(limit, PATHS_SORTED):
                break
        return sorted(paths)[:limit]
    except nx.NetworkXNoPath:
        return []


@dataclass
class ConnectingNetwork:
    """How several subjects connect: the union of the shortest paths between every pair."""

    subjects: list[str]
    nodes: set[str] = field(default_factory=set)
    paths: dict[tuple[str, str], list[list[str]]] = field(default_factory=dict)
    unconnected: list[tuple[str, str]] = field(default_factory=list)
    intermediaries: list[dict] = field(default_factory=list)

    def subgraph(self, graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
        """The part of ``graph`` on the connecting paths, with every link between those nodes."""
        return graph.subgraph(self.nodes).copy()


def connecting_network(
    graph: nx.MultiDiGraph,
    subjects: Iterable[str],
    link_types: Iterable[str] | None = None,
    max_hops: int | None = None,
    limit: int = 10,
    direction: Direction = "both",
) -> ConnectingNetwork:
    """The network connecting ``subjects``: the shortest paths between each pair, merged.

    Every subject found in the graph is in ``nodes``, connected or not.

    Intermediaries (nodes on a path that are not subjects) are ranked by how many pairs of
    subjects they connect, then by how many paths pass through them: an intermediary shared by
    several pairs is the link an analyst looks at first.

    Examples
    --------
    Ann, Bob and Cat each reach the others only through one phone; Dan is not connected.

    >>> g = nx.MultiDiGraph()
    >>> for person in ("ann", "bob", "cat"):
    ...     _ = g.add_edge(person, "phone", type="uses")
    >>> _ = g.add_edge("ann", "e1", type="victimIn")
    >>> g.add_node("dan")
    >>> found = connecting_network(g, ["ann", "bob", "cat", "dan"])
    >>> found.intermediaries[0]
    {'id': 'phone', 'pairs': 3, 'paths': 3}
    >>> sorted(found.nodes)
    ['ann', 'bob', 'cat', 'dan', 'phone']
    >>> found.unconnected
    [('ann', 'dan'), ('bob', 'dan'), ('cat', 'dan')]
    """
    chosen = list(dict.fromkeys(subjects))
    network = ConnectingNetwork(subjects=chosen, nodes={s for s in chosen if s in graph})
    pairs: Counter[str] = Counter()
    through: Counter[str] = Counter()
    for a, b in combinations(chosen, 2):
        found = shortest_paths(graph, a, b, link_types, max_hops=max_hops, limit=limit, direction=direction)
        if not found:
            network.unconnected.append((a, b))
            continue
        network.paths[(a, b)] = found
        inner = set()
        for path in found:
            network.nodes.update(path)
            inner.update(path[1:-1])
            through.update(n for n in path[1:-1] if n not in chosen)
        pairs.update(n for n in inner if n not in chosen)
    network.intermediaries = [
        {"id": node, "pairs": pairs[node], "paths": through[node]}
        for node in sorted(pairs, key=lambda n: (-pairs[n], -through[n], n))
    ]
    return network
