"""Saved workbench charts through the API: owners only, reread through the caller's view, audited,
capped; and the workbench page itself, which reads nothing.

In production mode with keys of the kind a deployment sets. "DC Test" holds three keys over the
test (an analyst's, then a partner's, then a researcher's), as someone whose clearance changes
would: a chart saved under the first must show under the others only what they may see now.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
from conftest import person_id
from fastapi.testclient import TestClient

from api.main import create_app
from api.routes.charts import MAX_CHART_BYTES, MAX_CHART_NODES
from nimgraph.config import Settings

HOLDERS = {
    "analyst": {"name": "DC Test", "role": "analyst"},
    "same person as partner": {"name": "DC Test", "role": "partner_viewer"},
    "same person as researcher": {"name": "DC Test", "role": "researcher"},
    "other analyst": {"name": "DC Other", "role": "analyst"},
    "admin": {"name": "IG admin", "role": "admin"},
}
PURPOSE = "chart tests"


class Client:
    def __init__(self, client: TestClient, keys: dict[str, str]) -> None:
        self.client = client
        self.keys = keys

    def headers(self, who: str | None, purpose: str | None = PURPOSE) -> dict[str, str]:
        headers = {"X-API-Key": self.keys[who]} if who else {}
        return headers | ({"X-Purpose": purpose} if purpose else {})

    def get(self, who: str | None, url: str, purpose: str | None = PURPOSE, **params):
        return self.client.get(url, headers=self.headers(who, purpose), params=params or None)

    def save(self, who: str | None, body: dict, purpose: str | None = PURPOSE):
        return self.client.post("/charts", headers=self.headers(who, purpose), json=body)


@pytest.fixture(scope="module")
def api(demo, tmp_path_factory):
    work: Path = tmp_path_factory.mktemp("charts")
    keys = {who: secrets.token_urlsafe(32) for who in HOLDERS}
    settings = Settings(
        env="production",
        api_keys={keys[who]: holder for who, holder in HOLDERS.items()},
        pseudonym_key=secrets.token_urlsafe(32),
        audit_key=secrets.token_urlsafe(32),
        audit_anchor=work / "anchor.log",
        access_db=work / "access.db",
        store="unused",
        work_dir=demo.work_dir,
    )
    with TestClient(create_app(settings, store=demo.store, model=demo.model)) as client:
        yield Client(client, keys)


@pytest.fixture(scope="module")
def chart(demo, api) -> dict:
    """A chart an analyst might make: a street with crimes there (on P and C records), and a
    person whom only C records name, with that person's links."""
    street = api.get("analyst", "/search", type="Street", q="Marlowe Parade").json()["items"]
    street = next(s for s in street if s["label"] == "Marlowe Parade")
    around = api.get("analyst", f"/entities/{street['id']}/network", hops=1, max_entities=15).json()
    vulnerable = person_id(demo, demo.planted["vulnerable"])
    theirs = api.get("analyst", f"/entities/{vulnerable}/network", hops=1).json()
    nodes = {n["id"]: n for n in around["nodes"] + theirs["nodes"]}
    links = {k["id"]: k for k in around["links"] + theirs["links"]}
    return {
        "street": street["id"],
        "vulnerable": vulnerable,
        "graph": {"nodes": list(nodes.values()), "links": list(links.values())},
        "body": {
            "name": "Marlowe Parade and the vulnerable person",
            "chart": {
                "nodes": [{"id": i, "x": n * 10.0, "y": -n * 5.0, "pinned": n == 0} for n, i in enumerate(nodes)],
                "links": [
                    {k: v for k, v in link.items() if k in ("id", "type", "source", "target")}
                    for link in links.values()
                ],
                "settings": {"mode": "network", "min_grade": "2B", "handling": ["P", "C"], "since": "2026-01-01"},
            },
        },
    }


def test_a_saved_chart_reopens_for_its_owner_as_saved(api, chart):
    saved = api.save("analyst", chart["body"])
    assert saved.status_code == 201, saved.text
    chart_id = saved.json()["id"]
    assert chart_id.startswith("chart-") and saved.json()["name"] == chart["body"]["name"]
    listed = api.get("analyst", "/charts").json()["items"]
    assert chart_id in [c["id"] for c in listed]
    opened = api.get("analyst", f"/charts/{chart_id}")
    assert opened.status_code == 200, opened.text
    body = opened.json()["chart"]
    graph = chart["graph"]
    assert {n["id"] for n in body["nodes"]} == {n["id"] for n in graph["nodes"]}
    assert {k["id"] for k in body["links"]} == {k["id"] for k in graph["links"]}
    first = body["nodes"][0]
    assert first["x"] == 0.0 and first["pinned"] is True and first["label"] and first["provenance"]
    assert body["settings"]["min_grade"] == "2B" and body["settings"]["since"] == "2026-01-01"
    assert any(r["handling"] == "C" for n in body["nodes"] for r in n["provenance"])


