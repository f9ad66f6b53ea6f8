"""Homes for common partner fields: officer in case, call parties, NHS number, a family relation's
kind, an assessment score, an age, and a vehicle's make, model and colour. Each loads from a
spec alone; the officer in case makes nobody an associate."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nimgraph.analysis.build import to_networkx
from nimgraph.analysis.projection import project
from nimgraph.identity import IdentityError, nhs_check_digit_valid, nhs_number
from nimgraph.ingest.engine import ingest_file
from nimgraph.ingest.spec import load_spec
from nimgraph.labels import label
from nimgraph.ontology import Model
from nimgraph.products.common import people_projection
from nimgraph.products.connections import person_associations
from nimgraph.products.scope import Projection, Scope, projected, read_scope
from nimgraph.products.subject import IDENTIFYING
from nimgraph.validation import violations


def load(store, model: Model, tmp_path: Path, name: str, spec: str, rows: list[list[str]]):
    (tmp_path / f"{name}.yaml").write_text(spec, encoding="utf-8")
    data = tmp_path / f"{name}.csv"
    with data.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return ingest_file(store, model, load_spec(tmp_path / f"{name}.yaml", model), data, rejects_dir=tmp_path)


def by_key(store, type_name: str, prop: str, value: str) -> str:
    found = [e.id for e in store.find(type_name, value) if e.properties.get(prop) == value]
    assert len(found) == 1, (type_name, value, found)
    return found[0]


# ---------------------------------------------------------------- officer in case

CRIMES = """\
source: {name: crime-system}
grading: {default: 1AP}
record_id: Crime
entities:
  crime:
    type: CrimeIncident
    keys: [Crime]
    properties: {reference: Crime, date: {column: Date, format: "%Y-%m-%d"}, category: Category}
  victim:
    type: Person
    keys: [Victim]
    namespace: nominal
    properties: {nominalId: Victim, assessmentScore: Vulnerability, assessmentTool: {literal: local matrix}}
  suspect: {type: Person, keys: [Suspect], namespace: nominal, optional: true, properties: {nominalId: Suspect}}
  officer: {type: Person, keys: [OIC], namespace: officer, properties: {name: OIC}}
links:
  - {type: victimIn, from: victim, to: crime, properties: {ageAtEvent: Victim Age}}
  - {type: suspectIn, from: suspect, to: crime}
  - {type: officerInCase, from: crime, to: officer}
