"""The embedded store commits an ingest's batches a group at a time: a failure loses only the group
under way, a re-run completes the file, and another writer never waits behind or mixes into a group.

The failures are real ones: a trigger planted in the store file aborts the insert of one record.
"""

from __future__ import annotations

import csv
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from nimgraph.ingest.engine import ingest_file
from nimgraph.ingest.spec import load_spec
from nimgraph.records import Assertion, Batch, Entity
from nimgraph.store import embedded
from nimgraph.store.embedded import EmbeddedStore, GroupLostError

SPEC = """\
source: {name: attendances}
grading: {default: 1AC}
record_id: Ref
entities:
  visit:
    type: HealthReferral
    keys: [Ref]
    properties:
      reference: Ref
      date: {column: Seen, format: "%Y-%m-%d"}
"""
ROWS = 400
FAILING = "R255"  # its batch (rows R250-R259 at ten entities a batch) is the one that fails


def _plant_failure(path: Path, record_id: str) -> None:
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TRIGGER planted BEFORE INSERT ON record WHEN NEW.record_id = "
            f"'{record_id}' BEGIN SELECT RAISE(ABORT, 'planted failure'); END"
        )


def _plant_failure_at_commit(path: Path, record_id: str) -> None:
    """A deferred foreign key: a transaction that inserts ``record_id`` fails at COMMIT, not at the insert."""
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE nothing_here (id INTEGER PRIMARY KEY);"
            "CREATE TABLE planted (x INTEGER REFERENCES nothing_here(id) DEFERRABLE INITIALLY DEFERRED);"
            f"CREATE TRIGGER planted_at_commit AFTER INSERT ON record WHEN NEW.record_id = '{record_id}' "
            "BEGIN INSERT INTO planted VALUES (42); END;"
        )


def _store_planted(path: Path, model, plant, record_id: str) -> EmbeddedStore:
    """A new store file with a failure planted for ``record_id``, opened."""
    EmbeddedStore(path, model).close()
    plant(path, record_id)
    return EmbeddedStore(path, model)


def _committed(path: Path) -> tuple[set[str], int, int]:
    """What another connection sees: the record ids, the entities and the assertions."""
    with sqlite3.connect(path) as db:
        records = {r for (r,) in db.execute("SELECT record_id FROM record")}
        entities = db.execute("SELECT count(*) FROM entity").fetchone()[0]
        asserted = db.execute("SELECT count(*) FROM asserted").fetchone()[0]
    return records, entities, asserted


@pytest.mark.parametrize("mapping_process", [False, True])
def test_an_ingest_that_fails_midway_keeps_each_group_committed_before_and_a_re_run_completes_it(
    tmp_path, model, mapping_process, monkeypatch
):
    monkeypatch.setattr(embedded, "GROUP_ITEMS", 100)  # ten batches of ten: commits after rows R99 and R199
    monkeypatch.setattr(embedded, "GROUP_SECONDS", 3600.0)
    (tmp_path / "spec.yaml").write_text(SPEC)
    data = tmp_path / "attendances.csv"
    with data.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["Ref", "Seen"], *([f"R{n}", "2026-03-01"] for n in range(ROWS))])
    spec = load_spec(tmp_path / "spec.yaml", model)
    path = tmp_path / "graph.db"
    EmbeddedStore(path, model).close()
    _plant_failure(path, FAILING)

    store = EmbeddedStore(path, model)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="planted failure"):
            ingest_file(store, model, spec, data, rejects_dir=tmp_path / "out", batch_size=10, mapping_process=False)
        records, entities, asserted = _committed(path)  # seen before the store closes: committed, not held
        assert records == {f"R{n}" for n in range(200)}  # the group of R200-R259 went with its failed write
        assert (entities, asserted) == (200, 200)
        store.register_source("attendances", {"agency": "Health"})  # the store writes on after the failure
    finally:
        store.close()
    assert _committed(path)[0] == {f"R{n}" for n in range(200)}

    with sqlite3.connect(path) as db:
        db.execute("DROP TRIGGER planted")
    store = EmbeddedStore(path, model)
    try:
        report = ingest_file(store, model, spec, data, rejects_dir=tmp_path / "out", batch_size=10)
    finally:
        store.close()
    assert report.rows_loaded == ROWS
    assert _committed(path) == ({f"R{n}" for n in range(ROWS)}, ROWS, ROWS)  # completed, nothing twice


