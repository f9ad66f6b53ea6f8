"""Rows that do not load as written are told: unmatched references, ambiguous dates, failed check digits.

Each test plants the problem in a small file and checks the count, the listing file and the
words an analyst reads, on the real embedded store and through the CLI as a user runs it.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from test_cli import nimgraph

from nimgraph.ingest.engine import ingest_file, ingest_files, open_sources
from nimgraph.ingest.spec import SpecError, load_spec

CALLS = """\
source: {name: calls, agency: Northshire Police}
grading: {default: 1AC}
record_id: Call
lookups:
  owner: {file: owners.csv, key: Number, value: Nominal}
  district: {file: districts.csv, key: Outward, value: District, read: {header: false, columns: [Outward, District]}}
entities:
  call:
    type: Call
    keys: [Call]
    properties:
      reference: Call
      date: {column: When, format: "%d/%m/%Y"}
      category: {literal: call}
  caller:
    type: Person
    id: {lookup: {table: owner, column: From}}
    optional: true
    reference_only: true
  place:
    type: Neighbourhood
    keys: [{lookup: {table: district, column: Postcode, pattern: '^(\\S+)\\s'}}]
    properties:
      name: {lookup: {table: district, column: Postcode, pattern: '^(\\S+)\\s'}}
links:
  - {type: involvedIn, from: caller, to: call}
  - {type: occurredAt, from: call, to: place}
"""
OWNERS = [["Number", "Nominal"], ["07700900001", "N1"], ["07700900002", "N2"], ["07700900003", "N3"]]
DISTRICTS = [["NW5", "Kentish Town"], ["NW1", "Camden"], ["NW1", "Somers Town"]]  # NW1: two districts
# Planted: C2's caller is in no lookup (unmatched, loads); C3's postcode district is unknown (rejected,
# the place is required); C4's outward code maps to two districts (rejected as ambiguous);
# C5 is month-first in a day-first column (rejected with the fix); C6 fits both orders (ambiguous).
CALL_ROWS = [
    ["Call", "When", "From", "Postcode"],
    ["C1", "20/01/2026", "07700900001", "NW5 9WR"],
    ["C2", "21/01/2026", "07700900999", "NW5 1AA"],
    ["C3", "22/01/2026", "07700900002", "E1 6AN"],
    ["C4", "23/01/2026", "07700900003", "NW1 2DB"],
    ["C5", "01/24/2026", "07700900001", "NW5 9WR"],
    ["C6", "03/02/2026", "07700900002", "NW5 9WR"],
]


def write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


def listed(path: str | None) -> dict[str, str]:
    """A rejects or unmatched file: the reason by the record's first field."""
    assert path is not None
    with open(path, newline="", encoding="utf-8") as handle:
        return {row[2]: row[1] for row in list(csv.reader(handle))[1:]}


@pytest.fixture
def calls(tmp_path, model):
    write(tmp_path / "owners.csv", OWNERS)
    write(tmp_path / "districts.csv", DISTRICTS)
    (tmp_path / "calls.yaml").write_text(CALLS)
    write(tmp_path / "calls.csv", CALL_ROWS)
    return tmp_path, load_spec(tmp_path / "calls.yaml", model)


