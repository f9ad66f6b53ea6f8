"""One measure for every node of a projection, on NetworkX or, for large graphs, on igraph.

Both engines give the same numbers (the tests compare them): igraph's routines are written in C
and answer a 100k-node projection in seconds where NetworkX takes minutes, so whole-graph
questions above ``IGRAPH_FROM`` nodes go to igraph, and the answer says which engine ran.
Measures built on distance (betweenness, closeness) take ``1/weight`` as a link's length when
``weighted``: a strong tie is a short one. Betweenness is exact up to ``EXACT_BETWEENNESS_LIMIT``
nodes and estimated from a seeded sample of pivots above it (Brandes and Pich), so the same graph
always ranks the same way.
"""

from __future__ import annotations

import multiprocessing
import random
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Literal

import igraph
import networkx as nx

__all__ = ["DEFINITIONS", "EXACT_BETWEENNESS_LIMIT", "IGRAPH_FROM", "MEASURES", "Scores", "scores"]

Engine = Literal["auto", "networkx", "igraph"]

EXACT_BETWEENNESS_LIMIT = 2000
IGRAPH_FROM = 5000  # nodes; below it NetworkX answers in well under a second
DEFAULT_PIVOTS = 500
PARALLEL_FROM = 20_000  # nodes: below it, starting worker processes costs more than it saves

DEFINITIONS = {
    "degree": "How many others the node is joined to in the projection.",
    "weighted_degree": "The sum of the weights of the node's ties (the ontology's association weights).",
    "betweenness": "How often the node lies on the shortest paths between two others: a broker.",
    "closeness": "How near the node is to everyone it can reach (Wasserman-Faust, scaled by the share reached).",
    "eigenvector": "How well connected the node's own connections are; per connected group, scaled by its size.",
    "pagerank": "PageRank (damping 0.85): importance passed along ties, weighted.",
    "triangles": "How many triangles the node closes: pairs of its associates who are joined to each other.",
    "core_number": "The largest k for which the node is in the k-core (everyone in it has k ties inside it).",
    "clustering": "The share of the node's pairs of associates who are joined to each other (0 to 1).",
}
MEASURES = tuple(DEFINITIONS)
_DISTANCE_MEASURES = {"betweenness", "closeness"}


@dataclass(frozen=True)
class Scores:
    values: dict[str, float]
    engine: str  # "networkx" or "igraph"
    pivots: int | None = None  # betweenness estimated from this many pivots; None when exact
    normalised: bool = True  # betweenness divided by the number of pairs, (n-1)(n-2)/2


def _simple(projection: nx.Graph) -> nx.Graph:
    graph = nx.Graph(projection)
    graph.remove_edges_from(list(nx.selfloop_edges(graph)))
    return graph


def _pivots(graph_size: int, pivots: int | None) -> int | None:
    if graph_size <= EXACT_BETWEENNESS_LIMIT:
        return None
    wanted = pivots or DEFAULT_PIVOTS
    return wanted if wanted < graph_size else None


def _eigenvector_parts(parts: list[list[str]], solve, size: int) -> dict[str, float]:
    """Eigenvector centrality per connected part, each of unit length, scaled by the part's share."""
    values: dict[str, float] = {}
    for part, found in ((p, solve(p)) for p in parts):
        norm = sum(v * v for v in found) ** 0.5 or 1.0
        values.update({n: abs(v) / norm * len(part) / size for n, v in zip(part, found, strict=True)})
    return values


