"""Neo4j's bulk-import CSV format loads through a few lines of spec, on both stores."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from nimgraph.cli import main
from nimgraph.ingest.engine import IngestReport, ingest_file
from nimgraph.ingest.neo4j_import import check_header, parse_header, unmatched_entries
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
    known: dict[str, str] = {}
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


# A Neo4j bulk-import export of a force's crime graph, as neo4j-admin import takes it: node files per
# label, relationship files per type, and values as the source system wrote them (day-first dates,
# its own crime type codes, names in two columns), which the spec reads file by file.
CRIME_SPEC = """\
source: {name: force-graph, agency: Northwick Police}
grading: {default: 2BC}
neo4j_import:
  labels: {Person: Person, Crime: CrimeIncident}
  relationships: {SUSPECT: suspectIn, VICTIM: victimIn, KNOWS: knows}
  renames: {dob: dateOfBirth}
  files:
    people.csv:
      properties:
        name: {template: "{first} {last}"}
    "crimes_*.csv":
      properties:
        date: {column: "date:date", format: "%d/%m/%Y"}
        crimeType: {column: type, map: {ASB: Anti-social behaviour}}
      renames: {kind: category}
    "victims_of_*.csv": {reversed: true}
"""
CRIME_FILES = {
    "people.csv": """\
personId:ID(Person),first:string,last:string,dob:date,:LABEL
p1,Ann,Ames,1985-04-02,Person
p2,Bob,Bell,,Person
""",
    "more_people.csv": """\
personId:ID(Person),name,:LABEL
p3,Cat Cole,Person
""",
    "crimes_2015.csv": """\
crimeId:ID(Crime),date:date,type,kind,:LABEL
c1,04/07/2015,ASB,Rowdy behaviour,Crime
c2,,Burglary,Break-in,Crime
c3,05/07/2015,Joyriding,Car taken,Crime
c4,06/07/2015,burglary,Break-in,Crime
""",
    "old_crimes.csv": """\
crimeId:ID(Crime),date:date,crimeType,category,:LABEL
c9,2014-03-01,Burglary,Break-in,Crime
c8,01/03/2014,Burglary,Break-in,Crime
c7,2014-03-02,ASB,Noise,Crime
""",
    "suspects.csv": """\
:START_ID(Person),:END_ID(Crime),:TYPE
p1,c1,SUSPECT
p2,c4,SUSPECT
p1,c2,SUSPECT
""",
    "knows.csv": """\
:START_ID(Person),:END_ID(Crime),:TYPE
p1,c1,KNOWS
""",
    "victims_of_crime.csv": """\
:START_ID(Crime),:END_ID(Person),:TYPE
c1,p2,VICTIM
""",
    "victim_list.csv": """\
