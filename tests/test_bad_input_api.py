"""The bad-input corpus as API ingest jobs: the same files, the same one outcome, over HTTP.

Each case marked ``api`` in tests/test_bad_input.py is submitted as a job (the spec, each file a
``file`` part, each file the spec reads a ``lookup`` part) to the real app on a real embedded store
(the store does not change what a refusal or a reject says). A refusal is a 422 naming every
problem, with nothing kept; otherwise the job's report counts what the CLI counts, and its listings
hold the rejected, unmatched and warned rows.
"""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest
from conftest import TEST_ID_KEY, dev_settings
from fastapi.testclient import TestClient
from test_bad_input import CASES, Case, Outcome, check, inspect, marked

from api.main import create_app
from nimgraph.store.embedded import EmbeddedStore

ANALYST = {"X-API-Key": "dev-analyst", "X-Purpose": "bad-input corpus"}
API_CASES = [c for c in CASES if c.api]


def finished(client: TestClient, job_id: str) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body = client.get(f"/ingest/jobs/{job_id}", headers=ANALYST).json()
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.02)
    pytest.fail(f"ingest job {job_id} did not finish in 60 s")


def listing(client: TestClient, url: str | None) -> list[dict[str, str]]:
    if url is None:
        return []
    response = client.get(url, headers=ANALYST)
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.text)))


def run_api(case: Case, client: TestClient, store: EmbeddedStore) -> Outcome:
    parts = [("spec", ("spec.yaml", case.spec.encode(), "application/yaml"))]
    parts += [("file", (name, body, "application/octet-stream")) for name, body in case.files]
    parts += [("lookup", (name, body, "application/octet-stream")) for name, body in case.beside]
    submitted = client.post("/ingest/jobs", headers=ANALYST, files=parts)
    if submitted.status_code == 422:
        body = submitted.json()
        assert submitted.headers["content-type"] == "application/problem+json"
        assert body["problems"], body
        return inspect(Outcome(refused=True, message=body["detail"] + "\n" + "\n".join(body["problems"])), store)
    assert submitted.status_code == 202, submitted.text
    job = finished(client, submitted.json()["id"])
    assert job["status"] == "done", job
    report = job["report"]
    rejects = listing(client, job["rejects"])
    outcome = Outcome(
        refused=False,
        message=report["summary"],
        loaded=report["rows_loaded"],
        rejected=report["rows_rejected"],
        unmatched=report["rows_unmatched"],
        warned=sum(report["warnings"].values()),
        reasons=[row["reason"] for row in rejects],
        rejects=["|".join(f"{k}={v}" for k, v in row.items() if k not in ("file", "row", "reason")) for row in rejects],
        listed={kind: len(listing(client, job[kind])) for kind in ("unmatched", "warnings")},
    )
    assert report["rows_loaded"] + report["rows_rejected"] + report["rows_filtered"] == report["rows_read"]
    return inspect(outcome, store)


@pytest.fixture
def app_client(model, tmp_path: Path):
    store = EmbeddedStore(tmp_path / "graph.db", model, id_key=TEST_ID_KEY)
    settings = dev_settings(store="unused", work_dir=tmp_path / "work", access_db=tmp_path / "access.db")
    with TestClient(create_app(settings, store=store, model=model)) as client:
        yield client, store
    store.close()


def test_a_meaningful_share_of_the_corpus_runs_through_the_api():
    assert len(API_CASES) >= 40
    assert {c.expect for c in API_CASES} == {"file", "spec", "rows"}
    assert not any(c.args for c in API_CASES)  # --strict and --dry-run are the CLI's


@pytest.mark.parametrize("case", marked(API_CASES))
def test_bad_input_through_the_api(case: Case, app_client, tmp_path: Path):
    client, store = app_client
    outcome = run_api(case, client, store)
    check(case, outcome)
    if outcome.refused:  # a refused upload leaves nothing on disk
        jobs = tmp_path / "work" / "jobs"
        assert not jobs.exists() or not any(jobs.iterdir())
