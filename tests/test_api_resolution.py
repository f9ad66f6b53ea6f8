"""Entity resolution over the real app, on both stores: a run, the queue, a proposal side by side,
decisions, refusals and the audit log."""

from __future__ import annotations

import time

import pytest
from conftest import dev_settings
from fastapi.testclient import TestClient
from test_resolution_proposals import plant

from api.main import create_app
from api.routes import resolution as resolution_routes
from nimgraph.ontology import Core
from nimgraph.records import Assertion, Batch, Entity

ANALYST, RESEARCHER, PARTNER, ADMIN = "dev-analyst", "dev-researcher", "dev-partner", "dev-admin"


@pytest.fixture
def app(store, model, tmp_path):
    store.id_key()
    plant(store)
    settings = dev_settings(store="unused", work_dir=tmp_path, access_db=tmp_path / "access.db")
    with TestClient(create_app(settings, store=store, model=model)) as client:
        yield client


def call(client, method: str, key: str | None, url: str, body=None, **params):
    headers = {"X-Purpose": "dedupe review", **({"X-API-Key": key} if key else {})}
    return client.request(method, url, json=body, headers=headers, params=params or None)


def run_linkage_job(client, key: str = ANALYST) -> dict:
    """Start a run and follow it to its end, as a client would; its report."""
    started = call(client, "POST", key, "/resolution/runs")
    assert started.status_code == 202, started.text
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        job = call(client, "GET", key, started.json()["url"]).json()
        if job["status"] != "running":
            assert job["status"] == "done", job
            assert job["steps"] and job["finished"]
            return job["report"]
        time.sleep(0.2)
    raise AssertionError("the linkage run did not end within 180 s")


def test_a_run_the_queue_a_proposal_and_a_decision(app):
    ran = run_linkage_job(app)
    assert ran["proposed"] > 0 and ran["classes"]["person"]["proposed"] > 0
    assert "model_path" not in ran and all("model_path" not in c for c in ran["classes"].values())
    queue = call(app, "GET", ANALYST, "/resolution/proposals", limit=500).json()["items"]
    assert len(queue) == ran["proposed"] or len(queue) == 500
    first = queue[0]
    page = call(app, "GET", ANALYST, f"/resolution/proposals/{first['id']}").json()
    assert {page["left"]["id"], page["right"]["id"]} == {first["left"], first["right"]}
    assert page["comparisons"] and all("contribution" in c for c in page["comparisons"])
    assert page["left"]["sources"] and page["right"]["sources"]
    decided = call(app, "POST", ANALYST, f"/resolution/proposals/{first['id']}/decision", {"decision": "accept"})
    assert decided.json()["status"] == "Accepted"
    page = call(app, "GET", ANALYST, f"/resolution/proposals/{first['id']}").json()
    assert page["status"] == "Accepted" and [d["status"] for d in page["decisions"]] == ["Accepted"]
    assert first["id"] not in {
        p["id"] for p in call(app, "GET", ANALYST, "/resolution/proposals", limit=500).json()["items"]
    }
    log = call(app, "GET", ADMIN, "/audit", limit=200).json()["items"]
    assert any(e["path"].endswith("/decision") and first["id"] in e["items"] for e in log)


def test_a_partner_sees_only_what_rests_on_p_records_and_cannot_decide(app):
    run_linkage_job(app)
    everything = call(app, "GET", ANALYST, "/resolution/proposals", limit=500).json()["items"]
    shown = call(app, "GET", PARTNER, "/resolution/proposals", limit=500).json()["items"]
    assert shown and len(shown) < len(everything) and all(p["handling"] == "P" for p in shown)
    hidden = next(p for p in everything if p["handling"] == "C")
    refused = call(app, "GET", PARTNER, f"/resolution/proposals/{hidden['id']}")
    absent = call(app, "GET", PARTNER, "/resolution/proposals/possiblySameAs-00000000000000000000")
    assert refused.status_code == absent.status_code == 404
    assert refused.json()["detail"].replace(hidden["id"], "X") == absent.json()["detail"].replace(
        "possiblySameAs-00000000000000000000", "X"
    )
    for key in (PARTNER, RESEARCHER, None):
        for url, body in (
            (f"/resolution/proposals/{shown[0]['id']}/decision", {"decision": "reject"}),
            ("/resolution/runs", None),
        ):
            response = call(app, "POST", key, url, body)
            assert response.status_code in (401, 403), (key, url, response.text)
    assert call(app, "GET", ANALYST, f"/resolution/proposals/{shown[0]['id']}").json()["status"] == "Proposed"


# ------------------------------------------------------------------ from the attacker's side


def _person(store, person: str, props: dict, handling: str = "P", source: str = "council") -> None:
    record = Assertion(source, f"{person}-{handling}-{len(props)}", f"{source}.csv", 2, None, f"2B{handling}", handling)
    store.upsert(Batch(entities=[Entity(person, Core.PERSON, props, [record])]))