def test_every_row_that_did_not_load_as_written_is_counted_listed_and_explained(calls, embedded_store, model):
    folder, spec = calls
    report = ingest_file(embedded_store, model, spec, folder / "calls.csv", rejects_dir=folder / "out")
    assert (report.rows_read, report.rows_loaded, report.rows_rejected, report.rows_unmatched) == (6, 3, 3, 1)
    rejected = listed(report.rejects_file)
    assert rejected["C3"].endswith("no match for 'E1' in lookup 'district'")  # not "the column was empty"
    assert "'NW1' has two or more values in lookup 'district'" in rejected["C4"]
    assert "'01/24/2026' is not a day-first date" in rejected["C5"] and "date_order: month_first" in rejected["C5"]
    unmatched = listed(report.unmatched_file)
    assert list(unmatched) == ["C2"]
    assert "no match for '07700900999' in lookup 'owner'" in unmatched["C2"] and "left out" in unmatched["C2"]
    summary = report.summary()
    assert "1 loaded row(s) had a reference that found nothing (1 by lookup 'owner')" in summary
    assert "1 value(s) fit both day-first and month-first and were read day-first" in summary
    assert report.unconfirmed_dates == 1
    # what loaded: three calls, two with their caller, all three in Kentish Town
    calls_loaded = embedded_store.find("Call")
    assert sorted(c.properties["reference"] for c in calls_loaded) == ["C1", "C2", "C6"]
    c6 = next(c for c in calls_loaded if c.properties["reference"] == "C6")
    assert c6.properties["date"] == "2026-02-03"  # day-first, as the format says
    links = embedded_store.subgraph(["involvedIn", "occurredAt"]).links.values()
    assert sum(k.type == "involvedIn" for k in links) == 2
    assert sum(k.type == "occurredAt" for k in links) == 3
    assert {e.properties["name"] for e in embedded_store.find("Neighbourhood")} == {"Kentish Town"}


def test_a_stated_order_reads_the_file_that_way_and_confirms_its_ambiguous_dates(tmp_path, embedded_store, model):
    spec_text = CALLS.replace('date: {column: When, format: "%d/%m/%Y"}', "date: {column: When}").replace(
        "record_id: Call", "record_id: Call\ndate_order: month_first"
    )
    (tmp_path / "calls.yaml").write_text(spec_text)
    write(tmp_path / "owners.csv", OWNERS)
    write(tmp_path / "districts.csv", DISTRICTS)
    rows = [CALL_ROWS[0], ["U1", "01/24/2026", "", "NW5 9WR"], ["U2", "03/02/2026", "", "NW5 9WR"],
            ["U3", "2026-03-04", "", "NW5 9WR"], ["U4", "24/01/2026", "", "NW5 9WR"]]  # fmt: skip
    spec = load_spec(tmp_path / "calls.yaml", model)
    report = ingest_file(embedded_store, model, spec, write(tmp_path / "us.csv", rows), rejects_dir=tmp_path / "o")
    dates = {c.properties["reference"]: c.properties["date"] for c in embedded_store.find("Call")}
    assert dates == {"U1": "2026-01-24", "U2": "2026-03-02", "U3": "2026-03-04"}
    assert "is not a month-first date" in listed(report.rejects_file)["U4"]
    assert report.unconfirmed_dates == 0 and "as the spec states" in report.summary()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("record_id: Call", "record_id: Call\ndate_order: either"), r"date_order is day_first or month_first"),
        (('format: "%d/%m/%Y"', 'format: "%m/%d/%Y", date_order: day_first'), r"reads the month first"),
        (('format: "%d/%m/%Y"', "date_order: sideways"), r"date_order is day_first or month_first"),
        (("pattern: '^(\\S+)\\s'}}]", "pattern: '(('}}]"), r"is not a regular expression"),
        (("pattern: '^(\\S+)\\s'}}]", "pattern: '(a)(b)'}}]"), r"at most one group"),
        (("pattern: '^(\\S+)\\s'}}]", "split: ' ', pattern: x}}]"), r"by pattern or by split, not both"),
        (("pattern: '^(\\S+)\\s'}}]", "index: 1}}]"), r"index goes with split"),
        (('format: "%d/%m/%Y"}', 'format: "%d/%m/%Y", check_digit: strict}'), r"goes with normalise: nhs_number"),
    ],
)
def test_mistakes_in_date_order_and_lookup_keys_name_the_line(calls, model, change, message):
    folder, _ = calls
    (folder / "calls.yaml").write_text(CALLS.replace(*change, 1))
    with pytest.raises(SpecError, match=message) as caught:
        load_spec(folder / "calls.yaml", model)
    assert f"{folder / 'calls.yaml'}:" in str(caught.value)


