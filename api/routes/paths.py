"""Paths between two entities, and the network that connects several."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query

from api.auth import ViewDep
from api.deps import ModelDep, SettingsDep
from api.graphs import Format, graph_page, graph_public
from api.notice import clearance_notice
from api.params import ENTITY_ID, ENTITY_ID_HELP, MAX_PATH_HOPS, LinkTypes, known_link_types, not_found
from api.schemas import ConnectingNetworkPublic, PathList
from nimgraph.products import connections

router = APIRouter(prefix="/paths", tags=["paths"])

MaxHops = Annotated[int, Query(ge=1, le=MAX_PATH_HOPS, description="Longest path to look for, in links")]
MaxEntities = Annotated[int, Query(ge=10, le=20_000, description="Entities read around the ends at most")]
HTML_OR_JSON = {200: {"content": {"text/html": {}}, "description": "The result, as JSON or drawn"}}


@router.get("", response_model=PathList, responses=HTML_OR_JSON)
def paths_between(
    view: ViewDep,
    model: ModelDep,
    settings: SettingsDep,
    source: Annotated[str, Query(alias="from", pattern=ENTITY_ID, description=ENTITY_ID_HELP)],
    target: Annotated[str, Query(alias="to", pattern=ENTITY_ID, description=ENTITY_ID_HELP)],
    max_hops: MaxHops = 4,
    link_types: LinkTypes = None,
    direction: Annotated[
        Literal["both", "out", "in"], Query(description="both ignores direction; out follows links forwards")
    ] = "both",
    limit: Annotated[int, Query(ge=1, le=100, description="Most shortest paths to return")] = 10,
    max_entities: MaxEntities = 5000,
    format: Format = "json",
):
    """The shortest paths between two entities, up to ``max_hops`` links, with the graph they run through.

    Both ends are read out to half the hop limit each, so every path of that length is found
    unless ``max_entities`` cut the read short (``graph.truncated``).
    """
    for entity_id in (source, target):
        if view.get(entity_id) is None:
            raise not_found(entity_id)
    follow = known_link_types(model, link_types)
    on_paths, found = connections.paths_between(
        view, source, target, follow, max_hops=max_hops, limit=limit, direction=direction, max_entities=max_entities
    )
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
    ids: Annotated[list[str], Query(min_length=2, max_length=20, description="Two to twenty entity ids")],
    max_hops: MaxHops = 4,
    link_types: LinkTypes = None,
    max_entities: MaxEntities = 5000,
    format: Format = "json",
):
    """How several entities connect: the shortest paths between every pair, merged, with the
    intermediaries that join most pairs first."""
    for entity_id in ids:
        if not re.match(ENTITY_ID, entity_id):
            raise HTTPException(422, f"ids: {entity_id!r} is not an entity id")
        if view.get(entity_id) is None:
            raise not_found(entity_id)
    follow = known_link_types(model, link_types)
    drawn, found = connections.connecting(view, ids, follow, max_hops=max_hops, max_entities=max_entities)
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
