"""The demo plants patterns; the analysis and the products must find each one, on both stores."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import date, timedelta
from importlib import resources

import pytest
import yaml
from conftest import Demo, demo_on, person_id
from scipy.stats import poisson_means_test

from nimgraph.analysis.association import person_projection
from nimgraph.analysis.build import to_networkx
from nimgraph.analysis.communities import communities, strong_groups
from nimgraph.analysis.inference import predict_associations
from nimgraph.analysis.paths import connecting_network
from nimgraph.analysis.repeats import event_points, near_repeats, rank_areas
from nimgraph.analysis.risk import criminal_triangles, parties_to_crime, relatives_with_criminal_associates
from nimgraph.demo import find_problem, run_demo, screen_for_vulnerable
from nimgraph.demo.generate import Dataset, generate
from nimgraph.inferences import accept, undo
from nimgraph.labels import entity_label
from nimgraph.ontology import Core
from nimgraph.products.common import association_weights
from nimgraph.products.problem import build_problem_profile
from nimgraph.products.subject import build_subject_profile


def test_generation_is_deterministic_and_about_the_asked_size():
    first, second = generate(seed=7), generate(seed=7)
    assert first.crimes == second.crimes and first.intel == second.intel
    assert generate(seed=8).crimes != first.crimes
    assert 4900 <= first.planted["incidents"] <= 5100


@pytest.fixture(scope="module", params=[2026, 1, 2, 3])
def generated(request: pytest.FixtureRequest) -> Dataset:
    """The demo's rows in memory, for the default seed and three others: the planted verdicts hold for each."""
    return generate(seed=request.param)


def _year(data: Dataset, month: str) -> str:
    """Which year of the assessment a YYYY-MM month falls in: "current", "previous" or ""."""
    for year in ("current", "previous"):
        period = data.planted["assessment"][f"{year}_year"]
        if period["from"] <= month <= period["to"]:
            return year
    return ""


def _day(text: str) -> date:
    """A council (DD/MM/YYYY) or fire (ISO date-time) date."""
    if "/" in text:
        day, month, year = text.split("/")
        return date(int(year), int(month), int(day))
    return date.fromisoformat(text[:10])


def _day_dated(data: Dataset) -> list[tuple[date, str, str, str]]:
    """(day, street, LSOA, file) of every ASB report and fire with a real date."""
    malformed = {m["reference"] for m in data.planted["malformed"]}
    rows = [(r[1], r[4], r[6], "asb") for r in data.asb if r[0] not in malformed and r[1]]
    rows += [(r[1], r[4], r[5], "fire") for r in data.fires]
    return [(_day(d), street, lsoa, kind) for d, street, lsoa, kind in rows]


def test_the_demo_covers_this_year_and_last_with_the_background_split_evenly(generated):
    data = generated
    months = Counter(r[1] for r in data.crimes)
    assessment = data.planted["assessment"]
    assert min(months) == assessment["previous_year"]["from"] and max(months) == assessment["current_year"]["to"]
    assert len(months) == 24 and all(_year(data, m) for m in months)
    by_year = Counter(_year(data, r[1]) for r in data.crimes)
    # The previous year holds about half the background and none of the current year's patterns.
    assert 0.4 < by_year["previous"] / len(data.crimes) < 0.5
    previous = [n for m, n in months.items() if _year(data, m) == "previous"]
    assert max(previous) < 1.5 * min(previous)
    named = {r[0] for r in data.nominals}
    share = {
        year: sum(r[0] in named for r in data.crimes if _year(data, r[1]) == year) / by_year[year]
        for year in ("current", "previous")
    }
    # The same rate, drawn: the current year's planted crimes, nearly all named, add about 2 points.
    assert -0.03 < share["current"] - share["previous"] < 0.08, share