def test_every_file_is_checked_before_anything_is_written_and_all_problems_are_told(calls, embedded_store, model):
    folder, spec = calls
    write(folder / "more.csv", [["Call", "When"], ["D1", "20/01/2026"]])  # no From, no Postcode
    write(folder / "other.csv", [["Call", "From", "Postcode"], ["D2", "07700900001", "NW5 9WR"]])  # no When
    paths = [folder / "calls.csv", folder / "more.csv", folder / "missing.csv", folder / "other.csv"]
    with pytest.raises(SpecError) as caught:
        open_sources(spec, model, paths)
    problems = str(caught.value)
    assert problems.startswith("nothing was loaded: 4 problems to fix first")
    for expected in (
        "'From' in more.csv",
        "'Postcode' in more.csv",
        "missing.csv: no such file",
        "'When' in other.csv",
    ):
        assert expected in problems
    assert embedded_store.counts()["entities"] == {}


def test_the_cli_checks_every_file_first_even_in_a_dry_run_and_strict_fails_on_unmatched_rows(calls):
    folder, _ = calls
    write(folder / "bad.csv", [["Call", "When"], ["D1", "20/01/2026"]])
    for dry in ([], ["--dry-run"]):
        run = nimgraph("--store", "g.db", "ingest", "calls.yaml", "calls.csv", "bad.csv", *dry, cwd=folder)
        assert run.returncode == 2 and "nothing was loaded: 2 problems" in run.stderr, run.stderr
        assert "'From' in bad.csv" in run.stderr and "'Postcode' in bad.csv" in run.stderr
    loose = nimgraph("--store", "g.db", "ingest", "calls.yaml", "calls.csv", "--rejects-dir", "out", cwd=folder)
    assert loose.returncode == 0 and "see out/calls.unmatched.csv" in loose.stdout
    assert "entities: 6 created" in loose.stdout  # 3 calls, 2 callers, 1 place: the failed runs wrote none
    strict = nimgraph("--store", "g.db", "ingest", "calls.yaml", "calls.csv", "--strict", cwd=folder)
    assert strict.returncode == 1
    for failure in ("3 row(s) rejected", "1 row(s) with a reference that found nothing", "1 ambiguous date(s)"):
        assert failure in strict.stderr


def test_only_unmatched_rows_fail_strict_when_nothing_else_is_wrong(calls, embedded_store, model):
    folder, spec = calls
    write(folder / "clean.csv", [CALL_ROWS[0], ["K1", "20/01/2026", "07700900999", "NW5 9WR"]])
    (report,) = ingest_files(embedded_store, model, spec, open_sources(spec, model, [folder / "clean.csv"]),
                             rejects_dir=folder / "out")  # fmt: skip
    assert (report.rows_loaded, report.rows_rejected, report.rows_unmatched) == (1, 0, 1)
    run = nimgraph("--store", "g.db", "ingest", "calls.yaml", "clean.csv", "--strict", cwd=folder)
    assert run.returncode == 1 and "1 row(s) with a reference that found nothing" in run.stderr


NHS = """\
source: {name: health}
grading: {default: 1AC}
record_id: Ref
entities:
  patient:
    type: Person
    keys: [{column: NHS, normalise: nhs_number}]
    properties:
      nhsNumber: {column: NHS, normalise: nhs_number}
      surname: Surname
"""


@pytest.mark.parametrize("mode", ["warn", "strict"])
def test_a_failed_nhs_check_digit_warns_unless_the_spec_asks_for_strict(tmp_path, embedded_store, model, mode):
    spec_text = NHS if mode == "warn" else NHS.replace("normalise: nhs_number}\n", "normalise: nhs_number, "
                                                       "check_digit: strict}\n")  # fmt: skip
    (tmp_path / "nhs.yaml").write_text(spec_text)
    rows = [["Ref", "NHS", "Surname"], ["H1", "943 476 5919", "Ames"], ["H2", "999 000 0000", "Bell"],
            ["H3", "12345", "Cole"]]  # fmt: skip
    spec = load_spec(tmp_path / "nhs.yaml", model)
    report = ingest_file(embedded_store, model, spec, write(tmp_path / "nhs.csv", rows), rejects_dir=tmp_path / "o")
    rejected = listed(report.rejects_file)
    assert "does not have 10 digits" in rejected["H3"]  # the format is always checked
    surnames = {e.properties["surname"]: e.properties.get("nhsNumber") for e in embedded_store.find("Person")}
    if mode == "warn":
        assert surnames == {"Ames": "9434765919", "Bell": "9990000000"}
        assert report.warnings == {"check digit": 1}
        assert "fails its check digit; loaded as written" in listed(report.warnings_file)["H2"]
    else:
        assert surnames == {"Ames": "9434765919"} and "fails its check digit" in rejected["H2"]
        assert report.warnings == {}


