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


def test_an_output_held_open_by_another_reader_is_replaced_not_rewritten(open_umask, tmp_path):
    from nimgraph.private_files import write_private_text

    report = tmp_path / "profile.html"
    report.write_text("an older report")
    report.chmod(0o644)
    with report.open() as held_by_someone_else:
        write_private_text(report, "the new report, with personal data")
        assert held_by_someone_else.read() == "an older report"
    assert mode(report) == "0o600" and report.read_text() == "the new report, with personal data"


def test_a_file_that_may_not_be_replaced_is_refused_before_anything_in_it_is_lost(tmp_path, monkeypatch):
    from nimgraph.private_files import write_private_text

    shared = tmp_path / "shared"
    shared.mkdir()
    output = shared / "colleagues-report.json"
    output.write_text('{"kept": true}')
    shared.chmod(0o500)  # the folder is not this user's to change
    if os.access(shared, os.W_OK | os.X_OK):  # root may change any folder: the kernel's refusal, as others get it

        def refused(path, *args, **kwargs):
            raise PermissionError(1, "Operation not permitted", str(path))

        monkeypatch.setattr(os, "unlink", refused)
    try:
        with pytest.raises(PermissionError):
            write_private_text(output, "{}")
    finally:
        shared.chmod(0o700)
    assert output.read_text() == '{"kept": true}'


def test_what_is_not_a_regular_file_is_written_with_its_mode_untouched(open_umask, tmp_path):
    from nimgraph.private_files import write_private_text

    pipe = tmp_path / "pipe"
    os.mkfifo(pipe, 0o644)
    reader = os.open(pipe, os.O_RDONLY | os.O_NONBLOCK)
    try:
        write_private_text(pipe, "through the pipe")
        assert os.read(reader, 100) == b"through the pipe"
    finally:
        os.close(reader)
    assert mode(pipe) == "0o644"
    write_private_text(os.devnull, "discarded")
    assert oct(stat.S_IMODE(os.stat(os.devnull).st_mode)) == "0o666"


def test_a_store_at_a_link_to_a_file_not_yet_made_is_made_owner_only(open_umask, tmp_path, model):
    (tmp_path / "data").mkdir()
    link = tmp_path / "graph.db"
    link.symlink_to(tmp_path / "data" / "graph.db")
    EmbeddedStore(link, model).close()
    assert mode(tmp_path / "data" / "graph.db") == "0o600"
