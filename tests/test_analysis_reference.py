"""Headline results recomputed a second way, with pandas joins over the links, on the generated demo.

The analysis walks NetworkX graphs; these tests read the same links into tables and join them,
so an error in either way of counting shows up as a disagreement.
"""

from __future__ import annotations

import pandas as pd
import pytest

from nimgraph.analysis.association import person_projection
from nimgraph.analysis.build import to_networkx
from nimgraph.analysis.inference import predict_associations
from nimgraph.analysis.repeats import rank_areas, repeat_people
from nimgraph.ontology import Core
from nimgraph.products.common import association_weights


def _links(demo, types: set[str]) -> pd.DataFrame:
    sub = demo.store.subgraph(types)
    rows = [{"source": k.source, "target": k.target, "type": k.type} for k in sub.links.values()]
    return pd.DataFrame(rows, columns=["source", "target", "type"])


@pytest.fixture(scope="module")
def projection(demo):
    people, links, connectors = association_weights(demo.model)
    involvement = demo.model.descendants(Core.INVOLVED_IN)
    graph = to_networkx(demo.store.subgraph({*involvement, "livesAt", "usesPhone"}))
    return person_projection(graph, person_types=people, link_weights=links, connector_weights=connectors)


def test_shared_events_per_pair_agree_with_a_self_join(demo, projection):
    involved = _links(demo, set(demo.model.descendants(Core.INVOLVED_IN)))[["source", "target"]].drop_duplicates()
    pairs = involved.merge(involved, on="target")
    pairs = pairs[pairs.source_x < pairs.source_y]
    by_join = pairs.groupby(["source_x", "source_y"]).target.nunique().to_dict()
    event_types = set(demo.model.descendants(Core.EVENT))
    by_graph = {}
    for a, b, evidence in projection.edges(data="evidence"):
        shared = {e.via for e in evidence if e.kind in event_types}
        if shared:
            by_graph[tuple(sorted((a, b)))] = len(shared)
    assert len(by_join) > 100  # the demo has plenty of co-involvement to compare
    assert by_graph == by_join


def test_repeat_victims_agree_with_a_group_by(demo):
    victim_links = set(demo.model.descendants(Core.VICTIM_IN))
    victims = _links(demo, victim_links).drop_duplicates(["source", "target"])
    counts = victims.groupby("source").target.nunique()
    by_group = counts[counts >= 2].to_dict()
    graph = to_networkx(demo.store.subgraph(victim_links))
    by_graph = {r.id: r.count for r in repeat_people(graph, victim_links)}
    assert by_group and by_graph == by_group


def test_area_volumes_agree_with_a_join_through_containment(demo):
    at = _links(demo, {Core.OCCURRED_AT})
    within = _links(demo, {Core.WITHIN})
    joined = at.merge(within, left_on="target", right_on="source", suffixes=("", "_area"))
    lsoas = {e.id for e in demo.store.find("LSOA", limit=1000)}
    joined = joined[joined.target_area.isin(lsoas)]
    by_join = joined.groupby("target_area").source.nunique().to_dict()
    graph = to_networkx(demo.store.subgraph({Core.OCCURRED_AT, Core.WITHIN}))
    by_graph = {r.id: r.count for r in rank_areas(graph, {Core.OCCURRED_AT}, {Core.WITHIN}, {"LSOA"})}
    assert len(by_join) == len(lsoas) and by_graph == by_join


def test_common_neighbour_scores_agree_with_an_adjacency_join(projection):
    edges = pd.DataFrame(list(projection.edges()), columns=["a", "b"])
    both = pd.concat([edges, edges.rename(columns={"a": "b", "b": "a"})])
    paths = both.merge(both, left_on="b", right_on="a", suffixes=("", "_2"))
    paths = paths[paths.a < paths.b_2]
    counts = paths.groupby(["a", "b_2"]).b.nunique()
    adjacent = {tuple(sorted(e)) for e in projection.edges()}
    by_join = {pair: n for pair, n in counts.items() if n >= 2 and pair not in adjacent}
    found = predict_associations(projection, method="common_neighbours", min_shared=2, top=10**6)
    by_graph = {(i.source, i.target): int(i.score) for i in found}
    assert by_join and by_graph == by_join
