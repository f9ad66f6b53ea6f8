"""What a drawing says: styles by type, kind and grade, tooltips with provenance, caps and dates."""

from __future__ import annotations

import json

import networkx as nx

from nimgraph.viz.network import LARGE, network_view


def _record(n: int, grade: str, date: str | None = None) -> list[dict]:
    return [{"source": "test", "record_id": f"R{n}", "date": date, "grade": grade, "handling": "P"}]


def _graph() -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    g.add_node("ann", type="Person", label="Ann", provenance=_record(1, "1AP"), properties={})
    g.add_node("bob", type="Person", label="Bob", provenance=_record(2, "1AP"), properties={})
    g.add_node(
        "e1", type="CrimeIncident", label="Burglary", provenance=_record(3, "1AP"), properties={"date": "2026-03-04"}
    )
    g.add_node("e2", type="ASBIncident", label="Noise", provenance=_record(4, "1BP"), properties={"date": "2026-07-09"})
    g.add_edge("ann", "e1", key="k1", type="victimIn", provenance=_record(5, "1AP"))
    g.add_edge("bob", "e1", key="k2", type="offenderIn", provenance=_record(6, "3DC"))
    g.add_edge("ann", "bob", key="k3", type="predictedAssociation", provenance=_record(7, "1AP"))
    g.add_edge("bob", "e2", key="k4", type="offenderIn", provenance=_record(8, "2BP"))
    return g


def test_styles_say_type_kind_grade_and_inference(model):
    view = network_view(_graph(), model, focus=["ann"])
    nodes = {n["id"]: n for n in json.loads(view.nodes_json)}
    edges = {(e["from"], e["to"]): e for e in json.loads(view.edges_json)}
    assert nodes["e1"]["shape"] != nodes["e2"]["shape"] and nodes["e1"]["color"] == nodes["e2"]["color"]
    labels = [entry.label for entry in view.legend]
    assert {"CrimeIncident (Event)", "ASBIncident (Event)", "Person"} <= set(labels)
    assert edges[("ann", "e1")]["dashes"] is False
    assert edges[("bob", "e1")]["dashes"] == [8, 6]  # 3D: not reliable
    assert edges[("ann", "bob")]["dashes"] == [2, 4]  # inferred
    assert edges[("ann", "e1")]["width"] > edges[("bob", "e2")]["width"] > edges[("bob", "e1")]["width"]
    assert {e.shape for e in view.link_legend} == {"solid", "dashed", "dotted"}
    assert "test R6" in edges[("bob", "e1")]["title"] and "[3DC]" in edges[("bob", "e1")]["title"]
    assert "test R1" in nodes["ann"]["title"]


def test_dates_feed_the_time_filter(model):
    view = network_view(_graph(), model)
    assert view.dates == ("2026-03-04", "2026-07-09")
    edges = {(e["from"], e["to"]): e for e in json.loads(view.edges_json)}
    assert edges[("bob", "e2")]["date"] == "2026-07-09" and edges[("ann", "bob")]["date"] is None


def test_a_cap_keeps_the_nearest_and_says_what_it_left_out(model):
    g = nx.MultiDiGraph()
    for i in range(40):
        g.add_node(f"p{i}", type="Person", label=f"P{i}", provenance=[], properties={})
        if i:
            g.add_edge(f"p{i - 1}", f"p{i}", key=f"k{i}", type="knows", provenance=_record(i, "1AP"))
    view = network_view(g, model, focus=["p0"], max_nodes=10)
    assert view.node_count == 10
    assert {n["id"] for n in json.loads(view.nodes_json)} == {f"p{i}" for i in range(10)}
    assert "30 further nodes" in view.note


def test_large_drawings_come_with_positions_and_no_physics(model):
    g = nx.MultiDiGraph()
    for i in range(LARGE + 10):
        g.add_node(f"p{i}", type="Person", label=f"P{i}", provenance=[], properties={})
        g.add_edge(f"p{i}", f"p{(i * 7) % (LARGE + 10)}", key=f"k{i}", type="knows", provenance=_record(i, "1AP"))
    view = network_view(g, model, max_nodes=LARGE + 10)
    nodes = json.loads(view.nodes_json)
    assert view.precomputed and json.loads(view.options_json)["physics"] == {"enabled": False}
    assert all(isinstance(n["x"], float) and isinstance(n["y"], float) for n in nodes)
    assert len({(n["x"], n["y"]) for n in nodes}) > len(nodes) * 0.9
    assert view.nodes_json == network_view(g, model, max_nodes=LARGE + 10).nodes_json  # seeded
