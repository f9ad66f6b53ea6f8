"""The two engines behind every ranking give the same numbers, weighted or not, sampled or exact."""

from __future__ import annotations

import random

import networkx as nx
import pytest

from nimgraph.analysis import measures
from nimgraph.analysis.measures import MEASURES, scores


@pytest.fixture(scope="module")
def weighted_graph() -> nx.Graph:
    graph = nx.gnm_random_graph(300, 700, seed=1)
    graph.add_nodes_from(range(300, 305))  # isolated people
    graph.add_edges_from([(400, 401), (401, 402), (500, 501)])  # small separate groups
    draw = random.Random(2)
    for u, v in graph.edges():
        graph[u][v]["weight"] = draw.choice([0.5, 1.0, 1.5, 2.0])
    return nx.relabel_nodes(graph, lambda n: f"Person-{n}")


@pytest.mark.parametrize("weighted", [True, False])
def test_igraph_and_networkx_agree_on_every_measure(weighted_graph: nx.Graph, weighted: bool):
    for measure in MEASURES:
        by_networkx = scores(weighted_graph, measure, weighted=weighted, engine="networkx").values
        by_igraph = scores(weighted_graph, measure, weighted=weighted, engine="igraph").values
        assert set(by_networkx) == set(by_igraph)
        # weighted betweenness: float sums of 1/weight decide ties between equal-length paths slightly differently
        tolerance = 2e-3 if measure == "betweenness" and weighted else 1e-4
        for node, value in by_networkx.items():
            assert by_igraph[node] == pytest.approx(value, abs=tolerance), (measure, node)


def test_weighted_measures_use_distance_one_over_weight(weighted_graph: nx.Graph):
    distance = {(u, v): 1 / w for u, v, w in weighted_graph.edges(data="weight")}
    graph = weighted_graph.copy()
    nx.set_edge_attributes(graph, distance, "length")
    expected = {
        "betweenness": nx.betweenness_centrality(graph, weight="length"),
        "closeness": nx.closeness_centrality(graph, distance="length"),
        "weighted_degree": dict(graph.degree(weight="weight")),
        "pagerank": nx.pagerank(graph, weight="weight"),
    }
    for measure, values in expected.items():
        got = scores(weighted_graph, measure, engine="networkx").values
        for node, value in values.items():
            assert got[node] == pytest.approx(value, abs=1e-5), (measure, node)


def test_sampled_betweenness_estimates_as_networkx_does(weighted_graph: nx.Graph, monkeypatch):
    monkeypatch.setattr(measures, "EXACT_BETWEENNESS_LIMIT", 10)
    for weighted in (True, False):
        by_networkx = scores(weighted_graph, "betweenness", weighted=weighted, engine="networkx", pivots=100, seed=3)
        by_igraph = scores(weighted_graph, "betweenness", weighted=weighted, engine="igraph", pivots=100, seed=3)
        assert by_networkx.pivots == by_igraph.pivots == 100
        exact = scores(weighted_graph, "betweenness", weighted=weighted, engine="networkx", pivots=10_000)
        top = sorted(exact.values, key=exact.values.get, reverse=True)[:5]
        for node in top:  # the estimate keeps the brokers on top, on either engine, near the exact value
            assert by_igraph.values[node] == pytest.approx(by_networkx.values[node], abs=5e-3)
            assert by_igraph.values[node] == pytest.approx(exact.values[node], rel=0.5)


def test_a_large_estimate_shared_among_workers_is_the_same(weighted_graph: nx.Graph, monkeypatch):
    monkeypatch.setattr(measures, "EXACT_BETWEENNESS_LIMIT", 10)
    monkeypatch.setattr(measures, "PARALLEL_FROM", 10)
    for weighted in (True, False):
        alone = scores(weighted_graph, "betweenness", weighted=weighted, engine="igraph", pivots=60, seed=5)
        shared = scores(weighted_graph, "betweenness", weighted=weighted, engine="igraph", pivots=60, seed=5, workers=2)
        assert shared.values == pytest.approx(alone.values, abs=1e-6)
        assert max(shared.values.values()) > 0
