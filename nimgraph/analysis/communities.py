"""Groups: communities in a projection (Louvain or Leiden), and strong groups.

Louvain comes with networkx. Leiden, which guarantees well-connected communities, comes from
python-igraph, whose Leiden is written in C (bench/RESULTS.md has it 14x faster than networkx's
Louvain and 15x faster than the leidenalg package on a 1M-node projection, with the same
modularity). Both are seeded, so a graph always splits the same way.
"""

from __future__ import annotations

import random
from typing import Literal

import igraph
import networkx as nx

__all__ = ["communities", "modularity", "strong_groups"]

Method = Literal["louvain", "leiden"]


def _leiden(projection: nx.Graph, weight: str, resolution: float, seed: int) -> list[set[str]]:
    nodes = list(projection)
    index = {n: i for i, n in enumerate(nodes)}
    graph = igraph.Graph(n=len(nodes), edges=[(index[u], index[v]) for u, v in projection.edges()])
    weights = [d.get(weight, 1.0) for _, _, d in projection.edges(data=True)]
    # igraph draws from a process-wide generator: lend it a seeded one for this call only. Two
    # refinement rounds, as leidenalg does by default; iterating to a fixed point took 20x as long
    # on a 1M-node projection for the same modularity.
    igraph.set_random_number_generator(random.Random(seed))
    try:
        found = graph.community_leiden(
            objective_function="modularity", weights=weights, resolution=resolution, n_iterations=2
        )
    finally:
        igraph.set_random_number_generator(random)
    return [{nodes[i] for i in members} for members in found]


def communities(
    projection: nx.Graph,
    *,
    method: Method = "louvain",
    weight: str = "weight",
    resolution: float = 1.0,
    seed: int = 0,
    min_size: int = 1,
) -> list[set[str]]:
    """Communities of the projection, largest first, each at least ``min_size`` nodes.

    Examples
    --------
    Two triangles joined by one weak tie split into the two triangles:

    >>> g = nx.Graph()
    >>> g.add_weighted_edges_from([("a", "b", 3), ("b", "c", 3), ("c", "a", 3),
    ...                            ("x", "y", 3), ("y", "z", 3), ("z", "x", 3), ("c", "x", 0.5)])
    >>> [sorted(c) for c in communities(g)]
    [['a', 'b', 'c'], ['x', 'y', 'z']]
    """
    if method == "louvain":
        found = nx.community.louvain_communities(projection, weight=weight, resolution=resolution, seed=seed)
    elif method == "leiden":
        found = _leiden(projection, weight, resolution, seed)
    else:
        raise ValueError(f"method must be 'louvain' or 'leiden'; got {method!r}")
    groups = [set(c) for c in found if len(c) >= min_size]
    return sorted(groups, key=lambda c: (-len(c), sorted(c)))


def modularity(projection: nx.Graph, groups: list[set[str]], *, weight: str = "weight") -> float:
    """How much more the groups hold together than chance (higher is better; nodes left out form singletons).

    >>> g = nx.Graph([("a", "b"), ("c", "d")])
    >>> modularity(g, [{"a", "b"}, {"c", "d"}])
    0.5
    """
    covered = set().union(*groups) if groups else set()
    partition = [*groups, *({n} for n in projection if n not in covered)]
    return round(nx.community.modularity(projection, partition, weight=weight), 6)


def strong_groups(projection: nx.Graph, *, min_strength: float = 2.0, min_size: int = 3) -> list[set[str]]:
    """Connected groups in the projection when only ties of ``min_strength`` or more are kept.

    One shared incident is a weak tie; repeated co-offending, a shared address or a shared phone
    make strong ones. Largest group first.

    Examples
    --------
    >>> p = nx.Graph()
    >>> p.add_weighted_edges_from([("a", "b", 3.0), ("b", "c", 2.5), ("c", "victim", 1.0), ("x", "y", 4.0)])
    >>> [sorted(g) for g in strong_groups(p)]
    [['a', 'b', 'c']]
    >>> [sorted(g) for g in strong_groups(p, min_size=2)]
    [['a', 'b', 'c'], ['x', 'y']]
    """
    strong = nx.Graph()
    strong.add_edges_from((u, v) for u, v, w in projection.edges(data="weight") if w >= min_strength)
    groups = [set(c) for c in nx.connected_components(strong) if len(c) >= min_size]
    return sorted(groups, key=lambda g: (-len(g), sorted(g)))
