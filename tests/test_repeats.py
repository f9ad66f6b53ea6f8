"""Repeated record ids: the compact store of the ids a file has given, and the notes an ingest gives."""

from __future__ import annotations

import csv

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nimgraph.ingest.engine import CHUNK_ROWS, ingest_file
from nimgraph.ingest.repeats import RecordIds
from nimgraph.ingest.spec import load_spec

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
      category: Method
      date: {column: Seen, format: "%Y-%m-%d"}
"""


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.text(alphabet="ab\0é", max_size=4), max_size=12), max_size=30))
def test_each_row_is_told_the_first_row_of_its_record_id(blocks):
    seen, first, row = RecordIds(), {}, 2
    for block in blocks:
        rows = list(range(row, row + len(block)))
        row += len(block) + 1  # rows need not follow on: a filtered or rejected row is not asked about
        expected = []
        for line, record_id in zip(rows, block, strict=True):
            expected.append(first.get(record_id))
            first.setdefault(record_id, line)
        assert seen.first_rows(rows, block) == expected
    assert len(seen) == len(first)


def _warnings(path: str | None) -> dict[int, str]:
    assert path is not None
    with open(path, newline="", encoding="utf-8") as handle:
        return {int(row[0]): row[1] for row in list(csv.reader(handle))[1:]}


@pytest.mark.parametrize("mapping_process", [False, True])
def test_an_ingest_notes_repeats_across_blocks_and_within_one(tmp_path, embedded_store, model, mapping_process):
    (tmp_path / "spec.yaml").write_text(SPEC)
    rows = [[f"R{n}", "first", "2026-03-01"] for n in range(3 * CHUNK_ROWS)]
    # line 2 is R0; the repeats: R0 two blocks later, R7 in the block it first came in, R1 twice more.
    planted = {2 * CHUNK_ROWS + 10: "R0", 20: "R7", CHUNK_ROWS + 3: "R1", 3 * CHUNK_ROWS - 1: "R1"}
    for index, record_id in planted.items():
        rows[index] = [record_id, "again", "2026-03-02"]
    path = tmp_path / "attendances.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["Ref", "Method", "Seen"], *rows])

    spec = load_spec(tmp_path / "spec.yaml", model)
    report = ingest_file(
        embedded_store, model, spec, path, rejects_dir=tmp_path / "out", mapping_process=mapping_process
    )

    first_line = {f"R{n}": n + 2 for n in range(3 * CHUNK_ROWS) if n not in planted}
    expected = {
        index + 2: f"repeats the record id {record_id!r} of row {first_line[record_id]}"
        for index, record_id in planted.items()
    }
    listed = _warnings(report.warnings_file)
    assert sorted(listed) == sorted(expected)
    assert all(expected[line] in listed[line] for line in expected), listed
    assert report.warnings == {"repeated record id": len(planted)}
    assert report.rows_loaded == 3 * CHUNK_ROWS


@pytest.mark.parametrize("batch_size", [1, 1000])
def test_a_record_says_what_all_its_rows_say_wherever_a_batch_ends(store, model, tmp_path, batch_size):
    spec = SPEC.replace("      category: Method\n", "      category: Method\n      description: Note\n")
    (tmp_path / "spec.yaml").write_text(spec)
    path = tmp_path / "attendances.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([
            ["Ref", "Method", "Note", "Seen"],
            ["R1", "Knife", "", "2026-03-01"],
            ["R2", "Blunt object", "", "2026-03-01"],
            ["R1", "", "the second row of R1", "2026-03-02"],
        ])  # fmt: skip

    ingest_file(
        store, model, load_spec(tmp_path / "spec.yaml", model), path, rejects_dir=tmp_path, batch_size=batch_size
    )

    [visit] = [e for e in store.find(text="R1") if e.properties.get("reference") == "R1"]
    said = {a.record_id: (a.row, a.properties) for a in visit.provenance}
    expected = {"reference": "R1", "category": "Knife", "description": "the second row of R1", "date": "2026-03-02"}
    assert said == {"R1": (4, expected)}
    assert {k: visit.properties.get(k) for k in expected} == expected
