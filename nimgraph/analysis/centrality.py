"""Centrality on an explicit projection, e.g. the person-to-person association graph.

Strength is a weight, so measures built on distance (betweenness, closeness) use ``1/weight``:
strong ties are short. Betweenness is exact up to ``EXACT_BETWEENNESS_LIMIT`` nodes and sampled
from that many pivots, with a seed, above it, so the same graph always ranks the same way.
"""

from __future__ import annotations

import networkx as nx

__all__ = ["EXACT_BETWEENNESS_LIMIT", "centrality", "key_individuals"]

EXACT_BETWEENNESS_LIMIT = 2000
MEASURES = ("degree", "weighted_degree", "betweenness", "closeness", "eigenvector", "pagerank")


def _with_distance(projection: nx.Graph, weight: str) -> nx.Graph:
    distances = {(u, v): 1.0 / max(d.get(weight, 1.0), 1e-9) for u, v, d in projection.edges(data=True)}
    graph = projection.copy()
    nx.set_edge_attributes(graph, distances, "_distance")
    return graph


def _betweenness(graph: nx.Graph, seed: int) -> dict[str, float]:
    k = None if graph.number_of_nodes() <= EXACT_BETWEENNESS_LIMIT else EXACT_BETWEENNESS_LIMIT
    return nx.betweenness_centrality(graph, k=k, weight="_distance", seed=seed)


def _eigenvector(graph: nx.Graph, weight: str) -> dict[str, float]:
    """Per connected component, so a graph of separate groups still gets an answer."""
    scores: dict[str, float] = {}
    for component in nx.connected_components(graph):
        part = graph.subgraph(component)
        if part.number_of_edges() == 0:
            scores.update(dict.fromkeys(component, 0.0))
            continue
        if len(component) < 3:  # scipy's sparse solver needs three nodes or more
            found = dict.fromkeys(component, 1 / len(component) ** 0.5)
        else:
            found = nx.eigenvector_centrality_numpy(part, weight=weight)
        share = len(component) / graph.number_of_nodes()
        scores.update({n: abs(v) * share for n, v in found.items()})
    return scores


def centrality(projection: nx.Graph, *, weight: str = "weight", seed: int = 0) -> dict[str, dict[str, float]]:
    """Every measure for every node: degree, weighted degree, betweenness, closeness, eigenvector, PageRank.

    Eigenvector centrality is computed per connected component and scaled by the component's share
    of the nodes, so a small separate pair does not outrank the centre of a large group.

    Examples
    --------
    A star: the hub leads on every measure.

    >>> star = nx.star_graph(4)
    >>> table = centrality(nx.relabel_nodes(star, str))
    >>> [max(table, key=lambda n: table[n][m]) for m in ("degree", "betweenness", "closeness", "pagerank")]
    ['0', '0', '0', '0']
    >>> table["0"]["degree"], table["1"]["betweenness"]
    (4, 0.0)
    """
    if projection.number_of_nodes() == 0:
        return {}
    graph = _with_distance(projection, weight)
    betweenness = _betweenness(graph, seed)
    closeness = nx.closeness_centrality(graph, distance="_distance")
    eigenvector = _eigenvector(graph, weight)
    pagerank = nx.pagerank(graph, weight=weight) if graph.number_of_edges() else dict.fromkeys(graph, 0.0)
    return {
        node: {
            "degree": graph.degree(node),
            "weighted_degree": round(graph.degree(node, weight=weight), 6),
            "betweenness": round(betweenness[node], 6),
            "closeness": round(closeness[node], 6),
            "eigenvector": round(eigenvector[node], 6),
            "pagerank": round(pagerank[node], 6),
        }
        for node in graph
    }


def key_individuals(projection: nx.Graph, *, weight: str = "weight", top: int = 10, seed: int = 0) -> list[dict]:
    """Rank people by betweenness (brokers), with degree and weighted degree beside it.

    Examples
    --------
    A broker joins two pairs:

    >>> p = nx.Graph([("a", "b"), ("b", "broker"), ("broker", "c"), ("c", "d")])
    >>> [row["person"] for row in key_individuals(p, top=1)]
    ['broker']
    """
    graph = _with_distance(projection, weight)
    betweenness = _betweenness(graph, seed)
    rows = [
        {
            "person": node,
            "betweenness": round(betweenness[node], 6),
            "degree": graph.degree(node),
            "weighted_degree": round(graph.degree(node, weight=weight), 6),
        }
        for node in graph
    ]
    rows.sort(key=lambda r: (-r["betweenness"], -r["weighted_degree"], r["person"]))
    return rows[:top]
