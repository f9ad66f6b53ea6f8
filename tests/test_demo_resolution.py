"""Record linkage on the demo partnership, on both stores: the near-duplicates the generator plants across
the police, the council and the fire service are proposed; an accepted cluster is one person to the
subject profile and to analysis, with its sources named; a rejected pair stays rejected through a re-run.
"""

from __future__ import annotations

import json
from itertools import combinations

import pytest
from conftest import TEST_ID_KEY, Demo, demo_in_neo4j

from nimgraph.access.roles import Role, clearance_for
from nimgraph.access.view import ClearedView
from nimgraph.demo import run_demo
from nimgraph.demo.generate import DUPLICATE_KINDS
from nimgraph.ontology import Core
from nimgraph.products.common import resolved_clusters
from nimgraph.products.scope import Scope, read_scope
from nimgraph.products.subject import build_subject_profile
from nimgraph.resolution import ACCEPTED, PROPOSED, REJECTED
from nimgraph.resolution.proposals import PROPOSAL_SOURCE, decide, proposals, run_linkage
from nimgraph.store.embedded import EmbeddedStore

AGENCIES = ("Northshire Police", "Northwick Borough Council", "Northshire Fire and Rescue Service")


@pytest.fixture(scope="module", params=["embedded", "neo4j"])
def linked(request, tmp_path_factory, model) -> Demo:
    """A demo of the module's own (decisions change what analysis reads), linked as the demo links it."""
    if request.param == "neo4j":
        return demo_in_neo4j(request, tmp_path_factory, model)
    work_dir = tmp_path_factory.mktemp("demo-linked")
    store = EmbeddedStore(work_dir / "graph.db", model, id_key=TEST_ID_KEY)
    result = run_demo(store, model, work_dir, say=lambda _: None)
    planted = json.loads((work_dir / "data" / "planted.json").read_text())
    return Demo(store=store, model=model, planted=planted, result=result, work_dir=work_dir)


def records_of(demo: Demo) -> list[tuple[str, list[str]]]:
    """Each planted person's kind of change and the ids of the records the partners hold of them."""
    by_key: dict[tuple[str, str], str] = {}
    for person in demo.store.find(Core.PERSON, limit=100_000):
        props = person.properties
        if props.get("nominalId"):
            by_key["police", props["nominalId"]] = person.id
        if props.get("reference"):
            by_key["partner", props["reference"]] = person.id
    found = []
    for entry in demo.planted["near_duplicates"]:
        ids = [by_key["police", entry["police"]]]
        ids += [by_key["partner", entry[k]] for k in ("council", "fire") if entry[k]]
        found.append((entry["kind"], ids))
    return found


def test_linkage_recovers_the_planted_near_duplicates_at_the_default_threshold(linked):
    assert linked.result.linkage, "the demo ran record linkage"
    planted = records_of(linked)
    truth = {frozenset(pair): kind for kind, ids in planted for pair in combinations(ids, 2)}
    found_all = proposals(linked.store, limit=100_000)
    proposed = {frozenset((p.left, p.right)) for p in found_all if linked.store.get(p.left).type == Core.PERSON}
    found = truth.keys() & proposed
    assert len(found) / len(truth) >= 0.95, f"recall {len(found)}/{len(truth)}"
    assert len(found) / len(proposed) >= 0.95, f"precision {len(found)}/{len(proposed)}"
    for kind in DUPLICATE_KINDS:  # every kind of change is found, not only the easy ones
        of_kind = [pair for pair, k in truth.items() if k == kind]
        assert of_kind and sum(pair in proposed for pair in of_kind) / len(of_kind) >= 0.8, kind
    # the homes the council wrote with the street's kind short are proposed as the police's homes
    homes = _planted_homes(linked)
    places = {frozenset((p.left, p.right)) for p in found_all} - proposed
    assert homes and len(homes & places) / len(homes) >= 0.95 and len(homes & places) / len(places) >= 0.95


def _planted_homes(demo: Demo) -> set[frozenset[str]]:
    """The pairs of Address records the planted short street names make: the police's and the council's."""

    def home(person: str) -> str:
        return next(k.target for k in demo.store.neighbourhood([person], 1, [Core.LIVES_AT]).links.values())

    entries = {e["police"]: e for e in demo.planted["near_duplicates"] if e.get("address")}
    return {
        frozenset((home(ids[0]), home(ids[1])))
        for kind, ids in records_of(demo)
        if _nominal(demo, ids[0]) in entries and kind != "no_name"
    }


def _nominal(demo: Demo, person: str) -> str:
    return str(demo.store.get(person).properties.get("nominalId"))


def _three_records(demo: Demo) -> list[str]:
    return next(ids for kind, ids in records_of(demo) if len(ids) == 3 and kind == "typo")


