"""A withdrawn record's values leave the entity (security review: HIGH).

Properties merge across records, the last writer winning per property. When a record stops
asserting an entity (a corrected file, a retraction) or says something else of it, the entity's
properties are recomputed from what its remaining records say, in the order they were written, so
nothing only the withdrawn record gave is left for a caller who may see every remaining record.
On both stores, through real ingests and the access layer, never mocked.
"""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

from nimgraph.access.roles import Clearance
from nimgraph.access.view import ClearedView
from nimgraph.ingest.engine import ingest_file
from nimgraph.ingest.spec import load_spec
from nimgraph.records import Assertion, Batch, Entity

SPEC = """\
source: {name: SOURCE}
grading: {default: GRADE}
record_id: Ref
entities:
  person:
    type: Person
    keys: [Nominal]
    namespace: test-nominal
    properties:
      nominalId: Nominal
      name: Name
      dateOfBirth: {column: DOB, format: "%d/%m/%Y"}
  home:
    type: Address
    keys: [Address, Postcode]
    properties: {addressLine: Address, postcode: Postcode, name: Address}
links:
  - type: livesAt
    from: person
    to: home
    properties: {startDate: {column: Since, format: "%d/%m/%Y"}}
"""
HEADER = ["Ref", "Nominal", "Name", "DOB", "Address", "Postcode", "Since"]
HOME = ["18 Mill Lane", "NW1 8AB"]
TENANCY = [["T18", "NX900003", "Tenant 18", "", *HOME, ""]]  # source A, handling P
COVERT = [["C1", "NX900003", "Covert Source Alpha", "09/09/1969", *HOME, "01/02/2020"]]  # source B, handling C
CORRECTED = [["C1", "NX900099", "Covert Source Alpha", "09/09/1969", *HOME, "01/02/2020"]]  # B's row: another person
PARTNER = Clearance(handling=frozenset({"P"}), pseudonymised=False)
P_SAID = {"nominalId": "NX900003", "name": "Tenant 18"}


def ingest(store, model, tmp_path: Path, source: str, grade: str, rows: list[list[str]], batch_size: int = 5000):
    spec = tmp_path / f"{source}.yaml"
    spec.write_text(SPEC.replace("SOURCE", source).replace("GRADE", grade))
    data = tmp_path / f"{source}.csv"
    with data.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([HEADER, *rows])
    report = ingest_file(
        store, model, load_spec(spec, model), data, rejects_dir=tmp_path / "rejects", batch_size=batch_size
    )
    assert report.rows_rejected == 0, report.summary()
    return report


def person(store, nominal: str = "NX900003") -> Entity:
    (found,) = [e for e in store.find("Person", nominal) if e.properties.get("nominalId") == nominal]
    return found


def plant(store, model, tmp_path: Path) -> str:
    """The review's reproduction: a P record and a C record on one person, the C one giving more."""
    ingest(store, model, tmp_path, "housing-tenancies", "1AP", TENANCY)
    ingest(store, model, tmp_path, "covert-intel", "1AC", COVERT)
    planted = person(store)
    assert planted.properties["name"] == "Covert Source Alpha"  # the later writer's value, as before the fix
    assert planted.properties["dateOfBirth"] == "1969-09-09"
    return planted.id


def assert_only_p_values(store, model, person_id: str) -> None:
    """The entity holds exactly what the P record said, and a partner is shown no C value anywhere."""
    assert store.get(person_id).properties == P_SAID
    for withdrawn in ("covert", "1969-09-09"):  # the withdrawn values find the person no more
        assert person_id not in {e.id for e in store.find("Person", withdrawn)}

    view = ClearedView(store, model, PARTNER)
    shown = view.get(person_id)
    assert shown is not None and shown.properties == P_SAID
    assert {a.handling for a in shown.provenance} == {"P"}
    assert view.find("Person", "covert") == []
    assert view.find("Person", "1969") == []
    assert [e.properties for e in view.find("Person", "NX900003")] == [P_SAID]
    around = view.neighbourhood([person_id], hops=1)
    assert around.entities[person_id].properties == P_SAID
    (home,) = [e for e in around.entities.values() if e.type == "Address"]
    (lives,) = around.links.values()
    assert lives.properties == {}  # the start date only the C record gave is gone from the link too
    assert "covert" not in repr(around).lower() and "1969" not in repr(around) and "2020" not in repr(around)
    assert view.neighbourhood([home.id], hops=1).entities[person_id].properties == P_SAID


def test_a_corrected_c_file_takes_its_values_off_the_person(store, model, tmp_path):
    person_id = plant(store, model, tmp_path)

    ingest(store, model, tmp_path, "covert-intel", "1AC", CORRECTED)

    assert_only_p_values(store, model, person_id)
    other = person(store, "NX900099")  # the person the row now names: C records only, so hidden from a partner
    assert other.properties["name"] == "Covert Source Alpha"
    assert ClearedView(store, model, PARTNER).get(other.id) is None


