"""A store file an earlier nimgraph wrote (layout 1): refused with a clear message, upgraded once by
``nimgraph store upgrade`` with nothing lost, then read and written as any other."""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path

import pytest

from nimgraph.cli import main
from nimgraph.demo import PLAN
from nimgraph.demo.generate import write_dataset
from nimgraph.ingest.engine import ingest_file
from nimgraph.ingest.spec import load_spec
from nimgraph.mappings import mapping_path
from nimgraph.store.embedded import EmbeddedStore
from nimgraph.store.embedded_layout import StoreLayoutError

FIXTURE = Path(__file__).parent / "fixtures" / "store" / "layout1.db.gz"
FIXTURE_KEY = "layout-one-fixture-key-0123456789abcdef"  # the id key make_layout1.py wrote it under


@pytest.fixture
def layout1(tmp_path: Path) -> Path:
    path = tmp_path / "old.db"
    path.write_bytes(gzip.decompress(FIXTURE.read_bytes()))
    return path


def _held(path: Path) -> dict:
    """What a layout 1 file holds, read with SQL: items, and each item's assertions."""
    with sqlite3.connect(path) as db:
        entities = {r[0]: (r[1], json.loads(r[2])) for r in db.execute("SELECT id, type, props FROM entity")}
        links = {r[0]: (r[1], r[2], r[3], json.loads(r[4])) for r in db.execute("SELECT * FROM link")}
        columns = {row[1] for row in db.execute("PRAGMA table_info(assertion)")}
        props = "props" if "props" in columns else "NULL"
        seq = "(SELECT max(b.seq) FROM assertion b WHERE b.source = a.source AND b.record_id = a.record_id)"
        asserted: dict[str, set] = {}
        for row in db.execute(
            f"SELECT item_id, source, record_id, file, row, date, grade, handling, {props}, "
            f"{seq if 'seq' in columns else '0'} FROM assertion a"
        ):
            asserted.setdefault(row[0], set()).add(
                (*row[1:8], None if row[8] is None else json.dumps(json.loads(row[8])), row[9])
            )
    return {"entities": entities, "links": links, "asserted": asserted}


def _provenance(item) -> set:
    return {
        (
            a.source,
            a.record_id,
            a.file,
            a.row,
            a.date,
            a.grade,
            a.handling,
            None if a.properties is None else json.dumps(a.properties),
            a.written,
        )
        for a in item.provenance
    }


def _upgrade_and_compare(path: Path, model, capsys) -> None:
    before = _held(path)
    assert main(["--store", str(path), "store", "upgrade"]) == 0
    out = capsys.readouterr().out
    assert f"{len(before['entities']):,} entities, {len(before['links']):,} links" in out

    store = EmbeddedStore(path, model, id_key=FIXTURE_KEY)
    try:
        for entity_id, (type_name, props) in before["entities"].items():
            entity = store.get(entity_id)
            assert (entity.type, entity.properties) == (type_name, props)
            assert _provenance(entity) == before["asserted"][entity_id]
        every = store.subgraph({type_name for type_name, *_ in before["links"].values()})
        assert set(every.links) == set(before["links"])
        for link_id, (type_name, source, target, props) in before["links"].items():
            link = every.links[link_id]
            assert (link.type, link.source, link.target, link.properties) == (type_name, source, target, props)
            assert _provenance(link) == before["asserted"][link_id]
    finally:
        store.close()


def test_a_layout_1_file_is_refused_with_the_command_that_upgrades_it(layout1, model, capsys, cli_development):
    untouched = layout1.read_bytes()
    with pytest.raises(StoreLayoutError, match=r"store layout 1.*nimgraph --store .*old\.db store upgrade"):
        EmbeddedStore(layout1, model)
    assert main(["--store", str(layout1), "search", "Elm", "--purpose", "a test"]) == 2
    assert "store upgrade" in capsys.readouterr().err
    assert layout1.read_bytes() == untouched  # refusing it changed nothing


def test_upgrade_keeps_every_item_its_properties_and_its_provenance(layout1, model, capsys, cli_development):
    assert len(_held(layout1)["entities"]) > 1000  # the fixture is the demo partnership, not a toy
    _upgrade_and_compare(layout1, model, capsys)

    assert main(["--store", str(layout1), "store", "upgrade"]) == 0  # once only
    assert "current layout already" in capsys.readouterr().out


def test_a_file_from_before_records_kept_what_they_said_upgrades_too(layout1, model, capsys, cli_development):
    with sqlite3.connect(layout1) as db:
        for column in ("props", "seq", "run"):
            db.execute(f"ALTER TABLE assertion DROP COLUMN {column}")
    _upgrade_and_compare(layout1, model, capsys)


def test_after_the_upgrade_re_ingesting_the_same_files_adds_nothing(layout1, model, tmp_path, capsys, cli_development):
    assert main(["--store", str(layout1), "store", "upgrade"]) == 0
    data = tmp_path / "data"
    write_dataset(data, incidents=120)  # the files make_layout1.py loaded (the same seed)
    store = EmbeddedStore(layout1, model, id_key=FIXTURE_KEY)
    try:
        counts = store.counts()
        for mapping, filename in PLAN:
            if mapping in ("police_uk_street", "intel_reports"):
                report = ingest_file(
                    store, model, load_spec(mapping_path(mapping), model), data / filename, rejects_dir=tmp_path
                )
                assert report.entities.created == 0 and report.rows_loaded > 50
        assert store.counts() == counts
    finally:
        store.close()