def test_a_lookup_with_a_normaliser_finds_a_number_however_it_is_written(calls, embedded_store, model):
    folder, _ = calls
    (folder / "calls.yaml").write_text(CALLS.replace("value: Nominal}", "value: Nominal, normalise: phone}"))
    write(folder / "owners.csv", [["Number", "Nominal"], ["+44 (0)7700 900001", "N1"], ["07700-900002", "N2"]])
    rows = [CALL_ROWS[0], ["P1", "20/01/2026", "07700 900001", "NW5 9WR"], ["P2", "21/01/2026", "0044 7700 900002",
            "NW5 9WR"], ["P3", "22/01/2026", "07700 900003", "NW5 9WR"]]  # fmt: skip
    spec = load_spec(folder / "calls.yaml", model)
    report = ingest_file(embedded_store, model, spec, write(folder / "p.csv", rows), rejects_dir=folder / "out")
    assert (report.rows_loaded, report.rows_unmatched) == (3, 1)
    assert "no match for '07700 900003' in lookup 'owner'" in listed(report.unmatched_file)["P3"]
    links = embedded_store.subgraph(["involvedIn"]).links.values()
    assert len(links) == 2


def test_a_lookup_normaliser_must_be_known(calls, model):
    folder, _ = calls
    (folder / "calls.yaml").write_text(CALLS.replace("value: Nominal}", "value: Nominal, normalise: fax}"))
    with pytest.raises(SpecError, match=r"calls.yaml:\d+: lookup 'owner': normalise 'fax' is not one of"):
        load_spec(folder / "calls.yaml", model)


RELATIONS = """\
source: {name: relations}
grading: {default: 1AC}
record_id: Ref
entities:
  person: {type: Person, id: Person, properties: {forename: Person}}
  relative: {type: Person, id: Relative, properties: {forename: Relative}}
links:
  - from: person
    to: relative
    type_from:
      column: Relationship
      map: {Father: parentOf, Mother: parentOf, Son: {type: parentOf, reversed: true}, Sister: familyOf,
            Brother: familyOf, Friend: knows}
    properties: {relationKind: Relationship}
"""


def test_a_pair_listed_both_ways_is_one_link_whichever_way_its_rows_name_it(tmp_path, embedded_store, model):
    (tmp_path / "rel.yaml").write_text(RELATIONS)
    rows = [["Ref", "Person", "Relative", "Relationship"], ["R1", "Ann", "Bob", "Father"],
            ["R2", "Bob", "Ann", "Son"], ["R3", "Cat", "Dan", "Sister"], ["R4", "Dan", "Cat", "Brother"],
            ["R5", "Eve", "Fay", "Friend"], ["R6", "Fay", "Eve", "Friend"]]  # fmt: skip
    spec = load_spec(tmp_path / "rel.yaml", model)
    report = ingest_file(embedded_store, model, spec, write(tmp_path / "rel.csv", rows), rejects_dir=tmp_path / "o")
    assert (report.rows_loaded, report.rows_rejected) == (6, 0), report.summary()
    names = {e.id: e.properties["forename"] for e in embedded_store.find("Person")}
    links = embedded_store.subgraph(["parentOf", "familyOf", "knows"]).links.values()
    found = sorted((k.type, *sorted([names[k.source], names[k.target]]), len(k.provenance)) for k in links)
    assert found == [("familyOf", "Cat", "Dan", 2), ("knows", "Eve", "Fay", 2), ("parentOf", "Ann", "Bob", 2)]
    parent = next(k for k in links if k.type == "parentOf")
    assert (names[parent.source], names[parent.target]) == ("Ann", "Bob")  # the father, from both rows
    assert "relationKind" not in next(k for k in links if k.type == "knows").properties  # a friend has no kind


