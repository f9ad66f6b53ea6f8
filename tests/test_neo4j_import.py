"""Neo4j's bulk-import CSV format loads through a few lines of spec, on both stores."""

from __future__ import annotations

from pathlib import Path

import pytest

from nimgraph.cli import main
from nimgraph.ingest.engine import ingest_file
from nimgraph.ingest.spec import SpecError, load_spec

SPEC = """\
source: {name: legacy-graph}
grading: {default: 2BC}
neo4j_import:
  labels: {Person: Person, Phone: Phone}
  relationships: {USES: usesPhone, KNOWS: knows}
  properties: {dob: dateOfBirth, number: phoneNumber}
"""
PEOPLE = """\
personId:ID(Person),name,dob:date,nickname:IGNORE,:LABEL
p1,Ann Ames,1985-04-02,Annie,Person
p2,Bob Bell,,,Person;Suspect
p3,Cat Cole,1990-13-45,,Person
p4,Dan Dee,,,Alien
"""
PHONES = """\
phoneId:ID(Phone),number,:LABEL
t1,07700900123,Phone
"""
RELATIONSHIPS = """\
:START_ID(Person),:END_ID(Phone),:TYPE
p1,t1,USES
p2,t1,USES
p9,t1,USES
p1,t1,OWNS
"""
KNOWS = """\
:START_ID(Person),:END_ID(Person),:TYPE
p1,p2,KNOWS
"""


def write(tmp_path: Path) -> dict[str, Path]:
    files = {"people": PEOPLE, "phones": PHONES, "uses": RELATIONSHIPS, "knows": KNOWS}
    paths = {}
    for name, text in files.items():
        paths[name] = tmp_path / f"{name}.csv"
        paths[name].write_text(text)
    (tmp_path / "legacy.yaml").write_text(SPEC)
    return paths


def test_nodes_and_relationships_load_with_clear_rejects(store, model, tmp_path):
    paths = write(tmp_path)
    spec = load_spec(tmp_path / "legacy.yaml", model)
    known: set[str] = set()
    reports = {
        name: ingest_file(store, model, spec, paths[name], rejects_dir=tmp_path, known_ids=known)
        for name in ("people", "phones", "uses", "knows")
    }

    people = {e.properties["name"]: e for e in store.find("Person")}
    assert set(people) == {"Ann Ames", "Bob Bell"}
    assert people["Ann Ames"].properties["dateOfBirth"] == "1985-04-02"
    assert "nickname" not in people["Ann Ames"].properties  # :IGNORE
    assert store.find("Phone")[0].properties["phoneNumber"] == "07700900123"
    uses = store.subgraph(["usesPhone"]).links.values()
    assert {people_name for people_name, e in people.items() if e.id in {k.source for k in uses}} == {
        "Ann Ames",
        "Bob Bell",
    }
    assert len(store.subgraph(["knows"]).links) == 1
    summary = reports["people"].summary()
    assert "people.csv row 4: dateOfBirth ('dob:date'): '1990-13-45' is not a date" in summary
    assert "people.csv row 5: no label of Alien is mapped; add it under neo4j_import.labels" in summary
    uses_summary = reports["uses"].summary()
    assert "uses.csv row 4: start node 'p9' in id space Person is not in the node files loaded before" in uses_summary
    assert "uses.csv row 5: relationship type 'OWNS' is not mapped" in uses_summary
    assert {a.source for a in people["Ann Ames"].provenance} == {"legacy-graph"}


def test_relationship_files_find_nodes_already_in_the_store(store, model, tmp_path):
    paths = write(tmp_path)
    spec = load_spec(tmp_path / "legacy.yaml", model)
    for name in ("people", "phones"):
        ingest_file(store, model, spec, paths[name], rejects_dir=tmp_path)
    report = ingest_file(store, model, spec, paths["knows"], rejects_dir=tmp_path)  # a later run
    assert report.rows_loaded == 1


def test_cli_loads_node_files_first_whatever_the_order(tmp_path, capsys, cli_development):
    paths = write(tmp_path)
    files = [str(paths[n]) for n in ("uses", "knows", "people", "phones")]
    assert main(["--store", str(tmp_path / "g.db"), "ingest", str(tmp_path / "legacy.yaml"), *files]) == 0
    out = capsys.readouterr().out
    assert out.index("people.csv") < out.index("uses.csv")
    assert "knows.csv: 1 of 1 rows loaded" in out


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("Phone: Phone}", "Phone: Telephone}"), r"legacy.yaml:\d+: unknown entity type 'Telephone'"),
        (("KNOWS: knows", "KNOWS: knowz"), r"unknown link type 'knowz'\. Did you mean 'knows'"),
        (("dob: dateOfBirth", "dob: birthday"), r"unknown property 'birthday'"),
        (("KNOWS: knows", "KNOWS: possiblySameAs"), r"created by nimgraph itself"),
    ],
)
def test_spec_mistakes_name_the_line(model, tmp_path, change, message):
    (tmp_path / "legacy.yaml").write_text(SPEC.replace(*change))
    with pytest.raises(SpecError, match=message):
        load_spec(tmp_path / "legacy.yaml", model)


def test_an_unmapped_property_column_stops_the_file_before_anything_is_written(embedded_store, model, tmp_path):
    write(tmp_path)
    (tmp_path / "odd.csv").write_text("personId:ID(Person),shoeSize:int,:LABEL\np1,9,Person\n")
    spec = load_spec(tmp_path / "legacy.yaml", model)
    with pytest.raises(SpecError, match=r"property column 'shoeSize' that is not an ontology property"):
        ingest_file(embedded_store, model, spec, tmp_path / "odd.csv", rejects_dir=tmp_path)
    assert embedded_store.counts()["entities"] == {}
