"""The operational review over a planted intervention, on both stores, through a cleared view.

Planted: ASB at a target street falls from 12 a month to 4 after the intervention; a buffer street
falls from 10 to 6 (a diffusion of benefit); a control street stays at 12; a C-handled burst of ASB
in the target after the intervention is there for the analyst and invisible to a partner.
"""

from __future__ import annotations

import json

import pytest

from nimgraph.access.roles import Role, clearance_for
from nimgraph.access.view import ClearedView
from nimgraph.ontology import Core
from nimgraph.products.operational_review import (
    Circle,
    ReviewError,
    ReviewQuestion,
    Window,
    Zone,
    build_review,
)
from nimgraph.records import Assertion, Batch, Entity, Link
from nimgraph.tasking.kinds import kind_named
from nimgraph.tasking.writes import create

BEFORE_MONTHS = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
AFTER_MONTHS = ["2026-07", "2026-08", "2026-09", "2026-10", "2026-11", "2026-12"]
STREETS = {  # street -> (latitude, longitude, ASB a month before, after)
    "Street-target": (53.4000, -2.2000, 12, 4),
    "Street-buffer": (53.4030, -2.2000, 10, 6),
    "Street-control": (53.4600, -2.3000, 12, 12),
}
C_BURST = 9  # C-handled ASB at the target after the intervention


def record(record_id: str, handling: str = "P") -> Assertion:
    return Assertion("council-asb", record_id, "asb.csv", 2, None, f"2B{handling}", handling)


def plant(store) -> None:
    entities, links = [], []
    for street, (lat, lon, before, after) in STREETS.items():
        entities.append(Entity(street, "Street", {"name": street, "latitude": lat, "longitude": lon}, [record(street)]))
        for months, per_month in ((BEFORE_MONTHS, before), (AFTER_MONTHS, after)):
            for month in months:
                for n in range(per_month):
                    event = f"ASB-{street}-{month}-{n}"
                    day = f"{month}-{n + 1:02d}"
                    props = {"date": day, "category": "Anti-social behaviour"}
                    entities.append(Entity(event, "ASBIncident", props, [record(event)]))
                    links.append(Link(f"at-{event}", Core.OCCURRED_AT, event, street, {}, [record(f"at-{event}")]))
    for n in range(C_BURST):
        event = f"ASB-covert-{n}"
        entities.append(
            Entity(
                event,
                "ASBIncident",
                {"date": f"2026-09-{n + 1:02d}", "category": "Anti-social behaviour"},
                [record(event, "C")],
            )
        )
        links.append(Link(f"at-{event}", Core.OCCURRED_AT, event, "Street-target", {}, [record(f"at-{event}", "C")]))
    # a burglary at the target: not in the categories reviewed
    entities.append(
        Entity("Burglary-1", "CrimeIncident", {"date": "2026-08-03", "category": "Burglary"}, [record("b1")])
    )
    links.append(Link("at-b1", Core.OCCURRED_AT, "Burglary-1", "Street-target", {}, [record("at-b1")]))
    store.upsert(Batch(entities=entities, links=links))


def question(**changes) -> ReviewQuestion:
    values = dict(
        target=Zone(places=("Street-target",)),
        buffer=Zone(places=("Street-buffer",)),
        control=Zone(places=("Street-control",)),
        before=Window("2026-01-01", "2026-06-30"),
        after=Window("2026-07-01", "2026-12-31"),
        categories=("anti-social behaviour",),
    )
    values.update(changes)
    return ReviewQuestion(**values)


@pytest.fixture
def planted(store):
    store.id_key()
    plant(store)
    return store


def test_the_review_recovers_the_planted_effects(planted, model):
    partner = ClearedView(planted, model, clearance_for(Role.PARTNER_VIEWER))
    review = build_review(partner, model, question())
    counts = review.counts
    assert (counts.target.before, counts.target.after) == (72, 24)
    assert (counts.buffer.before, counts.buffer.after) == (60, 36)
    assert (counts.control.before, counts.control.after) == (72, 72)
    # rates over the windows' days: 24 in 184 against 72 in 181
    assert review.poisson["significant"] and review.poisson["ratio"] == pytest.approx((24 / 184) / (72 / 181))
    assert review.wdq["success_measure"] < 0 and review.wdq["buffer_displacement_measure"] < 0
    # SM = 24/72 - 72/72 = -2/3; BDM = 36/72 - 60/72 = -1/3: a diffusion half the size of the direct effect
    assert review.wdq["quotient"] == pytest.approx(0.5) and review.wdq["reading"].startswith("Diffusion of benefit")
    # before counts scaled to the after window's 184 days; the control is flat in counts, so its change is 72 * 3 / 181
    scale = 184 / 181
    expected_total = (24 - 72 * scale) - (72 - 72 * scale) + (36 - 60 * scale) - (72 - 72 * scale)
    assert review.wdd["total"] == pytest.approx(expected_total)
    assert review.wdd["significant"] and review.wdd["high"] < 0
    assert review.tne["target_effect"] == pytest.approx(48) and review.tne["buffer_effect"] == pytest.approx(24)
    assert review.series["target"] == [12] * 6 + [4] * 6
    assert review.series["control"] == [12] * 12
    assert review.series["expected"] == [12.0] * 12  # the flat control predicts no change
    assert review.handling == "P"


def test_the_analyst_counts_the_c_burst_and_the_partner_learns_nothing_of_it(planted, model):
    analyst = build_review(ClearedView(planted, model, clearance_for(Role.ANALYST)), model, question())
    assert analyst.counts.target.after == 24 + C_BURST
    assert analyst.handling == "C"
    partner = build_review(ClearedView(planted, model, clearance_for(Role.PARTNER_VIEWER)), model, question())
    assert partner.counts.target.after == 24
    assert "C" not in {partner.handling} and not any("month" in w for w in partner.warnings)