def _networkx(graph: nx.Graph, measure: str, weighted: bool, normalised: bool, k: int | None, seed: int) -> dict:
    weight = "weight" if weighted else None
    if measure in _DISTANCE_MEASURES and weighted:
        nx.set_edge_attributes(graph, {(u, v): 1.0 / max(w, 1e-9) for u, v, w in graph.edges(data="weight")}, "_d")
    distance = "_d" if weighted else None
    if measure == "degree":
        return dict(graph.degree())
    if measure == "weighted_degree":
        return dict(graph.degree(weight="weight"))
    if measure == "betweenness":
        return nx.betweenness_centrality(graph, k=k, normalized=normalised, weight=distance, seed=seed)
    if measure == "closeness":
        return nx.closeness_centrality(graph, distance=distance)
    if measure == "eigenvector":

        def solve(part: list[str]) -> list[float]:
            sub = graph.subgraph(part)
            if sub.number_of_edges() == 0:
                return [0.0] * len(part)
            if len(part) < 3:  # scipy's sparse solver needs three nodes or more
                return [1.0] * len(part)
            found = nx.eigenvector_centrality_numpy(sub, weight=weight)
            return [found[n] for n in part]

        return _eigenvector_parts([sorted(c) for c in nx.connected_components(graph)], solve, len(graph))
    if measure == "pagerank":
        return nx.pagerank(graph, weight=weight) if graph.number_of_edges() else dict.fromkeys(graph, 0.0)
    if measure == "triangles":
        return nx.triangles(graph)
    if measure == "core_number":
        return nx.core_number(graph)
    if measure == "clustering":
        return nx.clustering(graph)
    raise ValueError(f"unknown measure {measure!r}; choose one of {', '.join(MEASURES)}")


def betweenness_from(n: int, edges: list[tuple[int, int]], lengths: list[float] | None, sources: list[int]) -> list:
    """Each node's betweenness over the shortest paths from ``sources`` only: one worker's share.

    Betweenness adds up over sources, so shares computed apart sum to the whole.

    >>> path = [(0, 1), (1, 2), (2, 3)]
    >>> [a + b for a, b in zip(betweenness_from(4, path, None, [0, 1]), betweenness_from(4, path, None, [2, 3]))]
    [0.0, 2.0, 2.0, 0.0]
    """
    return igraph.Graph(n=n, edges=edges).betweenness(directed=False, weights=lengths, sources=sources)


def _betweenness_in_workers(
    n: int, edges: list[tuple[int, int]], lengths: list[float] | None, sources: list[int], workers: int
) -> list[float]:
    """The sources' betweenness, shared among ``workers`` fresh processes (spawned: a server's
    threads and open files never pass into them), summed."""
    shares = [sources[i::workers] for i in range(workers) if sources[i::workers]]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=len(shares), mp_context=context) as pool:
        parts = list(pool.map(betweenness_from, *zip(*((n, edges, lengths, share) for share in shares), strict=True)))
    return [sum(values) for values in zip(*parts, strict=True)]


def _igraph(
    graph: nx.Graph, measure: str, weighted: bool, normalised: bool, k: int | None, seed: int, workers: int = 1
) -> dict:
    nodes = list(graph)
    index = {n: i for i, n in enumerate(nodes)}
    kept = [(u, v, w) for u, v, w in graph.edges(data="weight", default=1.0) if u != v]  # no self-ties
    g = igraph.Graph(n=len(nodes), edges=[(index[u], index[v]) for u, v, _ in kept])
    strengths = [float(w) for _, _, w in kept]
    g.es["w"] = strengths
    weights = strengths if weighted else None
    distances = [1.0 / max(w, 1e-9) for w in strengths] if weighted else None
    n = len(nodes)
    if measure == "degree":
        found = g.degree()
    elif measure == "weighted_degree":
        found = g.strength(weights=strengths)
    elif measure == "betweenness":
        if k is None:
            raw = g.betweenness(directed=False, weights=distances)
        else:
            # Pivots as sources, every node as a target: the pivots' dependencies, summed (igraph counts
            # each undirected path once), scaled up by n/k: the pivots NetworkX would draw, its estimate.
            sources = random.Random(seed).sample(range(n), k)
            if workers > 1 and n >= PARALLEL_FROM:
                summed = _betweenness_in_workers(n, g.get_edgelist(), distances, sources, workers)
            else:
                summed = g.betweenness(directed=False, weights=distances, sources=sources)
            raw = [b * n / k for b in summed]
        scale = 2 / ((n - 1) * (n - 2)) if normalised and n > 2 else 1.0
        found = [b * scale for b in raw]
    elif measure == "closeness":
        # igraph scales by the nodes each reaches; NetworkX (Wasserman-Faust) also by their share of all
        found = [0.0] * n
        for part in g.connected_components():
            if len(part) < 2:
                continue
            sub = g.induced_subgraph(part)
            lengths = [1.0 / max(w, 1e-9) for w in sub.es["w"]] if weighted else None
            for vertex, value in zip(part, sub.closeness(weights=lengths, normalized=True), strict=True):
                found[vertex] = (value or 0.0) * (len(part) - 1) / (n - 1)
    elif measure == "eigenvector":

        def solve(part: list[int]) -> list[float]:
            sub = g.induced_subgraph(part)
            if sub.ecount() == 0:
                return [0.0] * len(part)
            if len(part) < 3:
                return [1.0] * len(part)
            return sub.eigenvector_centrality(weights=sub.es["w"] if weighted else None, scale=True)

        by_index = _eigenvector_parts([list(p) for p in g.connected_components()], solve, n)
        found = [by_index[i] for i in range(n)]
    elif measure == "pagerank":
        found = g.pagerank(weights=weights, damping=0.85) if g.ecount() else [0.0] * n
    elif measure == "triangles":
        found = [0] * n
        for triangle in g.list_triangles():
            for vertex in triangle:
                found[vertex] += 1
    elif measure == "core_number":
        found = g.coreness()
    elif measure == "clustering":
        found = g.transitivity_local_undirected(mode="zero")
    else:
        raise ValueError(f"unknown measure {measure!r}; choose one of {', '.join(MEASURES)}")
    return dict(zip(nodes, found, strict=True))


