"""The analysis library on small graphs with planted, known answers; accepted inferences on both stores."""

from __future__ import annotations

import random

import networkx as nx
import pytest

from nimgraph.analysis import centrality as centrality_module
from nimgraph.analysis.association import Recency, associations
from nimgraph.analysis.centrality import centrality, key_individuals
from nimgraph.analysis.communities import communities, modularity
from nimgraph.analysis.inference import predict_associations
from nimgraph.analysis.paths import connecting_network, shortest_paths
from nimgraph.analysis.problem_links import problem_links
from nimgraph.analysis.repeats import Point, near_repeats
from nimgraph.analysis.structure import core_numbers, k_core
from nimgraph.analysis.temporal import as_at, changes, during
from nimgraph.inferences import ANALYST_SOURCE, InferenceError, accept, undo
from nimgraph.records import Assertion, Batch, Entity, Link

POLICE = {"source": "police", "record_id": "1", "grade": "1AP", "date": "2026-01-10"}


def _graph(edges: list[tuple[str, str, str]], types: dict[str, str] | None = None) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    for n, t in (types or {}).items():
        g.add_node(n, type=t)
    for i, (u, v, kind) in enumerate(edges):
        g.add_edge(u, v, key=f"l{i}", type=kind, provenance=[dict(POLICE, record_id=str(i))])
    return g


def test_paths_follow_only_the_asked_types_and_direction():
    g = _graph(
        [
            ("ann", "e1", "victimIn"),
            ("bob", "e1", "offenderIn"),
            ("bob", "phone", "usesPhone"),
            ("cat", "phone", "usesPhone"),
            ("ann", "cat", "knows"),
        ]
    )
    assert shortest_paths(g, "ann", "cat") == [["ann", "cat"]]
    assert shortest_paths(g, "ann", "cat", link_types={"victimIn", "offenderIn", "usesPhone"}) == [
        ["ann", "e1", "bob", "phone", "cat"]
    ]
    assert shortest_paths(g, "cat", "ann", direction="out") == []
    assert shortest_paths(g, "cat", "ann", direction="in") == [["cat", "ann"]]
    with pytest.raises(ValueError, match="direction"):
        shortest_paths(g, "ann", "cat", direction="sideways")  # type: ignore[arg-type]


def test_connecting_network_ranks_the_shared_broker_first():
    # Four subjects; "fixer" joins every pair, "van" joins only two of them.
    edges = [(s, "fixer", "knows") for s in ("a", "b", "c", "d")] + [("a", "van", "usesVehicle")]
    edges += [("b", "van", "usesVehicle")]
    found = connecting_network(_graph(edges), ["a", "b", "c", "d"])
    assert found.intermediaries[0] == {"id": "fixer", "pairs": 6, "paths": 6}
    assert found.intermediaries[1]["id"] == "van" and found.intermediaries[1]["pairs"] == 1
    assert not found.unconnected
    assert set(found.subgraph(_graph(edges))) == {"a", "b", "c", "d", "fixer", "van"}


def test_problem_links_carry_their_evidence_records():
    types = {"p1": "Problem", "p2": "Problem", "p3": "Problem", "kim": "Person", "park": "Street"}
    g = _graph([("p1", "kim", "concerns"), ("p2", "kim", "concerns"), ("p2", "park", "concerns")], types)
    g.add_edge("p3", "park", key="x", type="concerns", provenance=[dict(POLICE, record_id="x", source="council")])
    found = problem_links(g, ["p1", "p2", "p3"], shared_types={"Person", "Street"})
    assert [(k.problems, k.strength) for k in found] == [(("p1", "p2"), 1.0), (("p2", "p3"), 1.0)]
    park = found[1].shared[0]
    assert park.id == "park" and {r["source"] for r in park.records} == {"police", "council"}
    assert problem_links(g, ["p1", "p3"], hops=1) == []


