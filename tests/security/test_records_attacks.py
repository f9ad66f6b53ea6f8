"""The partnership's records from the attacker's side: what a partner (P) or a researcher (pseudonyms)
might learn of hidden changes, through values, search, history order, defaults and oversized bodies.

Each test plants the case an attacker review found, on both stores, and checks the weaker key learns
nothing it would not learn were the hidden record never written.
"""

from __future__ import annotations

import pytest
from conftest import dev_settings
from fastapi.testclient import TestClient

from api.main import create_app
from nimgraph.ontology import Core
from nimgraph.records import Assertion, Batch, Entity

ANALYST, RESEARCHER, PARTNER, ADMIN = "dev-analyst", "dev-researcher", "dev-partner", "dev-admin"


@pytest.fixture
def app(store, model, tmp_path):
    store.id_key()
    settings = dev_settings(store="unused", work_dir=tmp_path, access_db=tmp_path / "access.db")
    with TestClient(create_app(settings, store=store, model=model)) as client:
        yield client


def call(client, method: str, key: str | None, url: str, body=None, **extra):
    headers = {"X-Purpose": "records attack tests", **({"X-API-Key": key} if key else {})}
    return client.request(method, url, json=body, headers=headers, **extra)


def partner_problem(store, problem_id: str, source: str, said: dict | None = None) -> None:
    record = Assertion(source, problem_id, "register.csv", 2, "2026-10-01", "1AP", "P", properties=said)
    store.upsert(
        Batch(entities=[Entity(problem_id, Core.PROBLEM, {"title": "Old title", "reference": problem_id}, [record])])
    )


def test_a_hidden_change_never_decides_which_value_a_partner_sees(app, store):
    # a register whose source sorts after "partnership": the partner's merge must follow write order
    for problem in ("Problem-aa1", "Problem-aa2"):
        partner_problem(store, problem, "zeta-council")
        assert (
            call(
                app, "PATCH", ANALYST, f"/problems/{problem}", {"properties": {"title": "New title"}, "handling": "P"}
            ).status_code
            == 200
        )
    call(app, "PATCH", ANALYST, "/problems/Problem-aa2", {"properties": {"owner": "DS Grey"}, "handling": "C"})
    seen = [call(app, "GET", PARTNER, f"/problems/{p}").json() for p in ("Problem-aa1", "Problem-aa2")]
    assert [s["properties"] for s in seen] == [
        {"title": "New title", "reference": p} for p in ("Problem-aa1", "Problem-aa2")
    ]
    assert [len(s["history"]) for s in seen] == [2, 2]


def test_a_key_cannot_be_changed_so_an_old_record_shows_nothing_a_c_change_said(app, store):
    partner_problem(store, "Problem-L", "csp-problems")
    refused = call(
        app, "PATCH", ANALYST, "/problems/Problem-L", {"properties": {"reference": "OP-COVERT"}, "handling": "C"}
    )
    assert refused.status_code == 422 and "identifies the record" in refused.json()["detail"]
    assert "OP-COVERT" not in str(call(app, "GET", PARTNER, "/problems/Problem-L").json())


def test_search_finds_what_a_partner_is_shown_and_nothing_a_hidden_change_wrote(app):
    made = call(
        app, "POST", ANALYST, "/taskings", {"properties": {"title": "Alpha", "owner": "O", "result": "Found nothing"}}
    ).json()["id"]
    call(
        app,
        "PATCH",
        ANALYST,
        f"/taskings/{made}",
        {"properties": {"title": "SecretBeta", "result": None}, "handling": "C"},
    )
    found = lambda q: [e["id"] for e in call(app, "GET", PARTNER, f"/taskings?q={q}").json()["items"]]  # noqa: E731
    assert found("Alpha") == [made] and found("Found nothing") == [made]
    assert found("SecretBeta") == []
    assert call(app, "GET", PARTNER, f"/taskings/{made}").json()["properties"]["title"] == "Alpha"