:START_ID(Crime),:END_ID(Person),:TYPE
c4,p1,VICTIM
""",
}


@pytest.fixture
def crime_export(tmp_path: Path) -> Path:
    for name, text in CRIME_FILES.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "force.yaml").write_text(CRIME_SPEC)
    return tmp_path


def load_crime_export(store, model, directory: Path) -> dict[str, IngestReport]:
    spec = load_spec(directory / "force.yaml", model)
    known: dict[str, str] = {}
    return {
        name: ingest_file(store, model, spec, directory / name, rejects_dir=directory / "rejects", known_ids=known)
        for name in CRIME_FILES  # node files first
    }


def test_node_rows_meet_the_shapes_and_code_lists_of_their_type(embedded_store, model, crime_export):
    reports = load_crime_export(embedded_store, model, crime_export)

    crimes = {e.properties.get("category"): e.properties for e in embedded_store.find("CrimeIncident")}
    assert crimes["Rowdy behaviour"] == {
        "date": "2015-07-04",  # the file's own format
        "crimeType": "Anti-social behaviour",  # through the file's map
        "category": "Rowdy behaviour",  # renamed from kind, in this file
    }
    assert crimes["Break-in"]["crimeType"] == "Burglary"  # a code stores its label
    report = reports["crimes_2015.csv"]
    assert (report.rows_loaded, report.rows_rejected) == (2, 2)
    summary = report.summary()
    assert "crimes_2015.csv row 3: a Crime incident needs a date; got ''" in summary
    assert "crimes_2015.csv row 4: crime type 'Joyriding' is not in the police.uk crime types: Anti-social" in summary
    with (crime_export / "rejects" / "crimes_2015.rejects.csv").open(newline="") as handle:
        rejects = [(row["row"], row["reason"][:30], row["crimeId:ID(Crime)"]) for row in csv.DictReader(handle)]
    assert rejects == [("3", "a Crime incident needs a date;", "c2"), ("4", "crime type 'Joyriding' is not ", "c3")]


def test_values_and_renames_of_one_file_do_not_reach_another(embedded_store, model, crime_export):
    reports = load_crime_export(embedded_store, model, crime_export)

    names = {e.properties["name"] for e in embedded_store.find("Person")}
    assert names == {"Ann Ames", "Bob Bell", "Cat Cole"}  # the template in people.csv; more_people.csv as written
    old = reports["old_crimes.csv"]
    assert old.rows_loaded == 1  # ISO dates, as Neo4j writes them
    summary = old.summary()
    assert "old_crimes.csv row 3: date ('date:date'): '01/03/2014' is not a date" in summary  # no day-first here
    assert "old_crimes.csv row 4: crime type 'ASB' is not in the" in summary  # nor crimes_*.csv's map
    spec = load_spec(crime_export / "force.yaml", model)
    problems = check_header(spec, model, ["crimeId:ID(Crime)", "date:date", "type", "kind", ":LABEL"], "crimes.csv")
    assert [p.split(";")[0] for p in problems] == [
        "crimes.csv has a property column 'type' that is not an ontology property",
        "crimes.csv has a property column 'kind' that is not an ontology property",
    ]


def test_relationship_ends_meet_the_domain_and_range_of_their_link(embedded_store, model, crime_export):
    reports = load_crime_export(embedded_store, model, crime_export)

    people = {e.id: e.properties["name"] for e in embedded_store.find("Person")}
    crimes = {e.id: e.properties["category"] for e in embedded_store.find("CrimeIncident")}
    suspects = embedded_store.subgraph(["suspectIn"]).links.values()
    assert sorted((people[x.source], crimes[x.target]) for x in suspects) == [
        ("Ann Ames", "Rowdy behaviour"),
        ("Bob Bell", "Break-in"),
    ]
    assert (
        "suspects.csv row 4: end node 'c2' in id space Crime is not in the node files"
        in reports["suspects.csv"].summary()
    )  # its crime was rejected
    assert not embedded_store.subgraph(["knows"]).links
    assert (
        "knows.csv row 2: knows goes to a Person, but its target, :END_ID(Crime) 'c1', is a CrimeIncident"
        in reports["knows.csv"].summary()
    )
    victims = list(embedded_store.subgraph(["victimIn"]).links.values())
    assert [(people[x.source], crimes[x.target]) for x in victims] == [("Bob Bell", "Rowdy behaviour")]  # reversed
    assert (
        "victim_list.csv row 2: victimIn goes from a Person, but its source, :START_ID(Crime) 'c4', "
        "is a CrimeIncident" in reports["victim_list.csv"].summary()
    )  # reversed: true was said of victims_of_*.csv only


def test_a_symmetric_relationship_listed_both_ways_is_one_link(embedded_store, model, crime_export):
    both_ways = ":START_ID(Person),:END_ID(Person),:TYPE\np1,p2,KNOWS\np2,p1,KNOWS\n"
    (crime_export / "knows_people.csv").write_text(both_ways)
    spec = load_spec(crime_export / "force.yaml", model)
    known: dict[str, str] = {}
    for name in ("people.csv", "knows_people.csv"):
        ingest_file(embedded_store, model, spec, crime_export / name, rejects_dir=crime_export, known_ids=known)
    links = list(embedded_store.subgraph(["knows"]).links.values())
    assert len(links) == 1
    assert sorted(a.row for a in links[0].provenance) == [2, 3]  # both rows are its evidence


def test_relationship_ends_already_in_the_store_are_checked_by_their_stored_type(embedded_store, model, crime_export):
    spec = load_spec(crime_export / "force.yaml", model)
    for name in ("people.csv", "crimes_2015.csv"):
        ingest_file(embedded_store, model, spec, crime_export / name, rejects_dir=crime_export)
    later = {  # a later run: the nodes are in the store only
        name: ingest_file(embedded_store, model, spec, crime_export / name, rejects_dir=crime_export)
        for name in ("suspects.csv", "knows.csv")
    }
    assert later["suspects.csv"].rows_loaded == 2
    assert later["knows.csv"].rows_rejected == 1
    assert "its target, :END_ID(Crime) 'c1', is a CrimeIncident" in later["knows.csv"].summary()


def test_every_header_problem_of_every_file_is_reported_before_anything_is_written(
    tmp_path, crime_export, capsys, cli_development
):
    (crime_export / "people_extra.csv").write_text("personId:ID(Person),shoeSize:int,hat,:LABEL\np5,9,cap,Person\n")
    (crime_export / "seen_with.csv").write_text(":START_ID(Person),:END_ID(Person),:TYPE,venue\np1,p2,KNOWS,pub\n")
    spec = str(crime_export / "force.yaml")
    files = [str(crime_export / n) for n in ("people.csv", "people_extra.csv", "suspects.csv", "seen_with.csv")]
    store = ["--store", str(tmp_path / "g.db")]

    for dry_run in (["--dry-run"], []):
        assert main([*store, "ingest", *dry_run, spec, *files]) == 2
        said = capsys.readouterr()
        for column in ("'shoeSize'", "'hat'", "'venue'"):  # all three, from two files, in one error
            assert f"property column {column} that is not an ontology property" in said.err
        assert "rows loaded" not in said.out and "rows would load" not in said.out
    assert main([*store, "ingest", spec, files[0]]) == 0
    assert "people.csv: 2 of 2 rows loaded; entities: 2 created" in capsys.readouterr().out  # nothing came before


def test_check_header_lists_every_problem_of_a_file(model, crime_export):
    spec = load_spec(crime_export / "force.yaml", model)
    problems = check_header(
        spec,
        model,
        ["crimeId:ID(Crime)", "date:text", "type", "kind", ":START_ID(Person)", ":LABEL", ":LABEL"],
        "crimes_2016.csv",
    )
    assert problems == [
        "crimes_2016.csv: column 'date:text' has an unknown Neo4j type 'text'",
        "crimes_2016.csv has 2 :LABEL columns; a Neo4j import file has at most one",
        "crimes_2016.csv has both an :ID column (a node file) and relationship columns; split it",
        f"{spec.path}:13: date reads column 'date:date', which crimes_2016.csv lacks; crimes_2016.csv has: "
        "crimeId:ID(Crime), date:text, type, kind, :START_ID(Person), :LABEL, :LABEL",
    ]
    assert check_header(spec, model, [":START_ID(Crime)", ":END_ID(Person)"], "victims_of_x.csv") == [
        "victims_of_x.csv: a Neo4j import file needs an :ID column (a node file) or :START_ID, :END_ID and :TYPE "
        "(a relationship file); it has no :TYPE"
    ]
    assert check_header(spec, model, ["id:ID(Crime)", "category", ":LABEL"], "victims_of_x.csv") == [
        "victims_of_x.csv is a node file; reversed: true goes with relationship files"
    ]
    with pytest.raises(SpecError, match=r"(?s)unknown Neo4j type 'text'.*at most one"):
        parse_header(spec, model, ["crimeId:ID(Crime)", "date:text", ":LABEL", ":LABEL"], "crimes_2016.csv")
    assert unmatched_entries(spec, ["people.csv", "crimes_2015.csv"]) == [
        f"{spec.path}:16: neo4j_import.files 'victims_of_*.csv' matches none of people.csv, crimes_2015.csv"
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("renames: {dob: dateOfBirth}", "renames: {dob: birthday}"), r"force.yaml:6: unknown property 'birthday'"),
        (("        name: {template", "        nickname: {template"), r"force.yaml:10: unknown property 'nickname'"),
        (("{reversed: true}", "{reversed: yes please}"), r"force.yaml:16: .*reversed is true or false"),
        (("{reversed: true}", "{reverse: true}"), r"force.yaml:16: .*takes properties, renames and reversed"),
        (('format: "%d/%m/%Y"', 'fromat: "%d/%m/%Y"'), r"force.yaml:13: unknown value option\(s\): fromat"),
        (("  renames: {dob", "  properties: {x: name}\n  renames: {dob"), r"older name for renames; keep one"),
    ],
)
def test_file_settings_are_checked_when_the_spec_loads(model, crime_export, change, message):
    (crime_export / "force.yaml").write_text(CRIME_SPEC.replace(*change))
    with pytest.raises(SpecError, match=message):
        load_spec(crime_export / "force.yaml", model)


def test_a_person_keyed_in_another_type_s_id_space_is_no_way_round_pseudonyms(embedded_store, model, tmp_path):
    """A node file may label a node of the Crime id space as a Person: its id then starts CrimeIncident-."""
    from nimgraph.access.pseudonyms import Pseudonyms
    from nimgraph.access.roles import ROLE_CLEARANCE, Role
    from nimgraph.access.view import ClearedView

    spec = tmp_path / "mixed.yaml"
    spec.write_text(
        "source: {name: mixed}\ngrading: {default: 1AP}\n"
        "neo4j_import:\n  labels: {Crime: CrimeIncident, Person: Person}\n"
    )
    nodes = tmp_path / "nodes.csv"
    nodes.write_text("cid:ID(Crime),name,:LABEL\nc77,Hidden Person Via Crime Space,Person\n")
    ingest_file(embedded_store, model, load_spec(spec, model), nodes, rejects_dir=tmp_path)
    (person,) = embedded_store.find("Person")
    assert person.id.startswith("CrimeIncident-")  # the id space names the id, the label the type
    researcher = ClearedView(
        embedded_store, model, ROLE_CLEARANCE[Role.RESEARCHER], Pseudonyms(tmp_path / "p.db", "key")
    )
    assert researcher.real_id(person.id) is None and researcher.get(person.id) is None
    (shown,) = researcher.find("Person")
    assert shown.id.startswith("psn-")
