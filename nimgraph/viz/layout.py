"""Positions for large drawings, computed on the server so the browser draws at once.

A browser running vis-network's physics on 2,000 nodes takes over ten seconds to settle on two
cores (bench/RESULTS.md); igraph's Fruchterman-Reingold, in C, lays out the same graph in a
fraction of a second. Seeded, so a graph is drawn the same way every time.
"""

from __future__ import annotations

import math
import random

import igraph
import networkx as nx

SPACING = 60.0  # pixels per node on the side of the square the layout fills


def precomputed_positions(graph: nx.MultiDiGraph | nx.Graph, seed: int = 0) -> dict[str, tuple[float, float]]:
    """Pixel positions for every node, spread over a square that grows with the node count.

    >>> g = nx.path_graph(["a", "b", "c"])
    >>> positions = precomputed_positions(g)
    >>> sorted(positions) == ["a", "b", "c"] and positions == precomputed_positions(g)
    True
    """
    nodes = sorted(graph)
    if not nodes:
        return {}
    index = {n: i for i, n in enumerate(nodes)}
    edges = {tuple(sorted((index[u], index[v]))) for u, v in graph.edges() if u != v}
    layout_graph = igraph.Graph(n=len(nodes), edges=sorted(edges))
    # igraph draws from a process-wide generator: lend it a seeded one for this call only
    igraph.set_random_number_generator(random.Random(seed))
    try:
        layout = layout_graph.layout_fruchterman_reingold(niter=500, grid="auto")
    finally:
        igraph.set_random_number_generator(random)
    xs, ys = zip(*layout.coords, strict=True)
    span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1.0
    side = SPACING * math.sqrt(len(nodes))
    return {
        node: (round((x - min(xs)) / span * side, 1), round((y - min(ys)) / span * side, 1))
        for node, (x, y) in zip(nodes, layout.coords, strict=True)
    }
