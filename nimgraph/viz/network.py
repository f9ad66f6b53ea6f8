"""Interactive networks with pyvis, rendered self-contained: vis-network is inlined, nothing is fetched.

pyvis builds the nodes, edges and options; its own HTML template pulls Bootstrap from a CDN, so
the page around them is ours (``templates/``), with vis-network's script and style read from the
pyvis package and written into the page.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import networkx as nx
from markupsafe import Markup
from pyvis.network import Network

from nimgraph.grading import weakly_sourced
from nimgraph.ontology import Core, Model

VIS_DIR = "templates/lib/vis-9.1.2"

# Colours and shapes per POLE category, chosen to stay distinct for common colour blindness.
STYLE = {
    Core.PERSON: {"color": "#0072B2", "shape": "dot"},
    Core.OBJECT: {"color": "#E69F00", "shape": "diamond"},
    Core.LOCATION: {"color": "#009E73", "shape": "square"},
    Core.AREA: {"color": "#7FBFA0", "shape": "square"},
    Core.EVENT: {"color": "#D55E00", "shape": "triangle"},
    Core.INTELLIGENCE_REPORT: {"color": "#CC79A7", "shape": "star"},
    Core.PROBLEM: {"color": "#56B4E9", "shape": "hexagon"},
    "Other": {"color": "#999999", "shape": "dot"},
}
DEFAULT_MAX_NODES = 300


@dataclass(frozen=True)
class NetworkView:
    """What a page needs to draw one network."""

    nodes_json: Markup
    edges_json: Markup
    options_json: Markup
    legend: list[tuple[str, str, str]]  # (category, colour, shape)
    node_count: int
    edge_count: int
    note: str | None  # what was left out, when a cap applied


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
        lines.append(f"{record['source']} {record['record_id']} [{record['grade']}]")
    if len(provenance) > 6:
        lines.append(f"... and {len(provenance) - 6} more records")
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
    return kept, f"Showing the {max_nodes} nodes nearest the subject; {left} further nodes are not drawn."


def network_view(
    graph: nx.MultiDiGraph,
    category_of: Callable[[str], str],
    *,
    focus: list[str] | None = None,
    max_nodes: int = DEFAULT_MAX_NODES,
    model: Model | None = None,
) -> NetworkView:
    """Style ``graph`` for vis-network: nodes by POLE category, weakly sourced links dashed."""
    focus = [f for f in (focus or []) if f in graph]
    shown, note = _capped(graph, focus, max_nodes)

    def inferred(link_type: str) -> bool:
        return model is not None and link_type in model.links and model.links[link_type].inferred

    net = Network(directed=True, cdn_resources="in_line")
    used: dict[str, dict] = {}
    for node, data in shown.nodes(data=True):
        category = category_of(data.get("type", ""))
        style = STYLE.get(category, STYLE["Other"])
        used[category] = style
        net.add_node(
            node,
            label=str(data.get("label", node))[:40],
            title=_tooltip(str(data.get("label", node)), data.get("type", "?"), data.get("provenance", [])),
            color=style["color"],
            shape=style["shape"],
            size=26 if node in focus else 14,
            borderWidth=4 if node in focus else 1,
        )
    for u, v, data in shown.edges(data=True):
        provenance = data.get("provenance", [])
        net.add_edge(
            u,
            v,
            title=_tooltip(data.get("type", ""), "link", provenance),
            label=data.get("type", ""),
            dashes=[2, 4] if inferred(data.get("type", "")) else weakly_sourced(provenance),
            arrows="to",
        )
    nodes, edges, *_ = net.get_network_data()
    options = {
        "physics": {
            "solver": "forceAtlas2Based",
            "stabilization": {"enabled": True, "iterations": 300, "fit": True},
        },
        "edges": {"font": {"size": 9, "align": "middle"}, "smooth": False, "color": {"inherit": False}},
        "nodes": {"font": {"size": 12}},
        "interaction": {"hover": True, "tooltipDelay": 120},
    }
    return NetworkView(
        nodes_json=_script_json(nodes),
        edges_json=_script_json(edges),
        options_json=_script_json(options),
        legend=[(c, s["color"], s["shape"]) for c, s in sorted(used.items())],
        node_count=len(nodes),
        edge_count=len(edges),
        note=note,
    )
