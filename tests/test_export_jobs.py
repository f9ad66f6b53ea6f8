"""Exports in the background (POST /exports/jobs): the whole graph through the API, its progress, its
file for its holder only, one at a time per key, and every step audited.

The demo (embedded) is served; what a job writes is compared with the same export made directly
through the same clearance, so the job neither adds nor loses anything on the way.
"""

from __future__ import annotations

import gc
import io
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import networkx as nx
import pytest
from conftest import dev_settings, person_id
from fastapi.testclient import TestClient

from api.main import create_app
from nimgraph.access.audit import AuditLog
from nimgraph.access.roles import Role, clearance_for
from nimgraph.access.view import ClearedView
from nimgraph.demo import find_problem
from nimgraph.exports.anx import read_anx
from nimgraph.ontology import Core
from nimgraph.products.export_jobs import MAX_FILES, MAX_JOBS, Busy, ExportJobs
from nimgraph.products.exporting import GRAPH_FORMATS, Export, Selection, export_graph
from nimgraph.records import Assertion, Batch, Entity
from nimgraph.store.embedded import EmbeddedStore

ANALYST = {"X-API-Key": "dev-analyst", "X-Purpose": "whole-graph export for the Gephi review"}
PARTNER = {"X-API-Key": "dev-partner", "X-Purpose": "partner export"}
# one holder with two keys: an analyst's, and a partner viewer's (as when a key is re-issued narrower)
KEYS = {
    "ana-wide": {"name": "Ana Lyst", "role": "analyst"},
    "ana-narrow": {"name": "Ana Lyst", "role": "partner_viewer"},
    "res": {"name": "Rhys Searcher", "role": "researcher"},
}


@pytest.fixture(scope="module")
def served(demo, tmp_path_factory):
    folder = tmp_path_factory.mktemp("export-jobs")
    settings = dev_settings(store="unused", work_dir=folder, access_db=folder / "access.db")
    with TestClient(create_app(settings, store=demo.store, model=demo.model)) as client:
        yield client, settings


@pytest.fixture(scope="module")
def holders(demo, tmp_path_factory):
    folder = tmp_path_factory.mktemp("export-holders")
    settings = dev_settings(store="unused", work_dir=folder, access_db=folder / "access.db", api_keys=KEYS)
    with TestClient(create_app(settings, store=demo.store, model=demo.model)) as client:
        yield client, settings


def _finished(client: TestClient, job: dict, headers: dict, timeout: float = 120) -> dict:
    seen = [job]
    deadline = time.monotonic() + timeout
    while seen[-1]["status"] in ("queued", "running", "cancelling"):
        assert time.monotonic() < deadline, f"the export job did not end: {seen[-1]}"
        time.sleep(0.2)
        response = client.get(f"/exports/jobs/{job['id']}", headers=headers)
        assert response.status_code == 200, response.text
        seen.append(response.json())
    return seen[-1]


def _audited(settings, purpose: str) -> list[dict]:
    log = AuditLog.from_settings(settings)
    try:
        return [e for e in log.query(limit=10_000) if e["purpose"] == purpose]
    finally:
        log.close()


def _direct(demo, role: Role, selection: Selection, format_name: str) -> Export:
    view = ClearedView(demo.store, demo.model, clearance_for(role), None)
    return export_graph(view, demo.model, selection, format_name)


def test_the_whole_graph_exports_in_the_background_as_made_directly(served, demo):
    client, settings = served
    submitted = client.post("/exports/jobs", json={"format": "graphml"}, headers=ANALYST)
    assert submitted.status_code == 202, submitted.text
    job = submitted.json()
    assert job["status"] in ("queued", "running") and job["selection"] == "the whole graph" and job["file"] is None
    done = _finished(client, job, ANALYST)
    assert done["status"] == "done", done
    assert done["progress"] == 1.0 and [s["step"].split(" ")[0] for s in done["steps"]][:3] == [
        "queued",
        "reading",
        "writing",
    ]
    direct = _direct(demo, Role.ANALYST, Selection(), "graphml")
    assert (done["entities"], done["links"], done["handling"]) == (direct.entities, direct.links, direct.handling)

    fetched = client.get(done["file"], headers=ANALYST)
    assert fetched.status_code == 200
    assert fetched.headers["x-handling-code"] == direct.handling
    assert fetched.headers["content-disposition"] == 'attachment; filename="nimgraph-export.graphml"'
    assert fetched.headers["content-type"].startswith(GRAPH_FORMATS["graphml"].media_type)
    assert fetched.content == direct.content
    graph = nx.read_graphml(io.BytesIO(fetched.content))
    vulnerable = person_id(demo, demo.planted["vulnerable"])
    assert graph.number_of_nodes() == direct.entities and vulnerable in graph

    saved = Path(settings.work_dir) / "exports" / done["id"] / "nimgraph-export.graphml"
    assert saved.stat().st_mode & 0o077 == 0, "the file at rest is the server user's alone"
    # the POST names the job; the download names whom the file holds, with the purpose
    entries = _audited(settings, ANALYST["X-Purpose"])
    posted = [e for e in entries if e["method"] == "POST"]
    assert len(posted) == 1 and f"export-job:{done['id']}" in posted[0]["items"] and posted[0]["status"] == 202
    download = [e for e in entries if e["path"].endswith("/file")]
    assert len(download) == 1 and vulnerable in download[0]["items"] and "export:graphml" in download[0]["items"]
    assert not [e for e in entries if e["method"] == "POST" and vulnerable in e["items"]]

    listed = client.get("/exports/jobs", headers=ANALYST).json()
    assert done["id"] in [j["id"] for j in listed]
    assert client.delete(f"/exports/jobs/{done['id']}", headers=ANALYST).json()["status"] == "cancelled"
    assert not saved.exists()
    assert client.get(done["file"], headers=ANALYST).status_code == 410