def test_the_assessment_counts_are_the_police_files_and_give_the_planted_verdicts(generated):
    data = generated
    assessment = data.planted["assessment"]
    rejected = {m["reference"] for m in data.planted["malformed"]}
    counted: dict[str, Counter] = {}
    for row in data.crimes:
        if row[0] not in rejected:
            counted.setdefault(row[9], Counter())[_year(data, row[1])] += 1
    assert {c: dict(n) for c, n in counted.items()} == {
        c: {y: n for y, n in years.items() if n} for c, years in assessment["counts"].items()
    }
    counts = assessment["counts"]

    def p_value(category: str) -> float:
        return poisson_means_test(counts[category]["current"], 1, counts[category]["previous"], 1).pvalue

    rise = assessment["significant_rise"]
    assert counts[rise]["current"] > counts[rise]["previous"] and p_value(rise) < 0.001
    assert p_value(assessment["not_significant"]) > 0.5
    weights = yaml.safe_load((resources.files("nimgraph") / "data" / "harm_index.yaml").read_text())["weights"]
    lift = assessment["harm_lift"]
    high_harm, high_volume = counts[lift["high_harm"]]["current"], counts[lift["high_volume"]]["current"]
    assert 2 * high_harm < high_volume
    assert high_harm * weights[lift["high_harm"]] > 5 * high_volume * weights[lift["high_volume"]]


def test_the_emerging_hotspot_is_a_quiet_street_until_a_burst_that_ends_the_data(generated):
    data = generated
    assessment = data.planted["assessment"]
    spot = assessment["emerging_hotspot"]
    events = _day_dated(data)
    last_day = date.fromisoformat(assessment["last_day"])
    assert max(day for day, *_ in events) == last_day == date.fromisoformat(spot["to"])
    assert date.fromisoformat(spot["from"]) == last_day - timedelta(days=27)
    there = [(day, kind) for day, street, lsoa, kind in events if (street, lsoa) == (spot["street"], spot["lsoa_code"])]
    window = [kind for day, kind in there if day >= date.fromisoformat(spot["from"])]
    assert len(window) == spot["events"] == spot["asb"] + spot["fires"] and spot["fires"] > 0
    assert len(there) - len(window) == spot["before"] <= 3
    in_window = Counter((street, lsoa) for day, street, lsoa, _ in events if day >= date.fromisoformat(spot["from"]))
    assert in_window.most_common(1)[0][0] == (spot["street"], spot["lsoa_code"])
    assert spot["lsoa_code"] not in (data.planted["hotspot"]["lsoa_code"], assessment["priority"]["lsoa_code"])
    # ASB reports carry no coordinates: the street's come from its fires.
    places = {(r[6], r[7]) for r in data.fires if (r[4], r[5]) == (spot["street"], spot["lsoa_code"])}
    assert places == {(f"{spot['latitude']:.6f}", f"{spot['longitude']:.6f}")}


def test_the_priority_is_robbery_rising_in_one_area_with_repeat_victims(generated):
    data = generated
    assessment = data.planted["assessment"]
    priority = assessment["priority"]
    robberies = [r for r in data.crimes if r[9] == priority["category"]]
    there = Counter(_year(data, r[1]) for r in robberies if r[7] == priority["lsoa_code"])
    elsewhere = Counter(_year(data, r[1]) for r in robberies if r[7] != priority["lsoa_code"])
    assert (there["current"], there["previous"]) == (priority["current"], priority["previous"])
    assert priority["current"] >= 3 * priority["previous"]
    assert poisson_means_test(priority["current"], 1, priority["previous"], 1).pvalue < 0.01
    assert elsewhere == Counter(priority["elsewhere"]) and elsewhere["current"] == elsewhere["previous"]
    assert priority["lsoa_code"] != data.planted["hotspot"]["lsoa_code"]
    assert {r[8] for r in robberies if r[7] == priority["lsoa_code"]} == {priority["lsoa_name"]}
    this_year = {r[0] for r in robberies if r[7] == priority["lsoa_code"] and _year(data, r[1]) == "current"}
    victims: dict[str, set[str]] = {}
    for row in data.nominals:
        if row[0] in this_year and row[5] == "Victim":
            victims.setdefault(row[1], set()).add(row[0])
    assert set().union(*victims.values()) == this_year  # every robbery there this year names its victim
    assert sorted(victims) == priority["victims"]
    repeat = {nominal: crimes for nominal, crimes in victims.items() if len(crimes) > 1}
    assert repeat == {nominal: set(crimes) for nominal, crimes in priority["repeat_victims"].items()}
    assert len(repeat) == 2


