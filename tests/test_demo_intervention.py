"""The demo's planted intervention, measured by the operational review on both stores.

The generator plants ASB that falls at a target street once the activities begin, falls by less in
its buffer and stays level in a control area; the demo records the activities against the hotspot
problem. The review must recover the direction and significance of each effect from the store.
"""

from __future__ import annotations

import pytest
from conftest import demo_on

from nimgraph.access.roles import Role, clearance_for
from nimgraph.access.view import ClearedView
from nimgraph.analysis.significance import compare_counts
from nimgraph.demo.intervention import intervention_places
from nimgraph.products.operational_review import ReviewQuestion, Window, Zone, build_review
from nimgraph.products.record_page import record_page

ASB = "ASBIncident"


@pytest.fixture(scope="module", params=["embedded", "neo4j"])
def demo(request, tmp_path_factory, model):
    return demo_on(request, tmp_path_factory, model, link=False)  # reads no proposals


def review_of(demo, role: Role = Role.PARTNER_VIEWER):
    planted = demo.planted["intervention"]
    reader = ClearedView(demo.store, demo.model, clearance_for(role))
    places = intervention_places(reader, demo.model, planted)
    assert {a: len(ids) for a, ids in places.items()} == {a: len(n) for a, n in planted["streets"].items()}
    question = ReviewQuestion(
        target=Zone(places=tuple(places["target"])),
        buffer=Zone(places=tuple(places["buffer"])),
        control=Zone(places=tuple(places["control"])),
        before=Window(*planted["before"]),
        after=Window(*planted["after"]),
        categories=(ASB,),
    )
    return build_review(reader, demo.model, question, reviewed=demo.result.intervention["enforcement"])


def test_the_review_recovers_each_planted_effect(demo):
    planted = demo.planted["intervention"]["asb_per_month"]
    review = review_of(demo)
    counts = review.counts
    # six months in each window; the background adds a little ASB at these streets, so at least the planted
    for area in ("target", "buffer", "control"):
        before, after = planted[area]
        assert getattr(counts, area).before >= 6 * before and getattr(counts, area).after >= 6 * after
    # the target falls significantly
    assert counts.target.after < counts.target.before / 2 and review.poisson["significant"]
    # the buffer falls too, by less: a diffusion of benefit, not displacement
    buffer = compare_counts(counts.buffer.after, counts.buffer.before)
    assert buffer.significant and buffer.ratio < 1
    assert 0 < review.wdq["quotient"] < 1 and review.wdq["reading"].startswith("Diffusion of benefit")
    # the control is flat: no significant change there
    control = compare_counts(counts.control.after, counts.control.before)
    assert not control.significant
    # the net effect: fewer incidents than the control predicts, significantly, in both areas
    assert review.wdd["local"] < 0 and review.wdd["displacement"] < 0 and review.wdd["significant"]
    assert review.tne["target_effect"] > 0 and review.tne["buffer_effect"] > 0
    assert review.reviewed["kind"] == "activity"


def test_the_demo_records_what_was_done_against_the_problem(demo):
    problem = record_page(demo.store, demo.model, demo.result.problem_id)
    activities = {k.id for k in problem.links if k.role == "activities" and not k.outward}
    assert activities == {demo.result.intervention["enforcement"], demo.result.intervention["prevention"]}
    pillars = {demo.store.get(i).properties["pillar"] for i in activities}
    assert pillars == {"Enforcement", "Prevention"}
    assert {k.id for k in problem.links if k.role == "taskings"} == {demo.result.intervention["tasking"]}
