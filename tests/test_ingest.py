from __future__ import annotations

import csv
import textwrap
from pathlib import Path

import pytest

from nimgraph.ingest.engine import ingest_file
from nimgraph.ingest.readers import FileError
from nimgraph.ingest.spec import SpecError, load_spec

SPEC = """\
source:
  name: test-asb
  agency: Test Council
grading:
  default: 1BP
record_id: Ref
record_date: {column: Date, format: "%d/%m/%Y"}
entities:
  report:
    type: ASBIncident
    keys: [Ref]
    properties:
      reference: Ref
      date: {column: Date, format: "%d/%m/%Y"}
      category: Kind
  place:
    type: Street
    keys: [Street, LSOA]
    optional: true
    properties:
      name: Street
      latitude: Lat
links:
  - {type: occurredAt, from: report, to: place}
"""

GOOD_AND_BAD = [
    ["Ref", "Date", "Kind", "Street", "LSOA", "Lat"],
    ["A1", "01/03/2026", "Nuisance", "Elm Street", "E01000001", "53.1"],
    ["A2", "31/02/2026", "Nuisance", "Elm Street", "E01000001", "53.1"],  # bad date
    ["", "02/03/2026", "Nuisance", "Elm Street", "E01000001", "53.1"],  # missing key
    ["A4", "03/03/2026", "Personal", "Oak Road", "E01000001", "north"],  # wrong type
    ["A5", "04/03/2026", "Personal", "Oak Road", "E01000001", "53.2"],
    ["A6", "", "Personal", "Oak Road", "E01000001", "53.2"],  # required date missing
    ["A7", "05/03/2026", "Personal", "", "", ""],  # no place: optional
    ["A8", "05/03/2026", "Personal", "Oak Road", "E01000001", "123.0"],  # latitude out of range
]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


@pytest.fixture
def spec_path(tmp_path: Path) -> Path:
    path = tmp_path / "asb.yaml"
    path.write_text(SPEC)
    return path


def run(store, model, spec_path, data, tmp_path):
    return ingest_file(store, model, load_spec(spec_path, model), data, rejects_dir=tmp_path / "rejects")


def test_bad_rows_go_to_rejects_with_row_number_and_reason_and_good_rows_load(store, model, spec_path, tmp_path):
    data = write_csv(tmp_path / "asb.csv", GOOD_AND_BAD)
    report = run(store, model, spec_path, data, tmp_path)

    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (8, 3, 5)
    with open(report.rejects_file, newline="") as handle:
        rejects = {row["row"]: row for row in csv.DictReader(handle)}
    assert set(rejects) == {"3", "4", "5", "7", "9"}  # spreadsheet line numbers: the header is line 1
    assert "'31/02/2026' is not a date" in rejects["3"]["reason"]
    assert "record id 'Ref' is empty" in rejects["4"]["reason"]
    assert "'north' is not a number" in rejects["5"]["reason"]
    assert rejects["7"]["reason"] == "an ASB incident needs a date; got ''"
    assert "outside -90.0 to 90.0" in rejects["9"]["reason"]
    assert rejects["5"]["Lat"] == "north"  # the original row is kept whole
    assert "asb.csv row 7: an ASB incident needs a date; got ''" in report.summary()
    loaded = {e.properties["reference"] for e in store.find("ASBIncident")}
    assert loaded == {"A1", "A5", "A7"}


def test_every_entity_and_link_carries_its_source_record(store, model, spec_path, tmp_path):
    data = write_csv(tmp_path / "asb.csv", GOOD_AND_BAD)
    run(store, model, spec_path, data, tmp_path)
    streets = store.find("Street")
    reports = store.find("ASBIncident")
    graph = store.subgraph(["occurredAt"])
    assert streets and reports and graph.links
    for item in [*streets, *reports, *graph.links.values()]:
        assert item.provenance, item
        for record in item.provenance:
            assert record.source == "test-asb" and record.file == "asb.csv"
            assert record.grade == "1BP" and record.handling == "P"
    a5 = next(e for e in reports if e.properties["reference"] == "A5")
    assert [(r.record_id, r.row, r.date) for r in a5.provenance] == [("A5", 6, "2026-03-04")]
    oak = next(e for e in streets if e.properties["name"] == "Oak Road")
    assert {r.record_id for r in oak.provenance} == {"A5"}  # rejected rows assert nothing


def test_reingesting_the_same_file_creates_no_duplicates(store, model, spec_path, tmp_path):
    data = write_csv(tmp_path / "asb.csv", GOOD_AND_BAD)
    run(store, model, spec_path, data, tmp_path)
    first = store.counts()
    run(store, model, spec_path, data, tmp_path)
    assert store.counts() == first
    a1 = store.find("ASBIncident", "A1")[0]
    assert len(a1.provenance) == 1


def test_the_same_street_from_two_rows_is_one_entity_asserted_twice(store, model, spec_path, tmp_path):
    rows = [
        GOOD_AND_BAD[0],
        ["B1", "01/03/2026", "Nuisance", "Elm  street", "E01000001", ""],
        ["B2", "02/03/2026", "Nuisance", "Elm Street", "E01000001", ""],
    ]
    run(store, model, spec_path, write_csv(tmp_path / "two.csv", rows), tmp_path)
    streets = store.find("Street")
    assert len(streets) == 1
    assert {r.record_id for r in streets[0].provenance} == {"B1", "B2"}


