"""Mapping spec features: joins, splits, lookups, filters, id columns, date pivots, decimal commas."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from nimgraph.ingest.engine import ingest_file
from nimgraph.ingest.spec import SpecError, load_spec

NOMINALS = """\
source: {name: test-nominals}
grading: {default: 1AC}
record_id: Ref
lookups:
  owner_of_phone: {file: phones.csv, key: Number, value: Owner}
filter:
  - {column: Status, not_equals: deleted}
entities:
  person:
    type: Person
    id: Ref
    properties:
      name: {join: [Forename, Surname]}
      surname: {split: Full, separator: ",", index: 0}
      dateOfBirth: {column: DOB, format: "%d/%m/%y", pivot: 30}
  caller:
    type: Person
    id: {lookup: {table: owner_of_phone, column: Called}}
    optional: true
    reference_only: true
  home:
    type: Address
    keys: [Street, Postcode]
    properties: {addressLine: Street, postcode: Postcode, latitude: {column: Lat, decimal: ","}}
links:
  - {type: livesAt, from: person, to: home}
  - {type: phoneContact, from: person, to: caller}
"""
ROWS = [
    ["Ref", "Forename", "Surname", "Full", "DOB", "Called", "Street", "Postcode", "Lat", "Status"],
    ["N1", "Ann", "Ames", "Ames, Ann", "05/03/55", "07700 900001", "1 Elm St", "NW5 9WR", "51,55", "live"],
    ["N2", "Bob", "", "Bell, Bob", "01/01/05", "", "2 Elm St", "NW5 9WR", "51,56", "live"],
    ["N3", "Cat", "Cole", "Cole, Cat", "01/01/90", "07700 900009", "3 Elm St", "NW5 9WR", "51.57", "deleted"],
]
PHONES = [["Number", "Owner"], ["07700  900001", "N2"]]


def write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


@pytest.fixture
def loaded(embedded_store, model, tmp_path):
    write(tmp_path / "phones.csv", PHONES)
    (tmp_path / "nominals.yaml").write_text(NOMINALS)
    report = ingest_file(
        embedded_store,
        model,
        load_spec(tmp_path / "nominals.yaml", model),
        write(tmp_path / "nominals.csv", ROWS),
        rejects_dir=tmp_path / "rejects",
    )
    # a partner's own id for a person is keyed like any key value: nobody can compute it
    ids = embedded_store.id_key()
    people = {e.id: e for e in embedded_store.find("Person")}
    assert "Person:N1" not in people
    people |= {
        f"Person:{n}": people[i] for n in ("N1", "N2", "N3") if (i := ids.entity_id("Person", "Person", [n])) in people
    }
    return report, people, embedded_store


def test_filters_skip_rows_without_rejecting_them(loaded):
    report, people, _ = loaded
    assert (report.rows_read, report.rows_loaded, report.rows_filtered, report.rows_rejected) == (3, 2, 1, 0)
    assert "1 left out by the spec's filters" in report.summary()
    assert "Person:N3" not in people


def test_id_columns_join_split_and_two_digit_years(loaded):
    _, people, _ = loaded
    ann, bob = people["Person:N1"], people["Person:N2"]
    assert ann.properties["name"] == "Ann Ames" and bob.properties["name"] == "Bob"  # empty parts left out
    assert ann.properties["surname"] == "Ames" and bob.properties["surname"] == "Bell"
    assert ann.properties["dateOfBirth"] == "1955-03-05"  # 55 > pivot 30: the 1900s
    assert bob.properties["dateOfBirth"] == "2005-01-01"


def test_lookups_link_through_another_file_and_decimal_commas_read(loaded):
    _, _, store = loaded
    contacts = store.subgraph(["phoneContact"]).links.values()
    ids = store.id_key()
    expected = (ids.entity_id("Person", "Person", ["N1"]), ids.entity_id("Person", "Person", ["N2"]))
    assert [(k.source, k.target) for k in contacts] == [expected]  # spacing in the key folded
    latitudes = sorted(e.properties["latitude"] for e in store.find("Address"))
    assert latitudes == [51.55, 51.56]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("    id: Ref\n", "    id: Ref\n    keys: [Ref]\n"), r"has both 'id' and 'keys'"),
        (("    id: Ref\n", ""), r"nominals.yaml:\d+: entity 'person' needs 'keys' .* or an 'id' column"),
        (("table: owner_of_phone", "table: owners"), r"lookup table 'owners' is not defined under 'lookups'"),
        (("value: Owner}", "value: Proprietor}"), r"lookup 'owner_of_phone': phones.csv has no column 'Proprietor'"),
        (("file: phones.csv", "file: nowhere.csv"), r"lookup 'owner_of_phone': .*nowhere.csv: no such file"),
        (("not_equals: deleted", "unlike: deleted"), r"a filter is \{column: \.\.\., one of equals"),
        (("pivot: 30", "pivot: 300"), r"pivot is a two-digit year from 0 to 99; got 300"),
        (('decimal: ","', 'decimal: ";"'), r"decimal is '\.' or ','"),
        (("{join: [Forename, Surname]}", "{join: Forename}"), r"join takes a list of column names"),
        (("{join: [Forename, Surname]}", "{join: [Forename], column: X}"), r"a value needs exactly one of"),
    ],
)
def test_spec_mistakes_in_the_new_features_name_the_line(model, tmp_path, change, message):
    write(tmp_path / "phones.csv", PHONES)
    (tmp_path / "nominals.yaml").write_text(NOMINALS.replace(*change))
    with pytest.raises(SpecError, match=message):
        load_spec(tmp_path / "nominals.yaml", model)


COORDINATES = """\
source: {name: test-coordinates}
grading: {default: 1AP}
record_id: Ref
entities:
  place:
    type: Street
    keys: [Ref]
    properties:
      name: Ref
      latitude: {grid: [Easting, Northing], part: latitude}
      longitude: {grid: [Easting, Northing], part: longitude}
  shop:
    type: Premises
    keys: [Ref]
    properties: {name: Ref, latitude: {column: Lat, format: dms}, longitude: {column: Lon, format: dms}}
