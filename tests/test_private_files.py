"""Files holding partnership data are readable by their owner alone, whatever the umask."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from nimgraph.cli import main
from nimgraph.ingest.engine import ingest_file
from nimgraph.ingest.spec import load_spec
from nimgraph.records import Assertion, Batch, Entity
from nimgraph.store.embedded import EmbeddedStore


def mode(path: Path) -> str:
    return oct(stat.S_IMODE(path.stat().st_mode))


@pytest.fixture
def open_umask():
    """A umask that lets anyone read what a process makes (022, a common default)."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def test_a_new_store_and_its_write_ahead_log_are_the_owners_alone(open_umask, tmp_path, model):
    store = EmbeddedStore(tmp_path / "graph.db", model)
    said = Assertion("test", "case-1", "t.csv", 2, None, "1AC", "C")
    store.upsert(Batch(entities=[Entity("someone", "Person", {"name": "Ann Example"}, [said])]))
    made = sorted(p.name for p in tmp_path.iterdir())
    assert made == ["graph.db", "graph.db-shm", "graph.db-wal"]
    assert {name: mode(tmp_path / name) for name in made} == dict.fromkeys(made, "0o600")
    store.close()


def test_a_store_file_made_before_keeps_the_mode_its_owner_gave_it(open_umask, tmp_path, model):
    shared = tmp_path / "graph.db"
    EmbeddedStore(shared, model).close()
    shared.chmod(0o640)  # a deployment that lets a backup group read it
    EmbeddedStore(shared, model).close()
    assert mode(shared) == "0o640"


def test_a_rejects_file_of_raw_partner_rows_is_the_owners_alone(open_umask, tmp_path, model):
    spec_path = tmp_path / "people.yaml"
    spec_path.write_text(
        "source: {name: test}\ngrading: {default: 1AC}\nrecord_id: Ref\n"
        "entities:\n  person:\n    type: Person\n    keys: [Ref]\n"
        "    properties:\n      name: Name\n      dateOfBirth: {column: Born, format: '%d/%m/%Y'}\n"
    )
    data = tmp_path / "people.csv"
    data.write_text("Ref,Name,Born\nP1,Ann Example,01/02/1990\nP2,Bob Example,not a date\n")
    store = EmbeddedStore(tmp_path / "graph.db", model)
    report = ingest_file(store, model, load_spec(spec_path, model), data, rejects_dir=tmp_path / "rejects")
    store.close()
    (rejects,) = (tmp_path / "rejects").iterdir()
    assert report.rows_rejected == 1 and "Bob Example" in rejects.read_text()
    assert mode(rejects) == "0o600"


def test_an_export_overwriting_a_readable_file_leaves_it_the_owners_alone(open_umask, demo, tmp_path, cli_development):
    out = tmp_path / "subject.ttl"
    out.write_text("an older export")
    out.chmod(0o644)
    store = str(demo.work_dir / "graph.db")
    subject = demo.result.subject_id
    assert main(["--store", store, "export", "rdf", "--around", subject, "-o", str(out), "--purpose", "test"]) == 0
    assert subject in out.read_text() and mode(out) == "0o600"
    html = tmp_path / "profile.html"
    assert main(["--store", store, "profile", "subject", subject, "--purpose", "test", "--html", str(html)]) == 0
    assert mode(html) == "0o600"
