"""Interactive networks with pyvis, rendered self-contained: vis-network is inlined, nothing is fetched.

pyvis builds the nodes, edges and options; its own HTML template pulls Bootstrap from a CDN, so
the page around them is ours (``templates/_network.html``), with vis-network's script and style
read from the pyvis package and written into the page.

What the drawing says:

- a node's colour is its POLE category and its shape its entity type, both in the legend;
- an edge's colour is its kind of link (the link type's top ancestor), its width the best grade
  behind it; dashed when every record behind it is untested or unreliable, dotted when inferred;
- tooltips list the source records behind a node or an edge;
- past ``max_nodes`` the nodes nearest the focus are kept and a note says how many were left out;
- past ``LARGE`` nodes the positions are computed on the server (``layout.py``) and the browser
  draws without physics; smaller graphs settle in the browser, which stops after stabilising;
- dated graphs (events, or links whose records are dated) carry dates, and the page offers a
  time filter; undated items always show.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import networkx as nx
from markupsafe import Markup
from pyvis.network import Network

from nimgraph.analysis.build import reliability
from nimgraph.grading import weakly_sourced
from nimgraph.ontology import Core, Model
from nimgraph.viz.layout import precomputed_positions

VIS_DIR = "templates/lib/vis-9.1.2"

# Colours per POLE category, chosen to stay distinct for common colour blindness.
CATEGORY_COLOUR = {
    Core.PERSON: "#0072B2",
    Core.OBJECT: "#E69F00",
    Core.LOCATION: "#009E73",
    Core.AREA: "#7FBFA0",
    Core.EVENT: "#D55E00",
    Core.INTELLIGENCE_REPORT: "#CC79A7",
    Core.PROBLEM: "#56B4E9",
    "Other": "#999999",
}
# Shapes handed to the entity types of one category in name order; the category's root type first.
SHAPES = ("dot", "diamond", "square", "triangle", "star", "hexagon", "triangleDown", "ellipse")
# Handed out in order to the kinds of link one drawing holds, so its legend tells them apart.
LINK_COLOURS = (
    "#4477AA", "#CC6677", "#228833", "#AA3377", "#EE7733", "#66CCEE",
    "#882255", "#999933", "#0077BB", "#EE3377", "#117733", "#332288",
)  # fmt: skip
INFERRED_COLOUR = "#777777"
DEFAULT_MAX_NODES = 300
LARGE = 500  # above this many nodes: no edge labels, positions computed on the server


@dataclass(frozen=True)
class LegendEntry:
    label: str
    colour: str
    shape: str  # a vis-network shape for nodes; "solid", "dashed" or "dotted" for links


@dataclass(frozen=True)
class NetworkView:
    """What a page needs to draw one network."""

    nodes_json: Markup
    edges_json: Markup
    options_json: Markup
    legend: list[LegendEntry]
    link_legend: list[LegendEntry]
    node_count: int
    edge_count: int
    note: str | None  # what was left out, when a cap applied
    dates: tuple[str, str] | None  # the first and last date drawn, for the time filter
    precomputed: bool = False  # positions came from the server; no physics in the browser


@cache
def vis_assets() -> tuple[Markup, Markup]:
    """vis-network's script and stylesheet from the pyvis package, to inline into pages."""
    base = files("pyvis").joinpath(VIS_DIR)
    script = base.joinpath("vis-network.min.js").read_text(encoding="utf-8")
    style = base.joinpath("vis-network.css").read_text(encoding="utf-8")
    return Markup(script.replace("</script", "<\\/script")), Markup(style)


def _script_json(value: object) -> Markup:
    """JSON safe to place inside a <script> element, whatever the data holds."""
    text = json.dumps(value, default=str)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _tooltip(label: str, kind: str, provenance: list[dict]) -> str:
    lines = [f"{label} ({kind})"]
    for record in provenance[:6]:
        dated = f" {record['date']}" if record.get("date") else ""
        lines.append(f"{record['source']} {record['record_id']}{dated} [{record['grade']}]")
    if len(provenance) > 6:
        lines.append(f"... and {len(provenance) - 6} more records")
    if not provenance:
        lines.append("no source records shown")
    return "\n".join(lines)


def _capped(graph: nx.MultiDiGraph, focus: list[str], max_nodes: int) -> tuple[nx.MultiDiGraph, str | None]:
    if graph.number_of_nodes() <= max_nodes:
        return graph, None
    undirected = graph.to_undirected(as_view=True)
    order: dict[str, int] = {}
    for seed in focus:
        for node, distance in nx.single_source_shortest_path_length(undirected, seed).items():
            order[node] = min(order.get(node, distance), distance)
    ranked = sorted(graph, key=lambda n: (order.get(n, 99), -graph.degree(n), n))
    kept = graph.subgraph(ranked[:max_nodes])
    left = graph.number_of_nodes() - max_nodes
    anchor = "the subject" if len(focus) == 1 else "the subjects" if focus else "the best connected"
    return kept, (
        f"Showing the {max_nodes} nodes nearest {anchor}; {left} further nodes and their links are not drawn."
    )


