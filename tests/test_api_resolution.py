"""Entity resolution over the real app, on both stores: a run, the queue, a proposal side by side,
decisions, refusals and the audit log."""

from __future__ import annotations

import pytest
from conftest import dev_settings
from fastapi.testclient import TestClient
from test_resolution_proposals import plant

from api.main import create_app

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


def test_a_run_the_queue_a_proposal_and_a_decision(app):
    ran = call(app, "POST", ANALYST, "/resolution/runs")
    assert ran.status_code == 201 and ran.json()["proposed"] > 0
    queue = call(app, "GET", ANALYST, "/resolution/proposals", limit=500).json()["items"]
    assert len(queue) == ran.json()["proposed"] or len(queue) == 500
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
    call(app, "POST", ANALYST, "/resolution/runs")
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
