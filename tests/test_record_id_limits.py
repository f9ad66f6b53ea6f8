"""A record id that cannot key its record rejects its row, on either store, and the rest still load."""

from __future__ import annotations

import csv

import pytest

from nimgraph.ids import IdKey
from nimgraph.ingest.engine import ingest_file
from nimgraph.ingest.mapper import Row, RowError, RowMapper
from nimgraph.ingest.spec import load_spec

SPEC = """
source: {name: test-cases}
grading: {default: 1AP}
record_id: Case
entities:
  person:
    type: Person
    keys: [Ref]
    properties:
      name: Name
"""


def test_a_record_id_too_long_or_holding_a_control_character_rejects_only_its_row(store, model, tmp_path):
    (tmp_path / "cases.yaml").write_text(SPEC)
    data = tmp_path / "cases.csv"
    rows = [
        ["Case", "Ref", "Name"],
        ["C1", "P1", "Ann Example"],
        ["C" * 9000, "P2", "Bob Example"],  # past what Neo4j's index of record keys takes
        ["C3\x7fC4", "P3", "Cat Example"],  # not whitespace, which a value's reading folds to a space
        ["C5", "P5", "Dan Example"],
    ]
    with data.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    spec = load_spec(tmp_path / "cases.yaml", model)
    report = ingest_file(store, model, spec, data, rejects_dir=tmp_path)
    assert (report.rows_loaded, report.rows_rejected) == (2, 2)
    rejects = list(csv.reader((tmp_path / "cases.rejects.csv").open(encoding="utf-8")))
    reasons = [
        ("3", "the record id 'Case' is longer than 1000 characters"),
        ("4", "the record id 'Case' holds a control character"),
    ]
    assert [(r[0], r[1]) for r in rejects[1:]] == reasons
    assert sorted(p.properties["name"] for p in store.find("Person", "Example")) == ["Ann Example", "Dan Example"]
    mapper = RowMapper(spec, model, IdKey("a-key-for-the-row-mapper-only"))  # the reference mapper agrees
    for (line, reason), values in zip(reasons, rows[2:4], strict=True):
        with pytest.raises(RowError, match=reason):
            mapper.map(Row(dict(zip(rows[0], values, strict=True)), int(line), "cases.csv"))