class Styles:
    """Node styles per entity type and edge colours per kind of link, from the Model."""

    def __init__(self, model: Model) -> None:
        self.model = model
        roots = Core.entity_terms()
        self.category: dict[str, str] = {}
        self.shape: dict[str, str] = {}
        by_category: dict[str, list[str]] = {}
        for name in sorted(model.entities):
            lineage = model.ancestors(name)
            category = next((r for r in roots if r in lineage), "Other")
            self.category[name] = category
            by_category.setdefault(category, []).append(name)
        for category, names in by_category.items():
            names.sort(key=lambda n: (n != category, n))
            for index, name in enumerate(names):
                self.shape[name] = SHAPES[index % len(SHAPES)]

    def node(self, type_name: str) -> tuple[str, str, str]:
        category = self.category.get(type_name, "Other")
        return category, CATEGORY_COLOUR.get(category, CATEGORY_COLOUR["Other"]), self.shape.get(type_name, "dot")

    def kind(self, link_type: str) -> str:
        return self.model.ancestors(link_type)[-1] if link_type in self.model.links else link_type

    def inferred(self, link_type: str) -> bool:
        return link_type in self.model.links and self.model.links[link_type].inferred


def _date(data: dict) -> str | None:
    value = data.get("properties", {}).get("date")
    return str(value)[:10] if value else None


def _link_date(u_date: str | None, v_date: str | None, provenance: list[dict]) -> str | None:
    if u_date or v_date:
        return u_date or v_date
    dated = sorted(str(r["date"])[:10] for r in provenance if r.get("date"))
    return dated[0] if dated else None


def network_view(
    graph: nx.MultiDiGraph,
    model: Model,
    *,
    focus: list[str] | None = None,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> NetworkView:
    """Style ``graph`` for vis-network (see the module docstring for what the styling says)."""
    styles = Styles(model)  # a few dozen types: cheaper to build than to cache on an unhashable Model
    focus = [f for f in (focus or []) if f in graph]
    shown, note = _capped(graph, focus, max_nodes)
    large = shown.number_of_nodes() > LARGE
    positions = precomputed_positions(shown) if large else {}
    net = Network(directed=True, cdn_resources="in_line")
    types_drawn: dict[str, tuple[str, str, str]] = {}
    dates: list[str] = []
    node_dates: dict[str, str | None] = {}
    for node, data in shown.nodes(data=True):
        type_name = data.get("type", "")
        category, colour, shape = styles.node(type_name)
        types_drawn[type_name] = (category, colour, shape)
        when = node_dates[node] = _date(data)
        dates.extend([when] if when else [])
        label = str(data.get("label", node))
        net.add_node(
            node,
            label=label[:40],
            title=_tooltip(label, type_name or "?", data.get("provenance", [])),
            color=colour,
            shape=shape,
            size=26 if node in focus else 14,
            borderWidth=4 if node in focus else 1,
            date=when,
            entityType=type_name,
            **({"x": positions[node][0], "y": positions[node][1]} if large else {}),
        )
    kinds_drawn = sorted({styles.kind(t) for *_, t in shown.edges(data="type", default="")})
    colour_of = {kind: LINK_COLOURS[i % len(LINK_COLOURS)] for i, kind in enumerate(kinds_drawn)}
    colour_of |= {kind: INFERRED_COLOUR for kind in kinds_drawn if styles.inferred(kind)}
    styles_drawn: set[str] = set()
    for u, v, data in shown.edges(data=True):
        provenance = data.get("provenance", [])
        link_type = data.get("type", "")
        kind = styles.kind(link_type)
        if styles.inferred(link_type):
            dashes, drawn_as = [2, 4], "dotted"
        elif weakly_sourced(provenance):
            dashes, drawn_as = [8, 6], "dashed"
        else:
            dashes, drawn_as = False, "solid"
        styles_drawn.add(drawn_as)
        when = _link_date(node_dates.get(u), node_dates.get(v), provenance)
        dates.extend([when] if when else [])
        net.add_edge(
            u,
            v,
            title=_tooltip(link_type, "link", provenance),
            label="" if large else link_type,
            dashes=dashes,
            color=colour_of[kind],
            width=round(1 + 2 * reliability(provenance), 2) if provenance else 1,
            arrows="to",
            date=when,
            linkType=link_type,
        )
    nodes, edges, *_ = net.get_network_data()
    options = {
        "physics": {"enabled": False}
        if large
        else {"solver": "forceAtlas2Based", "stabilization": {"enabled": True, "iterations": 300, "fit": True}},
        "layout": {"improvedLayout": not large},
        "edges": {"font": {"size": 9, "align": "middle"}, "smooth": False},
        "nodes": {"font": {"size": 12}},
        "interaction": {"hover": True, "tooltipDelay": 120, "hideEdgesOnDrag": large},
    }
    legend = [
        LegendEntry(f"{type_name} ({category})" if type_name != category else type_name, colour, shape)
        for type_name, (category, colour, shape) in sorted(types_drawn.items(), key=lambda t: (t[1][0], t[0]))
    ]
    link_legend = [
        LegendEntry(kind, colour_of[kind], "dotted" if styles.inferred(kind) else "solid") for kind in kinds_drawn
    ]
    link_legend += [
        LegendEntry(text, "#555555", style)
        for style, text in (("dashed", "untested or unreliable source"), ("dotted", "inferred, not recorded"))
        if style in styles_drawn
    ]
    return NetworkView(
        nodes_json=_script_json(nodes),
        edges_json=_script_json(edges),
        options_json=_script_json(options),
        legend=legend,
        link_legend=link_legend,
        node_count=len(nodes),
        edge_count=len(edges),
        note=note,
        dates=(min(dates), max(dates)) if dates else None,
        precomputed=large,
    )