def test_the_emerging_hotspots_reports_are_placed_at_its_street_in_the_store(demo):
    spot = demo.planted["assessment"]["emerging_hotspot"]
    streets = [
        e
        for e in demo.store.find("Street", spot["street"])
        if e.properties.get("name") == spot["street"] and e.properties.get("latitude") == spot["latitude"]
    ]
    assert len(streets) == 1 and streets[0].properties["longitude"] == spot["longitude"]
    events = demo.store.neighbourhood([streets[0].id], 1, {Core.OCCURRED_AT}).entities.values()
    by_type = Counter(e.type for e in events if e.id != streets[0].id)
    assert by_type == {"ASBIncident": spot["asb"] + spot["before"], "DeliberateFire": spot["fires"]}


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


@pytest.fixture(scope="module", params=["embedded", "neo4j"])
def planted(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, model) -> Demo:
    """The demo on each store: the session's embedded run, and the same files loaded into Neo4j."""
    return demo_on(request, tmp_path_factory, model, link=False)  # reads no proposals


def _projection(demo: Demo):
    model = demo.model
    people, links, connectors = association_weights(model)
    involvement = model.descendants(Core.INVOLVED_IN)
    graph = to_networkx(demo.store.subgraph({*involvement, "livesAt", "usesPhone", *links}))
    return graph, person_projection(graph, person_types=people, link_weights=links, connector_weights=connectors)


def test_screening_puts_the_vulnerable_person_first(planted):
    demo = planted
    vulnerable = person_id(demo, demo.planted["vulnerable"])
    assert screen_for_vulnerable(demo.store, demo.model)[0] == vulnerable
    assert demo.result.subject_id == vulnerable


def test_subject_profile_finds_the_planted_offenders_with_their_evidence(planted):
    demo = planted
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


def test_the_drugs_network_is_one_strong_group(planted):
    demo = planted
    _, projection = _projection(demo)
    network = {person_id(demo, n) for n in demo.planted["network"]}
    containing = [g for g in strong_groups(projection) if g & network]
    assert len(containing) == 1
    assert containing[0] == network


@pytest.mark.parametrize("method", ["louvain", "leiden"])
def test_the_drugs_network_is_one_community(planted, method):
    demo = planted
    _, projection = _projection(demo)
    network = {person_id(demo, n) for n in demo.planted["network"]}
    containing = [c for c in communities(projection, method=method) if c & network]
    assert len(containing) == 1 and network <= containing[0]
    # The network, its robbery victims and the people intelligence links to it; not a district.
    assert len(containing[0]) <= len(network) + 6


def test_the_network_holds_the_most_triangles_of_the_criminal_subgraph(planted):
    demo = planted
    graph, projection = _projection(demo)
    involvement = {*demo.model.descendants(Core.OFFENDER_IN), *demo.model.descendants(Core.SUSPECT_IN)}
    ranked = criminal_triangles(projection, parties_to_crime(graph, involvement))
    network = {person_id(demo, n) for n in demo.planted["network"]}
    assert {r["person"] for r in ranked[:5]} <= network
    assert ranked[0]["triangles"] > max(r["triangles"] for r in ranked if r["person"] not in network)