def test_circles_select_by_coordinates_and_areas_stay_apart(planted, model):
    reader = ClearedView(planted, model, clearance_for(Role.PARTNER_VIEWER))
    target_lat, target_lon, *_ = STREETS["Street-target"]
    # 100 m round the target street's point holds its incidents; 500 m would also hold the buffer
    # street (about 330 m north), but an incident in the target is never counted again
    by_circle = question(
        target=Zone(circles=(Circle(target_lat, target_lon, 100),)),
        buffer=Zone(circles=(Circle(target_lat, target_lon, 500),)),
    )
    review = build_review(reader, model, by_circle)
    assert (review.counts.target.before, review.counts.target.after) == (72, 24)
    assert (review.counts.buffer.before, review.counts.buffer.after) == (60, 36)
    assert len(review.circles["features"]) == 2


def test_a_place_the_caller_cannot_see_is_refused_as_one_that_does_not_exist(planted, model):
    planted.upsert(Batch(entities=[Entity("Street-secret", "Street", {"name": "S"}, [record("s", "C")])]))
    partner = ClearedView(planted, model, clearance_for(Role.PARTNER_VIEWER))
    messages = []
    for place in ("Street-secret", "Street-nowhere"):
        with pytest.raises(ReviewError) as refused:
            build_review(partner, model, question(control=Zone(places=(place,))))
        messages.append(str(refused.value).replace(place, "ID"))
    assert messages[0] == messages[1]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"buffer": Zone()}, "buffer area needs places or circles"),
        ({"control": Zone(places=("Street-target",))}, "must not overlap"),
        ({"after": Window("2026-06-01", "2026-12-31")}, "must end before the after window starts"),
        ({"alpha": 2.0}, "alpha"),
    ],
)
def test_a_question_that_cannot_be_answered_says_why(planted, model, changes, message):
    with pytest.raises(ReviewError, match=message):
        build_review(planted, model, question(**changes))


@pytest.mark.parametrize(
    "make",
    [
        lambda: Window("2026-02-30", "2026-03-01"),
        lambda: Window("2026-03-02", "2026-03-01"),
        lambda: Circle(95, 0, 10),
        lambda: Circle(53, -2, 0),
        lambda: Circle(53, -2, float("nan")),
    ],
)
def test_bad_windows_and_circles_are_refused(make):
    with pytest.raises(ReviewError):
        make()


def test_month_only_incidents_count_only_in_windows_of_whole_months(planted, model):
    planted.upsert(
        Batch(
            entities=[
                Entity(
                    "Crime-m", "ASBIncident", {"date": "2026-07", "category": "Anti-social behaviour"}, [record("m")]
                )
            ],
            links=[Link("at-m", Core.OCCURRED_AT, "Crime-m", "Street-target", {}, [record("at-m")])],
        )
    )
    whole = build_review(planted, model, question())
    assert whole.counts.target.after == 24 + C_BURST + 1
    part = build_review(planted, model, question(after=Window("2026-07-15", "2026-12-31")))
    assert any("known only to the month" in w and "1 in the target" in w for w in part.warnings)


def test_a_review_names_what_it_reviews_only_when_the_caller_may_see_it(planted, model):
    activity = create(planted, model, kind_named("activity"), {"pillar": "enforcement"}, author="A", handling="C")
    analyst = ClearedView(planted, model, clearance_for(Role.ANALYST))
    assert build_review(analyst, model, question(), reviewed=activity.id).reviewed["kind"] == "activity"
    partner = ClearedView(planted, model, clearance_for(Role.PARTNER_VIEWER))
    with pytest.raises(ReviewError, match="cleared to see"):
        build_review(partner, model, question(), reviewed=activity.id)


def test_a_saved_review_is_stored_no_lower_than_its_evidence(planted, model):
    from nimgraph.tasking.reviews import save_review
    from nimgraph.tasking.writes import RecordError, update

    problem = create(planted, model, kind_named("problem"), {"title": "Target street ASB"}, author="A")
    written, full, code = save_review(
        planted, model, question(), reviewed=problem.id, author="Insp Khan", title="Did the patrols work?",
        conclusion="ASB fell and did not move next door", lessons="Start the patrols earlier in the evening",
    )  # fmt: skip
    assert code == "C" and full.counts.target.after == 24 + C_BURST  # the C burst is in what the analyst counted
    partner = ClearedView(planted, model, clearance_for(Role.PARTNER_VIEWER))
    assert partner.get(written.id) is None
    stored = planted.get(written.id)
    assert stored.properties["lessons"] == "Start the patrols earlier in the evening"
    result = json.loads(stored.properties["reviewResult"])
    assert result["counts"]["target"] == {"before": 72, "after": 24 + C_BURST}
    evaluated = planted.neighbourhood([written.id], 1, [Core.EVALUATES]).links
    assert [k.target for k in evaluated.values()] == [problem.id]

    # months that hold none of the C burst (September): the partner's reader computes the same, so it is shared
    earlier = question(before=Window("2026-01-01", "2026-04-30"), after=Window("2026-07-01", "2026-08-31"))
    shared, _, shared_code = save_review(planted, model, earlier, reviewed=problem.id, author="A", title="Summer")
    assert shared_code == "P" and partner.get(shared.id) is not None
    with pytest.raises(RecordError, match="computed by nimgraph"):
        update(planted, model, shared.id, {"reviewResult": "{}"}, author="A")
    with pytest.raises(RecordError, match="computed by nimgraph"):
        create(planted, model, kind_named("review"), {"title": "forged", "reviewResult": "{}"}, author="A")
