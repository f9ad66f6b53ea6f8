"""Record linkage from the attacker's side, on both stores: a partner cleared for P learns nothing of C
records through proposals or decisions, by comparing what it sees before and after C data arrives.

A partner sees the proposals the P records alone make, with the figures a model trained on P records
gives them; a decision on such a pair is one it may read, and stays so whatever C records arrive. A
pair's decisions share one handling code and keep their order when a run rewrites them.
"""

from __future__ import annotations

import threading

import pandas as pd
import pytest
from test_resolution import population

from nimgraph.access.roles import Role, clearance_for
from nimgraph.access.view import ClearedView
from nimgraph.ontology import Core
from nimgraph.products.common import resolved_clusters
from nimgraph.products.match_review import match_review
from nimgraph.records import Assertion, Batch, Entity
from nimgraph.resolution import ACCEPTED, PROPOSED, REJECTED
from nimgraph.resolution.proposals import (
    DECISION_SOURCE,
    PROPOSAL_SOURCE,
    _decisions_follow_proposals,
    decide,
    proposals,
    run_linkage,
)


def _people(frame: pd.DataFrame, source: str, handling: str, prefix: str) -> list[Entity]:
    made = []
    for row in frame.to_dict("records"):
        props = {"forename": row["forename"], "surname": row["surname"], "dateOfBirth": row["dob"]}
        identifier = f"{prefix}{row['unique_id']}"
        record = Assertion(source, identifier, f"{source}.csv", 2, None, f"2B{handling}", handling)
        made.append(Entity(identifier, Core.PERSON, {k: v for k, v in props.items() if v}, [record]))
    return made


def _partner_queue(store, model) -> dict[str, tuple]:
    partner = ClearedView(store, model, clearance_for(Role.PARTNER_VIEWER))
    return {
        p.id: (p.left, p.right, p.match_probability, p.match_weight, p.model_id, p.status, p.contributions == {})
        for p in proposals(partner, limit=10_000)
    }


@pytest.fixture
def planted(store, model):
    """A partner's people, all P, with near-duplicates among them; and the police's, all C, of others."""
    store.id_key()
    police, partners, _ = population(seed=21, people=160, copies=40)
    shared = pd.concat([police, partners], ignore_index=True)
    store.upsert(Batch(entities=_people(shared, "partner-register", "P", "p-")))
    others, _, _ = population(seed=22, people=200, copies=0)
    store.upsert(Batch(entities=_people(others, "police-restricted", "C", "c-")))
    return store


def test_c_records_arriving_change_nothing_a_partner_sees_of_proposals_or_decisions(planted, model):
    store = planted
    run_linkage(store, model)
    before = _partner_queue(store, model)
    assert before, "the P records alone propose pairs a partner sees"
    accepted = sorted(before)[0]
    assert decide(store, model, accepted, "accept", analyst="DC 1") == ACCEPTED
    # the partner reads the figures of the model trained on P records, not the analyst's
    analyst = {p.id: p for p in proposals(store, limit=10_000)}
    assert before[accepted][4] != analyst[accepted].model_id
    seen = _partner_queue(store, model)
    assert seen[accepted][5] == ACCEPTED
    left, right = before[accepted][:2]
    partner = ClearedView(store, model, clearance_for(Role.PARTNER_VIEWER))
    assert resolved_clusters(partner) == [frozenset((left, right))]

    # C data arrives: unrelated people, then a C record about one of the accepted pair
    more, _, _ = population(seed=23, people=60, copies=0)
    store.upsert(Batch(entities=_people(more, "police-restricted", "C", "c2-")))
    run_linkage(store, model)
    about = Entity(
        left,
        Core.PERSON,
        {"nhsNumber": "9434765919"},
        [Assertion("police-restricted", f"x-{left}", "f", 3, None, "1AC", "C")],
    )
    store.upsert(Batch(entities=[about]))
    run_linkage(store, model)

    after = _partner_queue(store, model)
    assert after == seen  # the same pairs, figures, models and statuses: nothing says C records came
    partner = ClearedView(store, model, clearance_for(Role.PARTNER_VIEWER))
    assert resolved_clusters(partner) == [frozenset((left, right))]
    page = match_review(partner, model, accepted)
    assert page is not None and [d["status"] for d in page["decisions"]] == [ACCEPTED]


