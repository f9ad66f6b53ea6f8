"""The demo plants patterns; the analysis and the products must find each one."""

from __future__ import annotations

import csv
import json

from conftest import person_id

from nimgraph.analysis.association import person_projection
from nimgraph.analysis.build import to_networkx
from nimgraph.analysis.communities import strong_groups
from nimgraph.demo import find_problem, screen_for_vulnerable
from nimgraph.demo.generate import generate
from nimgraph.ontology import Core
from nimgraph.products.common import association_weights
from nimgraph.products.problem import build_problem_profile
from nimgraph.products.subject import build_subject_profile


def test_generation_is_deterministic_and_about_the_asked_size():
    first, second = generate(seed=7), generate(seed=7)
    assert first.crimes == second.crimes and first.intel == second.intel
    assert generate(seed=8).crimes != first.crimes
    assert 4900 <= first.planted["incidents"] <= 5100


def test_police_file_has_the_police_uk_columns(demo):
    with open(demo.work_dir / "data" / "police_street_crime.csv", newline="") as handle:
        header = next(csv.reader(handle))
    assert header == [
        "Crime ID",
        "Month",
        "Reported by",
        "Falls within",
        "Longitude",
        "Latitude",
        "Location",
        "LSOA code",
        "LSOA name",
        "Crime type",
        "Last outcome category",
        "Context",
    ]


def test_screening_puts_the_vulnerable_person_first(demo):
    vulnerable = person_id(demo, demo.planted["vulnerable"])
    assert screen_for_vulnerable(demo.store, demo.model)[0] == vulnerable
    assert demo.result.subject_id == vulnerable


def test_subject_profile_finds_the_planted_offenders_with_their_evidence(demo):
    profile = build_subject_profile(demo.store, demo.model, person_id(demo, demo.planted["vulnerable"]))
    data = profile.to_dict()
    assert data["risk"]["party_to_crime"] is False
    by_person = {a["person"]: a for a in data["associations"]}
    footnotes = {f["n"]: f for f in data["footnotes"]}
    for nominal, urn in demo.planted["vulnerable_associates"].items():
        associate = by_person[person_id(demo, nominal)]
        assert associate["party_to_crime"], nominal
        cited = {footnotes[n]["record_id"] for e in associate["evidence"] for n in e["records"]}
        assert urn in cited, f"{nominal}: the intelligence report {urn} is not cited"
    known = {p["id"] for p in data["risk"]["knows_party_to_crime"]}
    assert {person_id(demo, n) for n in demo.planted["vulnerable_associates"]} <= known
    assert data["handling"] == "C"  # intelligence graded with conditions


def test_the_drugs_network_is_one_strong_group(demo):
    model = demo.model
    people, links, connectors = association_weights(model)
    involvement = model.descendants(Core.INVOLVED_IN)
    graph = to_networkx(demo.store.subgraph({*involvement, "livesAt", "usesPhone"}))
    projection = person_projection(graph, person_types=people, link_weights=links, connector_weights=connectors)
    network = {person_id(demo, n) for n in demo.planted["network"]}
    containing = [g for g in strong_groups(projection) if g & network]
    assert len(containing) == 1
    assert containing[0] == network


def test_the_hotspot_is_the_top_repeat_location_of_its_problem_and_rising(demo):
    problem = find_problem(demo.store, demo.planted["problem"])
    data = build_problem_profile(demo.store, demo.model, problem).to_dict()
    top = data["repeat_locations"][0]
    assert top["label"] == demo.planted["hotspot"]["street"]
    assert top["count"] > 1.5 * data["repeat_locations"][1]["count"]
    asb = [e for e in top["events"] if demo.store.get(e).type == "ASBIncident"]
    assert len(asb) == len(_council_asb_at(demo, demo.planted["hotspot"]))
    assert top["trend_per_month"] > 1.0


def _council_asb_at(demo, place: dict) -> list[dict]:
    """The council's ASB rows at a street, read straight from the file the council sent."""
    with open(demo.work_dir / "data" / "council_asb.csv", newline="") as handle:
        return [
            r for r in csv.DictReader(handle) if (r["Street"], r["LSOA Code"]) == (place["street"], place["lsoa_code"])
        ]


def test_the_repeat_victim_is_flagged(demo):
    problem = find_problem(demo.store, demo.planted["problem"])
    data = build_problem_profile(demo.store, demo.model, problem).to_dict()
    victim = person_id(demo, demo.planted["repeat_victim"])
    top = data["repeat_victims"][0]
    assert top["id"] == victim
    assert top["count"] == len(demo.planted["repeat_victim_crimes"])
    crime_refs = {demo.store.get(e).properties["reference"] for e in top["events"]}
    assert crime_refs == set(demo.planted["repeat_victim_crimes"])


def test_malformed_rows_land_in_rejects_and_the_rest_loads(demo):
    for bad in demo.planted["malformed"]:
        path = demo.work_dir / "rejects" / bad["file"].replace(".csv", ".rejects.csv")
        with open(path, newline="") as handle:
            rows = list(csv.DictReader(handle))
        key = "Case Reference" if "asb" in bad["file"] else "Crime ID"
        match = [r for r in rows if r[key] == bad["reference"]]
        assert len(match) == 1 and bad["reason"] in match[0]["reason"], (bad, rows)
        assert int(match[0]["row"]) >= 2
    reports = {r.file: r for r in demo.result.ingests}
    assert reports["council_asb.csv"].rows_rejected == 3
    assert reports["council_asb.csv"].rows_loaded == reports["council_asb.csv"].rows_read - 3


def test_running_the_demo_again_leaves_the_same_counts(demo):
    from nimgraph.demo import run_demo

    before = demo.store.counts()
    run_demo(demo.store, demo.model, demo.work_dir, say=lambda _: None)
    assert demo.store.counts() == before


def test_reports_are_written_as_json_and_self_contained_html(demo):
    for kind in ("subject", "problem"):
        html = demo.result.reports[kind].read_text()
        assert "vis.Network" in html and 'id="network"' in html
        assert "<script src=" not in html and "<link " not in html  # nothing fetched
        data = json.loads(demo.result.reports[kind].with_suffix(".json").read_text())
        assert data["product"] == f"{kind}_profile" and data["footnotes"]
