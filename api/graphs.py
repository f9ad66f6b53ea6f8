"""Graph-shaped results as JSON, or as a self-contained page that draws them (``format=html``)."""

from __future__ import annotations

from typing import Annotated, Literal

import networkx as nx
from fastapi import Query
from fastapi.responses import HTMLResponse

from api.schemas import ClearanceNotice, GraphPublic, LinkPublic, NodePublic
from nimgraph.grading import HANDLING, most_restrictive
from nimgraph.ontology import Model
from nimgraph.products.render import environment
from nimgraph.viz.network import network_view, vis_assets

Format = Annotated[
    Literal["json", "html"], Query(description="json, or html for a page that draws the graph (works offline)")
]


def graph_public(
    graph: nx.MultiDiGraph, model: Model, truncated: bool = False, clearance: ClearanceNotice | None = None
) -> GraphPublic:
    nodes = [
        NodePublic(
            id=node,
            type=data.get("type", ""),
            label=str(data.get("label", node)),
            properties=data.get("properties", {}),
            provenance=data.get("provenance", []),
        )
        for node, data in graph.nodes(data=True)
    ]
    links = [
        LinkPublic(
            id=key,
            type=data.get("type", ""),
            source=u,
            target=v,
            inferred=data.get("type") in model.links and model.links[data["type"]].inferred,
            provenance=data.get("provenance", []),
        )
        for u, v, key, data in graph.edges(keys=True, data=True)
    ]
    return GraphPublic(nodes=nodes, links=links, truncated=truncated, clearance=clearance)


def graph_page(
    title: str,
    graph: nx.MultiDiGraph,
    model: Model,
    *,
    focus: list[str],
    clearance: ClearanceNotice,
    max_nodes: int,
    summary: list[str] | None = None,
) -> HTMLResponse:
    """One HTML file: the graph drawn with vis-network inlined, a legend, and the clearance notice."""
    codes = {r["handling"] for _, d in graph.nodes(data=True) for r in d.get("provenance", [])}
    codes |= {r["handling"] for *_, d in graph.edges(data=True) for r in d.get("provenance", [])}
    handling = most_restrictive(codes)
    script, style = vis_assets()
    page = (
        environment()
        .get_template("graph.html")
        .render(
            title=title,
            summary=summary or [],
            view=network_view(graph, model, focus=focus, max_nodes=max_nodes),
            notice=clearance.notice,
            handling=handling,
            handling_text=HANDLING[handling],
            vis_script=script,
            vis_style=style,
        )
    )
    return HTMLResponse(page)
