"""The audit log under attack: requests that try to leave no trace, and a log edited behind the API's back.

DPA 2018 s62 asks for a record of every collection, alteration, consultation and disclosure. So
each request below, allowed or refused, must leave exactly one entry naming who made it (never
the key they presented) and how it ended. Then the SQLite file is attacked the way someone with
a shell on the API host would: triggers dropped, the last rows deleted, a row rewritten and the
whole chain recomputed. Everything runs on the real app over a real embedded store.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import dev_settings
from fastapi.testclient import TestClient

from api.main import create_app
from nimgraph.access.audit import AuditEntry, AuditLog
from nimgraph.config import Settings
from nimgraph.mappings import mapping_path
from nimgraph.store.embedded import EmbeddedStore

ANALYST, PARTNER, ADMIN = "dev-analyst", "dev-partner", "dev-admin"
A_GUESS = "guessed-key-9f8e7d6c5b4a"  # a key nobody holds: it must not end up in the log either
SOME_JOB = "0123456789abcdef0123456789abcdef"
ASB_CSV = (
    "Case Reference,Date Reported,Time Reported,ASB Type,Description,Street,LSOA Code\n"
    "ASB-1,03/02/2024,21:15,Noise,Loud music,High Street,E01000001\n"
    "ASB-2,31/02/2024,22:00,Noise,Shouting,High Street,E01000001\n"  # no such date: rejected, echoed back
)
REVIEW = {"X-API-Key": ADMIN, "X-Purpose": "audit review"}


@dataclass
class Served:
    client: TestClient
    settings: Settings
    log: AuditLog

    def call(self, method: str, url: str, key: str | None = ANALYST, purpose: str | bytes | None = "op larch", **kw):
        headers = {}
        if key is not None:
            headers["X-API-Key"] = key
        if purpose is not None:
            headers["X-Purpose"] = purpose
        return self.client.request(method, url, headers=headers, **kw)

    def entries(self) -> list[dict]:
        return self.log.query(limit=100_000)

    def one_entry_from(self, method: str, url: str, **kw) -> tuple[object, dict]:
        """Make the request, and return its response and the single entry it left."""
        before = len(self.entries())
        response = self.call(method, url, **kw)
        new = self.entries()[before:]
        assert len(new) == 1, f"{method} {url} left {len(new)} entries: {new}"
        return response, new[0]

    def verify(self) -> dict:
        response = self.client.get("/audit", headers=REVIEW, params={"verify": "true", "limit": 1})
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def served(tmp_path: Path, model):
    store = EmbeddedStore(tmp_path / "graph.db", model)
    settings = dev_settings(
        store="unused",
        work_dir=tmp_path / "work",
        access_db=tmp_path / "access.db",
        audit_anchor=tmp_path / "anchor" / "audit-anchor.log",
    )
    app = create_app(settings, store=store, model=model)
    with TestClient(app) as client:
        yield Served(client, settings, app.state.access.audit)
    store.close()


REFUSALS = [
    # (method, url, key, purpose, status, who)
    ("GET", "/search?type=Person", None, "op larch", 401, "(no key)"),
    ("GET", "/search?type=Person", A_GUESS, "op larch", 401, "(unrecognised key)"),
    ("GET", "/audit", PARTNER, "curious", 403, "development partner viewer"),
    ("GET", f"/ingest/jobs/{SOME_JOB}", PARTNER, None, 403, "development partner viewer"),
    ("GET", "/search?type=Person", ANALYST, None, 400, "development analyst"),
    ("GET", "/entities/Person-nobody", ANALYST, "op larch", 404, "development analyst"),
    ("GET", f"/ingest/jobs/{SOME_JOB}", ANALYST, None, 404, "development analyst"),
    ("GET", "/no-such-route", ANALYST, None, 404, "development analyst"),
    ("GET", "/search?type=Person&limit=-1", ANALYST, "op larch", 422, "development analyst"),
    ("POST", "/audit", ADMIN, "rewrite it", 405, "development admin"),
]


@pytest.mark.parametrize(("method", "url", "key", "purpose", "status", "who"), REFUSALS)
def test_every_refusal_leaves_exactly_one_entry(served, method, url, key, purpose, status, who):
    response, entry = served.one_entry_from(method, url, key=key, purpose=purpose)
    assert response.status_code == status, response.text
    assert (entry["who"], entry["status"], entry["method"], entry["path"]) == (who, status, method, url)
    assert entry["items"] == []
    assert A_GUESS not in json.dumps(entry)


def test_an_upload_without_a_key_leaves_an_entry(served):
    response, entry = served.one_entry_from(
        "POST", "/ingest/jobs", key=None, files={"spec": ("s.yaml", "x"), "file": ("f.csv", "a,b\n")}
    )
    assert response.status_code == 401
    assert (entry["who"], entry["status"]) == ("(no key)", 401)


def test_an_ingest_job_and_its_status_reads_are_logged_with_the_job(served):
    files = {
        "spec": ("council_asb.yaml", mapping_path("council_asb").read_text(), "application/yaml"),
        "file": ("asb.csv", ASB_CSV, "text/csv"),
    }
    submitted, entry = served.one_entry_from("POST", "/ingest/jobs", purpose=None, files=files)
    assert submitted.status_code == 202, submitted.text
    assert submitted.headers["content-type"] == "application/json"
    job = submitted.json()["id"]
    assert (entry["who"], entry["role"], entry["status"]) == ("development analyst", "analyst", 202)
    assert entry["items"] == [f"ingest-job:{job}"]

    status, read = served.one_entry_from("GET", f"/ingest/jobs/{job}", purpose=None)
    assert status.status_code == 200 and status.json()["id"] == job
    assert (read["who"], read["status"], read["items"]) == ("development analyst", 200, [f"ingest-job:{job}"])
    by_job = served.client.get("/audit", headers=REVIEW, params={"item": f"ingest-job:{job}"}).json()["items"]
    assert [e["seq"] for e in by_job] == [entry["seq"], read["seq"]]


def test_a_utf8_purpose_is_stored_exactly_as_sent(served):
    purpose = "Opération Larch – ½ term"  # noqa: RUF001 (the en dash is the point)
    response, entry = served.one_entry_from("GET", "/search?type=Person", purpose=purpose.encode())
    assert response.status_code == 200
    shown = served.client.get("/audit", headers=REVIEW, params={"who": "development analyst"}).json()["items"]
    assert [e["purpose"] for e in shown] == [purpose] == [entry["purpose"]]
    # A client that sends latin-1 instead means the same words, and the log says so.
    _, latin = served.one_entry_from("GET", "/search?type=Person", purpose="Opération Larch".encode("latin-1"))
    assert latin["purpose"] == "Opération Larch"


def _fill(served: Served, reads: int = 6) -> None:
    for n in range(reads):
        assert served.call("GET", f"/search?type=Person&q=n{n}").status_code == 200
    assert served.verify()["intact"] is True


@contextmanager
def _raw(path: Path) -> Iterator[sqlite3.Connection]:
    """The file itself, opened the way someone with a shell on the host would, triggers dropped."""
    raw = sqlite3.connect(path)
    raw.row_factory = sqlite3.Row
    try:
        for trigger in ("audit_no_update", "audit_no_delete", "audit_meta_no_update", "audit_meta_no_delete"):
            raw.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        yield raw
        raw.commit()
    finally:
        raw.close()


def test_deleting_the_last_entries_shows(served):
    _fill(served)
    length = len(served.entries())
    with _raw(served.settings.access_db) as raw:
        raw.execute("DELETE FROM audit WHERE seq > ?", (length - 3,))
    found = served.verify()
    assert found["intact"] is False and found["first_broken"] is None  # the chain alone cannot tell
    assert f"the log has {length - 3} entries; the anchor says {length}" in " ".join(found["problems"])
    # Writing new entries over the gap does not hide it: the anchor remembers other heads there.
    assert all(served.call("GET", "/search?type=Person").status_code == 200 for _ in range(4))
    again = served.verify()
    assert again["intact"] is False
    assert f"entry {length - 2} is not the one the anchor recorded" in " ".join(again["problems"])


def _body(row: dict) -> str:
    fields = ("at", "who", "role", "purpose", "method", "path", "status")
    body = {name: row[name] for name in fields}
    body["items"], body["withheld"] = json.loads(row["items"]), json.loads(row["withheld"])
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def _sha256(seq: int, prev: str, row: dict) -> str:
    return hashlib.sha256((prev + _body(row)).encode()).hexdigest()


def _hmac_under(key: str):
    def link(seq: int, prev: str, row: dict) -> str:
        return hmac.new(key.encode(), f"{seq}:{prev}{_body(row)}".encode(), hashlib.sha256).hexdigest()

    return link


def _rechain(served: Served, link) -> None:
    """Rewrite who made entry 2, then recompute every link after it, as the attacker thinks they work."""
    _rewrite(served.settings.access_db, link)


def _rewrite(path: Path, link, before: int | None = None) -> None:
    """Edit entry 2 in the file itself and re-chain the entries (those before ``before``) with ``link``."""
    with _raw(path) as raw:
        raw.execute("UPDATE audit SET who = 'someone else' WHERE seq = 2")
        prev = "0" * 64
        for row in raw.execute("SELECT * FROM audit WHERE seq < ? ORDER BY seq", (before or 2**62,)).fetchall():
            head = link(row["seq"], prev, dict(row))
            raw.execute("UPDATE audit SET prev = ?, hash = ? WHERE seq = ?", (prev, head, row["seq"]))
            prev = head


@pytest.mark.parametrize("link", [_sha256, _hmac_under("a-key-the-attacker-made-up")], ids=["sha256", "wrong-key"])
def test_a_rewritten_and_rechained_log_shows(served, link):
    _fill(served)
    _rechain(served, link)
    found = served.verify()
    assert found["intact"] is False and found["first_broken"] == 1
    assert "entry 1 is not the one the anchor recorded" in " ".join(found["problems"])


def test_passing_the_log_off_as_older_than_the_key_shows(served):
    _fill(served)
    _rechain(served, _sha256)
    with _raw(served.settings.access_db) as raw:  # "every entry predates the key", so plain SHA-256 would do
        raw.execute("UPDATE audit_meta SET value = '1000000' WHERE name = 'keyed_from'")
    reopened = AuditLog.from_settings(served.settings)
    found = reopened.verify()
    reopened.close()
    assert found.first_broken is None and not found.intact
    assert any("entry 1 is not the one the anchor recorded" in p for p in found.problems)


def test_even_the_key_holder_cannot_rechain_unseen(served):
    _fill(served)
    _rechain(served, _hmac_under(served.settings.secret("audit_key")))
    found = served.verify()
    assert found["first_broken"] is None  # the chain holds: only the anchor knows
    assert found["intact"] is False and "entry 2 is not the one the anchor recorded" in " ".join(found["problems"])


def test_a_log_from_before_the_key_opens_and_says_so(tmp_path: Path):
    path = tmp_path / "access.db"
    _old_log(path, entries=3)
    log = AuditLog(path, key="k" * 32, anchor=tmp_path / "anchor.log")
    found = log.verify()
    assert found.intact and found.unkeyed_before == 4
    assert any("entries before seq 4 were written under the old unkeyed chain" in line for line in found.describe())
    log.append(AuditEntry("DC 1", "analyst", "case 7", "GET", "/entities/Person-4", 200, ["Person-4"]))
    assert log.verify().intact and log.query()[-1]["seq"] == 4
    _rewrite(path, _sha256, before=4)  # an old entry edited and its unkeyed chain recomputed
    assert log.verify().first_broken == 4  # the first keyed entry no longer follows from them
    log.close()


def _old_log(path: Path, entries: int) -> None:
    """An access database as the code before the audit key wrote it: no meta table, an unkeyed chain."""
    raw = sqlite3.connect(path)
    raw.executescript(
        "CREATE TABLE audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, who TEXT NOT NULL,"
        " role TEXT NOT NULL, purpose TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL,"
        " status INTEGER NOT NULL, items TEXT NOT NULL, withheld TEXT NOT NULL, prev TEXT NOT NULL,"
        " hash TEXT NOT NULL);"
        "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'append-only'); END;"
    )
    prev = "0" * 64
    for n in range(1, entries + 1):
        row = {
            "at": f"2024-01-0{n}T09:00:00.000+00:00",
            "who": "DC 1",
            "role": "analyst",
            "purpose": "case 7",
            "method": "GET",
            "path": f"/entities/Person-{n}",
            "status": 200,
            "items": json.dumps([f"Person-{n}"]),
            "withheld": "{}",
        }
        head = _sha256(n, prev, row)
        raw.execute(
            "INSERT INTO audit (at, who, role, purpose, method, path, status, items, withheld, prev, hash)"
            " VALUES (:at, :who, :role, :purpose, :method, :path, :status, :items, :withheld, :prev, :hash)",
            {**row, "prev": prev, "hash": head},
        )
        prev = head
    raw.commit()
    raw.close()
