"""The partnership's own records over the real app, on both stores: writes, reads, refusals, audit."""

from __future__ import annotations

import pytest
from conftest import dev_settings
from fastapi.testclient import TestClient

from api.main import create_app
from nimgraph.ontology import Core
from nimgraph.records import Assertion, Batch, Entity, Link

ANALYST, RESEARCHER, PARTNER, ADMIN = "dev-analyst", "dev-researcher", "dev-partner", "dev-admin"
# the names the development keys sign with (nimgraph/config.py)
NAMES = {ANALYST: "development analyst", PARTNER: "development partner viewer", RESEARCHER: "development researcher"}


@pytest.fixture
def app(store, model, tmp_path):
    store.id_key()
    p = Assertion("csp-problems", "PRB-1", "problems.csv", 2, "2026-10-01", "1AP", "P")
    c = Assertion("police-nominals", "N-9", "nominals.csv", 3, "2026-10-01", "1AC", "C")
    store.upsert(
        Batch(
            entities=[
                Entity("Problem-1", Core.PROBLEM, {"title": "Eastfield ASB", "saraStage": "analysis"}, [p]),
                Entity("Person-9", Core.PERSON, {"forename": "Dan", "surname": "Quill"}, [c]),
            ]
        )
    )
    settings = dev_settings(store="unused", work_dir=tmp_path, access_db=tmp_path / "access.db")
    with TestClient(create_app(settings, store=store, model=model)) as client:
        yield client


def call(client, method: str, key: str, url: str, body=None, purpose: str = "T&CG records tests"):
    return client.request(method, url, json=body, headers={"X-API-Key": key, "X-Purpose": purpose})


def test_the_loop_is_written_and_read_through_the_api(app):
    group = call(
        app, "POST", ANALYST, "/tasking-groups", {"properties": {"name": "Northwick TTCG", "taskingLevel": "tactical"}}
    )
    assert group.status_code == 201, group.text
    meeting = call(
        app,
        "POST",
        ANALYST,
        "/meetings",
        {
            "properties": {
                "date": "2026-11-03",
                "attendees": "Insp Khan; ASB officer",
                "decisions": "Target Eastfield",
            },
            "links": {"group": [group.json()["id"]]},
        },
    )
    priority = call(
        app,
        "POST",
        ANALYST,
        "/priorities",
        {
            "properties": {
                "title": "ASB in Eastfield",
                "owner": "Insp Khan",
                "rank": 1,
                "startDate": "2026-11-01",
                "endDate": "2027-03-31",
                "rationale": "Highest harm",
                "measure": "ASB reports per month",
            },
            "links": {"problems": ["Problem-1"], "group": [group.json()["id"]]},
        },
    )
    tasking = call(
        app,
        "POST",
        ANALYST,
        "/taskings",
        {
            "properties": {
                "title": "Visit repeat callers",
                "owner": "PC Lee",
                "dueDate": "2026-11-20",
                "taskingStatus": "open",
            },
            "links": {"concerning": [priority.json()["id"], "Problem-1"], "meeting": [meeting.json()["id"]]},
        },
    )
    assert [r.status_code for r in (meeting, priority, tasking)] == [201, 201, 201], tasking.text
    tid = tasking.json()["id"]
    changed = call(
        app, "PATCH", ANALYST, f"/taskings/{tid}", {"properties": {"taskingStatus": "Done", "result": "12 visits"}}
    )
    assert changed.status_code == 200, changed.text

    page = call(app, "GET", ANALYST, f"/taskings/{tid}").json()
    assert page["kind"] == "tasking" and page["label"] == "Visit repeat callers"
    assert page["properties"]["taskingStatus"] == "Done" and page["properties"]["result"] == "12 visits"
    assert [(h["author"], h["said"].get("taskingStatus")) for h in page["history"]] == [
        (NAMES[ANALYST], "Open"),
        (NAMES[ANALYST], "Done"),
    ]
    assert sorted((k["role"], k["id"]) for k in page["links"]) == sorted(
        [("concerning", priority.json()["id"]), ("concerning", "Problem-1"), ("meeting", meeting.json()["id"])]
    )
    problem = call(app, "GET", ANALYST, "/problems/Problem-1").json()
    assert {(k["role"], k["outward"]) for k in problem["links"]} == {("taskings", False), ("priorities", False)}
    listed = call(app, "GET", ANALYST, "/taskings").json()
    assert [e["id"] for e in listed["items"]] == [tid]


def test_a_partner_or_researcher_cannot_write_and_each_refusal_is_audited(app):
    made = call(app, "POST", ANALYST, "/taskings", {"properties": {"title": "T", "owner": "O"}}).json()["id"]
    attempts = [
        ("POST", "/taskings", {"properties": {"title": "T", "owner": "O"}}),
        ("PATCH", f"/taskings/{made}", {"properties": {"owner": "me"}}),
        ("POST", f"/taskings/{made}/links/concerning", {"targets": ["Problem-1"]}),
        ("DELETE", f"/taskings/{made}/links/concerning/Problem-1", None),
    ]
    for key in (PARTNER, RESEARCHER):
        for method, url, body in attempts:
            response = call(app, method, key, url, body)
            assert response.status_code == 403, (key, method, url, response.text)
    assert call(app, "GET", ANALYST, f"/taskings/{made}").json()["properties"]["owner"] == "O"
    log = call(app, "GET", ADMIN, "/audit?limit=1000").json()["items"]
    refused = {(e["who"], e["method"], e["status"]) for e in log if e["path"].startswith("/taskings")}
    expected = {(NAMES[PARTNER], "PATCH", 403), (NAMES[RESEARCHER], "DELETE", 403), (NAMES[PARTNER], "POST", 403)}
    assert expected <= refused
    written = [e for e in log if e["method"] == "POST" and e["path"] == "/taskings" and e["status"] == 201]
    assert written and written[0]["who"] == NAMES[ANALYST] and made in written[0]["items"]


