"""The working loop driven through the API, on a demo partnership of its own.

A priority from the strategic assessment; a tasking group and its meeting; a tasking to a named
owner; activities that carry it out; the review of the planted intervention saved against what it
reviews; the tasking closed; then the tasking pack and the next strategic assessment's "what
worked". The audit log holds each step, and a partner viewer can write none of it.
"""

from __future__ import annotations

import json

import pytest
from conftest import TEST_ID_KEY, dev_settings
from fastapi.testclient import TestClient

from api.main import create_app
from nimgraph.demo import run_demo
from nimgraph.demo.intervention import intervention_places
from nimgraph.store.embedded import EmbeddedStore

ANALYST, PARTNER, ADMIN = "dev-analyst", "dev-partner", "dev-admin"
ANALYST_NAME = "development analyst"  # what the analyst's development key signs with (nimgraph/config.py)


@pytest.fixture(scope="module")
def loop(tmp_path_factory, model):
    work = tmp_path_factory.mktemp("loop")
    store = EmbeddedStore(work / "graph.db", model, id_key=TEST_ID_KEY)
    result = run_demo(store, model, work, say=lambda _: None)
    planted = json.loads((work / "data" / "planted.json").read_text())
    settings = dev_settings(store="unused", work_dir=work, access_db=work / "access.db")
    with TestClient(create_app(settings, store=store, model=model)) as client:
        client.planted, client.result, client.store, client.model = planted, result, store, model  # type: ignore[attr-defined]
        yield client
    store.close()


def call(client, method: str, key: str, url: str, body=None, **params):
    headers = {"X-API-Key": key, "X-Purpose": "T&CG 3 November"}
    return client.request(method, url, json=body, headers=headers, params=params or None)