"""
CRIME_ROWS = [
    ["Crime", "Date", "Category", "Victim", "Victim Age", "Vulnerability", "Suspect", "OIC"],
    ["C1", "2026-01-05", "Burglary", "V1", "34", "7.5", "S1", "DC Smith"],
    ["C2", "2026-01-09", "Robbery", "V2", "71", "", "", "DC Smith"],
    ["C3", "2026-02-01", "Robbery", "V3", "19", "", "S1", "DC Smith"],
]


def test_the_officer_in_case_is_linked_but_associated_with_nobody(store, model, tmp_path):
    report = load(store, model, tmp_path, "crimes", CRIMES, CRIME_ROWS)
    assert report.rows_rejected == 0
    v1, v2 = (by_key(store, "Person", "nominalId", n) for n in ("V1", "V2"))
    officer = by_key(store, "Person", "name", "DC Smith")
    s1 = by_key(store, "Person", "nominalId", "S1")
    oic = store.subgraph(["officerInCase"]).links.values()
    assert len(oic) == 3 and {k.target for k in oic} == {officer}  # from each crime to the officer

    def associates(who: str) -> dict[str, float]:
        _, found = person_associations(store, model, who, 2, None, lambda _: True)
        return {a.person: a.strength for a in found}

    assert associates(officer) == {}
    assert associates(v1) == {s1: pytest.approx(1.0)}  # the suspect of C1, through the crime
    assert associates(v2) == {}  # shares only the officer with anyone

    graph = to_networkx(store.subgraph(sorted(model.links)), model)
    weights = people_projection(graph, model)
    assert weights.degree(officer) == 0 and set(weights[s1]) == {v1, by_key(store, "Person", "nominalId", "V3")}
    read = read_scope(store, model, Scope(), None)
    joined, _ = projected(read, model, Projection(types=("Person",), via=("Event",)))
    assert joined.degree(officer) == 0 and joined.has_edge(v1, s1)
    # the weight of 0 keeps the officer out: unweighted, the officer would join everyone of their cases
    assert project(graph, node_types={"Person"}, via_types={"CrimeIncident"}).graph.degree(officer) == 4


def test_age_at_the_event_and_an_assessment_score_load_where_partners_record_them(embedded_store, model, tmp_path):
    load(embedded_store, model, tmp_path, "crimes", CRIMES, CRIME_ROWS)
    v1 = by_key(embedded_store, "Person", "nominalId", "V1")
    ages = {k.source: k.properties["ageAtEvent"] for k in embedded_store.subgraph(["victimIn"]).links.values()}
    assert ages[v1] == 34 and sorted(ages.values()) == [19, 34, 71]
    victim = embedded_store.get(v1)
    assert victim.properties["assessmentScore"] == 7.5 and victim.properties["assessmentTool"] == "local matrix"
    assert {"assessmentScore", "assessmentTool"} <= set(model.properties_for("HealthReferral"))
    assert "ageAtEvent" in model.properties_for("offenderIn") and "ageAtEvent" not in model.properties_for("Person")


def test_a_persons_age_is_a_whole_number_in_range(model):
    assert model.property_def("age").datatype == "integer"
    assert [v.message for v in violations(model, "Person", {"age": 131})] == ["age 131 is outside 0.0 to 130.0"]
    assert not list(violations(model, "Person", {"age": 0}))


# ---------------------------------------------------------------- call parties

CALLS = """\
source: {name: call-records}
grading: {default: 2BC}
record_id: Call
entities:
  call: {type: Call, keys: [Call], properties: {reference: Call, date: {column: Date, format: "%Y-%m-%d"}}}
  caller: {type: Person, keys: [Caller], namespace: nominal, properties: {nominalId: Caller}}
  recipient: {type: Person, keys: [Recipient], namespace: nominal, properties: {nominalId: Recipient}}
  from_phone: {type: Phone, keys: [{column: From, normalise: phone}], namespace: phone,
               properties: {phoneNumber: {column: From, normalise: phone}}}
  to_phone: {type: Phone, keys: [{column: To, normalise: phone}], namespace: phone,
             properties: {phoneNumber: {column: To, normalise: phone}}}
links:
  - {type: callerIn, from: caller, to: call}
  - {type: recipientIn, from: recipient, to: call}
  - {type: callingNumberIn, from: from_phone, to: call}
  - {type: calledNumberIn, from: to_phone, to: call}
"""


def test_who_made_and_who_received_a_call(store, model, tmp_path):
    rows = [
        ["Call", "Date", "Caller", "Recipient", "From", "To"],
        ["K1", "2026-03-01", "P1", "P2", "07700 900001", "07700 900002"],
    ]
    assert load(store, model, tmp_path, "calls", CALLS, rows).rows_rejected == 0
    p1, p2 = by_key(store, "Person", "nominalId", "P1"), by_key(store, "Person", "nominalId", "P2")
    call = by_key(store, "Call", "reference", "K1")
    ends = {(k.type, k.source, k.target) for k in store.subgraph(sorted(model.links)).links.values()}
    assert {("callerIn", p1, call), ("recipientIn", p2, call)} <= ends
    numbers = {
        k.type: store.get(k.source).properties["phoneNumber"]
        for k in store.subgraph(sorted(model.descendants("featuredIn"))).links.values()
    }
    assert numbers == {"callingNumberIn": "07700900001", "calledNumberIn": "07700900002"}
    assert model.is_a("callerIn", "involvedIn") and model.is_a("calledNumberIn", "featuredIn")
    _, found = person_associations(store, model, p1, 2, None, lambda _: True)
    assert [a.person for a in found] == [p2]  # party to one call


# ---------------------------------------------------------------- NHS number

PATIENTS = """\
source: {name: ed-attendances}
grading: {default: 1BC}
record_id: Attendance
entities:
  patient:
    type: Person
    keys: [{column: NHS, normalise: nhs_number}]
    namespace: nhs-number
    properties: {nhsNumber: {column: NHS, normalise: nhs_number}, age: Age}
