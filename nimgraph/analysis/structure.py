"""Cohesion: k-cores, triangles and clustering on a projection."""

from __future__ import annotations

import networkx as nx

__all__ = ["clustering", "core_numbers", "k_core", "triangles"]


def _simple(projection: nx.Graph) -> nx.Graph:
    """networkx's core and triangle routines need a simple graph without self-loops."""
    graph = nx.Graph(projection)
    graph.remove_edges_from(list(nx.selfloop_edges(graph)))
    return graph


def core_numbers(projection: nx.Graph) -> dict[str, int]:
    """The largest k for which each node is in the k-core.

    >>> g = nx.complete_graph(["a", "b", "c", "d"]); g.add_edge("d", "tail")
    >>> core_numbers(g)["a"], core_numbers(g)["tail"]
    (3, 1)
    """
    return nx.core_number(_simple(projection))


def k_core(projection: nx.Graph, k: int | None = None) -> set[str]:
    """The nodes of the k-core (the innermost core when ``k`` is None): a tightly knit group.

    >>> g = nx.complete_graph(["a", "b", "c", "d"]); g.add_edge("d", "tail")
    >>> sorted(k_core(g))
    ['a', 'b', 'c', 'd']
    """
    return set(nx.k_core(_simple(projection), k=k))


def triangles(projection: nx.Graph) -> dict[str, int]:
    """How many triangles each node closes: everyone in a triangle knows both of the others.

    >>> triangles(nx.Graph([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")]))
    {'a': 1, 'b': 1, 'c': 1, 'd': 0}
    """
    return nx.triangles(_simple(projection))


def clustering(projection: nx.Graph, weight: str | None = None) -> dict[str, float]:
    """The clustering coefficient: how many of a node's associates know each other.

    >>> clustering(nx.Graph([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")]))["c"]
    0.333333
    """
    return {n: round(v, 6) for n, v in nx.clustering(_simple(projection), weight=weight).items()}