def test_the_vulnerable_persons_sibling_is_flagged_and_lives_with_them(planted):
    demo, model = planted, planted.model
    graph, _ = _projection(demo)
    found = relatives_with_criminal_associates(
        graph,
        family=set(model.descendants("familyOf")),
        association=set(model.descendants(Core.ASSOCIATED_WITH)),
        involvement={*model.descendants(Core.OFFENDER_IN), *model.descendants(Core.SUSPECT_IN)},
        household=set(model.descendants("livesWith")),
        residence=set(model.descendants("livesAt")),
    )
    top = found[0]
    assert top.person == person_id(demo, demo.planted["vulnerable_relative"])
    assert top.relative == person_id(demo, demo.planted["vulnerable"])
    assert top.lives_with_relative
    assert set(top.relatives_associates) == {person_id(demo, n) for n in demo.planted["vulnerable_associates"]}


def test_the_vulnerable_person_connects_their_sibling_to_the_network(planted):
    demo = planted
    graph, _ = _projection(demo)
    subjects = [
        person_id(demo, n) for n in [demo.planted["vulnerable_relative"], *demo.planted["vulnerable_associates"]]
    ]
    found = connecting_network(graph, subjects, max_hops=4)
    assert found.intermediaries[0]["id"] == person_id(demo, demo.planted["vulnerable"])
    assert found.intermediaries[0]["pairs"] >= len(demo.planted["vulnerable_associates"])
    assert not found.unconnected


def test_the_hotspot_area_rises_fastest_and_its_asb_repeats_nearby(planted):
    demo = planted
    graph = to_networkx(demo.store.subgraph({Core.OCCURRED_AT, Core.WITHIN}))
    rising = rank_areas(graph, {Core.OCCURRED_AT}, {Core.WITHIN}, {"LSOA"}, by="trend")
    assert demo.store.get(rising[0].id).properties["areaCode"] == demo.planted["hotspot"]["lsoa_code"]
    asb = near_repeats(event_points(graph, {Core.OCCURRED_AT}, {"ASBIncident"}), metres=50, days=7)
    assert asb.knox_ratio > 1.0
    hotspot = [e.id for e in demo.store.find("Street", demo.planted["hotspot"]["street"])]
    longest = max(asb.chains, key=len)
    places = {v for e in longest for _, v, t in graph.out_edges(e, data="type") if t == Core.OCCURRED_AT}
    assert places == set(hotspot)


def test_the_hotspot_is_the_top_repeat_location_of_its_problem_and_rising(planted):
    demo = planted
    problem = find_problem(demo.store, demo.planted["problem"])
    data = build_problem_profile(demo.store, demo.model, problem).to_dict()
    top = data["repeat_locations"][0]
    assert top["label"] == demo.planted["hotspot"]["street"]
    assert top["count"] > 1.5 * data["repeat_locations"][1]["count"]
    asb = [e for e in top["events"] if demo.store.get(e).type == "ASBIncident"]
    # The file holds last year too; the profile covers its window (the last 12 months) only.
    window = data["scope"]["from"], data["scope"]["to"]
    assert len(asb) == len(_council_asb_at(demo, demo.planted["hotspot"], window))
    assert top["trend_per_month"] > 1.0


def _council_asb_at(demo, place: dict, window: tuple[str, str]) -> list[dict]:
    """The council's ASB rows at a street in a window of ISO dates, read straight from the file the council sent."""
    with open(demo.work_dir / "data" / "council_asb.csv", newline="") as handle:
        rows = [
            r for r in csv.DictReader(handle) if (r["Street"], r["LSOA Code"]) == (place["street"], place["lsoa_code"])
        ]
    return [r for r in rows if window[0] <= "-".join(reversed(r["Date Reported"].split("/"))) <= window[1]]


def test_the_repeat_victim_is_flagged(planted):
    demo = planted
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