def _pair_ids(demo: Demo, ids: list[str]) -> list[str]:
    wanted = {frozenset(p) for p in combinations(ids, 2)}
    return [p.id for p in proposals(demo.store, limit=100_000) if frozenset((p.left, p.right)) in wanted]


def test_an_accepted_cluster_is_one_person_to_the_subject_profile_with_its_sources(linked, model):
    police, council, fire = _three_records(linked)
    before = {i: linked.store.get(i) for i in (police, council, fire)}
    pairs = _pair_ids(linked, [police, council, fire])
    assert len(pairs) >= 2, "the three records are proposed pairwise"
    try:
        for pair in pairs:
            assert decide(linked.store, model, pair, "accept", analyst="A. Analyst") == ACCEPTED
        profile = build_subject_profile(linked.store, model, police)
        resolved = profile.subject["resolved"]
        assert resolved is not None
        assert sorted(r["id"] for r in resolved["records"]) == sorted([police, council, fire])
        assert resolved["records"][0]["id"] == police  # the subject keeps its own id
        for agency in AGENCIES:
            assert agency in resolved["summary"]
        assert resolved["summary"].startswith("resolved from 3 records")
        # what the council recorded is the subject's: its ASB case, and the fire service's address
        council_cases = {
            k.target for k in linked.store.neighbourhood([council], 1).links.values() if k.source == council
        }
        assert council_cases & {row["event"] for row in profile.involvement} or council_cases & {
            row["id"] for row in profile.locations + profile.objects
        }
        fire_home = {k.target for k in linked.store.neighbourhood([fire], 1).links.values() if k.type == Core.LIVES_AT}
        assert fire_home <= {row["id"] for row in profile.locations}
        # the other records are not the subject's associates: a resolved record is no one else
        assert not {council, fire} & {a["person"] for a in profile.associations}
        # every record the cluster rests on is cited
        cited = {(f["source"], f["record_id"]) for f in profile.footnotes}
        for entity in before.values():
            assert {(a.source, a.record_id) for a in entity.provenance} <= cited
        # analysis reads the cluster as one node, keyed by the seed it was asked about
        read = read_scope(linked.store, model, Scope(around=(council,), hops=1), None)
        assert council in read.graph and police not in read.graph and fire not in read.graph
        assert read.graph.graph["resolved"] == {police: council, fire: council}
        # the records themselves stay as their sources gave them
        for identifier, entity in before.items():
            after = linked.store.get(identifier)
            assert after is not None and after.properties == entity.properties
            assert {a.record_id for a in after.provenance} == {a.record_id for a in entity.provenance}
        # a partner viewer, cleared for P only, resolves nothing: every record behind the pairs is C
        partner = ClearedView(linked.store, model, clearance_for(Role.PARTNER_VIEWER))
        assert resolved_clusters(partner) == []
        assert not proposals(partner, limit=100_000)
    finally:
        for pair in pairs:
            decide(linked.store, model, pair, "undo", analyst="A. Analyst")
    after_undo = build_subject_profile(linked.store, model, police)
    assert after_undo.subject["resolved"] is None


def test_a_proposal_is_an_inferred_link_in_the_profile_and_never_recorded_evidence(linked, model):
    police, council, fire = _three_records(linked)
    profile = build_subject_profile(linked.store, model, police)
    inferred = {row["person"]: row for row in profile.inferred_links}
    assert {council, fire} & inferred.keys()
    for other in {council, fire} & inferred.keys():
        assert inferred[other]["inferred"] and inferred[other]["status"] == PROPOSED
        assert "record linkage" in inferred[other]["method"]
    # a proposal is no recorded link: no association rests on it (a home the records share is recorded)
    footnote = {f["n"]: f for f in profile.footnotes}
    for association in profile.associations:
        for evidence in association["evidence"]:
            assert all(footnote[n]["source"] != PROPOSAL_SOURCE for n in evidence["records"]), association
    assert all(footnote[n]["source"] != PROPOSAL_SOURCE for row in profile.involvement for n in row["records"])
    assert profile.subject["resolved"] is None  # and nothing is resolved until an analyst accepts


def test_a_rejected_pair_stays_rejected_after_a_re_run_and_only_new_pairs_are_new(linked, model):
    police, council, _ = _three_records(linked)
    pair = _pair_ids(linked, [police, council])[0]
    try:
        assert decide(linked.store, model, pair, "reject", analyst="B. Analyst") == REJECTED
        report = run_linkage(linked.store, model)
        assert report.new == 0  # nothing changed in the data, so nothing new is proposed
        assert report.kept_decisions >= 1
        status = {p.id: p.status for p in proposals(linked.store, limit=100_000)}
        assert status[pair] == REJECTED
        assert resolved_clusters(linked.store) == []
    finally:
        assert decide(linked.store, model, pair, "undo", analyst="B. Analyst") == PROPOSED
