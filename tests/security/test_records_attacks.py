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
from nimgraph.records import Assertion, Batch, Entity, Link

ANALYST, RESEARCHER, PARTNER, ADMIN = "dev-analyst", "dev-researcher", "dev-partner", "dev-admin"


@pytest.fixture
def app(store, model, tmp_path):
    store.id_key()
    settings = dev_settings(store="unused", work_dir=tmp_path, access_db=tmp_path / "access.db")
    with TestClient(create_app(settings, store=store, model=model)) as client:
        yield client


def call(client, method: str, key: str | None, url: str, body=None, **params):
    headers = {"X-Purpose": "records attack tests", **({"X-API-Key": key} if key else {})}
    return client.request(method, url, json=body, headers=headers, params=params or None)


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
    assert [h["said"].get("taskingStatus") for h in history] == [None, "In progress", "Done"]
    assert [h["at"] for h in history] == sorted(h["at"] for h in history) and all("T" in h["at"] for h in history)


# ------------------------------------------------------------------ the loop's views (a second review)
def _asb_at(store, street: str, handling: str, days: list[str], prefix: str, home: bool = False) -> None:
    kind = "Address" if home else "Street"
    record = lambda rid: Assertion("council-asb", rid, "asb.csv", 2, None, f"2B{handling}", handling)  # noqa: E731
    entities = [Entity(street, kind, {"name": street, "latitude": 53.4, "longitude": -2.2}, [record(street)])]
    links = []
    for n, day in enumerate(days):
        event = f"{prefix}-{n}"
        entities.append(Entity(event, "ASBIncident", {"date": day, "category": "Nuisance"}, [record(event)]))
        links.append(Link(f"at-{event}", Core.OCCURRED_AT, event, street, {}, [record(f"at-{event}")]))
    store.upsert(Batch(entities=entities, links=links))


def _question(**areas):
    return {
        "target": {"places": [areas.get("target", "Street-T")]},
        "buffer": {"places": ["Street-B"]},
        "control": {"places": ["Street-C"]},
        "before": {"since": "2026-01-01", "until": "2026-03-31"},
        "after": {"since": "2026-04-01", "until": "2026-06-30"},
        **{k: v for k, v in areas.items() if k not in ("target",)},
    }


@pytest.fixture
def areas(store):
    for street, handling in (("Street-T", "P"), ("Street-B", "P"), ("Street-C", "P")):
        _asb_at(store, street, handling, ["2026-02-03", "2026-05-04"], f"asb-{street}")
    return store


def test_an_impossible_significance_level_or_a_century_of_windows_is_refused_not_a_crash(app, areas):
    for alpha in (1e-20, 0.0, 0.9):
        response = call(app, "POST", PARTNER, "/operational-reviews", {**_question(), "alpha": alpha})
        assert response.status_code == 422, (alpha, response.text)
    century = {**_question(), "before": {"since": "1900-01-01", "until": "1950-12-31"}}
    response = call(app, "POST", PARTNER, "/operational-reviews", century)
    assert response.status_code == 422 and "span at most 10 years" in response.json()["detail"]


def test_a_view_built_from_c_material_is_marked_c(app, areas):
    _asb_at(areas, "Street-T", "C", ["2026-05-10", "2026-05-11"], "covert")
    problem = call(
        app, "POST", ANALYST, "/problems", {"properties": {"title": "Target ASB"}, "links": {"places": ["Street-T"]}}
    ).json()["id"]
    page = call(app, "GET", ANALYST, f"/problems/{problem}/page").json()
    assert page["handling"] == "C" and sum(page["incidents_by_month"]) == 4
    assert call(app, "GET", PARTNER, f"/problems/{problem}/page").json()["handling"] == "P"
    # a review of a C-recorded record is C, though its incidents are all P
    covert = call(
        app, "POST", ANALYST, "/activities", {"properties": {"pillar": "enforcement"}, "handling": "C"}
    ).json()["id"]
    measured = call(app, "POST", ANALYST, "/operational-reviews", {**_question(), "reviewed": covert}).json()
    assert measured["handling"] == "C"


def test_a_stored_review_a_partner_may_read_never_embeds_c_material(app, areas):
    body = {**_question(), "title": "Q2", "conclusion": "Fell"}
    shared = call(app, "POST", ANALYST, "/operational-reviews/saved", body)
    assert shared.status_code == 201 and shared.json()["handling"] == "P"
    _asb_at(areas, "Street-T", "C", ["2026-05-10"], "covert")
    hidden = call(app, "POST", ANALYST, "/operational-reviews/saved", body)
    assert hidden.json()["handling"] == "C"
    assert call(app, "GET", PARTNER, f"/operational-reviews/{shared.json()['id']}").status_code == 200
    assert call(app, "GET", PARTNER, f"/operational-reviews/{hidden.json()['id']}").status_code == 404
    no_purpose = app.post("/operational-reviews/saved", json=body, headers={"X-API-Key": ANALYST})
    assert no_purpose.status_code == 400 and "purpose" in no_purpose.json()["detail"]


def test_a_home_a_review_shows_is_in_the_audit_log(app, areas):
    _asb_at(areas, "Address-home", "P", ["2026-02-07", "2026-05-07"], "home", home=True)
    circle = {"circles": [{"latitude": 53.4, "longitude": -2.2, "metres": 5}]}
    body = {**_question(), "target": circle, "buffer": {"places": ["Street-B"]}}
    response = call(app, "POST", PARTNER, "/operational-reviews", body)
    assert response.status_code == 200, response.text
    log = call(app, "GET", ADMIN, "/audit?limit=50").json()["items"]
    [entry] = [e for e in log if e["path"] == "/operational-reviews" and e["status"] == 200]
    assert "Address-home" in entry["items"]


def test_an_assessment_naming_a_c_record_of_the_loop_is_marked_c(app, areas):
    before = call(app, "GET", ANALYST, "/assessments/strategic", until="2026-06-30").json()
    assert before["handling"] == "P"
    call(
        app,
        "POST",
        ANALYST,
        "/reviews",
        {"properties": {"title": "Nightjar review", "conclusion": "X"}, "handling": "C"},
    )
    after = call(app, "GET", ANALYST, "/assessments/strategic", until="2026-06-30").json()
    assert after["handling"] == "C" and after["partnership_activity"]["what_worked"][0]["title"] == "Nightjar review"
    partner = call(app, "GET", PARTNER, "/assessments/strategic", until="2026-06-30").json()
    assert partner["handling"] == "P" and partner["partnership_activity"]["what_worked"] == []
