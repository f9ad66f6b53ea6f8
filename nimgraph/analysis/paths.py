"""Neighbourhoods and paths."""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx

__all__ = ["neighbourhood", "shortest_paths"]


def _filtered(graph: nx.MultiDiGraph, link_types: Iterable[str] | None) -> nx.Graph:
    undirected = graph.to_undirected(as_view=True)
    if link_types is None:
        return undirected
    wanted = set(link_types)
    return nx.subgraph_view(undirected, filter_edge=lambda u, v, k: undirected.edges[u, v, k]["type"] in wanted)


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
    view = _filtered(graph, link_types)
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
) -> list[list[str]]:
    """All shortest paths between two entities (node ids), ignoring direction, at most ``limit``.

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> for u, v in [("ann", "e1"), ("bob", "e1"), ("bob", "phone"), ("cat", "phone")]:
    ...     _ = g.add_edge(u, v, type="x")
    >>> shortest_paths(g, "ann", "cat")
    [['ann', 'e1', 'bob', 'phone', 'cat']]
    >>> shortest_paths(g, "ann", "cat", max_hops=3)
    []
    """
    view = _filtered(graph, link_types)
    if source not in view or target not in view:
        return []
    try:
        paths = []
        for path in nx.all_shortest_paths(view, source, target):
            if max_hops is not None and len(path) - 1 > max_hops:
                return []
            paths.append(path)
            if len(paths) >= limit:
                break
        return paths
    except nx.NetworkXNoPath:
        return []