def test_a_bad_write_is_refused_with_what_to_change(app):
    cases = [
        ({"properties": {"title": "T"}}, "needs an owner"),
        ({"properties": {"title": "T", "owner": "O", "dueDate": "tomorrow"}}, "YYYY-MM-DD"),
        ({"properties": {"title": "T", "owner": "O"}, "links": {"concerning": ["Nope-1"]}}, "no record with id"),
        ({"properties": {"title": "T", "owner": "O"}, "links": {"victims": ["Problem-1"]}}, "has no link 'victims'"),
        ({"properties": {"title": "T", "owner": "O"}, "handling": "X"}, "handling"),
        ({"properties": {"title": "T", "owner": "O"}, "extra": 1}, "extra"),
        ({"properties": {"title": ["a list"], "owner": "O"}}, "properties.title"),
    ]
    for body, message in cases:
        response = call(app, "POST", ANALYST, "/taskings", body)
        assert response.status_code == 422, (body, response.text)
        assert message in response.json()["detail"], (body, response.json()["detail"])
    assert call(app, "GET", ANALYST, "/taskings").json()["items"] == []


def test_an_id_of_another_kind_or_of_nothing_is_not_found(app):
    made = call(app, "POST", ANALYST, "/activities", {"properties": {"pillar": "prevention"}}).json()["id"]
    for url in (f"/taskings/{made}", "/taskings/Tasking-0000", "/activities/Person-9"):
        assert call(app, "GET", ANALYST, url).status_code == 404
        assert call(app, "PATCH", ANALYST, url, {"properties": {"owner": "x"}}).status_code == 404


def test_a_partner_reads_p_records_and_cannot_tell_a_c_record_from_none(app):
    shared = call(app, "POST", ANALYST, "/taskings", {"properties": {"title": "Shared", "owner": "O"}}).json()["id"]
    secret = call(
        app, "POST", ANALYST, "/taskings", {"properties": {"title": "Covert", "owner": "DS"}, "handling": "C"}
    ).json()["id"]
    call(app, "PATCH", ANALYST, f"/taskings/{shared}", {"properties": {"result": "Source says X"}, "handling": "C"})
    seen = call(app, "GET", PARTNER, f"/taskings/{shared}").json()
    assert seen["properties"] == {"title": "Shared", "owner": "O"} and len(seen["history"]) == 1
    hidden = call(app, "GET", PARTNER, f"/taskings/{secret}")
    absent = call(app, "GET", PARTNER, "/taskings/Tasking-ffffffffffffffffffff")
    assert hidden.status_code == absent.status_code == 404
    assert hidden.json()["detail"].replace(secret, "ID") == absent.json()["detail"].replace(
        "Tasking-ffffffffffffffffffff", "ID"
    )
    assert [e["id"] for e in call(app, "GET", PARTNER, "/taskings").json()["items"]] == [shared]


def test_a_tasking_about_a_c_recorded_person_shows_the_person_to_no_one_not_cleared(app):
    made = call(
        app,
        "POST",
        ANALYST,
        "/taskings",
        {"properties": {"title": "Disrupt", "owner": "DS"}, "links": {"concerning": ["Person-9", "Problem-1"]}},
    ).json()["id"]
    partner = call(app, "GET", PARTNER, f"/taskings/{made}").json()
    assert [k["id"] for k in partner["links"]] == ["Problem-1"]
    researcher = call(app, "GET", RESEARCHER, f"/taskings/{made}").json()
    people = [k for k in researcher["links"] if k["type"] == Core.PERSON]
    assert len(people) == 1 and people[0]["id"] != "Person-9" and "Quill" not in str(researcher)
    analyst = call(app, "GET", ANALYST, f"/taskings/{made}").json()
    assert {k["id"] for k in analyst["links"]} == {"Person-9", "Problem-1"}


def test_unlinking_through_the_api_leaves_a_partners_link(app, store):
    activity = call(app, "POST", ANALYST, "/activities", {"properties": {"pillar": "enforcement"}}).json()["id"]
    assert (
        call(app, "POST", ANALYST, f"/activities/{activity}/links/problems", {"targets": ["Problem-1"]}).status_code
        == 201
    )
    partner_record = Assertion("council-asb", "ACT-1", "acts.csv", 2, None, "2BP", "P")
    link = store.neighbourhood([activity], 1, [Core.RESPONDS_TO]).links
    [(link_id, held)] = link.items()
    store.upsert(Batch(links=[Link(link_id, held.type, held.source, held.target, {}, [partner_record])]))
    gone = call(app, "DELETE", ANALYST, f"/activities/{activity}/links/problems/Problem-1")
    assert gone.json() == {"withdrawn": 1}
    still = call(app, "GET", ANALYST, f"/activities/{activity}").json()["links"]
    assert [k["id"] for k in still] == ["Problem-1"]
