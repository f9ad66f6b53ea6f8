"""Centrality on an explicit projection, e.g. the person-to-person association graph."""

from __future__ import annotations

import networkx as nx

__all__ = ["key_individuals"]

EXACT_BETWEENNESS_LIMIT = 2000


def key_individuals(projection: nx.Graph, *, weight: str = "weight", top: int = 10, seed: int = 0) -> list[dict]:
    """Rank people by betweenness (brokers), with degree and weighted degree beside it.

    Betweenness is exact below ``EXACT_BETWEENNESS_LIMIT`` nodes and sampled with ``seed`` above.
    Strength is a weight, so betweenness uses ``1/weight`` as the distance: strong ties are short.

    Examples
    --------
    A broker joins two pairs:

    >>> p = nx.Graph([("a", "b"), ("b", "broker"), ("broker", "c"), ("c", "d")])
    >>> [row["person"] for row in key_individuals(p, top=1)]
    ['broker']
    """
    distance = {(u, v): 1.0 / max(d.get(weight, 1.0), 1e-9) for u, v, d in projection.edges(data=True)}
    nx.set_edge_attributes(projection, distance, "_distance")
    k = None if projection.number_of_nodes() <= EXACT_BETWEENNESS_LIMIT else EXACT_BETWEENNESS_LIMIT
    betweenness = nx.betweenness_centrality(projection, k=k, weight="_distance", seed=seed)
    rows = [
        {
            "person": node,
            "betweenness": round(betweenness[node], 6),
            "degree": projection.degree(node),
            "weighted_degree": round(projection.degree(node, weight=weight), 6),
        }
        for node in projection
    ]
    rows.sort(key=lambda r: (-r["betweenness"], -r["weighted_degree"], r["person"]))
    return rows[:top]