def scores(
    projection: nx.Graph,
    measure: str,
    *,
    weighted: bool = True,
    normalised: bool = True,
    engine: Engine = "auto",
    pivots: int | None = None,
    seed: int = 0,
    workers: int = 1,
) -> Scores:
    """``measure`` for every node of ``projection`` (an undirected graph with a ``weight`` on each edge).

    ``engine="auto"`` uses igraph from ``IGRAPH_FROM`` nodes. ``normalised`` applies to
    betweenness only (the others are as defined in ``DEFINITIONS``). ``workers`` processes share an
    estimated betweenness on igraph from ``PARALLEL_FROM`` nodes; the answer is the same.

    Examples
    --------
    A broker between two pairs, on either engine:

    >>> p = nx.Graph([("a", "b"), ("b", "broker"), ("broker", "c"), ("c", "d")])
    >>> s = scores(p, "betweenness", normalised=False)
    >>> max(s.values, key=s.values.get), s.values["broker"], s.engine
    ('broker', 4.0, 'networkx')
    >>> scores(p, "betweenness", normalised=False, engine="igraph").values["broker"]
    4.0
    >>> scores(nx.Graph([("a", "b"), ("b", "c"), ("c", "a")]), "triangles", engine="igraph").values
    {'a': 1, 'b': 1, 'c': 1}
    """
    if measure not in DEFINITIONS:
        raise ValueError(f"unknown measure {measure!r}; choose one of {', '.join(MEASURES)}")
    if projection.number_of_nodes() == 0:
        return Scores({}, "networkx", None, normalised)
    size = projection.number_of_nodes()
    use = engine if engine != "auto" else ("igraph" if size >= IGRAPH_FROM else "networkx")
    k = _pivots(size, pivots) if measure == "betweenness" else None
    # Equal weights give the same shortest paths as none, and a breadth-first search is several
    # times faster than Dijkstra's (a projection joined by one link type has equal weights).
    strengths = {w for _, _, w in projection.edges(data="weight", default=1.0)}
    by_weight = weighted and len(strengths) > 1
    if measure == "closeness" and weighted and len(strengths) == 1:
        by_weight = True  # closeness is measured in distance units: equal weights still scale it
    if use == "igraph":
        values = _igraph(projection, measure, by_weight, normalised, k, seed, workers)
    else:
        graph = _simple(projection)
        for _, _, data in graph.edges(data=True):
            data.setdefault("weight", 1.0)
        values = _networkx(graph, measure, by_weight, normalised, k, seed)
    return Scores({n: _clean(v) for n, v in values.items()}, use, k, normalised)


def _clean(value: float) -> float:
    """Rounded to six places, so numbers equal in exact arithmetic tie, whichever engine summed them."""
    if isinstance(value, int):
        return value
    return 0.0 if value != value else round(float(value), 6)  # NaN (an isolated node) is 0
