"""Groups of people held together by strong associations."""

from __future__ import annotations

import networkx as nx

__all__ = ["strong_groups"]


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
