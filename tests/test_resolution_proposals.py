"""Linkage proposals in the store, on both stores: proposed, explained, decided, kept through a re-run,
and shown to a caller only when it may see every record the proposal rests on."""

from __future__ import annotations

import pytest
from test_resolution import population

from nimgraph.access.roles import Role, clearance_for
from nimgraph.access.view import ClearedView
from nimgraph.ontology import Core
from nimgraph.records import Assertion, Batch, Entity, Link
from nimgraph.resolution.proposals import DECISIONS, decide, proposals, run_linkage


def _record(source: str, record_id: str, handling: str) -> Assertion:
    return Assertion(source, record_id, f"{source}.csv", 2, None, f"2B{handling}", handling)


def plant(store) -> dict[frozenset, str]:
    """The population as partners would load it: the police's people C for even numbers, the rest P."""
    police, partners, planted = population(people=300, copies=60)
    entities, links = [], []
    for frame in (police, partners):
        for row in frame.to_dict("records"):
            source, n = row["unique_id"].split("-")
            handling = "C" if source == "police" and int(n) % 2 == 0 else "P"
            props = {"forename": row["forename"], "surname": row["surname"], "dateOfBirth": row["dob"]}
            person = row["unique_id"]
            entities.append(
                Entity(person, Core.PERSON, {k: v for k, v in props.items() if v}, [_record(source, person, handling)])
            )
            if row["address_line"]:
                home = f"Address-{person}"
                entities.append(
                    Entity(
                        home,
                        "Address",
                        {"addressLine": row["address_line"], "postcode": row["postcode"]},
                        [_record(source, home, handling)],
                    )
                )
                links.append(
                    Link(
                        f"lives-{person}",
                        Core.LIVES_AT,
                        person,
                        home,
                        {},
                        [_record(source, f"lives-{person}", handling)],
                    )
                )
    store.upsert(Batch(entities=entities, links=links))
    return planted


@pytest.fixture
def linked(store, model, tmp_path):
    store.id_key()
    planted = plant(store)
    report = run_linkage(store, model, models_dir=tmp_path / "models")
    return store, planted, report


def test_a_run_proposes_the_planted_pairs_as_inferred_links_with_their_reasons(linked, model):
    store, planted, report = linked
    assert model.link_type(Core.POSSIBLY_SAME_AS).inferred  # never counted as recorded evidence
    found = proposals(store, limit=10_000)
    people = {frozenset((p.left, p.right)) for p in found if store.get(p.left).type == Core.PERSON}
    assert len(people & set(planted)) >= 0.95 * len(planted)
    assert len(people & set(planted)) >= 0.95 * len(people)
    assert report.new == report.proposed == len(found) and report.model_path.exists()
    assert report.classes["person"]["proposed"] == len(people)
    # the planted people's homes, each their own Address record in each source, are proposed as one home
    homes = [p for p in found if store.get(p.left).type == "Address"]
    assert homes and report.classes["address"]["proposed"] == len(homes)
    assert all(p.left.removeprefix("Address-").split("-")[1] == p.right.removeprefix("Address-").split("-")[1]
               for p in homes)  # fmt: skip
    top = found[0]
    assert top.status == "Proposed" and top.model_id == report.model_id and top.contributions
    assert found == sorted(found, key=lambda p: (-p.match_probability, p.id))


def test_a_partner_sees_only_proposals_resting_on_records_it_may_see(linked, model):
    store, _, _ = linked
    partner = ClearedView(store, model, clearance_for(Role.PARTNER_VIEWER))
    shown = proposals(partner, limit=10_000)
    everything = {p.id: p for p in proposals(store, limit=10_000)}
    assert shown and len(shown) < len(everything)
    for proposal in shown:
        assert proposal.handling == "P"
        # both people's records are all P: no police C record behind either side
        for side in (proposal.left, proposal.right):
            assert not (side.startswith("police-") and int(side.split("-")[1]) % 2 == 0)
    # every pair has a C record (the run on everything, whose model read C records); a partner sees the
    # pairs the P run proposes, through their P records, and no other
    hidden = [p for p in everything.values() if p.id not in {s.id for s in shown}]
    assert hidden and all(p.handling == "C" for p in everything.values())
    police_c = {f"police-{n}" for n in range(0, 1000, 2)}
    # what a partner misses rests on people (or homes) only C records name: the police's, for even numbers
    ends = [{p.left.removeprefix("Address-"), p.right.removeprefix("Address-")} for p in hidden]
    assert sum(bool(pair & police_c) for pair in ends) >= 0.9 * len(hidden)


def test_decisions_are_kept_through_a_re_run_and_can_be_undone(linked, model, tmp_path):
    store, _, _ = linked
    first, second, *_ = proposals(store, limit=10_000)
    assert decide(store, model, first.id, "reject", analyst="DC 1234") == "Rejected"
    assert decide(store, model, second.id, "accept", analyst="DC 1234") == "Accepted"
    again = run_linkage(store, model, models_dir=tmp_path / "models")
    assert again.new == 0 and again.kept_decisions == 2
    statuses = {p.id: p.status for p in proposals(store, limit=10_000)}
    assert statuses[first.id] == "Rejected" and statuses[second.id] == "Accepted"
    assert decide(store, model, second.id, "undo", analyst="DS 77") == DECISIONS["undo"]
    held = store.subgraph([Core.POSSIBLY_SAME_AS]).links[second.id]
    deciders = sorted(a.file for a in held.provenance if a.source == "analyst-resolution")
    assert deciders == ["DC 1234", "DS 77"]  # every decision kept, signed
    with pytest.raises(ValueError, match="decision is one of"):
        decide(store, model, first.id, "merge", analyst="DC 1234")
    with pytest.raises(ValueError, match="no proposal"):
        decide(store, model, "possiblySameAs-nothing", "accept", analyst="DC 1234")
