"""Identity across sources: shared, normalised keys make one entity whose provenance joins both."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from nimgraph.identity import phone
from nimgraph.ingest.engine import ingest_file
from nimgraph.ingest.spec import load_spec

POLICE = """\
source: {name: police-nominals}
grading: {default: 1AC}
record_id: Nominal
entities:
  person:
    type: Person
    keys: [{column: NHS, normalise: nhs_number}]
    namespace: nhs-number
    properties: {nominalId: Nominal, name: Name}
  phone:
    type: Phone
    keys: [{column: Mobile, normalise: phone}]
    namespace: phone
    optional: true
    properties: {phoneNumber: {column: Mobile, normalise: phone}}
links:
  - {type: usesPhone, from: person, to: phone}
"""
HEALTH = """\
source: {name: ed-attendances}
grading: {default: 1BC}
record_id: Attendance
entities:
  patient:
    type: Person
    keys: [{column: NHS Number, normalise: nhs_number}]
    namespace: nhs-number
    properties: {name: Patient}
  phone:
    type: Phone
    keys: [{column: Contact, normalise: phone}]
    namespace: phone
    optional: true
    properties: {phoneNumber: {column: Contact, normalise: phone}}
links:
  - {type: usesPhone, from: patient, to: phone}
"""


def load(store, model, tmp_path: Path, name: str, spec: str, rows: list[list[str]]):
    (tmp_path / f"{name}.yaml").write_text(spec)
    data = tmp_path / f"{name}.csv"
    with data.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return ingest_file(store, model, load_spec(tmp_path / f"{name}.yaml", model), data, rejects_dir=tmp_path)


def test_the_same_phone_and_nhs_number_from_two_agencies_are_one_entity_each(store, model, tmp_path):
    police = [["Nominal", "NHS", "Name", "Mobile"], ["N1", "943 476 5919", "Ann Ames", "+44 7700 900123"]]
    health = [
        ["Attendance", "NHS Number", "Patient", "Contact"],
        ["ED-1", "9434765919", "Ann Ames", "07700 900123"],
        ["ED-2", "943 476 591", "Bob Bell", "07700 900999"],  # an NHS number with a digit missing
    ]
    load(store, model, tmp_path, "police", POLICE, police)
    report = load(store, model, tmp_path, "health", HEALTH, health)

    people, phones = store.find("Person"), store.find("Phone")
    assert len(people) == 1 and len(phones) == 1
    assert {a.source for a in people[0].provenance} == {"police-nominals", "ed-attendances"}
    assert {a.source for a in phones[0].provenance} == {"police-nominals", "ed-attendances"}
    assert phones[0].properties["phoneNumber"] == "07700900123"
    assert (report.entities.created, report.entities.merged) == (0, 2)
    assert people[0].id in report.entities.merged_ids and "merged with another source's" in report.summary()
    assert report.rows_rejected == 1 and "health.csv row 3: NHS number '943 476 591' does not have 10 digits" in (
        report.summary()
    )
    links = store.subgraph(["usesPhone"]).links.values()
    assert len(links) == 1  # the same person, the same phone: one link, asserted by both
    assert {a.source for a in next(iter(links)).provenance} == {"police-nominals", "ed-attendances"}


def test_a_mobile_whose_leading_zero_a_spreadsheet_dropped_is_the_same_phone(store, model, tmp_path):
    police = [["Nominal", "NHS", "Name", "Mobile"], ["N1", "943 476 5919", "Ann Ames", "07700 900123"]]
    health = [["Attendance", "NHS Number", "Patient", "Contact"], ["ED-1", "9434765919", "Ann Ames", "7700900123"]]
    load(store, model, tmp_path, "police", POLICE, police)
    load(store, model, tmp_path, "health", HEALTH, health)

    phones = store.find("Phone")
    assert [p.properties["phoneNumber"] for p in phones] == ["07700900123"]
    assert {a.source for a in phones[0].provenance} == {"police-nominals", "ed-attendances"}


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("7700318243", "07700318243"),  # a mobile kept as a number: its zero dropped
        ("7700 318243", "07700318243"),
        ("2079460123", "02079460123"),  # a London number
        ("169772345", "0169772345"),  # 0 and nine digits (Brampton): nine once the zero has gone
        ("07700318243", "07700318243"),
        ("+44 7700 318243", "07700318243"),
        ("447700318243", "07700318243"),
        ("0044 7700 318243", "07700318243"),
        ("+32 2 123 45 67", "3221234567"),  # a Brussels number, written with +: left as it is
        ("4412345678", "4412345678"),  # no UK number begins 04: not a dropped zero
        ("6123456789", "6123456789"),  # nor 06
        ("900123", "900123"),  # too short to be a national number
        ("77003182431", "77003182431"),  # too long
    ],
)
def test_phone_numbers_normalise_to_the_national_form(written, normalised):
    assert phone(written) == normalised