"""
RAW_PATIENTS = PATIENTS.replace("nhsNumber: {column: NHS, normalise: nhs_number}", "nhsNumber: NHS")


def test_an_nhs_number_is_stored_as_ten_digits_and_named_among_the_identifiers(embedded_store, model, tmp_path):
    rows = [["Attendance", "NHS", "Age"], ["A1", "943 476 5919", "40"], ["A2", "999-000-0018", "7"]]
    assert load(embedded_store, model, tmp_path, "ed", PATIENTS, rows).rows_rejected == 0
    stored = sorted(e.properties["nhsNumber"] for e in embedded_store.find("Person"))
    assert stored == ["9434765919", "9990000018"]
    assert model.property_def("nhsNumber").domain == "Person" and "nhsNumber" in IDENTIFYING


def test_an_nhs_number_mapped_without_its_normaliser_is_rejected_with_the_fix(embedded_store, model, tmp_path):
    rows = [["Attendance", "NHS", "Age"], ["A1", "943 476 5919", "40"], ["A2", "9434765919", "140"]]
    report = load(embedded_store, model, tmp_path, "ed", RAW_PATIENTS, rows)
    assert report.rows_rejected == 2
    summary = report.summary()
    assert "NHS number '943 476 5919' is not 10 digits without spaces (map it with normalise: nhs_number)" in summary
    assert "age 140 is outside 0.0 to 130.0" in summary


def test_nhs_number_checks_the_format_and_the_check_digit_apart():
    assert nhs_number(" 999 000 0018 ") == "9990000018" and nhs_check_digit_valid("9990000018")
    assert nhs_number("999 000 0019") == "9990000019"  # well formed: a test system may issue it
    assert not nhs_check_digit_valid("9990000019")
    for bad in ("999 000 001", "999 000 00188", "999/000/0018", "٩٩٩٠٠٠٠٠١٨", ""):
        with pytest.raises(IdentityError, match="does not have 10 digits"):
            nhs_number(bad)
        assert not nhs_check_digit_valid(bad)
    assert not nhs_check_digit_valid("1000000010")  # its check digit would be 10: no valid number


@given(st.text(alphabet="0123456789", min_size=9, max_size=9), st.integers(0, 9))
def test_exactly_one_tenth_digit_is_valid_unless_none_is(nine: str, last: int):
    weighted = sum(int(d) * (10 - i) for i, d in enumerate(nine)) % 11
    check = (11 - weighted) % 11
    assert nhs_check_digit_valid(f"{nine}{last}") == (check != 10 and last == check)
    assert nhs_number(f"{nine[:3]} {nine[3:6]}-{nine[6:]}{last}") == f"{nine}{last}"


# ---------------------------------------------------------------- family relation kinds

FAMILY = """\
source: {name: family-records}
grading: {default: 1BC}
record_id: Ref
entities:
  first: {type: Person, keys: [First], namespace: nominal, properties: {nominalId: First}}
  second: {type: Person, keys: [Second], namespace: nominal, properties: {nominalId: Second}}
links:
  - from: first
    to: second
    type_from: {column: Relation, map: {SIBLING: familyOf, MOTHER: familyOf, PARENT: parentOf, PET: familyOf}}
    properties: {relationKind: Relation}