def written(response) -> str:
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_the_loop_from_priority_to_review_and_back_into_the_assessment(loop):
    problem = loop.result.problem_id
    until = loop.planted["intervention"]["after"][1]

    # 1. the priority, from the strategic assessment's first recommendation
    strategic = call(loop, "GET", ANALYST, "/assessments/strategic", until=until).json()
    first = strategic["priorities"]["ranked"][0]
    title = first.get("name") or f"{first['category']} in {first['area_label']}"
    period = strategic["terms_of_reference"]["period"]
    priority = written(
        call(
            loop, "POST", ANALYST, "/priorities",
            {
                "properties": {
                    "title": title,
                    "owner": "Insp Khan",
                    "rank": 1,
                    "startDate": "2026-11-01",
                    "endDate": "2027-03-31",
                    "rationale": "Ranked first by the strategic assessment's matrix",
                    "measure": "Incidents per month, against the same months last year",
                    "fromAssessment": f"Strategic assessment {period['from']} to {period['to']}: recommendation 1",
                },
                "links": {"problems": [first.get("problem") or problem]},
            },
        )
    )  # fmt: skip
    # 2. the tactical group and its meeting
    group = written(
        call(
            loop,
            "POST",
            ANALYST,
            "/tasking-groups",
            {"properties": {"name": "Northwick TTCG", "taskingLevel": "tactical"}},
        )
    )
    meeting = written(
        call(
            loop, "POST", ANALYST, "/meetings",
            {
                "properties": {"date": "2026-11-03", "attendees": "Insp Khan; council ASB lead; NFRS watch manager",
                               "decisions": "Continue the back-alley work", "actions": "Report back in four weeks"},
                "links": {"group": [group]},
            },
        )
    )  # fmt: skip
    # 3. a tasking to a named owner, about the priority and the problem
    tasking = written(
        call(
            loop, "POST", ANALYST, "/taskings",
            {
                "properties": {"title": "Keep the alleys gated and patrolled", "owner": "PS 2291 Khan (Northwick NPT)",
                               "dueDate": "2026-11-20", "taskingStatus": "open"},
                "links": {"meeting": [meeting], "concerning": [priority, problem]},
            },
        )
    )  # fmt: skip
    # 4. activities that carry it out
    activities = [
        written(
            call(
                loop, "POST", ANALYST, "/activities",
                {
                    "properties": {"title": title, "pillar": pillar, "owner": "PS 2291 Khan (Northwick NPT)",
                                   "plannedStart": "2026-11-04", "startDate": "2026-11-04", "hours": hours},
                    "links": {"problems": [problem], "taskings": [tasking]},
                },
            )
        )
        for title, pillar, hours in (("Evening patrols of the alleys", "enforcement", 30),
                                     ("Gate-locking rota with residents", "prevention", 6))
    ]  # fmt: skip
    # 5. the review of the intervention, saved against the enforcement activity the demo recorded
    places = intervention_places(loop.store, loop.model, loop.planted["intervention"])
    before, after = loop.planted["intervention"]["before"], loop.planted["intervention"]["after"]
    saved = call(
        loop, "POST", ANALYST, "/operational-reviews/saved",
        {
            **{area: {"places": ids} for area, ids in places.items()},
            "before": {"since": before[0], "until": before[1]},
            "after": {"since": after[0], "until": after[1]},
            "categories": ["ASBIncident"],
            "reviewed": loop.result.intervention["enforcement"],
            "title": "Back-alley enforcement: did it work?",
            "conclusion": "It worked: environmental ASB fell by four fifths, and by half next door.",
            "lessons": "Gate the alleys before the patrols end.",
        },
    )  # fmt: skip
    review = written(saved)
    # 6. the tasking is done
    closed = call(
        loop, "PATCH", ANALYST, f"/taskings/{tasking}", {"properties": {"taskingStatus": "done", "result": "Gated"}}
    )
    assert closed.status_code == 200

    # the stored review says what the planted data says
    stored = call(loop, "GET", ANALYST, f"/operational-reviews/{review}").json()
    assert stored["review"]["wdq"]["reading"].startswith("Diffusion of benefit")
    assert stored["review"]["poisson"]["significant"] and stored["review"]["wdd"]["significant"]
    assert stored["review"]["reviewed"]["id"] == loop.result.intervention["enforcement"]

    # the tasking pack for the meeting: activity in the period, problems by stage, the done tasking not open
    pack = call(loop, "GET", ANALYST, "/tasking-pack", as_of="2026-11-10", days=14).json()
    # ours, and the demo's intervention, which ran until 28 October, inside the fortnight
    shown = {a["id"] for a in pack["activity"]}
    assert shown == {*activities, loop.result.intervention["enforcement"], loop.result.intervention["prevention"]}
    enforcement = [a for a in pack["activity"] if a["pillar"] == "Enforcement"]
    assert pack["activity_by_pillar"]["Enforcement"]["hours"] == sum(a["hours"] for a in enforcement) == 30 + 240
    assert tasking not in {t["id"] for rows in pack["open_by_owner"].values() for t in rows}
    assert any(problem in {p["id"] for p in rows} for rows in pack["problems_by_stage"].values())
    assert [p["id"] for p in pack["priorities"]] == [priority]
    assert pack["recommendations_note"]

    # the problem moves to assessment; its page shows it all, each SARA stage with its date
    moved = call(loop, "PATCH", ANALYST, f"/problems/{problem}", {"properties": {"saraStage": "Assessment"}})
    assert moved.status_code == 200
    page = call(loop, "GET", ANALYST, f"/problems/{problem}/page").json()
    assert [s["stage"] for s in page["sara_stages"]] == ["Analysis", "Assessment"]
    assert page["sara_stages"][-1]["by"] == ANALYST_NAME
    assert set(activities) <= {a["id"] for a in page["activities"]}
    assert tasking in {t["id"] for t in page["taskings"]}
    assert sum(page["incidents_by_month"]) > 0 and max(page["activities_by_month"]) >= 2

    # the next strategic assessment reads the review in "what worked"
    worked = call(loop, "GET", ANALYST, "/assessments/strategic", until=until).json()
    rows = worked["partnership_activity"]["what_worked"]
    assert rows[0]["id"] == review and rows[0]["lessons"] == "Gate the alleys before the patrols end."

    # every step is in the audit log, signed, with what it wrote
    log = call(loop, "GET", ADMIN, "/audit", limit=1000).json()["items"]
    writes = [e for e in log if e["method"] in ("POST", "PATCH") and e["status"] in (200, 201)]
    wrote = {item for e in writes for item in e["items"]}
    assert {priority, group, meeting, tasking, *activities, review} <= wrote
    assert all(e["who"] == ANALYST_NAME for e in writes)
    history = call(loop, "GET", ANALYST, f"/taskings/{tasking}").json()["history"]
    assert [(h["author"], h["said"].get("taskingStatus")) for h in history] == [
        (ANALYST_NAME, "Open"),
        (ANALYST_NAME, "Done"),
    ]


def test_a_partner_viewer_writes_none_of_the_loop_and_each_refusal_is_logged(loop):
    problem = loop.result.problem_id
    attempts = [
        ("POST", "/priorities", {"properties": {"title": "P"}}),
        ("POST", "/taskings", {"properties": {"title": "T", "owner": "O"}}),
        ("POST", "/activities", {"properties": {"pillar": "prevention"}}),
        ("PATCH", f"/problems/{problem}", {"properties": {"saraStage": "assessment"}}),
        ("POST", f"/problems/{problem}/links/places", {"targets": [problem]}),
        ("POST", "/operational-reviews/saved", {"title": "x"}),
    ]
    before = loop.store.counts()
    for method, url, body in attempts:
        response = call(loop, method, PARTNER, url, body)
        assert response.status_code == 403, (method, url, response.text)
    assert loop.store.counts() == before
    log = call(loop, "GET", ADMIN, "/audit", limit=1000).json()["items"]
    refused = {(e["method"], e["path"]) for e in log if e["status"] == 403 and e["who"] == "development partner viewer"}
    assert {(m, u) for m, u, _ in attempts} <= refused
