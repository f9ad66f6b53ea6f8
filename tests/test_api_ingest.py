"""Ingest jobs over HTTP, on each store: upload, progress, rejects, re-runs and refusals."""

from __future__ import annotations

import csv
import io
import time

import pytest
from conftest import dev_settings
from fastapi.testclient import TestClient

from api.main import create_app
from nimgraph.demo.generate import write_dataset
from nimgraph.mappings import mapping_path

ANALYST = {"X-API-Key": "dev-analyst", "X-Purpose": "ingest tests"}


@pytest.fixture
def client(store, model, tmp_path):
    settings = dev_settings(store="unused", work_dir=tmp_path / "work", access_db=tmp_path / "access.db")
    with TestClient(create_app(settings, store=store, model=model)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def asb_file(tmp_path_factory):
    directory = tmp_path_factory.mktemp("partner")
    planted = write_dataset(directory, seed=7, incidents=400)
    malformed = {m["reference"] for m in planted["malformed"] if m["file"] == "council_asb.csv"}
    return directory / "council_asb.csv", malformed


def _submit(client, path, spec_text=None, headers=ANALYST):
    spec = spec_text if spec_text is not None else mapping_path("council_asb").read_text()
    return client.post(
        "/ingest/jobs",
        headers=headers,
        files={
            "spec": ("council_asb.yaml", spec, "application/yaml"),
            "file": (path.name, path.read_bytes(), "text/csv"),
        },
    )


def _finished(client, job_id: str) -> dict:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        body = client.get(f"/ingest/jobs/{job_id}", headers=ANALYST).json()
        if body["status"] in ("done", "failed"):
            return body
        assert 0.0 <= body["progress"] <= 1.0
        time.sleep(0.1)
    pytest.fail(f"ingest job {job_id} did not finish in 120 s")


def test_an_uploaded_file_loads_in_the_background_with_its_rejects(client, store, asb_file):
    path, malformed = asb_file
    submitted = _submit(client, path)
    assert submitted.status_code == 202, submitted.text
    assert submitted.json()["status"] in ("queued", "running", "done")
    job = _finished(client, submitted.json()["id"])
    assert job["status"] == "done" and job["progress"] == 1.0 and job["submitted_by"] == "development analyst"
    report = job["report"]
    assert report["rows_rejected"] == len(malformed) > 0
    assert report["rows_loaded"] == report["rows_read"] - len(malformed)
    assert store.counts()["entities"]["ASBIncident"] == report["rows_loaded"]

    rejects = client.get(job["rejects"], headers=ANALYST)
    assert rejects.status_code == 200 and rejects.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(rejects.text)))
    assert {r for row in rows[1:] for r in row} >= malformed

    again = _finished(client, _submit(client, path).json()["id"])
    assert again["status"] == "done"
    assert store.counts()["entities"]["ASBIncident"] == report["rows_loaded"]  # no duplicates
    assert again["report"]["entities_created"] == 0


def test_who_may_ingest_and_fetch_rejects(client, asb_file):
    path, _ = asb_file
    researcher = _submit(client, path, headers={"X-API-Key": "dev-researcher"})
    assert researcher.status_code == 403 and "researcher" in researcher.json()["detail"]
    assert _submit(client, path, headers={}).status_code == 401
    job = _finished(client, _submit(client, path).json()["id"])
    partner = client.get(f"/ingest/jobs/{job['id']}", headers={"X-API-Key": "dev-partner"})
    assert partner.status_code == 403
    no_purpose = client.get(job["rejects"], headers={"X-API-Key": "dev-analyst"})
    assert no_purpose.status_code == 400 and "purpose" in no_purpose.json()["detail"]
    log = client.get("/audit", headers={"X-API-Key": "dev-admin", "X-Purpose": "review"}).json()["items"]
    assert not any(e["path"].endswith("/rejects") and e["status"] == 200 for e in log)
    assert client.get(job["rejects"], headers=ANALYST).status_code == 200
    log = client.get("/audit", headers={"X-API-Key": "dev-admin", "X-Purpose": "review"}).json()["items"]
    fetched = [e for e in log if e["path"].endswith("/rejects") and e["status"] == 200]
    assert fetched and fetched[-1]["items"] == [f"ingest-job:{job['id']}:rejects"]


def test_a_spec_with_errors_is_refused_before_the_job_starts(client, asb_file):
    path, _ = asb_file
    broken = mapping_path("council_asb").read_text().replace("type: ASBIncident", "type: ASBIncidnt")
    response = _submit(client, path, broken)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    detail = response.json()["detail"]
    assert "ASBIncidnt" in detail and "spec.yaml:" in detail and "Did you mean 'ASBIncident'" in detail
    wrong_column = mapping_path("council_asb").read_text().replace("Case Reference", "Case Ref")
    assert "unknown column 'Case Ref'" in _submit(client, path, wrong_column).json()["detail"]
    escaping = mapping_path("council_asb").read_text() + "lookups:\n  x: {file: /etc/passwd, key: a, value: b}\n"
    response = _submit(client, path, escaping)
    assert response.status_code == 422 and "only read files uploaded with it" in response.json()["detail"]