"""


def test_grid_references_and_degrees_minutes_seconds_become_decimal_degrees(embedded_store, model, tmp_path):
    (tmp_path / "coordinates.yaml").write_text(COORDINATES)
    rows = [
        ["Ref", "Easting", "Northing", "Lat", "Lon"],
        ["Trafalgar Square", "530034", "180381", "51°30'27\"N", "0°7'41\"W"],
        ["Off the grid", "930034", "180381", "51 30 27 N", "0 7 41 W"],
        ["Bad angle", "530034", "180381", "north-ish", "0 7 41 W"],
    ]
    report = ingest_file(
        embedded_store,
        model,
        load_spec(tmp_path / "coordinates.yaml", model),
        write(tmp_path / "coordinates.csv", rows),
        rejects_dir=tmp_path,
    )
    street = embedded_store.find("Street")[0].properties
    shop = embedded_store.find("Premises")[0].properties
    assert (round(street["latitude"], 3), round(street["longitude"], 3)) == (51.507, -0.128)
    assert (round(shop["latitude"], 3), round(shop["longitude"], 3)) == (51.508, -0.128)
    summary = report.summary()
    assert "row 3: grid reference 930034, 180381 is outside Great Britain's national grid" in summary
    assert "row 4: latitude ('Lat'): 'north-ish' is not degrees, minutes and seconds" in summary


TIMED = """\
source: {name: test-timed}
grading: {default: 1AP}
record_id: Ref
entities:
  report:
    type: ASBIncident
    keys: [Ref]
    properties:
      reference: Ref
      date: {column: Day, format: "%d/%m/%Y"}
      dateTime: {join: [Day, Time], whole: true, format: "%d/%m/%Y %H:%M"}
"""


def test_a_whole_join_is_empty_when_a_part_is_missing_so_the_row_still_loads(embedded_store, model, tmp_path):
    (tmp_path / "timed.yaml").write_text(TIMED)
    rows = [["Ref", "Day", "Time"], ["A1", "06/03/2026", "21:15"], ["A2", "07/03/2026", ""], ["A3", "", "09:00"]]
    spec = load_spec(tmp_path / "timed.yaml", model)
    report = ingest_file(embedded_store, model, spec, write(tmp_path / "t.csv", rows), rejects_dir=tmp_path)
    found = {e.properties["reference"]: e.properties for e in embedded_store.find("ASBIncident")}
    assert found["A1"]["dateTime"] == "2026-03-06T21:15:00"
    assert "dateTime" not in found["A2"] and found["A2"]["date"] == "2026-03-07"
    assert report.rows_rejected == 1 and "A3" not in found  # no date at all: an ASB report needs one
    (tmp_path / "bad.yaml").write_text(TIMED.replace("{join: [Day, Time], whole: true,", "{column: Day, whole: true,"))
    with pytest.raises(SpecError, match="whole: true goes with join or template"):
        load_spec(tmp_path / "bad.yaml", model)