def test_the_problem_profile_finds_the_hotspots_hours_and_the_linked_problem(planted):
    demo = planted
    problem = find_problem(demo.store, demo.planted["problem"])
    data = build_problem_profile(demo.store, demo.model, problem).to_dict()
    timing = data["timing"]
    hotspot = demo.planted["hotspot"]
    assert timing["peak"]["weekday"] in hotspot["asb_weekdays"] and timing["peak"]["hour"] in hotspot["asb_hours"]
    # police.uk crimes are dated to the month: counted apart, not spread over weekdays
    assert timing["month_only"] == data["volume"]["by_type"]["CrimeIncident"] > 0
    linked = {row["problem"]: row for row in data["linked_problems"]}
    other = find_problem(demo.store, "PRB-0009")
    assert other in linked and linked[other]["records"]
    areas = {
        e.properties["areaCode"]
        for p in (problem, other)
        for e in demo.store.neighbourhood([p], 1, {Core.CONCERNS}).entities.values()
        if e.type == "LSOA"
    }
    follow = {*demo.model.descendants(Core.INVOLVED_IN), Core.OCCURRED_AT, Core.WITHIN}
    for example in linked[other]["examples"]:  # each shared person acted in both problems' areas
        assert example["type"] == "Person"
        around = demo.store.neighbourhood([example["id"]], 3, follow).entities.values()
        assert areas <= {e.properties.get("areaCode") for e in around if e.type == "LSOA"}, example
    # the demo records its intervention against the problem: the profile lists it, and no gap says none is
    done = {a["id"] for a in data["previous_activity"]["activities"]}
    assert done == {demo.result.intervention["enforcement"], demo.result.intervention["prevention"]}
    assert not any("No previous activity" in g for g in data["intelligence_gaps"])
    assert data["people"]["associated"] > 0


def test_subject_profile_proposes_the_rest_of_the_network_as_inferred_and_keeps_them_apart(planted):
    demo = planted
    subject = person_id(demo, demo.planted["vulnerable"])
    data = build_subject_profile(demo.store, demo.model, subject).to_dict()
    network = {person_id(demo, n) for n in demo.planted["network"]}
    known = {person_id(demo, n) for n in demo.planted["vulnerable_associates"]}
    proposed = [row for row in data["inferred_links"] if row["status"] == "proposed"]
    assert proposed and all(row["inferred"] for row in data["inferred_links"])
    assert {row["person"] for row in proposed} <= network - known
    assert data["events_by_role"] == {} and data["timeline"] == {}  # party to no event
    sibling = person_id(demo, demo.planted["vulnerable_relative"])
    own = [g for g in data["network_groups"] if g["includes_subject"]]
    assert len(own) == 1 and sibling in {m["id"] for m in own[0]["members"]}
    network_groups = [g for g in data["network_groups"] if len(network & {m["id"] for m in g["members"]}) >= 3]
    assert network_groups and not network_groups[0]["includes_subject"]  # they know the network; not part of it
    # Accepted, the inference is shown as an accepted inferred link, never as a recorded association.
    inference = next(
        i
        for i in predict_associations(_projection(demo)[1], among=[subject])
        if proposed[0]["person"] in i.evidence or proposed[0]["person"] in (i.source, i.target)
    )
    accept(demo.store, demo.model, inference, analyst="test")
    try:
        again = build_subject_profile(demo.store, demo.model, subject).to_dict()
        accepted = [row for row in again["inferred_links"] if row["status"] == "accepted"]
        assert [row["person"] for row in accepted] == [proposed[0]["person"]]
        assert proposed[0]["person"] not in {a["person"] for a in again["associations"]}
    finally:
        assert undo(demo.store, inference.id)


def test_the_siblings_profile_flags_the_relative_they_live_with(planted):
    demo = planted
    sibling = person_id(demo, demo.planted["vulnerable_relative"])
    data = build_subject_profile(demo.store, demo.model, sibling).to_dict()
    flagged = data["risk"]["relatives_with_criminal_associates"]
    relative = person_id(demo, demo.planted["vulnerable"])
    assert flagged == [
        {
            "relative": relative,
            "label": entity_label(demo.model, demo.store.get(relative)),
            "associates": len(demo.planted["vulnerable_associates"]),
            "lives_with": True,
        }
    ]