def _batch(*record_ids: str) -> Batch:
    return Batch(
        entities=[
            Entity(
                f"HealthReferral-{record_id}",
                "HealthReferral",
                {"reference": record_id},
                [Assertion("attendances", record_id, "a.csv", 2, None, "1AC", "P")],
            )
            for record_id in record_ids
        ]
    )


def test_another_write_commits_what_a_group_holds_before_its_own(tmp_path, model):
    path = tmp_path / "graph.db"
    store = EmbeddedStore(path, model)
    try:
        group, encode = store.write_group(), store.encoder()
        group.write(encode(_batch("A1", "A2")))
        store.register_source("attendances", {"agency": "Health"})  # another writer, while the group is open
        assert _committed(path)[0] == {"A1", "A2"}
        group.write(encode(_batch("A3")))
        group.close()
        assert _committed(path)[0] == {"A1", "A2", "A3"}
    finally:
        store.close()


def test_two_ingests_at_once_lose_nothing_of_each_other_when_one_fails(tmp_path, model):
    path = tmp_path / "graph.db"
    store = _store_planted(path, model, _plant_failure, "A-bad")
    try:
        first, second, encode = store.write_group(), store.write_group(), store.encoder()
        first.write(encode(_batch("A1")))
        second.write(encode(_batch("B1")))
        with pytest.raises(sqlite3.IntegrityError):
            first.write(encode(_batch("A2", "A-bad")))
        second.write(encode(_batch("B2")))
        first.close()
        assert _committed(path)[0] == {"A1", "B1"}  # B2 is still the second group's own
        second.close()
        assert _committed(path)[0] == {"A1", "B1", "B2"}
    finally:
        store.close()


def test_groups_written_from_many_threads_keep_every_batch(tmp_path, model):
    path = tmp_path / "graph.db"
    store = EmbeddedStore(path, model)
    encode = store.encoder()
    errors: list[BaseException] = []

    def ingest(name: str) -> None:
        group = store.write_group()
        try:
            for n in range(40):
                group.write(encode(_batch(f"{name}-{n}a", f"{name}-{n}b")))
        except BaseException as err:  # the assertion below reports it
            errors.append(err)
        finally:
            group.close()

    threads = [threading.Thread(target=ingest, args=(f"T{t}",)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    store.close()
    assert errors == []
    assert _committed(path) == (
        {f"T{t}-{n}{half}" for t in range(4) for n in range(40) for half in "ab"},
        320,
        320,
    )


def test_a_store_closed_with_a_group_open_keeps_what_the_group_wrote(tmp_path, model):
    path = tmp_path / "graph.db"
    store = EmbeddedStore(path, model)
    store.write_group().write(store.encoder()(_batch("A1")))
    store.close()
    assert _committed(path)[0] == {"A1"}


def test_a_group_whose_commit_fails_leaves_the_store_writable_and_a_re_run_completes_it(tmp_path, model):
    (tmp_path / "spec.yaml").write_text(SPEC)
    data = tmp_path / "attendances.csv"
    with data.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["Ref", "Seen"], *([f"R{n}", "2026-03-01"] for n in range(10))])
    spec = load_spec(tmp_path / "spec.yaml", model)
    path = tmp_path / "graph.db"
    store = _store_planted(path, model, _plant_failure_at_commit, "R5")
    try:
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            ingest_file(store, model, spec, data, rejects_dir=tmp_path / "out", mapping_process=False)
        assert _committed(path) == (set(), 0, 0)
        store.register_source("attendances", {"agency": "Health"})  # not left inside a broken transaction
        with sqlite3.connect(path) as db:
            db.execute("DROP TRIGGER planted_at_commit")
        report = ingest_file(store, model, spec, data, rejects_dir=tmp_path / "out", mapping_process=False)
    finally:
        store.close()
    assert report.rows_loaded == 10
    assert _committed(path) == ({f"R{n}" for n in range(10)}, 10, 10)