def test_a_change_to_a_c_record_stays_c_unless_the_analyst_says_otherwise(app):
    made = call(
        app, "POST", ANALYST, "/taskings", {"properties": {"title": "Covert", "owner": "DS"}, "handling": "C"}
    ).json()["id"]
    assert (
        call(app, "PATCH", ANALYST, f"/taskings/{made}", {"properties": {"taskingStatus": "done"}}).status_code == 200
    )
    assert call(app, "POST", ANALYST, f"/taskings/{made}/links/concerning", {"targets": [made]}).status_code == 422
    hidden = call(app, "GET", PARTNER, f"/taskings/{made}")
    absent = call(app, "GET", PARTNER, "/taskings/Tasking-00000000000000000000")
    assert hidden.status_code == absent.status_code == 404


def test_a_link_defaults_to_the_stricter_of_its_ends(app, store):
    store.upsert(
        Batch(
            entities=[
                Entity(
                    "Person-9",
                    Core.PERSON,
                    {"surname": "Quill"},
                    [Assertion("police", "N9", "n.csv", 2, None, "1AC", "C")],
                )
            ]
        )
    )
    made = call(
        app,
        "POST",
        ANALYST,
        "/taskings",
        {"properties": {"title": "T", "owner": "O"}, "links": {"concerning": ["Person-9"]}},
    ).json()["id"]
    [link] = store.neighbourhood([made], 1, [Core.TASKS]).links.values()
    assert [a.handling for a in link.provenance] == ["C"]


def test_bodies_are_refused_unread_without_a_key_that_may_send_them(app):
    big = b"[" + b"0," * 600_000 + b"0]"  # 1.2 MB of JSON
    for key, status in ((None, 401), (PARTNER, 403), (RESEARCHER, 403)):
        response = app.post(
            "/taskings",
            content=big,
            headers={"Content-Type": "application/json", **({"X-API-Key": key} if key else {})},
        )
        assert response.status_code == status, (key, response.text)
    too_large = app.post("/taskings", content=big, headers={"Content-Type": "application/json", "X-API-Key": ANALYST})
    assert too_large.status_code == 413


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({"title": "T", "owner": "O", "result": "a\x00b"}, "control characters"),
        ({"title": "T\u202eevil", "owner": "O"}, "control characters"),
        ({"title": "T", "owner": "O\u200b"}, "invisible"),
        ({"title": "T", "owner": "O", "handlingCode": "P"}, "not a property"),
        ({"title": "T", "owner": "O", "grade": "1AP"}, "not a property"),
    ],
)
def test_values_that_would_read_as_something_else_are_refused(app, properties, message):
    response = call(app, "POST", ANALYST, "/taskings", {"properties": properties})
    assert response.status_code == 422 and message in response.json()["detail"]


def test_a_huge_number_or_too_many_links_is_refused_not_a_crash(app):
    huge = call(app, "POST", ANALYST, "/priorities", {"properties": {"title": "T", "rank": 10**400}})
    assert huge.status_code == 422
    many = call(
        app,
        "POST",
        ANALYST,
        "/taskings",
        {"properties": {"title": "T", "owner": "O"}, "links": {"concerning": ["Problem-x"] * 201}},
    )
    assert many.status_code == 422 and "at most 200 links" in many.json()["detail"]


def test_a_create_names_what_it_linked_in_the_audit_log(app, store):
    partner_problem(store, "Problem-1", "csp-problems")
    made = call(
        app,
        "POST",
        ANALYST,
        "/taskings",
        {"properties": {"title": "T", "owner": "O"}, "links": {"concerning": ["Problem-1"]}},
    ).json()["id"]
    log = call(app, "GET", ADMIN, "/audit?limit=100").json()["items"]
    [entry] = [e for e in log if e["method"] == "POST" and e["path"] == "/taskings"]
    assert {made, "Problem-1"} <= set(entry["items"])


def test_a_researcher_reads_a_records_history_in_order(app):
    made = call(app, "POST", ANALYST, "/taskings", {"properties": {"title": "T", "owner": "O"}}).json()["id"]
    for status in ("in progress", "done"):
        call(app, "PATCH", ANALYST, f"/taskings/{made}", {"properties": {"taskingStatus": status}})
    history = call(app, "GET", RESEARCHER, f"/taskings/{made}").json()["history"]
    assert [h["said"].get("taskingStatus") for h in history] == [None, "in-progress", "done"]
    assert [h["at"] for h in history] == sorted(h["at"] for h in history) and all("T" in h["at"] for h in history)
