"""Paths between two entities, and the network that connects several."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query

from api.auth import ViewDep
from api.deps import ModelDep, SettingsDep
from api.graphs import Format, graph_page, graph_public
from api.notice import clearance_notice
from api.params import ENTITY_ID_HELP, MAX_PATH_HOPS, SEARCH_TEXT, LinkTypes, known_link_types, not_found
from api.questions import HTML_CSV_OR_JSON, AnswerFormat, respond
from api.schemas import ConnectingNetworkPublic, PathList
from nimgraph.access.view import ClearedView
from nimgraph.ontology import Model
from nimgraph.products import connections, finding
from nimgraph.products.common import NotVisible, ProductError

router = APIRouter(prefix="/paths", tags=["paths"])

MaxHops = Annotated[int, Query(ge=1, le=MAX_PATH_HOPS, description="Longest path to look for, in links")]
MaxEntities = Annotated[int, Query(ge=10, le=20_000, description="Entities read around the ends at most")]
ID_OR_LABEL = {
    "min_length": 1,
    "max_length": 200,
    "pattern": SEARCH_TEXT,
    "description": f"{ENTITY_ID_HELP}; or the exact label of one entity, e.g. a name or a phone number",
}
HTML_OR_JSON = {200: {"content": {"text/html": {}}, "description": "The result, as JSON or drawn"}}


@router.get("", response_model=PathList, responses=HTML_CSV_OR_JSON)
def paths_between(
    view: ViewDep,
    model: ModelDep,
    settings: SettingsDep,
    source: Annotated[str, Query(alias="from", **ID_OR_LABEL)],
    target: Annotated[str, Query(alias="to", **ID_OR_LABEL)],
    max_hops: MaxHops = 4,
    link_types: LinkTypes = None,
    direction: Annotated[
        Literal["both", "out", "in"], Query(description="both ignores direction; out follows links forwards")
    ] = "both",
    limit: Annotated[int, Query(ge=1, le=100, description="Most shortest paths to return")] = 10,
    max_entities: MaxEntities = 5000,
    format: AnswerFormat = "json",
):
    """The shortest paths between two entities, up to ``max_hops`` links, with the graph they run through.

    Both ends are read out to half the hop limit each, so every path of that length is found
    unless ``max_entities`` cut the read short (``graph.truncated``).
    """
    source, target = (_resolved(view, model, reference) for reference in (source, target))
    follow = known_link_types(model, link_types)
    on_paths, found = connections.paths_between(
        view, source, target, follow, max_hops=max_hops, limit=limit, direction=direction, max_entities=max_entities
    )
    view.release_only([*on_paths.graph.nodes, source, target], before=set())  # what the answer shows
    if format == "csv":
        asked = {"from": source, "to": target, "max_hops": max_hops, "direction": direction, "limit": limit}
        return respond(connections.paths_answer(on_paths, found, model, asked), view, model, settings, format)
    if format == "html":
        return graph_page(
            "Paths",
            on_paths.graph,
            model,
            focus=[source, target],
            clearance=clearance_notice(view.clearance, settings),
            max_nodes=settings.viz_max_nodes,
            summary=[f"{len(found)} shortest path(s) of at most {max_hops} links"],
        )
    return PathList(
        source=source,
        target=target,
        max_hops=max_hops,
        paths=found,
        graph=graph_public(on_paths.graph, model, truncated=on_paths.truncated),
        clearance=clearance_notice(view.clearance, settings),
    )


@router.get("/network", response_model=ConnectingNetworkPublic, responses=HTML_OR_JSON)
def network_connecting(
    view: ViewDep,
    model: ModelDep,
    settings: SettingsDep,
    ids: Annotated[
        list[str], Query(min_length=2, max_length=20, description="Two to twenty entity ids or exact labels")
    ],
    max_hops: MaxHops = 4,
    link_types: LinkTypes = None,
    max_entities: MaxEntities = 5000,
    format: Format = "json",
):
    """How several entities connect: the shortest paths between every pair, merged, with the
    intermediaries that join most pairs first."""
    for reference in ids:
        if len(reference) > 200 or not re.match(SEARCH_TEXT, reference):
            raise HTTPException(422, f"ids: {reference[:50]!r} is neither an entity id nor a label")
    ids = [_resolved(view, model, reference) for reference in ids]
    follow = known_link_types(model, link_types)
    drawn, found = connections.connecting(view, ids, follow, max_hops=max_hops, max_entities=max_entities)
    view.release_only([*drawn.graph.nodes, *ids], before=set())  # what the answer shows
    if format == "html":
        return graph_page(
            "Connecting network",
            drawn.graph,
            model,
            focus=list(dict.fromkeys(ids)),
            clearance=clearance_notice(view.clearance, settings),
            max_nodes=settings.viz_max_nodes,
            summary=[f"{len(found.paths)} connected pair(s), {len(found.unconnected)} unconnected"],
        )
    return ConnectingNetworkPublic(
        subjects=found.subjects,
        paths=[{"between": list(pair), "paths": p} for pair, p in found.paths.items()],
        unconnected=[list(pair) for pair in found.unconnected],
        intermediaries=found.intermediaries,
        graph=graph_public(drawn.graph, model, truncated=drawn.truncated),
        clearance=clearance_notice(view.clearance, settings),
    )


def _resolved(view: ClearedView, model: Model, reference: str) -> str:
    """The id of the entity the caller named by id or by exact label; 404 as for a missing id."""
    try:
        return finding.resolve(view, model, reference).id
    except ProductError as err:
        raise HTTPException(400, str(err)) from None
    except NotVisible:
        raise not_found(reference) from None
