"""Mapping spec features: joins, splits, lookups, filters, id columns, date pivots, decimal commas."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from nimgraph.ingest.engine import ingest_file
from nimgraph.ingest.spec import SpecError, load_spec
from nimgraph.ingest.values import ConversionError, ValueSpec, compile_pattern, search

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


# ---------------------------------------------------------------------------------------- hostile specs
SHAPES = """\
source: {name: test-shapes}
grading: {default: 1BP}
record_id: Ref
lookups:
  owner: {file: phones.csv, key: Number, value: Owner}
entities:
  report:
    type: ASBIncident
    keys: [Ref]
    properties:
      reference: Ref
      category: Kind
links: []
"""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("file: phones.csv", 'file: "phones\\0.csv"'), r":5: lookup 'owner': file is the name of a file beside"),
        (("links: []", "links: {a: 1}"), r":13: links is a list, e\.g\. links: \[\{type: "),
        (("links: []", "links: [1]"), r":13: a link is a mapping"),
        (("lookups:\n  owner: {file: phones.csv, key: Number, value: Owner}", "lookups: [1]"), r":4: lookups map a"),
        (("value: Owner}", "value: Owner, read: [1]}"), r":5: read is a mapping of read options"),
        (("grading: {default: 1BP}", "grading: [1]"), r":2: grading is a mapping, e\.g\. grading: \{default"),
        (("properties:\n      reference: Ref\n      category: Kind", "properties: [1]"), r":10: properties map a"),
        (("entities:\n  report:", "entities: [1]\nunused:\n  report:"), r":6: entities is a mapping, e\.g\."),
        (("entities:\n", "entities:\n  other: 1\n"), r":7: entity 'other' is a mapping"),
        (("source: {name: test-shapes}", "source: x"), r":1: source is a mapping, e\.g\. source: \{name"),
        (("links: []", "links: []\nfilter: {column: Kind}"), r":14: filter is a list of tests"),
        (("category: Kind", "category: " + "9" * 5000), r":12: not valid YAML: the number '9+\.\.\.' has 5,000 char"),
        (("record_id: Ref", "record_id: [" + "1" * 5000 + "]"), r":3: not valid YAML: the number"),
        (("category: Kind", "category: {column: Kind, map: [1]}"), r":12: map is a mapping of values"),
        (("category: Kind", "category: {column: Kind, normalise: [phone]}"), r":12: normalise \['phone'\] is not"),
        (("category: Kind", "category: {column: Kind, strip_prefix: {a: 1}}"), r":12: strip_prefix is the text"),
        (("links: []", "links: []\nread: {header: false, columns: 3}"), r":14: read\.columns is a list"),
    ],
    ids=[
        "NUL in a lookup file name", "links a mapping", "a link a number", "lookups a list", "a lookup's read a list",
        "grading a list", "properties a list", "entities a list", "an entity a number", "source text",
        "filter a mapping", "5000 digits", "5000 digits in a list", "map a list", "normalise a list",
        "strip_prefix a mapping", "read.columns a number",
    ],
)  # fmt: skip
def test_a_spec_of_the_wrong_shape_is_a_spec_error_naming_its_line(model, tmp_path, change, message):
    write(tmp_path / "phones.csv", PHONES)
    assert SHAPES.replace(*change) != SHAPES
    (tmp_path / "shapes.yaml").write_text(SHAPES.replace(*change))
    with pytest.raises(SpecError, match=r"shapes\.yaml" + message):
        load_spec(tmp_path / "shapes.yaml", model, confine_to=tmp_path)


def test_a_shape_no_check_foresaw_is_still_a_spec_error(model, tmp_path, monkeypatch):
    """The last resort: a TypeError (or AttributeError, ValueError, KeyError) while building the spec says the
    spec's shape is wrong; a SpecError, itself a ValueError, passes as it is."""
    from nimgraph.ingest import spec as spec_module

    write(tmp_path / "phones.csv", PHONES)
    (tmp_path / "shapes.yaml").write_text(SHAPES)

    def broken(self, raw, line=0):
        raise TypeError("'int' object is not iterable")

    monkeypatch.setattr(spec_module._Reader, "filters", broken)
    message = r"shapes\.yaml:\?: the spec's shape is not what docs/mapping\.md describes \(TypeError: 'int' object"
    with pytest.raises(SpecError, match=message):
        load_spec(tmp_path / "shapes.yaml", model)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("links: []", "links: {a: 1}"), r"shapes\.yaml:13: links is a list"),
        (("category: Kind", "category: " + "9" * 5000), r"shapes\.yaml:12: not valid YAML: the number"),
    ],
    ids=["links a mapping", "5000 digits"],
)
def test_the_cli_refuses_a_spec_of_the_wrong_shape_in_one_line(tmp_path, change, message):
    from test_cli import nimgraph

    write(tmp_path / "phones.csv", PHONES)
    (tmp_path / "shapes.yaml").write_text(SHAPES.replace(*change))
    (tmp_path / "data.csv").write_text("Ref,Kind\nA1,Noise\n")
    ran = nimgraph("--store", "g.db", "ingest", "shapes.yaml", "data.csv", cwd=tmp_path)
    assert ran.returncode == 2, ran.stderr
    assert len(ran.stderr.splitlines()) == 1 and re.search(message, ran.stderr), ran.stderr
    assert "Traceback" not in ran.stderr + ran.stdout


