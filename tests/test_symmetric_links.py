"""Symmetric link types: declared in the ontology, stored once per unordered pair, counted once.

A relation listed both ways (A knows B in one record, B knows A in another) is one link whose
provenance holds both records, on each store; association strength counts it as one link, also
when a store still holds both directions from before links were oriented.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import networkx as nx
import pytest

from nimgraph.analysis.association import associations, person_projection
from nimgraph.analysis.build import reliability, to_networkx
from nimgraph.analysis.projection import project
from nimgraph.ids import link_id
from nimgraph.ingest.engine import ingest_file
from nimgraph.ingest.spec import load_spec
from nimgraph.ontology import ONTOLOGY_DIR, Model, OntologyError, load_model
from nimgraph.products.common import association_weights, people_projection
from nimgraph.products.connections import person_associations
from nimgraph.records import Assertion, Batch, Link

KNOWS_SPEC = """\
source: {name: intel-associations}
grading: {default: 2BC}
record_id: URN
entities:
  subject: {type: Person, keys: [Subject], namespace: nominal, properties: {nominalId: Subject}}
  associate: {type: Person, keys: [Associate], namespace: nominal, properties: {nominalId: Associate}}
links:
  - {type: knows, from: subject, to: associate}
"""


def load(store, model: Model, tmp_path: Path, name: str, spec: str, rows: list[list[str]]):
    (tmp_path / f"{name}.yaml").write_text(spec, encoding="utf-8")
    data = tmp_path / f"{name}.csv"
    with data.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return ingest_file(store, model, load_spec(tmp_path / f"{name}.yaml", model), data, rejects_dir=tmp_path)


def person(store, nominal: str) -> str:
    found = [e.id for e in store.find("Person", nominal) if e.properties.get("nominalId") == nominal]
    assert len(found) == 1, found
    return found[0]


# ---------------------------------------------------------------- the ontology


def test_person_to_person_associations_are_symmetric_and_parent_of_is_directional(model):
    symmetric = {name for name, link in model.links.items() if link.symmetric}
    assert {"associatedWith", "knows", "familyOf", "livesWith", "socialContact", "phoneContact"} <= symmetric
    assert model.descendants("associatedWith") - {"parentOf"} <= symmetric
    assert model.links["parentOf"].asymmetric and not model.links["parentOf"].symmetric
    assert model.is_a("parentOf", "familyOf")
    for name in ("victimIn", "livesAt", "usesPhone", "handlerOf", "guardianOf", "officerInCase", "mentions"):
        assert not model.links[name].symmetric, name


def test_oriented_puts_a_symmetric_pair_in_id_order_and_leaves_others_alone(model):
    assert model.oriented("knows", "Person-b", "Person-a") == ("Person-a", "Person-b")
    assert model.oriented("knows", "Person-a", "Person-b") == ("Person-a", "Person-b")
    assert model.oriented("familyOf", "Person-z", "Person-y") == ("Person-y", "Person-z")
    assert model.oriented("parentOf", "Person-z", "Person-y") == ("Person-z", "Person-y")
    assert model.oriented("victimIn", "Person-z", "Event-a") == ("Person-z", "Event-a")
    with pytest.raises(KeyError, match="unknown link type 'knowz'"):
        model.oriented("knowz", "a", "b")


def _ontology_with(tmp_path: Path, extra: str) -> Path:
    for path in ONTOLOGY_DIR.glob("*.ttl"):
        shutil.copy(path, tmp_path / path.name)
    nim = tmp_path / "nim.ttl"
    nim.write_text(nim.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return tmp_path


def test_a_sub_link_of_a_symmetric_link_must_say_which_it_is(tmp_path):
    undeclared = """
nim:cousinOf a owl:ObjectProperty ; rdfs:subPropertyOf nim:familyOf ; rdfs:label "cousin of" ;
    rdfs:domain nim:Person ; rdfs:range nim:Person .
