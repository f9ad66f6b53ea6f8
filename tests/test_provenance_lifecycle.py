"""Corrected files, retraction and repeated record ids: on both stores, with the same answers."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from nimgraph.cli import main
from nimgraph.ingest.engine import ingest_file
from nimgraph.ingest.spec import load_spec
from nimgraph.records import Assertion, Batch, Entity, Link

SPEC = """\
source: {name: SOURCE}
grading: {default: 1BP}
record_id: Ref
entities:
  report:
    type: ASBIncident
    keys: [Ref]
    namespace: asb
    properties: {reference: Ref, date: {column: Date, format: "%d/%m/%Y"}, category: Kind}
  place:
    type: Street
    keys: [Street]
    properties: {name: Street}
links:
  - {type: occurredAt, from: report, to: place}
"""
HEADER = ["Ref", "Date", "Kind", "Street"]
ORIGINAL = [
    ["A1", "01/03/2026", "Noise", "Elm Street"],
    ["A2", "02/03/2026", "Noise", "Oak Road"],
    ["A3", "03/03/2026", "Litter", "Elm Street"],
]
CORRECTED = [
    ["A1", "01/03/2026", "Noise", "Elm Street"],
    ["A2", "02/03/2026", "Noise", "Ash Lane"],  # the street was wrong: Oak Road was never involved
    ["A3", "03/03/2026", "Fly-tipping", "Elm Street"],  # the category was wrong
]


def ingest(store, model, tmp_path: Path, rows: list[list[str]], source: str = "council-asb", name: str = "asb.csv"):
    spec = tmp_path / f"{source}.yaml"
    spec.write_text(SPEC.replace("SOURCE", source))
    data = tmp_path / name
    with data.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([HEADER, *rows])
    return ingest_file(store, model, load_spec(spec, model), data, rejects_dir=tmp_path / "rejects")


def streets(store) -> dict[str, set[str]]:
    """Street name -> the references of the incidents that occurred there."""
    graph = store.subgraph(["occurredAt"])
    return {
        graph.entities[k.target].properties["name"]: {
            s.properties["reference"]
            for s in [graph.entities[x.source] for x in graph.links.values() if x.target == k.target]
        }
        for k in graph.links.values()
    }


def test_a_corrected_file_updates_what_changed_and_leaves_the_rest(store, model, tmp_path):
    ingest(store, model, tmp_path, ORIGINAL)
    before = {e.id: e for e in store.find("ASBIncident")}
    ingest(store, model, tmp_path, CORRECTED)

    assert streets(store) == {"Elm Street": {"A1", "A3"}, "Ash Lane": {"A2"}}
    assert not store.find("Street", "Oak Road")  # asserted only by the corrected record: gone
    categories = {e.properties["reference"]: e.properties["category"] for e in store.find("ASBIncident")}
    assert categories == {"A1": "Noise", "A2": "Noise", "A3": "Fly-tipping"}
    a1 = next(e for e in store.find("ASBIncident") if e.properties["reference"] == "A1")
    assert a1.provenance == before[a1.id].provenance  # untouched

    fresh_dir = tmp_path / "fresh"
    fresh_dir.mkdir()
    assert store.counts() == _counts_of_fresh_ingest(store, model, fresh_dir, CORRECTED)


def _counts_of_fresh_ingest(store, model, tmp_path, rows):
    from nimgraph.store.embedded import EmbeddedStore

    fresh = EmbeddedStore(tmp_path / "fresh.db", model)
    try:
        ingest(fresh, model, tmp_path, rows)
        return fresh.counts()
    finally:
        fresh.close()


def test_retracting_a_source_removes_only_what_it_alone_asserted(store, model, tmp_path):
    ingest(store, model, tmp_path, ORIGINAL, source="council-asb")
    ingest(store, model, tmp_path, [["B1", "05/03/2026", "Noise", "Elm Street"]], source="housing", name="h.csv")

    removed = store.retract("council-asb")

    assert removed == {"records": 3, "entities": 4, "links": 3}  # A1-A3 and Oak Road; their three links
    assert streets(store) == {"Elm Street": {"B1"}}
    elm = store.find("Street", "Elm Street")[0]
    assert {a.source for a in elm.provenance} == {"housing"}
    assert store.retract("council-asb") == {"records": 0, "entities": 0, "links": 0}


def test_rows_that_share_a_record_id_add_up_within_one_run(store, model, tmp_path):
    spec = SPEC.replace("record_id: Ref", "record_id: Case")
    (tmp_path / "cases.yaml").write_text(spec.replace("SOURCE", "council-asb"))
    data = tmp_path / "cases.csv"
    rows = [["Case", *HEADER], ["C1", *ORIGINAL[0]], ["C1", *ORIGINAL[1]]]  # one case, two incidents
    with data.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    for _ in range(2):  # and a second run says the same, so nothing is dropped
        ingest_file(store, model, load_spec(tmp_path / "cases.yaml", model), data, rejects_dir=tmp_path, batch_size=1)
        assert streets(store) == {"Elm Street": {"A1"}, "Oak Road": {"A2"}}


def test_a_rerun_keeps_what_a_record_says_in_a_later_batch_and_the_links_others_made_to_it(store, model, tmp_path):
    """Case C1's second row, in the second batch, names Oak Road. A re-run's first batch does not say
    it, but the run does: Oak Road stays, with the housing report another source placed there."""
    spec = SPEC.replace("record_id: Ref", "record_id: Case")
    (tmp_path / "cases.yaml").write_text(spec.replace("SOURCE", "council-asb"))
    data = tmp_path / "cases.csv"
    with data.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["Case", *HEADER], ["C1", *ORIGINAL[0]], ["C1", *ORIGINAL[1]]])

    def run(rows_per_batch: int = 1) -> None:
        loaded = load_spec(tmp_path / "cases.yaml", model)
        ingest_file(store, model, loaded, data, rejects_dir=tmp_path, batch_size=rows_per_batch)

    run()
    oak = store.find("Street", "Oak Road")[0]
    housing = Assertion("housing", "H1", "h.csv", 2, None, "1BP", "P")
    report = Entity("h1", "ASBIncident", {"reference": "H1", "date": "2026-03-04"}, [housing])
    store.upsert(Batch(entities=[report], links=[Link("h1-oak", "occurredAt", "h1", oak.id, {}, [housing])]))
    run()
    assert store.get(oak.id) is not None
    assert streets(store) == {"Elm Street": {"A1"}, "Oak Road": {"A2", "H1"}}


def test_cli_retract_needs_yes_and_reports_what_went(tmp_path, model, capsys, cli_development):
    from nimgraph.store.embedded import EmbeddedStore

    store = EmbeddedStore(tmp_path / "g.db", model)
    ingest(store, model, tmp_path, ORIGINAL)
    store.close()
    assert main(["--store", str(tmp_path / "g.db"), "retract", "council-asb"]) == 2
    assert "--yes" in capsys.readouterr().err
    assert main(["--store", str(tmp_path / "g.db"), "retract", "council-asb", "--yes"]) == 0
    assert "3 records, 5 entities and 3 links removed" in capsys.readouterr().out


@pytest.mark.parametrize("source", ["nobody"])
def test_retracting_an_unknown_source_changes_nothing(store, model, tmp_path, source):
    ingest(store, model, tmp_path, ORIGINAL)
    counts = store.counts()
    assert store.retract(source) == {"records": 0, "entities": 0, "links": 0}
    assert store.counts() == counts