def test_a_download_needs_a_purpose_and_a_selection_job_matches_the_request(served, demo):
    client, _settings = served
    problem = find_problem(demo.store, demo.planted["problem"])
    job = client.post("/exports/jobs", json={"format": "anx", "problem": problem}, headers=ANALYST).json()
    done = _finished(client, job, ANALYST)
    assert done["status"] == "done" and done["selection"] == "what a problem's scope reaches"
    assert client.get(done["file"], headers={"X-API-Key": "dev-analyst"}).status_code == 400  # no purpose
    fetched = read_anx(client.get(done["file"], headers=ANALYST).content)
    synchronous = read_anx(client.get(f"/exports/anx?problem={problem}", headers=ANALYST).content)
    assert fetched.entities and set(fetched.entities) == set(synchronous.entities)
    assert sorted(map(repr, fetched.links)) == sorted(map(repr, synchronous.links))


def test_one_export_at_a_time_per_key(served):
    client, _settings = served
    first = client.post("/exports/jobs", json={"format": "gexf"}, headers=ANALYST)
    assert first.status_code == 202
    second = client.post("/exports/jobs", json={"format": "anx"}, headers=ANALYST)
    meanwhile = client.get("/exports/graphml?around=Person-x", headers=ANALYST)
    done = _finished(client, first.json(), ANALYST)
    assert done["status"] == "done"
    assert second.status_code == 429 and second.headers["retry-after"] == "5", second.text
    assert meanwhile.status_code == 429
    # another key is not held up by it
    admin = {**ANALYST, "X-API-Key": "dev-admin"}
    other = client.post("/exports/jobs", json={"format": "gexf"}, headers=admin)
    assert other.status_code == 202
    cancelling = client.delete(f"/exports/jobs/{other.json()['id']}", headers=admin).json()
    assert cancelling["status"] in ("cancelling", "cancelled")
    assert _finished(client, other.json(), admin)["status"] == "cancelled"


def test_a_filtered_key_exports_a_selection_in_the_background_and_never_the_whole_graph(served, demo):
    client, _settings = served
    whole = client.post("/exports/jobs", json={"format": "graphml"}, headers=PARTNER)
    assert whole.status_code == 400 and "export a selection instead" in whole.json()["detail"]
    hidden = demo.planted["vulnerable_associates"]
    hidden_ids = [e.id for e in demo.store.find(Core.PERSON, limit=100_000) if e.properties.get("nominalId") in hidden]
    assert hidden_ids, "the planted people only C records name exist, so the oracle check can fail"
    never = "Person-" + "0" * 20
    answers = set()
    for entity_id in [never, *hidden_ids]:
        refused = client.post("/exports/jobs", json={"format": "anx", "around": [entity_id]}, headers=PARTNER)
        assert refused.status_code == 404
        answers.add(refused.json()["detail"].replace(entity_id, "ID"))
    assert len(answers) == 1, "a hidden person is refused as one that never existed"
    problem = find_problem(demo.store, demo.planted["problem"])
    job = client.post("/exports/jobs", json={"format": "graphml", "problem": problem}, headers=PARTNER).json()
    done = _finished(client, job, PARTNER)
    direct = _direct(demo, Role.PARTNER_VIEWER, Selection(problem=problem), "graphml")
    assert done["handling"] == "P" and client.get(done["file"], headers=PARTNER).content == direct.content
    assert not [i for i in hidden_ids if i.encode() in direct.content]