def test_a_pairs_decisions_share_one_code_keep_their_order_and_follow_the_p_proposal(planted, model):
    store = planted
    run_linkage(store, model)
    pair = sorted(_partner_queue(store, model))[0]
    for decision in ("accept", "undo", "reject"):
        decide(store, model, pair, decision, analyst="DC 2")
    # the P run no longer proposes the pair (its P record is withdrawn): the decisions go C, all of them
    store.retract(PROPOSAL_SOURCE, [f"{pair}#P"])
    _decisions_follow_proposals(store, "test")
    held = store.subgraph([Core.POSSIBLY_SAME_AS]).links[pair]
    decisions = [a for a in held.provenance if a.source == DECISION_SOURCE]
    assert len(decisions) == 3 and {a.handling for a in decisions} == {"C"}
    page = match_review(store, model, pair)
    assert [d["status"] for d in page["decisions"]] == [ACCEPTED, PROPOSED, REJECTED]
    assert page["status"] == REJECTED
    assert pair not in _partner_queue(store, model)
    # the P records propose it again: the decisions, made on P records, are the partner's again, in order
    run_linkage(store, model)
    partner = ClearedView(store, model, clearance_for(Role.PARTNER_VIEWER))
    page = match_review(partner, model, pair)
    assert page is not None and [d["status"] for d in page["decisions"]] == [ACCEPTED, PROPOSED, REJECTED]
    assert _partner_queue(store, model)[pair][5] == REJECTED


def test_a_decision_made_where_only_c_records_propose_the_pair_stays_c(planted, model):
    store = planted
    run_linkage(store, model)
    pair = sorted(_partner_queue(store, model))[0]
    store.retract(PROPOSAL_SOURCE, [f"{pair}#P"])  # for now, only the run on everything proposes it
    decide(store, model, pair, "accept", analyst="DC 3")
    run_linkage(store, model)  # the P records propose it again
    held = store.subgraph([Core.POSSIBLY_SAME_AS]).links[pair]
    assert {a.handling for a in held.provenance if a.source == DECISION_SOURCE} == {"C"}
    decide(store, model, pair, "undo", analyst="DC 3")  # a later decision is as strict: no part of a history
    held = store.subgraph([Core.POSSIBLY_SAME_AS]).links[pair]
    assert {a.handling for a in held.provenance if a.source == DECISION_SOURCE} == {"C"}
    assert _partner_queue(store, model)[pair][5] == PROPOSED
    partner = ClearedView(store, model, clearance_for(Role.PARTNER_VIEWER))
    assert match_review(partner, model, pair)["decisions"] == []


def test_a_level_whose_records_cannot_be_trained_on_does_not_stop_the_run(store, model):
    store.id_key()
    few = [
        Entity(f"p-{n}", Core.PERSON, {"forename": f, "surname": s, "dateOfBirth": d},
               [Assertion("partner-register", f"p-{n}", "f", n, None, "2BP", "P")])
        for n, (f, s, d) in enumerate([("Ann", "Oak", "1990-01-02"), ("Bob", "Elm", "1980-03-04"),
                                       ("Cy", "Yew", "1970-05-06"), ("Di", "Ash", "1960-07-08")])
    ]  # fmt: skip
    police, partners, _ = population(seed=24, people=160, copies=40)
    store.upsert(Batch(entities=few + _people(pd.concat([police, partners]), "police-restricted", "C", "c-")))
    said: list[str] = []
    report = run_linkage(store, model, say=said.append)
    assert any("cannot be trained" in line and "up to P" in line for line in said), said
    assert report.classes["person"]["proposed"] > 0


def test_c_records_written_while_a_run_reads_change_nothing_a_partner_sees(planted, model):
    """A run's P level reads the same P records however C writes interleave with its reads: pages read one
    after another through a cleared view would shift under hidden rows, and the P figures with them."""
    store = planted
    run_linkage(store, model)
    baseline = _partner_queue(store, model)
    stop = threading.Event()

    def write_c_people() -> None:
        n = 0
        while not stop.is_set():
            extra, _, _ = population(seed=100 + n, people=20, copies=0)
            # ids that sort among the partner's ("p-...") and around them, as a hostile write would
            store.upsert(Batch(entities=_people(extra, "police-restricted", "C", f"p-{n:03d}-")))
            n += 1

    writer = threading.Thread(target=write_c_people)
    writer.start()
    try:
        for _ in range(2):
            run_linkage(store, model)
    finally:
        stop.set()
        writer.join()
    assert _partner_queue(store, model) == baseline