"""


def test_a_family_kind_reads_the_same_from_either_side(store, model, tmp_path):
    rows = [
        ["Ref", "First", "Second", "Relation"],
        ["F1", "N1", "N2", "SIBLING"],
        ["F2", "N3", "N1", "MOTHER"],  # one-sided: kept as the pair's kind, stored in canonical order
        ["F3", "N4", "N3", "PARENT"],  # a known parent: parentOf keeps its direction
        ["F4", "N1", "N4", "PET"],
    ]
    report = load(store, model, tmp_path, "family", FAMILY, rows)
    assert report.rows_rejected == 1
    assert "relation kind 'PET' is not in the family relation kinds: Siblings, Partners, Parent and child" in (
        report.summary()
    )
    n1, n3, n4 = (by_key(store, "Person", "nominalId", n) for n in ("N1", "N3", "N4"))
    links = store.subgraph(sorted(model.descendants("familyOf"))).links.values()
    kinds = {(k.type, frozenset((k.source, k.target))): k.properties["relationKind"] for k in links}
    assert kinds[("familyOf", frozenset((n1, n3)))] == "Parent and child"
    assert sorted(kinds.values()) == ["Parent and child", "Parent and child", "Siblings"]
    assert all(k.source < k.target for k in links if k.type == "familyOf")
    (parent,) = [k for k in links if k.type == "parentOf"]
    assert (parent.source, parent.target) == (n4, n3)  # as recorded, whichever id is smaller


def test_the_kind_code_list_holds_only_kinds_that_read_the_same_both_ways(model):
    kinds = model.code_list("FamilyRelationKind")
    assert model.property_def("relationKind").domain == "familyOf"
    assert [c.notation for c in kinds.concepts][:3] == ["sibling", "partner", "parent-child"]
    assert kinds.lookup("Child") is kinds.lookup("parent") is kinds.lookup("parent-child")
    assert kinds.lookup("granddaughter").label == "Grandparent and grandchild"
    assert {c.label for c in kinds.concepts}.isdisjoint({"Parent", "Child", "Grandparent", "Grandchild"})


@pytest.mark.parametrize(
    ("words", "kind"),
    [
        (["Step-father", "Step-mother", "Step-son", "Step-daughter"], "parent-child"),
        (["Stepfather", "Stepmother", "Stepson", "Stepdaughter", "step father", "STEP-MUM", "Dad"], "parent-child"),
        (["Foster parent", "Foster carer", "Foster child", "foster-carer"], "parent-child"),
        (["Step-brother", "Step-sister", "Half-brother", "Half-sister", "half sister", "Stepbrother"], "sibling"),
        (["Grandson", "Granddaughter", "Grand-daughter"], "grandparent-grandchild"),
        (["Nephew", "Niece", "Aunt", "Uncle", "Auntie"], "aunt-uncle-niece-nephew"),
        (["Husband", "Wife", "Boyfriend", "Girlfriend", "Civil partner", "Ex-partner", "ex partner"], "partner"),
        (["Ex-husband", "Ex-wife", "Ex-boyfriend", "Ex-girlfriend", "Former partner"], "partner"),
        (["Brother-in-law", "brother in law", "In law"], "in-law"),
    ],
)
def test_a_family_word_as_partners_write_it_reads_as_its_kind(model, words, kind):
    kinds = model.code_list("FamilyRelationKind")
    assert {word: getattr(kinds.lookup(word), "notation", None) for word in words} == dict.fromkeys(words, kind)


# ---------------------------------------------------------------- vehicles

VEHICLES = """\
source: {name: anpr-hits}
grading: {default: 2BC}
record_id: Hit
entities:
  vehicle:
    type: Vehicle
    keys: [{column: VRM, normalise: vehicle_registration}]
    properties: {registration: {column: VRM, normalise: vehicle_registration}, vehicleMake: Make, vehicleModel: Model,
                 colour: Colour}
"""


def test_a_vehicles_make_model_and_colour(embedded_store, model, tmp_path):
    rows = [["Hit", "VRM", "Make", "Model", "Colour"], ["H1", "ab12 cde", "Ford", "Fiesta", "Blue"]]
    assert load(embedded_store, model, tmp_path, "anpr", VEHICLES, rows).rows_rejected == 0
    (vehicle,) = embedded_store.find("Vehicle")
    assert vehicle.properties == {
        "registration": "AB12CDE",
        "vehicleMake": "Ford",
        "vehicleModel": "Fiesta",
        "colour": "Blue",
    }
    described = {"vehicleMake": "Ford", "vehicleModel": "Fiesta", "colour": "Blue"}
    assert label(model, "Vehicle", "Vehicle-1234abcd", described) == "Blue Ford Fiesta"
