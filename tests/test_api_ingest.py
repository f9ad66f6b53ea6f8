"""Ingest jobs over HTTP, on each store: upload, progress, listings, re-runs and refusals.

A job takes a spec, its files and the files its lookups read; every row that did not load as
written is counted in the job's report and listed for its submitter (or an admin) to fetch.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
import time
from pathlib import Path

import pytest
from conftest import dev_settings
from fastapi.testclient import TestClient
from test_nothing_vanishes import CALLS as NOTHING_VANISHES_CALLS

from api.main import create_app
from nimgraph.config import Settings
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


def test_an_unknown_format_is_refused_naming_the_known_ones(client, asb_file, tmp_path):
    path, _ = asb_file
    renamed = tmp_path / "council_asb.dat"
    renamed.write_bytes(path.read_bytes())
    response = _submit(client, renamed)
    assert response.status_code == 415
    assert response.json()["detail"] == (
        "'council_asb.dat': unknown format; known formats: csv (.csv, .txt, .tsv), xlsx (.xlsx), json (.json), "
        "jsonl (.jsonl, .ndjson), parquet (.parquet); rename the file"
    )
    spec = mapping_path("council_asb").read_text() + "read: {format: dbase}\n"
    response = _submit(client, path, spec)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "unknown format 'dbase' in read.format; known formats: auto, csv (.csv, .txt, .tsv)," in detail


# ------------------------------------------------------------------ several files and their lookups
CALLS = NOTHING_VANISHES_CALLS  # the CLI tests' lookup spec, loaded here through the API
OWNERS = "Number,Nominal\n07700900001,N1\n07700900002,N2\n07700900003,N3\n"
DISTRICTS = "NW5,Kentish Town\nNW1,Camden\n"  # headerless: the spec's read: names the columns
# Planted: C2 and D2 call from numbers in no lookup (unmatched: they load without their caller);
# C3's postcode district is unknown (rejected: the place is required); D3 has no date (rejected);
# C6's date fits both orders (ambiguous, read day-first as the format says).
CALLS_A = (
    "Call,When,From,Postcode\n"
    "C1,20/01/2026,07700900001,NW5 9WR\n"
    "C2,21/01/2026,07700900999,NW5 1AA\n"
    "C3,22/01/2026,07700900002,E1 6AN\n"
    "C6,03/02/2026,07700900002,NW5 9WR\n"
)
CALLS_B = (
    "Call,Notes,When,From,Postcode\n"
    "D1,first,25/01/2026,07700900003,NW1 2DB\n"
    "D2,second,26/01/2026,07700900888,NW1 3AA\n"
    "D3,third,not a date,07700900001,NW5 9WR\n"
)
LOOKUPS = [("owners.csv", OWNERS), ("districts.csv", DISTRICTS)]
HOLDERS = {
    "analyst": "analyst",
    "second analyst": "analyst",
    "researcher": "researcher",
    "partner": "partner_viewer",
    "admin": "admin",
}
# Analysts whose keys narrow their clearance: a write merges with what the store holds, so they may not ingest.
FILTERED = {"P-only analyst": {"handling": ["P"]}, "pseudonymised analyst": {"pseudonymised": True}}
PURPOSE = "ingest tests"
LISTINGS = ("rejects", "unmatched", "warnings")


class Keyed:
    """The app with a key for each holder in HOLDERS, as a deployment configures them."""

    def __init__(self, client: TestClient, keys: dict[str, str], work: Path) -> None:
        self.client, self.keys, self.work = client, keys, work

    def headers(self, who: str) -> dict[str, str]:
        return {"X-API-Key": self.keys[who], "X-Purpose": PURPOSE}

    def get(self, who: str, url: str):
        return self.client.get(url, headers=self.headers(who))

    def submit(self, who: str, spec: str, files: list[tuple[str, str]], lookups: list[tuple[str, str]] = ()):
        parts = [("spec", ("calls.yaml", spec, "application/yaml"))]
        parts += [("lookup", (name, text, "text/csv")) for name, text in lookups]
        parts += [("file", (name, text, "text/csv")) for name, text in files]
        return self.client.post("/ingest/jobs", headers={"X-API-Key": self.keys[who]}, files=parts)

    def finished(self, job_id: str, who: str = "analyst") -> dict:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            answer = self.get(who, f"/ingest/jobs/{job_id}")
            assert answer.status_code == 200, answer.text
            body = answer.json()
            if body["status"] in ("done", "failed"):
                return body
            time.sleep(0.1)
        pytest.fail(f"ingest job {job_id} did not finish in 120 s")

    def audit(self) -> list[dict]:
        return self.get("admin", "/audit?limit=1000").json()["items"]

    def left_on_disk(self) -> list[Path]:
        jobs = self.work / "jobs"
        return sorted(p for p in jobs.rglob("*") if p.is_file()) if jobs.exists() else []


@pytest.fixture
def keyed(store, model, tmp_path):
    keys = {who: secrets.token_urlsafe(32) for who in [*HOLDERS, *FILTERED]}
    grants = {who: {"name": who, "role": role} for who, role in HOLDERS.items()}
    grants |= {who: {"name": who, "role": "analyst", **narrowed} for who, narrowed in FILTERED.items()}
    settings = Settings(
        env="production",
        api_keys={keys[who]: grant for who, grant in grants.items()},
        pseudonym_key=secrets.token_urlsafe(32),
        audit_key=secrets.token_urlsafe(32),
        audit_anchor=tmp_path / "anchor.log",
        access_db=tmp_path / "access.db",
        store="unused",
        work_dir=tmp_path / "work",
    )
    with TestClient(create_app(settings, store=store, model=model)) as client:
        yield Keyed(client, keys, tmp_path / "work")


def _listed(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


def test_a_spec_with_lookups_loads_two_files_through_the_api_and_tells_of_every_row(keyed, store):
    submitted = keyed.submit("analyst", CALLS, [("calls_a.csv", CALLS_A), ("calls_b.csv", CALLS_B)], LOOKUPS)
    assert submitted.status_code == 202, submitted.text
    assert submitted.json()["files"] == ["calls_a.csv", "calls_b.csv"]
    assert submitted.json()["lookups"] == ["owners.csv", "districts.csv"]
    assert submitted.json()["rows_total"] >= 7
    job = keyed.finished(submitted.json()["id"])
    assert job["status"] == "done" and job["progress"] == 1.0 and job["error"] is None, job
    report = job["report"]
    totals = {k: report[k] for k in ("rows_read", "rows_loaded", "rows_rejected", "rows_unmatched")}
    assert totals == {"rows_read": 7, "rows_loaded": 5, "rows_rejected": 2, "rows_unmatched": 2}
    assert job["rows_done"] == 7
    per_file = {f["file"]: f for f in report["files"]}
    assert list(per_file) == ["calls_a.csv", "calls_b.csv"]
    assert [(f["rows_read"], f["rows_loaded"], f["rows_rejected"], f["rows_unmatched"]) for f in per_file.values()] == [
        (4, 3, 1, 1),
        (3, 2, 1, 1),
    ]
    (by_lookup,) = report["unmatched"].items()
    assert "owner" in by_lookup[0] and by_lookup[1] == 2
    assert report["unconfirmed_dates"] == 1 == per_file["calls_a.csv"]["unconfirmed_dates"]
    (dates,) = report["dates"].values()
    assert dates == {"order": "day_first", "stated": False, "ambiguous": 1}
    assert report["entities_created"] == sum(f["entities_created"] for f in per_file.values()) > 0
    assert report["entities_unchanged"] == 0 and report["warnings"] == {}
    assert "calls_a.csv: 3 of 4 rows loaded" in report["summary"] and "calls_b.csv: 2 of 3" in report["summary"]
    assert "see the job's unmatched listing" in report["summary"] and str(keyed.work) not in json.dumps(job)

    counts = store.counts()
    assert counts["entities"]["Call"] == 5  # C1, C2, C6, D1, D2
    assert counts["entities"]["Neighbourhood"] == 2
    assert counts["links"]["occurredAt"] == 5 and counts["links"]["involvedIn"] == 3  # not C2's, not D2's

    unmatched = _listed(keyed.get("analyst", job["unmatched"]))
    assert [(r["file"], r["row"], r["Call"], r["Notes"]) for r in unmatched] == [
        ("calls_a.csv", "3", "C2", ""),
        ("calls_b.csv", "3", "D2", "second"),
    ]
    assert "no match for '07700900999' in lookup 'owner'" in unmatched[0]["reason"]
    rejects = _listed(keyed.get("analyst", job["rejects"]))
    assert [(r["file"], r["Call"]) for r in rejects] == [("calls_a.csv", "C3"), ("calls_b.csv", "D3")]
    assert "no match for 'E1' in lookup 'district'" in rejects[0]["reason"]
    assert job["warnings"] is None
    assert keyed.get("analyst", f"/ingest/jobs/{job['id']}/warnings").status_code == 404

    again = keyed.finished(
        keyed.submit("analyst", CALLS, [("calls_a.csv", CALLS_A), ("calls_b.csv", CALLS_B)], LOOKUPS).json()["id"]
    )
    assert again["report"]["entities_created"] == 0 and again["report"]["entities_updated"] == 0
    assert again["report"]["entities_unchanged"] > 0
    assert store.counts()["entities"]["Call"] == 5


def test_a_bad_file_refuses_the_whole_job_with_every_problem_and_nothing_written(keyed, store):
    no_from = "Call,When,Postcode\nE1,20/01/2026,NW5 9WR\n"
    no_when = "Call,From,Postcode\nF1,07700900001,NW5 9WR\n"
    files = [("calls_a.csv", CALLS_A), ("no_from.csv", no_from), ("no_when.csv", no_when)]
    response = keyed.submit("analyst", CALLS, files, LOOKUPS)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["detail"].startswith("nothing was loaded: 2 problems to fix first")
    assert len(body["problems"]) == 2
    assert "'From' in no_from.csv" in body["problems"][0] and "'When' in no_when.csv" in body["problems"][1]
    assert all(p in body["detail"] for p in body["problems"]) and body["detail"].isprintable()
    assert str(keyed.work) not in response.text
    assert store.counts()["entities"] == {}  # not even the good first file
    assert keyed.left_on_disk() == []

    missing_lookup = keyed.submit("analyst", CALLS, [("calls_a.csv", CALLS_A)], LOOKUPS[:1])
    assert missing_lookup.status_code == 422 and "districts.csv: no such file" in missing_lookup.json()["detail"]
    assert keyed.left_on_disk() == []


@pytest.mark.parametrize(
    ("files", "lookups", "named"),
    [
        (
            [("calls.csv", CALLS_A), ("in/calls.csv", CALLS_B)],
            LOOKUPS,
            "'calls.csv' and 'in/calls.csv' (both saved as 'calls.csv')",
        ),
        (
            [("calls.csv", CALLS_A), ("CALLS.csv", CALLS_B)],
            LOOKUPS,
            "'calls.csv' and 'CALLS.csv' (the same name but for case)",
        ),
        (
            [("calls.csv", CALLS_A), ("calls.tsv", CALLS_B)],
            LOOKUPS,
            "'calls.csv' and 'calls.tsv' (their listings would share a name)",
        ),
        ([("owners.csv", CALLS_A)], LOOKUPS, "'owners.csv' and 'owners.csv' (both saved as 'owners.csv')"),
        (
            [("calls a.csv", CALLS_A), ("calls_a.csv", CALLS_B)],
            LOOKUPS,
            "'calls a.csv' and 'calls_a.csv' (both saved as 'calls_a.csv')",
        ),
        ([("status.json", "[]")], LOOKUPS, "'status.json': 'status.json' is the name the job keeps its status under"),
    ],
)
def test_files_that_would_share_a_name_are_refused(keyed, store, files, lookups, named):
    response = keyed.submit("analyst", CALLS, files, lookups)
    assert response.status_code == 422, response.text
    assert named in response.json()["detail"]
    assert keyed.left_on_disk() == [] and store.counts()["entities"] == {}


def test_a_lookup_named_with_a_path_is_saved_in_the_job_and_cannot_escape(keyed, store):
    lookups = [("../../owners.csv", OWNERS), ("..\\..\\districts.csv", DISTRICTS)]
    submitted = keyed.submit("analyst", CALLS, [("../calls_a.csv", CALLS_A)], lookups)
    assert submitted.status_code == 202, submitted.text
    job = keyed.finished(submitted.json()["id"])
    assert job["status"] == "done" and job["lookups"] == ["owners.csv", "districts.csv"]
    assert job["files"] == ["calls_a.csv"] and job["report"]["rows_loaded"] == 3
    job_dir = keyed.work / "jobs" / job["id"]
    saved = {p.relative_to(job_dir).as_posix() for p in keyed.left_on_disk()}
    assert {"owners.csv", "districts.csv", "calls_a.csv", "spec.yaml", "status.json"} <= saved
    assert not (keyed.work / "owners.csv").exists() and not (keyed.work / "jobs" / "owners.csv").exists()

    outside = keyed.work / "jobs" / "owners.csv"  # where '../owners.csv' would lead from a job's directory
    outside.write_text(OWNERS)
    escaping = CALLS.replace("file: owners.csv", "file: ../owners.csv")
    response = keyed.submit("analyst", escaping, [("calls_a.csv", CALLS_A)], [("../owners.csv", OWNERS)])
    assert response.status_code == 422 and "only read files uploaded with it" in response.json()["detail"]
    outside.unlink()
    assert {p.parent.name for p in keyed.left_on_disk()} == {job["id"], "rejects"}  # the first job's only


def test_the_single_file_form_and_a_job_saved_by_an_older_version_still_work(keyed, store):
    nhs = (
        "source: {name: health}\ngrading: {default: 1AC}\nrecord_id: Ref\nentities:\n  patient:\n"
        "    type: Person\n    keys: [{column: NHS, normalise: nhs_number}]\n"
        "    properties:\n      nhsNumber: {column: NHS, normalise: nhs_number}\n      surname: Surname\n"
    )
    rows = "Ref,NHS,Surname\nH1,943 476 5919,Ames\nH2,999 000 0000,Bell\nH3,12345,Cole\n"
    response = keyed.client.post(
        "/ingest/jobs",
        headers={"X-API-Key": keyed.keys["analyst"]},
        files={"spec": ("nhs.yaml", nhs, "application/yaml"), "file": ("nhs.csv", rows, "text/csv")},
    )
    assert response.status_code == 202, response.text
    job = keyed.finished(response.json()["id"])
    assert (job["report"]["rows_loaded"], job["report"]["rows_rejected"]) == (2, 1)
    assert job["report"]["warnings"] == {"check digit": 1} == job["report"]["files"][0]["warnings"]
    (warned,) = _listed(keyed.get("analyst", job["warnings"]))
    assert (warned["file"], warned["Ref"]) == ("nhs.csv", "H2") and "check digit" in warned["reason"]
    assert store.counts()["entities"]["Person"] == 2

    old_id = "0" * 31 + "1"  # as an older version left it: one `file`, no `lookups`, its own report
    old = keyed.work / "jobs" / old_id
    (old / "rejects").mkdir(parents=True)
    (old / "rejects" / "asb.rejects.csv").write_text("row,reason,Ref\n3,a bad date,ASB9\n")
    status = {
        "id": old_id, "submitted_by": "analyst", "file": "asb.csv", "source": "council-asb", "status": "done",
        "rows_total": 3, "rows_done": 3, "submitted_at": "2025-01-01T00:00:00+00:00",
        "finished_at": "2025-01-01T00:00:01+00:00", "report": {"rows_loaded": 2}, "error": None,
    }  # fmt: skip
    (old / "status.json").write_text(json.dumps(status))
    read = keyed.get("analyst", f"/ingest/jobs/{old_id}").json()
    assert (read["files"], read["lookups"], read["report"]) == (["asb.csv"], [], {"rows_loaded": 2})
    assert read["rejects"] == f"/ingest/jobs/{old_id}/rejects" and read["unmatched"] is None
    assert _listed(keyed.get("analyst", read["rejects"])) == [
        {"file": "asb.csv", "row": "3", "reason": "a bad date", "Ref": "ASB9"}
    ]


# ------------------------------------------------------------------ from an attacker's side
def test_weaker_keys_cannot_submit_and_no_one_else_reads_a_jobs_rows(keyed, store):
    for weaker in ("researcher", "partner"):
        refused = keyed.submit(weaker, CALLS, [("calls_a.csv", CALLS_A)], LOOKUPS)
        assert refused.status_code == 403, refused.text
    assert keyed.left_on_disk() == [] and store.counts()["entities"] == {}

    job = keyed.finished(keyed.submit("analyst", CALLS, [("calls_a.csv", CALLS_A)], LOOKUPS).json()["id"])
    missing = "f" * 32
    for who in ("second analyst", "researcher", "partner"):
        for suffix in ("", *(f"/{kind}" for kind in LISTINGS)):
            response = keyed.get(who, f"/ingest/jobs/{job['id']}{suffix}")
            assert response.status_code == 403, (who, suffix, response.text)
            assert "C2" not in response.text and "07700900999" not in response.text
            if who != "second analyst":  # without the ingest permission, a job and no job look the same
                nothing = keyed.get(who, f"/ingest/jobs/{missing}{suffix}")
                assert (nothing.status_code, nothing.json()["detail"]) == (403, response.json()["detail"])
            else:  # as for the rejects before: an ingester is told a job exists, not what it holds
                assert keyed.get(who, f"/ingest/jobs/{missing}{suffix}").status_code == 404
    assert _listed(keyed.get("admin", job["unmatched"]))[0]["Call"] == "C2"

    log = keyed.audit()
    for kind in ("rejects", "unmatched"):
        reads = [e for e in log if e["path"] == f"/ingest/jobs/{job['id']}/{kind}"]
        refused_reads = [e for e in reads if e["status"] == 403]
        assert {e["who"] for e in refused_reads} == {"second analyst", "researcher", "partner"}
        assert all(e["items"] == [] for e in refused_reads)
    (admin_read,) = [e for e in log if e["path"] == job["unmatched"] and e["status"] == 200]
    assert (admin_read["who"], admin_read["purpose"]) == ("admin", PURPOSE)
    assert admin_read["items"] == [f"ingest-job:{job['id']}:unmatched"]


def test_every_read_of_a_listing_is_audited_and_needs_a_purpose(keyed, store):
    job = keyed.finished(
        keyed.submit("analyst", CALLS, [("calls_a.csv", CALLS_A), ("calls_b.csv", CALLS_B)], LOOKUPS).json()["id"]
    )
    for kind in ("rejects", "unmatched"):
        no_purpose = keyed.client.get(job[kind], headers={"X-API-Key": keyed.keys["analyst"]})
        assert no_purpose.status_code == 400 and "purpose" in no_purpose.json()["detail"]
        assert "C2" not in no_purpose.text
        for _ in range(2):
            assert keyed.get("analyst", job[kind]).status_code == 200
    log = keyed.audit()
    for kind in ("rejects", "unmatched"):
        read = [e for e in log if e["path"] == job[kind] and e["status"] == 200]
        assert len(read) == 2 and all(e["items"] == [f"ingest-job:{job['id']}:{kind}"] for e in read)
        assert all((e["who"], e["purpose"]) == ("analyst", PURPOSE) for e in read)
        assert [e["status"] for e in log if e["path"] == job[kind]] == [400, 200, 200]


def test_each_part_and_all_parts_together_keep_to_the_size_limit(store, model, tmp_path):
    work = tmp_path / "work"
    settings = dev_settings(store="unused", work_dir=work, access_db=tmp_path / "access.db", max_upload_bytes=50_000)
    padding = "".join(f"P{i},20/01/2026,07700900001,NW5 9WR\n" for i in range(900))  # about 32 kB
    with TestClient(create_app(settings, store=store, model=model)) as client:

        def post(files: list[tuple[str, str]], lookups: list[tuple[str, str]]):
            parts = [("spec", ("calls.yaml", CALLS, "application/yaml"))]
            parts += [("lookup", (name, text, "text/csv")) for name, text in lookups]
            parts += [("file", (name, text, "text/csv")) for name, text in files]
            return client.post("/ingest/jobs", headers=ANALYST, files=parts)

        together = post([("a.csv", CALLS_A + padding), ("b.csv", CALLS_A + padding)], LOOKUPS)
        assert together.status_code == 413 and "together" in together.json()["detail"]
        big_lookup = post([("a.csv", CALLS_A)], [("owners.csv", OWNERS + "0" * 60_000), LOOKUPS[1]])
        assert big_lookup.status_code == 413
        assert "owners.csv is larger than the 50,000-byte limit" in big_lookup.json()["detail"]
        assert not any(p.is_file() for p in (work / "jobs").rglob("*"))
        assert post([("a.csv", CALLS_A + padding)], LOOKUPS).status_code == 202


@pytest.mark.parametrize("who", list(FILTERED))
def test_a_key_whose_clearance_hides_anything_may_not_ingest_nor_read_jobs(keyed, store, who):
    """What an ingest merges with tells of what the store holds: created or merged, unchanged or updated."""
    before = store.counts()
    refused = keyed.submit(who, CALLS, [("calls_a.csv", CALLS_A)], LOOKUPS)
    assert refused.status_code == 403 and "cleared for every handling code" in refused.text
    assert store.counts() == before and keyed.left_on_disk() == []
    job = keyed.submit("analyst", CALLS, [("calls_a.csv", CALLS_A)], LOOKUPS).json()["id"]
    keyed.finished(job)
    answers = {
        path: (keyed.get(who, path).status_code, keyed.get(who, path).json()["detail"])
        for path in [f"/ingest/jobs/{job}", f"/ingest/jobs/{job}/rejects", "/ingest/jobs/" + "0" * 32]
    }
    assert set(answers.values()) == {(403, refused.json()["detail"])}  # one answer, whether the job exists or not


def test_a_source_is_loaded_only_by_its_custodian_or_an_admin(keyed, store):
    """Naming another's source would re-grade, replace or withdraw its records (their stale assertions go)."""
    first = keyed.finished(keyed.submit("analyst", CALLS, [("calls_a.csv", CALLS_A)], LOOKUPS).json()["id"])
    assert first["status"] == "done"
    assert store.sources()["calls"]["custodian"] == "api key: analyst"
    held, kept = store.counts(), keyed.left_on_disk()
    regraded = CALLS.replace("grading: {default: 1AC}", "grading: {default: 1AP}").replace(
        "agency: Northshire Police", "agency: Spoofed Agency Ltd"
    )
    refused = keyed.submit("second analyst", regraded, [("calls_a.csv", CALLS_A)], LOOKUPS)
    assert (
        refused.status_code == 403
        and "the source 'calls' is loaded by another holder (api key: analyst)" in refused.text
    )
    assert store.counts() == held and keyed.left_on_disk() == kept
    assert store.sources()["calls"] == {
        "agency": "Northshire Police",
        "custodian": "api key: analyst",
        "defaultGrade": "1AC",
    }
    alike = regraded.replace("{name: calls,", "{name: Calls,")
    refused = keyed.submit("second analyst", alike, [("calls_a.csv", CALLS_A)], LOOKUPS)
    assert refused.status_code == 403 and "a source named 'calls' is registered; use its exact name" in refused.text
    own = regraded.replace("{name: calls,", "{name: second-calls,")
    theirs = keyed.submit("second analyst", own, [("calls_a.csv", CALLS_A)], LOOKUPS).json()["id"]
    assert keyed.finished(theirs, "second analyst")["status"] == "done"
    by_admin = keyed.finished(keyed.submit("admin", CALLS, [("calls_b.csv", CALLS_B)], LOOKUPS).json()["id"], "admin")
    assert by_admin["status"] == "done" and store.sources()["calls"]["custodian"] == "api key: analyst"  # kept