def test_a_job_is_its_keys_alone_and_another_key_of_the_same_name_is_another_holder(holders, demo):
    client, _settings = holders
    wide = {"X-API-Key": "ana-wide", "X-Purpose": "review"}
    job = client.post("/exports/jobs", json={"format": "graphml"}, headers=wide).json()
    # the same name at another clearance is not held up by it, and cannot tell it is running
    narrow = {"X-API-Key": "ana-narrow", "X-Purpose": "review"}
    problem = client.post(
        "/exports/jobs",
        json={"format": "anx", "problem": find_problem(demo.store, demo.planted["problem"])},
        headers=narrow,
    )
    assert problem.status_code == 202, problem.text
    done = _finished(client, job, wide)
    assert done["status"] == "done"
    never = "0" * 32
    for other in ({"X-API-Key": "res", "X-Purpose": "review"}, narrow):  # another name; the same, narrower
        for path in ("", "/file"):
            mine, none = (client.get(f"/exports/jobs/{i}{path}", headers=other) for i in (done["id"], never))
            assert mine.status_code == none.status_code == 404
            assert mine.json()["detail"].replace(done["id"], "ID") == none.json()["detail"].replace(never, "ID")
            assert str(done["entities"]) not in mine.text
        assert client.delete(f"/exports/jobs/{done['id']}", headers=other).status_code == 404
        assert done["id"] not in [j["id"] for j in client.get("/exports/jobs", headers=other).json()]
    assert client.get(done["file"], headers=wide).status_code == 200
    assert client.delete(f"/exports/jobs/{done['id']}", headers=wide).json() == {
        "id": done["id"],
        "status": "cancelled",
    }
    assert client.get(done["file"], headers=wide).status_code == 410


def test_the_submission_is_audited_with_its_selection_and_the_download_with_what_was_withheld(served, demo):
    client, settings = served
    partner = {**PARTNER, "X-Purpose": "partner selection audit"}
    problem = find_problem(demo.store, demo.planted["problem"])
    job = client.post("/exports/jobs", json={"format": "gexf", "problem": problem}, headers=partner).json()
    done = _finished(client, job, partner)
    assert client.get(done["file"], headers=partner).status_code == 200
    entries = _audited(settings, partner["X-Purpose"])
    posted = next(e for e in entries if e["method"] == "POST")
    assert {f"export-job:{done['id']}", "export:gexf", f"seed:{problem}"} <= set(posted["items"])
    download = next(e for e in entries if e["path"].endswith("/file"))
    assert download["withheld"], "a partner's read of the problem's scope withholds C records, and says so"


def _made(entities: int = 1) -> Export:
    return Export(b"<graphml/>", GRAPH_FORMATS["graphml"], "P", entities, 0, "the whole graph", {"Person-1"})


def test_files_expire_are_cancelled_and_go_when_the_service_stops(tmp_path):
    jobs = ExportJobs(tmp_path, keep=timedelta(seconds=0))
    done = jobs.submit("ana", "c", "graphml", "the whole graph", lambda say: _made())
    jobs.wait(done.id)
    assert done.status == "done" and done.path is not None and done.path.read_bytes() == b"<graphml/>"
    assert jobs.get(done.id, "ana") is None, "a job is forgotten once it has ended for longer than files are kept"
    assert done.status == "expired" and done.path is None and not (tmp_path / done.id).exists()

    jobs = ExportJobs(tmp_path / "kept")
    release, started = threading.Event(), threading.Event()

    def slow(say):
        say("reading the whole graph")
        started.set()
        release.wait(30)
        say("writing")  # where a cancelled job stops
        return _made()

    running = jobs.submit("ana", "c", "graphml", "the whole graph", slow)
    assert started.wait(10)  # its worker has taken it up: the queue's turn is ana's
    queued = jobs.submit("bob", "c", "graphml", "the whole graph", lambda say: _made())
    with pytest.raises(Busy, match="ana"):
        jobs.submit("ana", "c", "anx", "the whole graph", lambda say: _made())
    assert jobs.cancel(queued.id, "ana") is None, "only its holder cancels a job"
    jobs.cancel(queued.id, "bob")
    assert queued.status == "cancelled"
    jobs.submit("bob", "c", "anx", "the whole graph", lambda say: _made())  # bob's slot came back
    other_lane = jobs.submit("cy", "p", "anx", "a selection", lambda say: _made())
    jobs.wait(other_lane.id, timeout=10)  # another clearance's queue does not wait behind ana's
    assert other_lane.status == "done" and running.status == "running"
    jobs.cancel(running.id, "ana")
    release.set()
    jobs.wait(running.id)
    assert running.status == "cancelled" and running.path is None
    assert not (tmp_path / "kept" / running.id).exists()

    kept = []
    for _ in range(MAX_FILES + 2):  # a holder keeps its newest files only
        kept.append(jobs.submit("ana", "c", "graphml", "the whole graph", lambda say: _made()))
        jobs.wait(kept[-1].id)
    assert [j.status for j in kept] == ["expired"] * 2 + ["done"] * MAX_FILES
    assert all(j.path is None for j in kept[:2]) and all(j.path.exists() for j in kept[2:])
    for _ in range(MAX_JOBS):
        jobs.wait(jobs.submit("ana", "c", "graphml", "the whole graph", lambda say: _made()).id)
    assert len(jobs.of("ana")) == MAX_JOBS and kept[0] not in jobs.of("ana")
    assert sum(1 for _ in (tmp_path / "kept").iterdir()) <= MAX_FILES + 2  # bob's, cy's and ana's newest
    jobs.shutdown()
    assert not list((tmp_path / "kept").iterdir())