def test_per_row_grade_overrides_the_default(store, model, tmp_path):
    spec = tmp_path / "intel.yaml"
    spec.write_text(
        textwrap.dedent("""\
        source: {name: intel}
        grading: {default: 2CC, column: Grade}
        record_id: URN
        entities:
          a: {type: Person, keys: [A], properties: {name: A}}
          b: {type: Person, keys: [B], properties: {name: B}}
        links:
          - {type: knows, from: a, to: b}
        """)
    )
    data = write_csv(
        tmp_path / "intel.csv",
        [["URN", "A", "B", "Grade"], ["1", "ann", "bob", "1ap"], ["2", "cat", "dan", ""], ["3", "eve", "fay", "9ZZ"]],
    )
    report = run(store, model, spec, data, tmp_path)
    assert report.rows_rejected == 1
    grades = {
        link.provenance[0].record_id: link.provenance[0].grade for link in store.subgraph(["knows"]).links.values()
    }
    assert grades == {"1": "1AP", "2": "2CC"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("type: ASBIncident", "type: ASBIncidnet"),
            r"asb.yaml:10: unknown entity type 'ASBIncidnet'\. Did you mean 'ASBIncident'",
        ),
        (("category: Kind", "colour: Kind"), r"asb.yaml:15: ASBIncident has no property 'colour'"),
        (
            ("{type: occurredAt, from: report, to: place}", "{type: occurredAt, from: report, to: shop}"),
            r"asb.yaml:24: link to 'shop' is not an entity of this spec",
        ),
        (("{type: occurredAt,", "{type: happenedAt,"), r"asb.yaml:24: unknown link type 'happenedAt'"),
        (
            ("{type: occurredAt, from: report, to: place}", "{type: occurredAt, from: place, to: report}"),
            r"link 'occurredAt' goes from an Event, but 'place' is a Street",
        ),
        (("default: 1BP", "default: 4ZP"), r"grading.default: '4ZP' is not a 3x5x2 grade"),
        (('date: {column: Date, format: "%d/%m/%Y"}', "date: Date"), r"asb.yaml:14: a date needs 'format'"),
        (("type: ASBIncident", "type: Record"), r"asb.yaml:10: Record is created by nimgraph itself"),
        (("{type: occurredAt,", "{type: possiblySameAs,"), r"asb.yaml:24: 'possiblySameAs' links are created by"),
    ],
)
def test_spec_errors_name_the_line_before_anything_is_written(model, spec_path, change, message):
    spec_path.write_text(SPEC.replace(*change))
    with pytest.raises(SpecError, match=message):
        load_spec(spec_path, model)


def test_unknown_column_stops_the_run_before_anything_is_written(store, model, spec_path, tmp_path):
    spec_path.write_text(SPEC.replace("category: Kind", "category: Knid"))
    data = write_csv(tmp_path / "asb.csv", GOOD_AND_BAD)
    with pytest.raises(SpecError, match=r"asb.yaml:15: unknown column 'Knid' in asb.csv; the file has: Ref, Date"):
        run(store, model, spec_path, data, tmp_path)
    assert store.counts() == {"entities": {}, "links": {}}


def test_file_errors_are_clear(store, model, spec_path, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(FileError, match="the file is empty"):
        run(store, model, spec_path, empty, tmp_path)
    repeated = write_csv(tmp_path / "repeated.csv", [["Ref", "Date", "Ref", "Kind", "Street", "LSOA", "Lat"]])
    with pytest.raises(FileError, match="the header repeats 'Ref'"):
        run(store, model, spec_path, repeated, tmp_path)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("Ref,Date,Kind,Street,LSOA,Lat\nA1,01/03/2026,Nuisance,Caf\xe9 Row,E1,\n".encode("cp1252"))
    report = run(store, model, spec_path, latin, tmp_path)  # detected: not UTF-8, so Windows-1252
    assert report.rows_loaded == 1 and "cp1252" in report.summary()
    assert {e.properties["name"] for e in store.find("Street")} == {"Café Row"}
    spec_path.write_text(SPEC.replace("entities:", "read: {encoding: utf-8}\nentities:"))
    with pytest.raises(FileError, match=r"not utf-8; set read\.encoding"):
        run(store, model, spec_path, latin, tmp_path)


def test_short_rows_and_injection_looking_values_are_handled(store, model, spec_path, tmp_path):
    rows = [
        GOOD_AND_BAD[0],
        ["C1", "01/03/2026"],
        ["C2", "01/03/2026", "'; MATCH (n) DETACH DELETE n //", "Robert'); DROP TABLE entity;--", "E1", ""],
    ]
    report = run(store, model, spec_path, write_csv(tmp_path / "odd.csv", rows), tmp_path)
    assert report.rows_rejected == 1 and report.rows_loaded == 1
    [street] = store.find("Street")
    assert street.properties["name"] == "Robert'); DROP TABLE entity;--"
    assert store.find("ASBIncident", "C2")[0].properties["category"].startswith("'; MATCH")


PROBLEMS_SPEC = """\
source: {name: test-problems}
grading: {default: 1AP}
record_id: Ref
entities:
  problem:
    type: Problem
    keys: [Ref]
    properties: {reference: Ref, title: Title, saraStage: Stage}
"""


def test_coded_values_are_checked_against_the_code_list_and_stored_as_its_label(store, model, tmp_path):
    spec_path = tmp_path / "problems.yaml"
    spec_path.write_text(PROBLEMS_SPEC)
    rows = [["Ref", "Title", "Stage"], ["P1", "Fires", "analysis"], ["P2", "ASB", " RESPONSE "]]
    rows.append(["P3", "Drugs", "Triage"])
    report = run(store, model, spec_path, write_csv(tmp_path / "problems.csv", rows), tmp_path)

    assert (report.rows_loaded, report.rows_rejected) == (2, 1)
    assert "problems.csv row 4: SARA stage 'Triage' is not in the SARA stages: Scanning, Analysis" in report.summary()
    stages = {e.properties["reference"]: e.properties["saraStage"] for e in store.find("Problem")}
    assert stages == {"P1": "Analysis", "P2": "Response"}
