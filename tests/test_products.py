"""Product sections that the demo does not exercise, on a small planted graph, on both stores."""

from __future__ import annotations

from nimgraph.products.problem import build_problem_profile
from nimgraph.products.render import to_html
from nimgraph.records import Assertion, Batch, Entity, Link


def _record(record_id: str, handling: str = "P", day: str = "2026-03-06") -> Assertion:
    return Assertion("csp", record_id, "register.csv", 2, day, f"1A{handling}", handling)


def _planted() -> Batch:
    entities = [
        Entity("prb", "Problem", {"reference": "PRB-1", "title": "Parade ASB"}, [_record("prb")]),
        Entity("lsoa", "LSOA", {"areaCode": "E01000001", "name": "Parade 001A"}, [_record("lsoa")]),
        Entity("parade", "Street", {"name": "The Parade"}, [_record("parade")]),
        Entity("act1", "Activity", {"name": "Dispersal order", "pillar": "Enforcement"}, [_record("act1", "C")]),
        Entity("act2", "Activity", {"name": "Youth club nights", "pillar": "Prevention"}, [_record("act2")]),
        Entity("out1", "Outcome", {"name": "ASB reports down", "measure": "reports per month"}, [_record("out1")]),
    ]
    links = [
        Link("c1", "concerns", "prb", "lsoa", {}, [_record("c1")]),
        Link("w1", "within", "parade", "lsoa", {}, [_record("w1")]),
        Link("r1", "respondsTo", "act1", "prb", {}, [_record("r1", "C")]),
        Link("r2", "respondsTo", "act2", "prb", {}, [_record("r2")]),
        Link("o1", "outcomeOf", "out1", "prb", {}, [_record("o1")]),
    ]
    for i, (day, time) in enumerate([("2026-03-06", "21:10"), ("2026-03-07", "22:40"), ("2026-03-13", "21:55")]):
        props = {"reference": f"ASB{i}", "date": day, "dateTime": f"{day}T{time}:00"}
        entities.append(Entity(f"asb{i}", "ASBIncident", props, [_record(f"asb{i}", day=day)]))
        links.append(Link(f"at{i}", "occurredAt", f"asb{i}", "parade", {}, [_record(f"asb{i}", day=day)]))
    return Batch(entities=entities, links=links)


def test_previous_activity_outcomes_and_the_heat_matrix(store, model):
    store.upsert(_planted())
    data = build_problem_profile(store, model, "prb", link_problems=False).to_dict()
    activity = data["previous_activity"]
    assert [a["label"] for a in activity["activities"]] == ["Dispersal order", "Youth club nights"]
    assert [o["label"] for o in activity["outcomes"]] == ["ASB reports down"]
    assert not any("No previous activity" in g for g in data["intelligence_gaps"])
    assert data["handling"] == "C"  # the dispersal order's record is C-handled, and the product cites it
    timing = data["timing"]
    assert timing["peak"] == {"weekday": "Friday", "hour": 21, "events": 2} and timing["timed_events"] == 3
    html = to_html(build_problem_profile(store, model, "prb", link_problems=False))
    assert "Dispersal order" in html and "Friday 21:00" in html
