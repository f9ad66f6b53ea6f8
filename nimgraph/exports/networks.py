"""GraphML and GEXF (through networkx), for Gephi, yEd, Cytoscape and other network tools.

Both carry, as plain attributes of nodes and edges: the ontology type and its label, the display
label, the number of records behind the item and of distinct sources, the first and last record
dates, the most restrictive handling code, and the item's own properties. Edges also carry i2's
strength from the grade (:func:`nimgraph.exports.anx.strength`), whether they were inferred, and a
``weight`` (the number of records) that Gephi draws as thickness.

GEXF also carries time: an entity starts at its first record, and a link at its first record, and
neither ends, so Gephi's timeline plays the network growing as the records arrive. Undated items
are there from the start.

>>> import networkx as nx
>>> from nimgraph.ontology import default_model
>>> graph = nx.MultiDiGraph()
>>> graph.add_node("p1", type="Person", label="Ann Lee", properties={"surname": "Lee"},
...                provenance=[{"source": "police", "record_id": "N1", "date": "2024-03-01", "grade": "1AP",
...                             "handling": "P"}])
>>> graph.add_node("v1", type="Vehicle", label="AB12 CDE", properties={}, provenance=[])
>>> _ = graph.add_edge("p1", "v1", key="k1", type="usesVehicle", properties={},
...                    provenance=[{"source": "police", "record_id": "N1", "date": "2024-05-01", "grade": "2CC",
...                                 "handling": "C"}])
>>> graph.add_node("v2", type="Vehicle", label="XY", properties={"doors": 4}, provenance=[])
>>> graph.add_node("v3", type="Vehicle", label="ZZ", properties={"doors": "four"}, provenance=[])
>>> flat = flat_graph(graph, default_model())
>>> flat.nodes["v2"]["doors"], flat.nodes["v3"]["doors"]
('4', 'four')
>>> flat.nodes["p1"]["type"], flat.nodes["p1"]["records"], flat.edges["p1", "v1", "k1"]["strength"]
('Person', 1, 'Unconfirmed')
>>> b'timeformat="date"' in to_gexf(graph, default_model()), b"<graphml" in to_graphml(graph, default_model())
(True, True)
"""

from __future__ import annotations

import io
from typing import Any

import networkx as nx

from nimgraph.exports.anx import strength
from nimgraph.grading import HANDLING
from nimgraph.ontology import Model

__all__ = ["flat_graph", "to_gexf", "to_graphml"]

_FIXED = {"label", "type", "type_label", "records", "sources", "first_recorded", "last_recorded", "handling"}


def _scalar(value: Any) -> str | int | float | bool:
    if isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple, set)):
        return "; ".join(str(v) for v in value)
    return str(value)


def _summary(provenance: list[dict[str, Any]]) -> dict[str, Any]:
    dates = sorted(str(r["date"])[:10] for r in provenance if r.get("date"))
    codes = [r["handling"] for r in provenance if r.get("handling") in HANDLING]
    found: dict[str, Any] = {"records": len(provenance), "sources": len({r.get("source") for r in provenance})}
    if dates:
        found |= {"first_recorded": dates[0], "last_recorded": dates[-1]}
    if codes:
        found["handling"] = max(codes, key=list(HANDLING).index)
    return found


def _properties(properties: dict[str, Any]) -> dict[str, Any]:
    """An item's own properties, renamed where one would overwrite an attribute every item has."""
    return {
        (f"property_{k}" if k in _FIXED or k.startswith("property_") else k): _scalar(v)
        for k, v in sorted(properties.items())
        if v is not None
    }


def _one_type_per_attribute(items: list[dict[str, Any]]) -> None:
    """GraphML and GEXF declare one type per attribute: where partners gave one property as a number
    here and as text there, all of its values become text (whole numbers among decimals, decimals)."""
    kinds: dict[str, set[type]] = {}
    for data in items:
        for name, value in data.items():
            kinds.setdefault(name, set()).add(type(value))
    for name, seen in kinds.items():
        if len(seen) == 1:
            continue
        wanted: type = float if seen == {int, float} else str
        for data in items:
            if name in data:
                data[name] = wanted(data[name]) if wanted is float else _text(data[name])


def _text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def flat_graph(graph: nx.MultiDiGraph, model: Model, *, timeline: bool = False) -> nx.MultiDiGraph:
    """The export's graph with scalar attributes only (what GraphML and GEXF can hold); with
    ``timeline``, each node and edge also ``start``s at its first record."""
    flat = nx.MultiDiGraph()
    for node, data in sorted(graph.nodes(data=True)):
        type_name = data.get("type", "")
        entity_type = model.entities.get(type_name)
        attributes = _properties(dict(data.get("properties") or {}))
        attributes |= {"label": str(data.get("label") or node), "type": type_name}
        attributes["type_label"] = entity_type.label if entity_type else type_name
        attributes |= _summary(list(data.get("provenance") or []))
        flat.add_node(node, **attributes)
    for source, target, key, data in sorted(graph.edges(keys=True, data=True), key=lambda e: str(e[2])):
        type_name = data.get("type", "")
        link_type = model.links.get(type_name)
        provenance = list(data.get("provenance") or [])
        inferred = bool(link_type and link_type.inferred)
        attributes = _properties(dict(data.get("properties") or {}))
        attributes |= {"label": link_type.label if link_type else type_name, "type": type_name}
        attributes |= {"inferred": inferred, "strength": strength(provenance, inferred)}
        attributes |= _summary(provenance)
        attributes["weight"] = max(1, len(provenance))
        flat.add_edge(source, target, key=str(key), **attributes)
    _one_type_per_attribute([data for _node, data in flat.nodes(data=True)])
    _one_type_per_attribute([data for _s, _t, data in flat.edges(data=True)])
    if timeline:
        for _node, data in flat.nodes(data=True):
            if "first_recorded" in data:
                data["start"] = data["first_recorded"]
        for source, target, _key, data in flat.edges(keys=True, data=True):
            if "first_recorded" not in data:
                continue
            data["start"] = data["first_recorded"]
            for end in (source, target):  # an entity is on the chart no later than its first link
                node = flat.nodes[end]
                if "start" in node and node["start"] > data["start"]:
                    node["start"] = data["start"]
    return flat


def to_graphml(graph: nx.MultiDiGraph, model: Model) -> bytes:
    """GraphML (UTF-8), attributes typed as GraphML types them."""
    out = io.BytesIO()
    nx.write_graphml(flat_graph(graph, model), out, encoding="utf-8")
    return out.getvalue()


def to_gexf(graph: nx.MultiDiGraph, model: Model) -> bytes:
    """GEXF 1.2 (UTF-8), dynamic: Gephi's timeline plays the network as its records arrive."""
    flat = flat_graph(graph, model, timeline=True)
    for _source, _target, key, data in flat.edges(keys=True, data=True):
        data["id"] = key  # the link's id as the edge's, not a running number
    out = io.BytesIO()
    nx.write_gexf(flat, out, encoding="utf-8", version="1.2draft")
    return out.getvalue()