def test_a_source_first_loaded_from_the_command_line_is_not_claimed_through_the_api(keyed, store, model, tmp_path):
    from nimgraph.ingest.engine import ingest_file
    from nimgraph.ingest.spec import load_spec

    (tmp_path / "calls.yaml").write_text(CALLS)
    for name, text in [*LOOKUPS, ("calls_a.csv", CALLS_A)]:
        (tmp_path / name).write_text(text)
    ingest_file(store, model, load_spec(tmp_path / "calls.yaml", model), tmp_path / "calls_a.csv", rejects_dir=tmp_path)
    assert store.sources()["calls"]["custodian"] == "the command line"
    refused = keyed.submit("analyst", CALLS, [("calls_b.csv", CALLS_B)], LOOKUPS)
    assert refused.status_code == 403 and "(the command line)" in refused.text


def test_an_uploaded_file_and_its_rejects_are_the_service_users_alone(client, asb_file, tmp_path):
    import os
    import stat

    before = os.umask(0o022)  # a umask that lets anyone read what the service makes
    try:
        job = _finished(client, _submit(client, asb_file[0]).json()["id"])
    finally:
        os.umask(before)
    folder = tmp_path / "work" / "jobs" / job["id"]
    made = {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in folder.rglob("*") if p.suffix == ".csv"}
    assert "council_asb.csv" in made and any("rejects" in name for name in made), made
    assert set(made.values()) == {"0o600"}, made
    assert oct(stat.S_IMODE(folder.stat().st_mode)) == "0o700"