"""
    with pytest.raises(OntologyError, match="'cousinOf' is a sub-link of the symmetric 'familyOf'"):
        load_model(_ontology_with(tmp_path, undeclared))
    declared = undeclared.replace("owl:ObjectProperty ;", "owl:ObjectProperty, owl:SymmetricProperty ;")
    assert load_model(_ontology_with(tmp_path, declared)).links["cousinOf"].symmetric


def test_a_symmetric_link_joins_one_type_to_itself(tmp_path):
    lopsided = """
nim:nearTo a owl:ObjectProperty, owl:SymmetricProperty ; rdfs:label "near" ;
    rdfs:domain nim:Person ; rdfs:range nim:Location .
"""
    with pytest.raises(OntologyError, match="symmetric link type 'nearTo' runs from Person to Location"):
        load_model(_ontology_with(tmp_path, lopsided))


def test_a_link_cannot_be_both_symmetric_and_asymmetric(tmp_path):
    both = """
nim:oddOf a owl:ObjectProperty, owl:SymmetricProperty, owl:AsymmetricProperty ; rdfs:label "odd" ;
    rdfs:domain nim:Person ; rdfs:range nim:Person .
"""
    with pytest.raises(OntologyError, match="'oddOf' is declared both symmetric and asymmetric"):
        load_model(_ontology_with(tmp_path, both))


# ---------------------------------------------------------------- stored once, on both stores


def test_a_pair_listed_both_ways_is_one_link_with_both_records(store, model, tmp_path):
    rows = [["URN", "Subject", "Associate"], ["R1", "N1", "N2"], ["R2", "N2", "N1"]]
    report = load(store, model, tmp_path, "intel", KNOWS_SPEC, rows)
    assert report.rows_rejected == 0

    links = list(store.subgraph(["knows"]).links.values())
    assert len(links) == 1
    link = links[0]
    assert link.source < link.target and {link.source, link.target} == {person(store, "N1"), person(store, "N2")}
    assert link.id == link_id("knows", link.source, link.target)
    assert sorted(a.record_id for a in link.provenance) == ["R1", "R2"]


def test_association_strength_counts_the_pair_once(store, model, tmp_path):
    rows = [["URN", "Subject", "Associate"], ["R1", "N1", "N2"], ["R2", "N2", "N1"]]
    load(store, model, tmp_path, "intel", KNOWS_SPEC, rows)
    one_link = model.association_weight("knows") * reliability([{"grade": "2BC"}])
    for me, them in (("N1", "N2"), ("N2", "N1")):
        _, found = person_associations(store, model, person(store, me), 2, None, lambda _: True)
        assert [a.person for a in found] == [person(store, them)]
        assert found[0].strength == pytest.approx(one_link)  # not twice
        assert len(found[0].evidence) == 1
        assert sorted(r["record_id"] for r in found[0].evidence[0].records) == ["R1", "R2"]


def test_two_records_in_one_direction_weigh_the_same_as_two_in_opposite_directions(embedded_store, model, tmp_path):
    rows = [["URN", "Subject", "Associate"], ["R1", "N1", "N2"], ["R2", "N1", "N2"]]
    load(embedded_store, model, tmp_path, "intel", KNOWS_SPEC, rows)
    _, same_way = person_associations(embedded_store, model, person(embedded_store, "N1"), 2, None, lambda _: True)
    load(embedded_store, model, tmp_path, "intel", KNOWS_SPEC, [rows[0], rows[1], ["R2", "N2", "N1"]])
    _, both_ways = person_associations(embedded_store, model, person(embedded_store, "N1"), 2, None, lambda _: True)
    assert both_ways[0].strength == pytest.approx(same_way[0].strength)
    assert len(embedded_store.subgraph(["knows"]).links) == 1


def _legacy_reversed_link(store, model: Model, source: str, record_id: str) -> Link:
    """The link the mapper made of "N2 knows N1" before links were oriented: ends as the row gave them."""
    n1, n2 = person(store, "N1"), person(store, "N2")
    later, earlier = max(n1, n2), min(n1, n2)  # the non-canonical direction
    assert model.oriented("knows", later, earlier) == (earlier, later)
    record = Assertion(source, record_id, "intel.csv", 3, None, "2BC", "C")
    return Link(link_id("knows", later, earlier), "knows", later, earlier, {}, [record])


def test_both_directions_stored_before_do_not_double_the_strength(store, model, tmp_path):
    rows = [["URN", "Subject", "Associate"], ["R1", "N1", "N2"]]
    load(store, model, tmp_path, "intel", KNOWS_SPEC, rows)
    store.upsert(Batch(links=[_legacy_reversed_link(store, model, "legacy-intel", "L9")], run="before-orienting"))
    assert len(store.subgraph(["knows"]).links) == 2  # data from before: both directions

    _, found = person_associations(store, model, person(store, "N1"), 2, None, lambda _: True)
    assert found[0].strength == pytest.approx(model.association_weight("knows") * reliability([{"grade": "2BC"}]))
    assert len(found[0].evidence) == 1 and len(found[0].evidence[0].links) == 2
    assert sorted(r["record_id"] for r in found[0].evidence[0].records) == ["L9", "R1"]

    graph = to_networkx(store.subgraph(["knows"]), model)
    weights = people_projection(graph, model)
    assert weights.edges[person(store, "N1"), person(store, "N2")]["weight"] == pytest.approx(found[0].strength)


def test_re_ingesting_the_source_replaces_a_link_stored_the_other_way_before(store, model, tmp_path):
    """The migration for a store written before links were oriented: run the source's files again."""
    rows = [["URN", "Subject", "Associate"], ["R1", "N1", "N2"], ["R2", "N2", "N1"]]
    load(store, model, tmp_path, "intel", KNOWS_SPEC, rows)
    legacy = _legacy_reversed_link(store, model, "intel-associations", "R2")
    store.upsert(Batch(links=[legacy], run="before-orienting"))  # R2 as the old mapper wrote it
    assert len(store.subgraph(["knows"]).links) == 2

    load(store, model, tmp_path, "intel", KNOWS_SPEC, rows)  # the same file, run again
    links = list(store.subgraph(["knows"]).links.values())
    assert [(k.source < k.target, sorted(a.record_id for a in k.provenance)) for k in links] == [(True, ["R1", "R2"])]