def test_association_ranks_family_above_social_above_incidental_and_decays_with_age():
    types = {p: "Person" for p in ("sub", "sis", "mate", "passer")} | {"e1": "Event"}
    g = _graph([("sub", "sis", "familyOf"), ("sub", "mate", "socialContact"), ("sub", "e1", "witnessIn")], types)
    g.add_edge("passer", "e1", key="w", type="witnessIn", provenance=[POLICE])
    weights = {"familyOf": 2.0, "socialContact": 0.75}
    found = associations(g, "sub", person_types={"Person"}, link_weights=weights, connector_weights={"Event": 0.5})
    assert [a.person for a in found] == ["sis", "mate", "passer"]
    old = associations(
        g,
        "sub",
        person_types={"Person"},
        link_weights=weights,
        connector_weights={"Event": 0.5},
        recency=Recency("2028-01-10", 365),
    )
    assert old[0].strength == pytest.approx(found[0].strength / 4)


def test_sampled_betweenness_is_seeded(monkeypatch):
    graph = nx.relabel_nodes(nx.barabasi_albert_graph(300, 2, seed=3), str)
    exact = key_individuals(graph, top=5)
    monkeypatch.setattr(centrality_module, "EXACT_BETWEENNESS_LIMIT", 100)
    first, second = key_individuals(graph, top=5), key_individuals(graph, top=5, seed=0)
    assert first == second
    assert first != exact  # sampled: not the exact figures
    assert exact[0]["person"] in {r["person"] for r in first[:3]}  # but the top broker is still near the top


def test_centrality_and_cores_find_the_planted_hub_and_clique():
    graph = nx.Graph([("hub", f"spoke{i}") for i in range(6)])
    graph.add_edges_from((a, b) for a in "wxyz" for b in "wxyz" if a < b)
    graph.add_edge("hub", "w")
    table = centrality(graph)
    for measure in ("degree", "betweenness", "closeness", "pagerank"):
        assert max(table, key=lambda n, m=measure: table[n][m]) == "hub", measure
    assert k_core(graph) == set("wxyz") and core_numbers(graph)["spoke0"] == 1


@pytest.mark.parametrize("method", ["louvain", "leiden"])
def test_communities_recover_planted_groups(method):
    rng = random.Random(5)
    planted = [{f"g{g}p{i}" for i in range(10)} for g in range(4)]
    graph = nx.Graph()
    for group in planted:
        members = sorted(group)
        graph.add_weighted_edges_from((a, b, 3.0) for a in members for b in members if a < b and rng.random() < 0.6)
    everyone = sorted(set().union(*planted))
    for _ in range(8):  # a few weak ties between groups
        graph.add_edge(rng.choice(everyone), rng.choice(everyone), weight=0.3)
    found = communities(graph, method=method, seed=1)
    assert sorted(map(sorted, found)) == sorted(map(sorted, planted))
    assert modularity(graph, found) > 0.6
    assert communities(graph, method=method, seed=1) == found


def test_near_repeats_cluster_beyond_chance():
    rng = random.Random(11)
    spread = [
        Point(f"r{i}", f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}", 53.7 + rng.random() * 0.2, -1.6)
        for i in range(150)
    ]
    burst = [Point(f"b{i}", f"2026-03-{1 + i:02d}", 53.75 + i * 0.0002, -1.6) for i in range(8)]
    background = near_repeats(spread, metres=150, days=7)
    with_burst = near_repeats(spread + burst, metres=150, days=7)
    assert max(with_burst.chains, key=len)[:8] == [p.id for p in burst] or set(p.id for p in burst) <= set(
        max(with_burst.chains, key=len)
    )
    assert with_burst.knox_ratio > 2 * (background.knox_ratio or 1.0)


