"""A store file an earlier nimgraph wrote (layouts 1 and 2): refused with a clear message, upgraded once
by ``nimgraph store upgrade`` with nothing lost, then read and written as any other."""

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
from nimgraph.store.embedded_layout import StoreLayoutError, record_key

FIXTURES = Path(__file__).parent / "fixtures" / "store"
FIXTURE = FIXTURES / "layout1.db.gz"
FIXTURE_KEY = "layout-one-fixture-key-0123456789abcdef"  # the id key make_layout1.py wrote it under
FIXTURE_2_KEY = "layout-two-fixture-key-0123456789abcdef"  # and the one it wrote layout2.db under


@pytest.fixture
def layout1(tmp_path: Path) -> Path:
    path = tmp_path / "old.db"
    path.write_bytes(gzip.decompress(FIXTURE.read_bytes()))
    return path


@pytest.fixture
def layout2(tmp_path: Path) -> Path:
    path = tmp_path / "two.db"
    path.write_bytes(gzip.decompress((FIXTURES / "layout2.db.gz").read_bytes()))
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


def _held_2(path: Path) -> dict:
    """What a layout 2 file holds, read with SQL, as ``_held`` gives it."""
    with sqlite3.connect(path) as db:
        entities = {r[0]: (r[1], json.loads(r[2])) for r in db.execute("SELECT id, type, props FROM entity")}
        links = {
            r[0]: (r[1], r[2], r[3], json.loads(r[4]))
            for r in db.execute("SELECT id, type, source, target, props FROM link")
        }
        asserted: dict[str, set] = {}
        for row in db.execute(
            "SELECT coalesce(e.id, l.id), r.source, r.record_id, f.name, a.row, a.date, a.grade, a.handling, "
            "a.props, r.seq FROM asserted a JOIN record r ON r.n = a.record JOIN file f ON f.n = a.file "
            "LEFT JOIN entity e ON e.n = a.item LEFT JOIN link l ON l.n = a.item"
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


def _upgrade_and_compare(path: Path, model, capsys, held=_held, key: str = FIXTURE_KEY) -> None:
    before = held(path)
    assert main(["--store", str(path), "store", "upgrade"]) == 0
    out = capsys.readouterr().out
    assert f"{len(before['entities']):,} entities, {len(before['links']):,} links" in out

    store = EmbeddedStore(path, model, id_key=key)
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


@pytest.mark.parametrize("layout", ["1", "2"])
def test_a_file_of_an_earlier_layout_is_refused_with_the_command_that_upgrades_it(
    layout, request, model, capsys, cli_development
):
    old: Path = request.getfixturevalue(f"layout{layout}")
    untouched = old.read_bytes()
    with pytest.raises(StoreLayoutError, match=rf"store layout {layout}.*nimgraph --store .*{old.name} store upgrade"):
        EmbeddedStore(old, model)
    assert main(["--store", str(old), "search", "Elm", "--purpose", "a test"]) == 2
    assert "store upgrade" in capsys.readouterr().err
    assert old.read_bytes() == untouched  # refusing it changed nothing


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
        _reingest_street_and_intelligence(store, model, data, tmp_path)
        assert store.counts() == counts
    finally:
        store.close()


def _reingest_street_and_intelligence(store: EmbeddedStore, model, data: Path, rejects: Path) -> None:
    for mapping, filename in PLAN:
        if mapping in ("police_uk_street", "intel_reports"):
            spec = load_spec(mapping_path(mapping), model)
            report = ingest_file(store, model, spec, data / filename, rejects_dir=rejects)
            assert report.entities.created == 0 and report.rows_loaded > 50


def test_upgrade_from_layout_2_keeps_every_item_its_properties_and_its_provenance(
    layout2, model, capsys, cli_development
):
    held = _held_2(layout2)
    assert len(held["entities"]) > 1000 and sum(map(len, held["asserted"].values())) > 5000
    _upgrade_and_compare(layout2, model, capsys, held=_held_2, key=FIXTURE_2_KEY)
    with sqlite3.connect(layout2) as db:  # every record keyed, and found by its key
        for source, record_id, key in db.execute("SELECT source, record_id, key FROM record"):
            assert key == record_key(source, record_id)
    assert main(["--store", str(layout2), "store", "upgrade"]) == 0
    assert "current layout already" in capsys.readouterr().out


def test_after_upgrading_layout_2_re_ingesting_the_same_files_adds_nothing_and_retracts_by_id(
    layout2, model, tmp_path, capsys, cli_development
):
    assert main(["--store", str(layout2), "store", "upgrade"]) == 0
    data = tmp_path / "data"
    write_dataset(data, incidents=120)  # the files make_layout1.py loaded (the same seed)
    store = EmbeddedStore(layout2, model, id_key=FIXTURE_2_KEY)
    try:
        counts = store.counts()
        with sqlite3.connect(layout2) as db:
            records = db.execute("SELECT count(*) FROM record").fetchone()[0]
        _reingest_street_and_intelligence(store, model, data, tmp_path)
        assert store.counts() == counts
        with sqlite3.connect(layout2) as db:
            assert db.execute("SELECT count(*) FROM record").fetchone()[0] == records
            (some,) = db.execute(
                "SELECT record_id FROM record WHERE source = 'police-uk-street-crime' LIMIT 1"
            ).fetchone()
        assert store.retract("police-uk-street-crime", [some])["records"] == 1
    finally:
        store.close()


def test_records_whose_keys_collide_are_told_apart_by_their_text(tmp_path, model):
    """A 64-bit hash shared by two records is unlikely, not impossible: a planted one is a new record."""
    (tmp_path / "spec.yaml").write_text(
        "source: {name: attendances}\ngrading: {default: 1AC}\nrecord_id: Ref\nentities:\n  visit:\n"
        "    type: HealthReferral\n    keys: [Ref]\n    properties:\n      reference: Ref\n"
        '      date: {column: Seen, format: "%Y-%m-%d"}\n'
    )
    data = tmp_path / "a.csv"
    data.write_text("Ref,Seen\nR1,2026-03-01\nR2,2026-03-02\n", encoding="utf-8")
    path = tmp_path / "graph.db"
    EmbeddedStore(path, model).close()
    with sqlite3.connect(path) as db:  # another source's record, under R1's key
        db.execute(
            "INSERT INTO record (key, source, record_id, run, seq) VALUES (?, 'elsewhere', 'X9', 'r', 0)",
            (record_key("attendances", "R1"),),
        )
    store = EmbeddedStore(path, model)
    try:
        spec = load_spec(tmp_path / "spec.yaml", model)
        report = ingest_file(store, model, spec, data, rejects_dir=tmp_path / "out")
        assert (report.rows_loaded, report.entities.created) == (2, 2)
        assert store.retract("attendances", ["R1"]) == {"records": 1, "entities": 1, "links": 0}
    finally:
        store.close()
    with sqlite3.connect(path) as db:
        held = db.execute("SELECT source, record_id, run, seq FROM record ORDER BY source").fetchall()
    assert held[1] == ("elsewhere", "X9", "r", 0) and held[0][:2] == (
        "attendances",
        "R2",
    )  # the other record untouched throughout