def test_another_users_chart_is_missing_exactly_as_an_id_never_issued(api, chart):
    chart_id = api.save("analyst", chart["body"]).json()["id"]
    never = "chart-" + secrets.token_urlsafe(16)
    theirs = api.get("other analyst", f"/charts/{chart_id}")
    missing = api.get("other analyst", f"/charts/{never}")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.headers["content-type"] == missing.headers["content-type"] == "application/problem+json"
    assert json.loads(theirs.text.replace(chart_id, never)) == missing.json()
    assert chart["body"]["name"] not in theirs.text
    assert chart_id not in [c["id"] for c in api.get("other analyst", "/charts").json()["items"]]


def test_a_chart_belongs_to_its_holder_at_one_clearance(api, chart):
    """Its layout was made with what that clearance showed (a gap in a ring of positions is a hidden
    neighbour), so the holder's key of another clearance finds it missing, as an id never issued."""
    chart_id = api.save("analyst", chart["body"]).json()["id"]
    never = "chart-" + secrets.token_urlsafe(16)
    for other in ("same person as partner", "same person as researcher"):
        theirs, missing = api.get(other, f"/charts/{chart_id}"), api.get(other, f"/charts/{never}")
        assert theirs.status_code == missing.status_code == 404
        assert json.loads(theirs.text.replace(chart_id, never)) == missing.json()
        assert chart_id not in [c["id"] for c in api.get(other, "/charts").json()["items"]]
    assert api.get("analyst", f"/charts/{chart_id}").status_code == 200


def test_a_reopened_chart_shows_only_what_its_owner_may_see_now(api, chart):
    """Whatever ids a chart was saved with (here an analyst's chart, sent by a partner key), each is
    read again through the reopening key's view: no stored copy of an entity or link is trusted."""
    chart_id = api.save("same person as partner", chart["body"]).json()["id"]
    as_partner = api.get("same person as partner", f"/charts/{chart_id}")
    assert as_partner.status_code == 200, as_partner.text
    body = as_partner.json()["chart"]
    shown = {n["id"] for n in body["nodes"]}
    assert chart["street"] in shown and chart["vulnerable"] not in shown
    for node in body["nodes"]:
        own = api.get("same person as partner", f"/entities/{node['id']}").json()
        assert node["properties"] == own["properties"] and node["provenance"] == own["provenance"]
        assert {r["handling"] for r in node["provenance"]} == {"P"}
    hidden = {n["id"] for n in chart["graph"]["nodes"]} - shown
    assert hidden and all(api.get("same person as partner", f"/entities/{i}").status_code == 404 for i in hidden)
    assert all(k["source"] in shown and k["target"] in shown for k in body["links"])
    assert {r["handling"] for k in body["links"] for r in k["provenance"]} == {"P"}
    assert body["links"] and len(body["links"]) < len(chart["graph"]["links"])
    assert as_partner.json()["clearance"]["filtered"] is True


def test_repeated_ids_are_refused_and_a_chart_can_be_deleted(api, chart):
    node = chart["body"]["chart"]["nodes"][0]
    repeated = {"name": "repeats", "chart": {"nodes": [node] * 3, "links": []}}
    refused = api.save("analyst", repeated)
    assert refused.status_code == 400 and "each entity once" in refused.json()["detail"]
    chart_id = api.save("analyst", chart["body"]).json()["id"]
    headers = api.headers("other analyst")
    assert api.client.delete(f"/charts/{chart_id}", headers=headers).status_code == 404
    assert api.client.delete(f"/charts/{chart_id}", headers=api.headers("analyst")).status_code == 204
    assert api.get("analyst", f"/charts/{chart_id}").status_code == 404


def test_a_body_without_a_key_is_refused_before_it_is_read(api):
    sent = api.client.post("/charts", content=b"{not json", headers={"Content-Type": "application/json"})
    assert sent.status_code == 401


def test_saves_and_reads_are_in_the_audit_log_with_their_purpose(api, chart):
    purpose = f"Op Larch chart {secrets.token_hex(4)}"
    chart_id = api.save("analyst", chart["body"], purpose=purpose).json()["id"]
    api.get("analyst", "/charts", purpose=purpose)
    api.get("analyst", f"/charts/{chart_id}", purpose=purpose)
    api.get("other analyst", f"/charts/{chart_id}", purpose=purpose)
    log = api.get("admin", "/audit", purpose="chart audit check", limit=1000).json()["items"]
    entries = [e for e in log if e["purpose"] == purpose]
    assert [(e["who"], e["method"], e["path"], e["status"]) for e in entries] == [
        ("DC Test", "POST", "/charts", 201),
        ("DC Test", "GET", "/charts", 200),
        ("DC Test", "GET", f"/charts/{chart_id}", 200),
        ("DC Other", "GET", f"/charts/{chart_id}", 404),
    ]
    assert f"chart:{chart_id}" in entries[0]["items"]
    assert {f"chart:{chart_id}", chart["vulnerable"]} <= set(entries[2]["items"])  # the people it showed
    assert entries[3]["items"] == []