def test_a_group_whose_commit_another_writer_made_failed_is_told_and_the_other_writer_is_not(tmp_path, model):
    path = tmp_path / "graph.db"
    store = _store_planted(path, model, _plant_failure_at_commit, "A2")
    try:
        first, second, encode = store.write_group(), store.write_group(), store.encoder()
        first.write(encode(_batch("A1", "A2")))
        store.register_source("attendances", {"agency": "Health"})  # commits the group, which fails: not its error
        second.write(encode(_batch("B1")))
        with pytest.raises(GroupLostError, match="run the ingest again"):
            first.write(encode(_batch("A3")))  # the group's owner hears of it at its next write
        with pytest.raises(GroupLostError):
            first.close()  # and at its close
        second.close()
        assert _committed(path)[0] == {"B1"}
    finally:
        store.close()


def test_an_ingest_whose_batches_another_writer_failed_to_commit_raises_rather_than_reporting_them(tmp_path, model):
    (tmp_path / "spec.yaml").write_text(SPEC)
    data = tmp_path / "attendances.csv"
    with data.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["Ref", "Seen"], *([f"R{n}", "2026-03-01"] for n in range(ROWS))])
    spec = load_spec(tmp_path / "spec.yaml", model)
    path = tmp_path / "graph.db"
    store = _store_planted(path, model, _plant_failure_at_commit, "R0")
    registered = threading.Event()
    mapped = [0]

    def another_writer(rows: int) -> None:  # progress: while the first group is open, another write comes in
        mapped[0] += rows
        if mapped[0] >= 40 and not registered.is_set():  # the third batch is sent only once the first is written
            registered.set()
            store.register_source("elsewhere", {"agency": "Fire"})  # commits the group; it is not told it failed

    try:
        with pytest.raises(GroupLostError):
            ingest_file(
                store,
                model,
                spec,
                data,
                rejects_dir=tmp_path / "out",
                batch_size=10,
                progress=another_writer,
                mapping_process=False,
            )
    finally:
        store.close()
    assert registered.is_set()


def test_an_idle_group_is_committed_and_another_store_opens_the_file_meanwhile(tmp_path, model, monkeypatch):
    monkeypatch.setattr(embedded, "GROUP_SECONDS", 0.2)
    path = tmp_path / "graph.db"
    store = EmbeddedStore(path, model)
    try:
        group = store.write_group()
        group.write(store.encoder()(_batch("A1")))
        other = EmbeddedStore(path, model)  # opening writes nothing, so the group's lock does not stop it
        other.close()
        deadline = time.monotonic() + 10
        while _committed(path)[0] != {"A1"} and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _committed(path)[0] == {"A1"}  # the ingest went quiet; its group did not stay open
        group.write(store.encoder()(_batch("A2")))
        group.close()
        assert _committed(path)[0] == {"A1", "A2"}
    finally:
        store.close()


def test_a_plain_write_whose_commit_fails_leaves_the_store_writable(tmp_path, model):
    path = tmp_path / "graph.db"
    store = _store_planted(path, model, _plant_failure_at_commit, "A2")
    try:
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            store.upsert(_batch("A2"))
        store.register_source("attendances", {"agency": "Health"})
        store.upsert(_batch("A1"))
    finally:
        store.close()
    assert _committed(path)[0] == {"A1"}


def test_a_record_id_with_a_nul_in_it_is_found_again_and_retracted(tmp_path, model):
    path = tmp_path / "graph.db"
    store = EmbeddedStore(path, model)
    try:
        said = Batch(
            entities=[
                Entity(
                    "HealthReferral-1",
                    "HealthReferral",
                    {"reference": "1"},
                    [Assertion("attendances", "a\0b", "a.csv", 2, None, "1AC", "P")],
                )
            ]
        )
        store.upsert(said)
        store.upsert(said)
        assert _committed(path)[0] == {"a\0b"}
        assert store.retract("attendances", ["a\0b"])["records"] == 1
    finally:
        store.close()
    assert _committed(path) == (set(), 0, 0)