def test_windows_and_changes_between_them():
    g = nx.MultiDiGraph()
    g.add_edge("ann", "bob", key="1", type="knows", provenance=[{"date": "2025-03-01"}])
    g.add_edge("bob", "cat", key="2", type="knows", provenance=[{"date": "2026-03-01"}])
    g.add_edge("cat", "dan", key="3", type="knows", provenance=[{"date": "2026-04-01"}])
    g.add_edge("street", "lsoa", key="4", type="within", provenance=[{"date": None}])
    assert sorted(as_at(g, "2025-12-31").edges()) == [("ann", "bob"), ("street", "lsoa")]
    assert sorted(during(g, "2026-01-01", "2026-12-31", include_undated=False).edges()) == [
        ("bob", "cat"),
        ("cat", "dan"),
    ]
    before = nx.Graph(during(g, "2025-01-01", "2025-12-31", include_undated=False).to_undirected())
    after = nx.Graph(during(g, "2026-01-01", "2026-12-31", include_undated=False).to_undirected())
    found = changes(before, after, measure="degree")
    assert found.new == [("bob", "cat"), ("cat", "dan")] and found.lost == [("ann", "bob")]
    assert found.movers[0]["id"] == "cat" and found.movers[0]["change"] == 2


def test_link_prediction_closes_the_planted_triad_without_touching_the_graph():
    projection = nx.Graph([("ann", "x"), ("bob", "x"), ("ann", "y"), ("bob", "y"), ("ann", "z"), ("bob", "z")])
    projection.add_edges_from([("hub", f"h{i}") for i in range(20)] + [("ann", "hub"), ("cat", "hub")])
    before = nx.to_dict_of_dicts(projection)
    for method in ("common_neighbours", "adamic_adar", "resource_allocation"):
        best = predict_associations(projection, method=method, among=["ann"], min_shared=1)[0]
        assert (best.source, best.target) == ("ann", "bob"), method
        assert set(best.evidence) == {"x", "y", "z"}
    assert nx.to_dict_of_dicts(projection) == before


def _person(pid: str, handling: str) -> Entity:
    record = Assertion("police", f"r-{pid}", "p.csv", 2, "2026-01-01", f"1A{handling}", handling)
    return Entity(id=pid, type="Person", properties={"name": pid}, provenance=[record])


def test_an_accepted_inference_is_an_inferred_link_and_can_be_undone(store, model):
    people = [_person("ann", "P"), _person("bob", "P"), _person("cat", "C")]
    knows = [
        Link(id=f"k-{a}", type="knows", source=a, target="cat", provenance=people[2].provenance) for a in ("ann", "bob")
    ]
    store.upsert(Batch(entities=people, links=knows, run="r1"))
    inference = predict_associations(nx.Graph([("ann", "cat"), ("bob", "cat")]), min_shared=1)[0]
    link = accept(store, model, inference, analyst="analyst1")
    assert link.provenance[0].handling == "C"  # the evidence (cat) is C-handled
    stored = store.subgraph({"predictedAssociation"})
    assert list(stored.links) == [inference.id]
    saved = stored.links[inference.id]
    assert saved.properties["reviewStatus"] == "accepted" and saved.properties["acceptedBy"] == "analyst1"
    assert [a.source for a in saved.provenance] == [ANALYST_SOURCE]
    assert store.counts()["links"] == {"knows": 2, "predictedAssociation": 1}
    assert undo(store, inference.id) is True
    assert store.counts()["links"] == {"knows": 2}
    assert {e.id for e in store.find("Person")} == {"ann", "bob", "cat"}  # people stay
    assert undo(store, inference.id) is False
    with pytest.raises(InferenceError, match="recorded link type"):
        accept(store, model, inference, analyst="analyst1", link_type="knows")


def test_triangles_for_one_person_match_the_whole_count():
    from nimgraph.analysis.risk import criminal_triangles

    projection = nx.relabel_nodes(nx.powerlaw_cluster_graph(300, 4, 0.6, seed=2), str)
    parties = {n for n in projection if int(n) % 3}
    whole = {r["person"]: r["triangles"] for r in criminal_triangles(projection, parties)}
    assert max(whole.values()) > 5
    for person in sorted(parties)[:40]:
        one = criminal_triangles(projection, parties, people=[person])
        assert (one[0]["triangles"] if one else 0) == whole.get(person, 0), person