MAPPED = """\
source: {name: attendances}
grading: {default: 1AC}
record_id: Ref
filter:
  - {column: Ref, not_matches: '^total'}
entities:
  visit:
    type: HealthReferral
    keys: [Ref]
    properties:
      reference: Ref
      date: {first_of: [Assaulted, Arrived], format: "%Y-%m-%d"}
      category: {column: Method, map: {"01": Knife, "02": Blunt object}}
"""


def test_maps_fold_spreadsheet_numbers_and_count_what_they_lack(tmp_path, embedded_store, model):
    (tmp_path / "ed.yaml").write_text(MAPPED)
    rows = [["Ref", "Assaulted", "Arrived", "Method"], ["E1", "2026-03-01", "2026-03-02", "1"],
            ["E2", "", "2026-03-04", "02"], ["E3", "2026-03-05", "", "7"], ["E4", "2026-03-06", "", "7"],
            ["E1", "2026-03-01", "2026-03-02", "1"], ["Total Records: 5", "", "", ""]]  # fmt: skip
    spec = load_spec(tmp_path / "ed.yaml", model)
    report = ingest_file(embedded_store, model, spec, write(tmp_path / "ed.csv", rows), rejects_dir=tmp_path / "o")
    assert (report.rows_loaded, report.rows_rejected, report.rows_filtered) == (5, 0, 1), report.summary()
    visits = {v.properties["reference"]: v.properties for v in embedded_store.find("HealthReferral")}
    assert {r: (v["date"], v["category"]) for r, v in visits.items()} == {
        "E1": ("2026-03-01", "Knife"), "E2": ("2026-03-04", "Blunt object"), "E3": ("2026-03-05", "7"),
        "E4": ("2026-03-06", "7"),
    }  # fmt: skip
    assert "2 value(s) not in its map were kept as written ('7')" in report.summary()
    assert report.warnings == {"repeated record id": 1}
    assert "repeats the record id 'E1' of row 2" in listed(report.warnings_file)["E1"]
    (tmp_path / "ed.yaml").write_text(MAPPED.replace("Blunt object}}", "Blunt object}, unmapped: reject}"))
    strict = load_spec(tmp_path / "ed.yaml", model)
    report = ingest_file(embedded_store, model, strict, tmp_path / "ed.csv", rejects_dir=tmp_path / "o")
    assert report.rows_rejected == 2 and "'7' is not in the map of 'Method'" in listed(report.rejects_file)["E3"]


@pytest.mark.parametrize(
    ("duplicates", "outcome"),
    [("refuse", "has two or more values"), ("first", "Camden"), ("last", "Somers Town")],
)
def test_a_lookup_says_which_of_two_values_holds(calls, embedded_store, model, duplicates, outcome):
    folder, _ = calls
    said = f", duplicates: {duplicates}" if duplicates != "refuse" else ""
    (folder / "calls.yaml").write_text(
        CALLS.replace("columns: [Outward, District]}}", f"columns: [Outward, District]}}{said}}}")
    )
    write(folder / "districts.csv", [*DISTRICTS, ["E1", ""]])
    write(folder / "d.csv", [CALL_ROWS[0], ["D1", "20/01/2026", "", "NW1 2DB"], ["D2", "21/01/2026", "", "E1 6AN"]])
    spec = load_spec(folder / "calls.yaml", model)
    report = ingest_file(embedded_store, model, spec, folder / "d.csv", rejects_dir=folder / "o")
    rejected = listed(report.rejects_file)
    assert "'E1' has an empty value in lookup 'district'" in rejected["D2"]  # found, but saying nothing
    if duplicates == "refuse":
        assert outcome in rejected["D1"]
    else:
        assert {e.properties["name"] for e in embedded_store.find("Neighbourhood")} == {outcome}


def test_a_lookup_column_missing_from_a_headerless_file_says_how_to_read_it(calls, model):
    folder, _ = calls
    (folder / "calls.yaml").write_text(CALLS.replace(", read: {header: false, columns: [Outward, District]}", ""))
    with pytest.raises(SpecError, match=r"has no column 'Outward'; it has: 'NW5', 'Kentish Town'; if the file"):
        load_spec(folder / "calls.yaml", model)