def test_every_chart_route_needs_a_key_and_a_purpose(api, chart):
    chart_id = api.save("analyst", chart["body"]).json()["id"]
    for method, url in (("POST", "/charts"), ("GET", "/charts"), ("GET", f"/charts/{chart_id}")):
        send = (
            (lambda who, purpose: api.save(who, chart["body"], purpose))
            if method == "POST"
            else (lambda who, purpose, url=url: api.get(who, url, purpose))
        )
        assert send(None, PURPOSE).status_code == 401, url
        refused = send("analyst", None)
        assert refused.status_code == 400 and "X-Purpose" in refused.json()["detail"], url


def test_a_chart_too_large_or_malformed_is_refused_with_what_to_change(api, chart):
    many = {"name": "too many", "chart": {"nodes": [{"id": f"Street-{i:020x}"} for i in range(MAX_CHART_NODES + 1)]}}
    refused = api.save("analyst", many)
    assert refused.status_code == 413 and f"at most {MAX_CHART_NODES:,} entities" in refused.json()["detail"]
    padding = {"name": "too big", "chart": {"nodes": [], "padding": "x" * MAX_CHART_BYTES}}
    big = api.save("analyst", padding)
    assert big.status_code == 413 and f"{MAX_CHART_BYTES:,} bytes" in big.json()["detail"]

    def streamed():  # no Content-Length: counted as it arrives
        yield b'{"name": "streamed", "chart": {"nodes": [], "padding": "'
        for _ in range(MAX_CHART_BYTES // 65536 + 2):
            yield b"x" * 65536
        yield b'"}}'

    chunked = api.client.post(
        "/charts", headers=api.headers("analyst") | {"Content-Type": "application/json"}, content=streamed()
    )
    assert chunked.status_code == 413, chunked.text
    for body in (
        {"name": "", "chart": {}},
        {"name": "bad id", "chart": {"nodes": [{"id": "<script>"}]}},
        {"name": "bad grade", "chart": {"settings": {"min_grade": "9Z"}}},
        {"name": "no chart"},
    ):
        assert api.save("analyst", body).status_code == 422, body
    assert api.get("analyst", "/charts/not-a-chart-id").status_code == 422


def test_a_chart_write_with_browser_credentials_must_come_from_the_site(api, chart):
    basic = ("DC Test", api.keys["analyst"])
    foreign = api.client.post(
        "/charts", auth=basic, headers={"X-Purpose": PURPOSE, "Origin": "https://elsewhere.example"}, json=chart["body"]
    )
    assert foreign.status_code == 403
    unproven = api.client.post("/charts", auth=basic, headers={"X-Purpose": PURPOSE}, json=chart["body"])
    assert unproven.status_code == 403 and "anti-forgery" in unproven.json()["detail"]
    own = api.client.post(
        "/charts", auth=basic, headers={"X-Purpose": PURPOSE, "Origin": "http://testserver"}, json=chart["body"]
    )
    assert own.status_code == 201, own.text


def test_a_researchers_chart_of_pseudonyms_reopens_as_saved(api, chart):
    street = chart["street"]
    around = api.get("same person as researcher", f"/entities/{street}/network", hops=2, max_entities=400).json()
    people = [n["id"] for n in around["nodes"] if n["type"] == "Person"]
    assert people and all(p.startswith("psn-") for p in people)
    body = {
        "name": "pseudonymised",
        "chart": {
            "nodes": [{"id": n["id"]} for n in around["nodes"]],
            "links": [
                {k: v for k, v in link.items() if k in ("id", "type", "source", "target")} for link in around["links"]
            ],
        },
    }
    chart_id = api.save("same person as researcher", body).json()["id"]
    opened = api.get("same person as researcher", f"/charts/{chart_id}").json()["chart"]
    assert [n["id"] for n in opened["nodes"]] == [n["id"] for n in around["nodes"]]
    assert {k["id"] for k in opened["links"]} == {k["id"] for k in around["links"]}
    assert all(not n["properties"] for n in opened["nodes"] if n["type"] == "Person")
    # the same holder's analyst key has another clearance: the chart is not theirs to open
    assert api.get("analyst", f"/charts/{chart_id}").status_code == 404


def test_the_workbench_page_needs_a_key_and_names_nothing_elsewhere(api):
    assert api.client.get("/workbench").status_code == 401
    for who in ("analyst", "same person as researcher", "same person as partner"):
        page = api.client.get("/workbench", headers={"X-API-Key": api.keys[who]})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "connect-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["cache-control"] == "no-store"
        text = page.text
        assert "<script src" not in text and 'href="http' not in text and '<link rel="stylesheet"' not in text
        assert "DC Test" in text  # the caller's own name, and nobody else's data: the page reads nothing
    partner = api.client.get("/workbench", headers={"X-API-Key": api.keys["same person as partner"]}).text
    assert 'value="P"' in partner and 'value="C"' not in partner