def test_retracting_the_c_source_takes_its_values_off_the_person(store, model, tmp_path):
    person_id = plant(store, model, tmp_path)

    assert store.retract("covert-intel") == {"records": 1, "entities": 0, "links": 0}

    assert_only_p_values(store, model, person_id)


def test_retracting_the_c_record_by_id_does_the_same(store, model, tmp_path):
    person_id = plant(store, model, tmp_path)

    assert store.retract("covert-intel", ["C1"])["records"] == 1

    assert_only_p_values(store, model, person_id)


def test_an_unchanged_rerun_touches_nothing(store, model, tmp_path):
    person_id = plant(store, model, tmp_path)
    ingest(store, model, tmp_path, "covert-intel", "1AC", CORRECTED)
    held = {e.id: e.properties for e in store.find()}

    for source, grade, rows in (("housing-tenancies", "1AP", TENANCY), ("covert-intel", "1AC", CORRECTED)):
        stats = ingest(store, model, tmp_path, source, grade, rows).entities
        assert (stats.created, stats.merged, stats.updated, stats.unchanged) == (0, 0, 0, 2), source

    assert {e.id: e.properties for e in store.find()} == held
    assert store.get(person_id).properties == P_SAID


def test_the_latest_writer_wins_and_withdrawing_it_gives_back_the_earlier_value(store, model, tmp_path):
    first = [["T18", "NX900003", "Tenant 18", "01/01/1980", *HOME, ""]]
    ingest(store, model, tmp_path, "housing-tenancies", "1AP", first)
    ingest(store, model, tmp_path, "covert-intel", "1AC", COVERT)
    assert person(store).properties["name"] == "Covert Source Alpha"  # written last: its value wins
    assert person(store).properties["dateOfBirth"] == "1969-09-09"

    ingest(store, model, tmp_path, "housing-tenancies", "1AP", first)  # the earlier record written again: it wins
    assert person(store).properties["name"] == "Tenant 18"
    assert person(store).properties["dateOfBirth"] == "1980-01-01"

    ingest(store, model, tmp_path, "covert-intel", "1AC", COVERT)  # and the other again
    assert person(store).properties["name"] == "Covert Source Alpha"
    store.retract("covert-intel")
    assert person(store).properties == {"nominalId": "NX900003", "name": "Tenant 18", "dateOfBirth": "1980-01-01"}


def test_a_correction_that_empties_a_value_removes_it(store, model, tmp_path):
    person_id = plant(store, model, tmp_path)
    without_birth = [[*COVERT[0][:3], "", *COVERT[0][4:]]]  # the same record, its date of birth withdrawn

    stats = ingest(store, model, tmp_path, "covert-intel", "1AC", without_birth).entities

    assert (stats.updated, stats.unchanged) == (1, 1)  # the person changed; the address did not
    assert store.get(person_id).properties == {"nominalId": "NX900003", "name": "Covert Source Alpha"}
    assert not store.find("Person", "1969-09-09")
    (said,) = [a.properties for a in store.get(person_id).provenance if a.source == "covert-intel"]
    assert said == {"nominalId": "NX900003", "name": "Covert Source Alpha"}


def test_rows_that_share_a_record_id_in_one_run_add_up_across_batches(store, model, tmp_path):
    spec_rows = [  # one record in two rows, written in two batches: what it says adds up
        ["R1", "NX900003", "Tenant 18", "", *HOME, ""],
        ["R1", "NX900003", "", "01/01/1980", *HOME, ""],
    ]
    ingest(store, model, tmp_path, "housing-tenancies", "1AP", spec_rows, batch_size=1)
    ingest(store, model, tmp_path, "covert-intel", "1AC", COVERT)

    store.retract("covert-intel")

    entity = person(store)
    assert entity.properties == {"nominalId": "NX900003", "name": "Tenant 18", "dateOfBirth": "1980-01-01"}
    (said,) = [a.properties for a in entity.provenance]
    assert said == entity.properties


def _record(source: str, record_id: str, handling: str = "P") -> Assertion:
    return Assertion(source, record_id, "t.csv", 2, None, f"1A{handling}", handling)


def test_a_store_can_rebuild_properties_left_by_withdrawals_before_the_fix(store, model):
    store.upsert(Batch(entities=[Entity("ann", "Person", {"name": "Ann"}, [_record("a", "1")])]))
    store.upsert(Batch(entities=[Entity("bob", "Person", {"name": "Bob"}, [_record("a", "2")])]))
    _plant_left_over_value(store, "ann")  # as a store from before the fix holds it after a withdrawal
    assert store.get("ann").properties == {"name": "Ann", "dateOfBirth": "1969-09-09"}

    assert store.rebuild_properties() == {"entities": 1, "links": 0, "unknown": 0}
    assert store.get("ann").properties == {"name": "Ann"}
    assert store.get("bob").properties == {"name": "Bob"}
    assert store.rebuild_properties() == {"entities": 0, "links": 0, "unknown": 0}  # once is enough