FILTERED = """\
source: {name: test-patterns}
grading: {default: 1BP}
record_id: Ref
filter:
  - {column: Kind, not_matches: 'PATTERN'}
entities:
  report:
    type: ASBIncident
    keys: [Ref]
    properties: {reference: Ref, date: {column: Date, format: "%d/%m/%Y"}, category: Kind}
"""


@pytest.mark.parametrize(
    ("pattern", "rejected"),
    [("^(a|a)+$", True), ("^(a+)+$", None)],  # the second: regex needs no backtracking, re took seconds a letter
    ids=["catastrophic even for regex", "the reported one"],
)
def test_a_catastrophic_pattern_on_a_long_value_gives_up_on_the_row_in_good_time(tmp_path, pattern, rejected):
    """In a subprocess, so that a pattern that backtracks for ever fails the test instead of hanging the run."""
    (tmp_path / "spec.yaml").write_text(FILTERED.replace("PATTERN", pattern))
    write(tmp_path / "data.csv", [["Ref", "Date", "Kind"], *(
        [ref, "01/03/2026", kind] for ref, kind in (("A1", "Noise"), ("A2", "a" * 5000 + "!"), ("A3", "Noise"))
    )])  # fmt: skip
    command = ["--store", "g.db", "ingest", "spec.yaml", "data.csv", "--dry-run", "--rejects-dir", "out"]
    environment = {**os.environ, "NIMGRAPH_ENV": "development"}
    ran = subprocess.run(
        [sys.executable, "-m", "nimgraph.cli", *command],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,  # re took 4 s for 27 letters, twice as long for each one more: 5,000 would never end
        env=environment,
    )
    assert ran.returncode == 0, ran.stderr
    listing = tmp_path / "out" / "data.rejects.csv"
    rejects = list(csv.reader(listing.open(encoding="utf-8")))[1:] if listing.exists() else []
    took_too_long = f"the filter pattern '{pattern}' took too long on this value; simplify it"
    if rejected:
        assert [(row[2], row[1]) for row in rejects] == [("A2", took_too_long)]
        assert "2 of 3 rows would load" in ran.stdout, ran.stdout
    else:  # loaded, or rejected as taking too long: either way over in good time
        assert [(row[2], row[1]) for row in rejects] in ([], [("A2", took_too_long)])


def test_a_slow_pattern_lets_other_threads_run():
    """regex matches with the GIL released (concurrent=True): while a pattern backtracks, the API's other threads
    go on. Measured loosely: a thread that holds the GIL lets a sleeper in once a switch interval at best."""
    pattern = compile_pattern("^(a|a)+$")
    done = threading.Event()

    def slow() -> None:
        for _ in range(10):
            with pytest.raises(ConversionError, match="took too long on this value"):
                search(pattern, "a" * 200 + "!", "filter pattern")
        done.set()

    worker = threading.Thread(target=slow)
    ticks = 0
    worker.start()
    while not done.is_set():
        time.sleep(0.001)
        ticks += 1
    worker.join()
    assert ticks > 50  # with re, or regex holding the GIL, 10 or so


def test_a_template_fills_its_fields_from_columns_named_with_dots():
    value = ValueSpec(template="{Ref}: {location.street.name} ({0x})")
    assert value.columns == ("Ref", "location.street.name", "0x")
    row = {"Ref": "A1", "location.street.name": "Elm Court", "0x": "y"}
    assert value.raw(row) == "A1: Elm Court (y)"
    assert value.raw({"Ref": " A2 "}) == "A2: ()"
    assert ValueSpec(template="{{{Ref}}}").raw({"Ref": "A3"}) == "{A3}"


def test_a_value_longer_than_a_pattern_searches_rejects_its_row_rather_than_part_of_it_being_searched():
    pattern = compile_pattern(r"^\d+$")
    assert search(pattern, "1" * 10_000, "lookup pattern") is not None
    with pytest.raises(ConversionError, match=r"^the value is 10,001 characters long, more than the 10,000 a lookup "):
        search(pattern, "1" * 10_001, "lookup pattern")


@pytest.mark.parametrize(
    ("change", "option"),
    [
        (("    optional: true\n", '    optional: "false"\n'), "optional"),
        (("    reference_only: true\n", "    reference_only: 'no'\n"), "reference_only"),
    ],
)
def test_a_yes_or_no_option_written_as_text_is_refused_not_read_as_yes(model, tmp_path, change, option):
    write(tmp_path / "phones.csv", PHONES)
    (tmp_path / "nominals.yaml").write_text(NOMINALS.replace(*change, 1))
    with pytest.raises(SpecError, match=rf"nominals.yaml:\d+: {option} is true or false \(without quotes\)"):
        load_spec(tmp_path / "nominals.yaml", model)