def _twins(store) -> tuple[str, str]:
    same = {"forename": "zebedee", "surname": "quartermaine", "dateOfBirth": "1961-02-19"}
    _person(store, "Person-twin-a", same)
    _person(store, "Person-twin-b", same, source="fire")
    return "Person-twin-a", "Person-twin-b"


def _pair(app, key, a: str, b: str, status: str | None = None):
    params = {"limit": 500, **({"status": status} if status else {})}
    items = call(app, "GET", key, "/resolution/proposals", **params).json()["items"]
    return next((p for p in items if {p["left"], p["right"]} == {a, b}), None)


def test_a_decided_pair_looks_the_same_to_a_partner_when_c_records_about_it_arrive(app, store):
    """Were the decision hidden once C evidence arrived, its vanishing would tell the partner of the C record."""
    a, b = _twins(store)
    run_linkage_job(app)
    pair = _pair(app, PARTNER, a, b)
    assert pair is not None and pair["handling"] == "P"
    call(app, "POST", ANALYST, f"/resolution/proposals/{pair['id']}/decision", {"decision": "accept"})
    before = call(app, "GET", PARTNER, f"/resolution/proposals/{pair['id']}").json()
    queued = _pair(app, PARTNER, a, b, "Accepted")
    assert before["status"] == "Accepted" and queued is not None
    _person(store, b, {"nhsNumber": "9434765919"}, handling="C", source="police")  # a hidden record about b
    run_linkage_job(app)
    after = call(app, "GET", PARTNER, f"/resolution/proposals/{pair['id']}").json()
    assert after == before and _pair(app, PARTNER, a, b, "Accepted") == queued
    assert "9434765919" not in str(after)
    # the analyst reads the figures of the run on everything; the partner still those of the P run
    assert call(app, "GET", ANALYST, f"/resolution/proposals/{pair['id']}").json()["model_id"] != after["model_id"]
    call(app, "POST", ADMIN, f"/resolution/proposals/{pair['id']}/decision", {"decision": "reject"})
    for key in (ANALYST, PARTNER):  # one code for all of a pair's decisions: the partner reads the whole history
        page = call(app, "GET", key, f"/resolution/proposals/{pair['id']}").json()
        assert page["status"] == "Rejected" and [d["status"] for d in page["decisions"]] == ["Accepted", "Rejected"]


def test_no_decision_while_a_run_rewrites_the_proposals(app):
    run_linkage_job(app)
    first = call(app, "GET", ANALYST, "/resolution/proposals").json()["items"][0]
    assert resolution_routes._RUNNING.acquire(timeout=60)
    try:
        refused = call(app, "POST", ANALYST, f"/resolution/proposals/{first['id']}/decision", {"decision": "accept"})
    finally:
        resolution_routes._RUNNING.release()
    assert refused.status_code == 409 and "run is under way" in refused.json()["detail"]
    log = call(app, "GET", ADMIN, "/audit", limit=1000).json()["items"]
    assert any(e["status"] == 409 and first["id"] in e["items"] for e in log)  # a refusal names the proposal
    allowed = call(app, "POST", ANALYST, f"/resolution/proposals/{first['id']}/decision", {"decision": "accept"})
    assert allowed.status_code == 200


def test_a_pair_the_partners_records_propose_is_in_its_queue_though_c_records_lie_behind_it(app, store):
    a, b = _twins(store)
    _person(store, b, {"nominalId": "NP-7"}, handling="C", source="police")
    run_linkage_job(app)
    shown = _pair(app, PARTNER, a, b)
    assert shown is not None and shown["handling"] == "P"  # its absence would have told of the C record
    assert _pair(app, ANALYST, a, b)["handling"] == "C"  # the analyst's figures rest on everything


def test_a_proposal_page_logs_only_the_two_people_it_shows(app):
    run_linkage_job(app)
    first = call(app, "GET", PARTNER, "/resolution/proposals", limit=1).json()["items"][0]
    call(app, "GET", PARTNER, f"/resolution/proposals/{first['id']}")
    call(app, "GET", PARTNER, "/resolution/proposals/possiblySameAs-00000000000000000000")
    log = call(app, "GET", ADMIN, "/audit", limit=1000).json()["items"]
    pages = [e for e in log if e["path"].startswith("/resolution/proposals/possiblySameAs-")]
    assert {tuple(sorted(e["items"])) for e in pages} == {tuple(sorted((first["left"], first["right"]))), ()}


def test_a_researcher_opens_a_proposal_by_its_pseudonym_and_sees_no_one_real(app):
    run_linkage_job(app)
    real = {p["left"] for p in call(app, "GET", ANALYST, "/resolution/proposals", limit=500).json()["items"]}
    first = call(app, "GET", RESEARCHER, "/resolution/proposals", limit=1).json()["items"][0]
    assert first["id"].startswith("psn-") and first["left"].startswith("psn-")
    page = call(app, "GET", RESEARCHER, f"/resolution/proposals/{first['id']}")
    assert page.status_code == 200, page.text
    assert not any(identifier in page.text for identifier in real)