# ---------------------------------------------------------------- counted once in the analysis


def _two_way_graph() -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph()
    for node in ("ann", "bob"):
        graph.add_node(node, type="Person")
    ann_says = [{"source": "intel", "record_id": "1", "grade": "1AP", "date": None}]
    bob_says = [{"source": "intel", "record_id": "2", "grade": "2BC", "date": None}]
    graph.add_edge("ann", "bob", key="k1", type="knows", provenance=ann_says)
    graph.add_edge("bob", "ann", key="k2", type="knows", provenance=bob_says)
    return graph


def test_the_person_projection_and_projections_count_a_kind_once_per_pair(model):
    graph = _two_way_graph()
    people, links, connectors = association_weights(model)
    weight = person_projection(graph, person_types=people, link_weights=links, connector_weights=connectors)
    assert weight.edges["ann", "bob"]["weight"] == pytest.approx(1.0)  # knows 1.0 x the best grade 1A
    (evidence,) = weight.edges["ann", "bob"]["evidence"]
    assert evidence.links == ("k1", "k2") and [r["record_id"] for r in evidence.records] == ["1", "2"]
    found = associations(graph, "bob", person_types=people, link_weights=links, connector_weights=connectors)
    assert [(a.person, a.strength) for a in found] == [("ann", pytest.approx(1.0))]

    projected = project(graph, node_types={"Person"}, link_weight=lambda kind: model.association_weight(kind, 1.0))
    assert projected.graph.edges["ann", "bob"] == {"weight": 1.0, "links": 1, "shared": 0}
    graph.add_edge("ann", "bob", key="k3", type="familyOf", provenance=[])  # another kind still adds
    projected = project(graph, node_types={"Person"}, link_weight=lambda kind: model.association_weight(kind, 1.0))
    assert projected.graph.edges["ann", "bob"] == {"weight": 3.0, "links": 2, "shared": 0}