def _plant_left_over_value(store, entity_id: str) -> None:
    """Give an entity a value none of its records gives: what withdrawals left before the fix."""
    if hasattr(store, "driver"):
        with store.driver.session(database=store.database) as session:
            session.run("MATCH (n:Entity {id: $id}) SET n.dateOfBirth = '1969-09-09'", id=entity_id).consume()
    else:
        with store._transaction() as db:
            db.execute(
                "UPDATE entity SET props = json_set(props, '$.dateOfBirth', '1969-09-09') WHERE id = ?", (entity_id,)
            )


def test_an_item_whose_record_was_written_before_records_kept_what_they_said_is_left_until_it_is_written_again(
    store, model
):
    store.upsert(Batch(entities=[Entity("ann", "Person", {"name": "Ann"}, [_record("a", "1")])]))
    store.upsert(Batch(entities=[Entity("ann", "Person", {"dateOfBirth": "1969-09-09"}, [_record("b", "2", "C")])]))
    _forget_what_was_said(store, "a")  # as a store written before records kept what they said holds it

    store.retract("b")  # nothing to recompute from: what record a said is not known
    assert store.get("ann").properties == {"name": "Ann", "dateOfBirth": "1969-09-09"}
    assert store.rebuild_properties() == {"entities": 0, "links": 0, "unknown": 1}

    store.upsert(Batch(entities=[Entity("ann", "Person", {"name": "Ann"}, [_record("a", "1")])]))  # re-ingested
    assert store.get("ann").properties == {"name": "Ann"}
    assert store.rebuild_properties() == {"entities": 0, "links": 0, "unknown": 0}


def _forget_what_was_said(store, source: str) -> None:
    if hasattr(store, "driver"):
        with store.driver.session(database=store.database) as session:
            session.run("MATCH (:Record {source: $s})-[a:ASSERTS]->() REMOVE a.props, a.seq", s=source).consume()
    else:
        with store._transaction() as db:
            db.execute("UPDATE record SET seq = 0 WHERE source = ?", (source,))
            records = "SELECT n FROM record WHERE source = ?"
            db.execute(f"UPDATE asserted SET props = NULL WHERE record IN ({records})", (source,))


def test_a_batch_may_say_what_each_record_said_and_a_partner_sees_only_its_own(store, model):
    told_p = replace(_record("housing", "T18"), properties={"name": "Tenant 18"})
    told_c = replace(
        _record("intel", "C1", "C"), properties={"name": "Covert Source Alpha", "dateOfBirth": "1969-09-09"}
    )
    both = {"name": "Covert Source Alpha", "dateOfBirth": "1969-09-09"}  # the rows merged, in their order
    store.upsert(Batch(entities=[Entity("ann", "Person", both, [told_p, told_c])]))

    assert store.get("ann").properties == both
    assert ClearedView(store, model, PARTNER).get("ann").properties == {"name": "Tenant 18"}
    store.retract("intel")
    assert store.get("ann").properties == {"name": "Tenant 18"}


def test_a_p_row_and_a_c_row_about_one_person_in_one_batch_keep_what_each_said(store, model, tmp_path):
    """The batch merges the two rows' person; each record must still say only what its row said."""
    from nimgraph.access.roles import Clearance
    from nimgraph.access.view import ClearedView
    from nimgraph.ingest.engine import ingest_file
    from nimgraph.ingest.spec import load_spec

    (tmp_path / "mixed.yaml").write_text(
        "source: {name: mixed}\ngrading: {default: 1AP, column: Grade}\nrecord_id: Ref\n"
        "entities:\n  person:\n    type: Person\n    keys: [Nominal]\n"
        "    properties: {nominalId: Nominal, name: Name}\n"
    )
    (tmp_path / "mixed.csv").write_text("Ref,Nominal,Name,Grade\nR1,NX1,Tenant 18,1AP\nR2,NX1,Covert Source,1AC\n")
    ingest_file(store, model, load_spec(tmp_path / "mixed.yaml", model), tmp_path / "mixed.csv", rejects_dir=tmp_path)
    partner = ClearedView(store, model, Clearance(handling=frozenset({"P"}), pseudonymised=False))
    (seen,) = partner.find("Person")
    assert seen.properties.get("name") == "Tenant 18"
    assert "Covert Source" not in str(partner.find("Person", text="covert"))