def test_the_service_starts_with_no_files_an_earlier_run_left(tmp_path):
    left = tmp_path / "exports" / ("a" * 32)
    left.mkdir(parents=True)
    (left / "nimgraph-export.graphml").write_bytes(b"a killed run's file")
    parts = tmp_path / "exports" / "scratch" / "nimgraph-export-x"
    parts.mkdir(parents=True)
    (parts / "entities.csv").write_text("a killed run's Neo4j parts")
    jobs = ExportJobs(tmp_path / "exports")
    jobs.clear_leftovers()
    assert not list((tmp_path / "exports").iterdir()) and (tmp_path / "exports").stat().st_mode & 0o077 == 0


def test_a_file_past_its_time_is_gone_when_asked_for_whenever_the_sweep_last_looked(tmp_path):
    jobs = ExportJobs(tmp_path)
    job = jobs.submit("ana", "c", "graphml", "the whole graph", lambda say: _made())
    jobs.wait(job.id)
    assert jobs.get(job.id, "ana").status == "done"
    job.expires_at = datetime.now(UTC) - timedelta(seconds=1)  # as an hour later, the sweep not due yet
    assert jobs.get(job.id, "ana").status == "expired" and job.path is None
    assert not (tmp_path / job.id).exists()
    jobs.shutdown()


def test_a_long_read_holds_up_no_other_reader_and_no_writer(demo, tmp_path):
    """A whole-graph export reads for seconds on a real force's graph: the embedded store's readers
    each read on their own connection, so a partner's request is not queued behind it."""
    store = EmbeddedStore(tmp_path / "graph.db", demo.model)
    try:
        store.upsert(Batch(entities=[Entity("Vehicle-a", "Vehicle", {"registration": "AB12CDE"}, [_record("r1")])]))
        inside, release = threading.Event(), threading.Event()

        def long_read() -> None:
            with store._reading() as db:
                db.execute("SELECT count(*) FROM entity").fetchone()
                inside.set()
                release.wait(30)

        holder = threading.Thread(target=long_read)
        holder.start()
        assert inside.wait(10)
        try:
            read: list = []
            other = threading.Thread(target=lambda: read.append(store.get("Vehicle-a")))
            other.start()
            other.join(5)
            assert read and read[0] is not None, "another reader waited for the long read"
            store.upsert(Batch(entities=[Entity("Vehicle-b", "Vehicle", {}, [_record("r2")])]))  # nor a writer
            assert store.get("Vehicle-b") is not None
        finally:
            release.set()
            holder.join()
    finally:
        store.close()


def test_a_reading_threads_connection_goes_with_the_thread(demo, tmp_path):
    """A server's worker threads come and go: each one's read connection must not outlive it."""
    store = EmbeddedStore(tmp_path / "graph.db", demo.model)
    try:
        store.upsert(Batch(entities=[Entity("Vehicle-a", "Vehicle", {}, [_record("r1")])]))
        for _ in range(5):
            reader = threading.Thread(target=store.get, args=("Vehicle-a",))
            reader.start()
            reader.join()
        gc.collect()
        assert len(store._reader_connections) == 0
        assert store.get("Vehicle-a") is not None and len(store._reader_connections) == 1  # this thread's
    finally:
        store.close()
    with pytest.raises(sqlite3.ProgrammingError):
        store.get("Vehicle-a")


def _record(record_id: str) -> Assertion:
    return Assertion("Northshire Police", record_id, "x.csv", 2, "2026-01-01", "1AP", "P")


def test_a_failed_job_says_why_without_the_servers_paths(tmp_path):
    jobs = ExportJobs(tmp_path)

    def broken(say):
        raise OSError(f"disk full writing {tmp_path}/secret")

    job = jobs.submit("ana", "c", "graphml", "the whole graph", broken)
    jobs.wait(job.id)
    assert job.status == "failed" and "OSError" in job.error and str(tmp_path) not in job.error
    again = jobs.submit("ana", "c", "graphml", "the whole graph", lambda say: _made())  # the slot came back
    jobs.wait(again.id)
    assert again.status == "done"
    jobs.shutdown()
