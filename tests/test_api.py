"""The real app over the real demo store, called over HTTP."""

from __future__ import annotations

import pytest
from conftest import dev_settings, person_id
from fastapi.testclient import TestClient

from api.main import create_app
from nimgraph.demo import find_problem

ANALYST = {"X-API-Key": "dev-analyst", "X-Purpose": "API tests"}


@pytest.fixture(scope="module")
def client(demo, tmp_path_factory):
    settings = dev_settings(
        store=str(demo.work_dir / "graph.db"),
        work_dir=demo.work_dir,
        access_db=tmp_path_factory.mktemp("api") / "access.db",
    )
    with TestClient(create_app(settings, store=demo.store, model=demo.model), headers=ANALYST) as test_client:
        yield test_client


def test_health_reports_the_graph_size(client, demo):
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["entities"] == sum(demo.store.counts()["entities"].values())


def test_search_by_type_and_text(client):
    body = client.get("/search", params={"type": "Street", "q": "marlowe"}).json()
    assert [e["label"] for e in body["items"]] == ["Marlowe Parade"]
    events = client.get("/search", params={"type": "Event", "limit": 5}).json()["items"]
    assert len(events) == 5 and all(e["type"] in {"CrimeIncident", "ASBIncident", "DeliberateFire"} for e in events)


def test_unknown_type_is_a_problem_json_400(client):
    response = client.get("/search", params={"type": "Persn"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert "Did you mean 'Person'" in response.json()["detail"]


def test_entity_comes_with_its_provenance(client, demo):
    vulnerable = person_id(demo, demo.planted["vulnerable"])
    body = client.get(f"/entities/{vulnerable}").json()
    assert body["properties"]["nominalId"] == demo.planted["vulnerable"]
    assert {p["source"] for p in body["provenance"]} == {"intelligence-log"}
    assert all(p["grade"] and p["handling"] in "PC" for p in body["provenance"])
    missing = client.get("/entities/Person-nope")
    assert missing.status_code == 404 and missing.json()["title"] == "Not Found"


def test_associations_list_evidence_records(client, demo):
    vulnerable = person_id(demo, demo.planted["vulnerable"])
    body = client.get(f"/entities/{vulnerable}/associations").json()
    found = {a["person"]: a for a in body["items"]}
    for nominal, urn in demo.planted["vulnerable_associates"].items():
        evidence = found[person_id(demo, nominal)]["evidence"]
        assert urn in {r["record_id"] for e in evidence for r in e["records"]}
    strengths = [a["strength"] for a in body["items"]]
    assert strengths == sorted(strengths, reverse=True)


def test_profiles_as_json_and_html(client, demo):
    vulnerable = person_id(demo, demo.planted["vulnerable"])
    subject = client.get(f"/profiles/subject/{vulnerable}").json()
    assert subject["product"] == "subject_profile" and subject["subject"]["id"] == vulnerable
    problem = find_problem(demo.store, demo.planted["problem"])
    html = client.get(f"/profiles/problem/{problem}", params={"format": "html"})
    assert html.headers["content-type"].startswith("text/html")
    assert demo.planted["hotspot"]["street"] in html.text and "vis.Network" in html.text
    wrong = client.get(f"/profiles/subject/{problem}")
    assert wrong.status_code == 404 and "not a person" in wrong.json()["detail"]


def test_landing_page_links_the_reports_with_the_purpose(client):
    assert 'href="/reports/' not in client.get("/").text  # no purpose stated yet
    page = client.get("/", params={"purpose": "Op Larch briefing"})
    assert 'href="/reports/subject-profile.html?purpose=Op%20Larch%20briefing"' in page.text
    assert 'href="/reports/problem-profile.html?purpose=Op%20Larch%20briefing"' in page.text
    assert client.get("/reports/subject-profile.html").status_code == 200
    assert client.get("/reports/..%2Fgraph.db").status_code == 404
    partner = client.get("/reports/subject-profile.html", headers={"X-API-Key": "dev-partner"})
    assert partner.status_code == 403 and "/profiles/" in partner.json()["detail"]


def test_openapi_describes_every_route(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/health",
        "/search",
        "/entities/{entity_id}",
        "/entities/{entity_id}/network",
        "/entities/{entity_id}/associations",
        "/paths",
        "/paths/network",
        "/problems",
        "/problems/{entity_id}/links",
        "/profiles/subject/{entity_id}",
        "/profiles/problem/{entity_id}",
        "/ingest/jobs",
        "/ingest/jobs/{job_id}",
        "/ingest/jobs/{job_id}/rejects",
        "/ontology/classes",
        "/audit",
    ):
        assert path in paths


def test_the_api_documentation_needs_no_cdn(client):
    docs = client.get("/docs").text
    assert "cdn" not in docs.lower() and "https://" not in docs
    for asset in ("/docs-assets/swagger-ui-bundle.js", "/docs-assets/swagger-ui.css"):
        assert f'"{asset}"' in docs or f"'{asset}'" in docs
        assert client.get(asset).status_code == 200


def test_ontology_classes_link_types_and_code_lists_come_from_the_model(client, demo):
    classes = {c["name"]: c for c in client.get("/ontology/classes").json()}
    assert set(classes) == set(demo.model.entities)
    assert classes["Person"]["aligned_with"] == ["foaf:Person", "schema:Person"]
    assert "postcode" in classes["Address"]["properties"] and not classes["Record"]["mappable"]
    links = {k["name"]: k for k in client.get("/ontology/link-types").json()}
    assert links["victimIn"]["relationship"] == "VICTIM_IN" and links["possiblySameAs"]["inferred"]
    stages = client.get("/ontology/code-lists/SaraStage").json()
    assert [c["label"] for c in stages["concepts"]] == ["Scanning", "Analysis", "Response", "Assessment"]
    missing = client.get("/ontology/code-lists/SaraStages")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert "Did you mean 'SaraStage'" in missing.json()["detail"]


def test_openapi_carries_examples_and_the_security_schemes(client):
    schema = client.get("/openapi.json").json()
    components = schema["components"]
    assert {"APIKeyHeader", "HTTPBasic"} <= set(components["securitySchemes"])
    assert components["schemas"]["EntityPublic"]["examples"][0]["provenance"][0]["grade"] == "2BP"
    search = schema["paths"]["/search"]["get"]["parameters"]
    assert any(p["name"] == "purpose" for p in search)


def test_cors_is_off_unless_configured(demo, tmp_path):
    origin = {"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET"}
    closed = dev_settings(store="unused", work_dir=demo.work_dir, access_db=tmp_path / "a.db")
    with TestClient(create_app(closed, store=demo.store, model=demo.model)) as plain:
        assert "access-control-allow-origin" not in plain.options("/search", headers=origin).headers
    opened = closed.model_copy(update={"cors_origins": ["https://elsewhere.example"]})
    with TestClient(create_app(opened, store=demo.store, model=demo.model)) as allowed:
        preflight = allowed.options("/search", headers=origin)
        assert preflight.headers["access-control-allow-origin"] == "https://elsewhere.example"
