"""One entity with its provenance, and the network around it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.auth import ViewDep
from api.deps import ModelDep, SettingsDep
from api.graphs import Format, graph_page, graph_public
from api.notice import clearance_notice
from api.params import MAX_HOPS, EntityId, LinkTypes, known_link_types, not_found
from api.schemas import EntityPage, EntityPublic, EntitySummary, GraphPublic
from nimgraph.access.view import ClearedView
from nimgraph.config import Settings
from nimgraph.labels import entity_label
from nimgraph.ontology import Model
from nimgraph.products.connections import network_around
from nimgraph.records import Entity

router = APIRouter(prefix="/entities", tags=["entities"])


def summary(entity: Entity, model: Model) -> EntitySummary:
    return EntitySummary(
        id=entity.id, type=entity.type, label=entity_label(model, entity), properties=entity.properties
    )


def entity_page(
    view: ClearedView,
    model: Model,
    settings: Settings,
    found: list[Entity],
    limit: int,
    offset: int,
    has_more: bool | None = None,
) -> EntityPage:
    """One page of a search through ``view``, counted among what the caller can see."""
    more = view.has_more if has_more is None else has_more
    return EntityPage(
        items=[summary(e, model) for e in found],
        limit=limit,
        offset=offset,
        next_offset=offset + limit if more else None,
        clearance=clearance_notice(view.clearance, settings),
    )


@router.get("/{entity_id}", response_model=EntityPublic)
def get_entity(entity_id: EntityId, view: ViewDep, model: ModelDep, settings: SettingsDep) -> EntityPublic:
    """One entity with every source record that asserts it (those you are cleared to see)."""
    entity = view.get(entity_id)
    if entity is None:
        raise not_found(entity_id)
    return EntityPublic(
        **summary(entity, model).model_dump(),
        provenance=[a.as_dict() for a in entity.provenance],
        clearance=clearance_notice(view.clearance, settings),
    )


@router.get(
    "/{entity_id}/network",
    response_model=GraphPublic,
    responses={200: {"content": {"text/html": {}}, "description": "The graph, as JSON or drawn"}},
)
def entity_network(
    entity_id: EntityId,
    view: ViewDep,
    model: ModelDep,
    settings: SettingsDep,
    hops: Annotated[int, Query(ge=1, le=MAX_HOPS, description="How many links out from the entity")] = 2,
    link_types: LinkTypes = None,
    max_entities: Annotated[int, Query(ge=1, le=5000)] = 500,
    format: Format = "json",
):
    """The entities and links within ``hops`` of an entity, nearest first up to ``max_entities``."""
    entity = view.get(entity_id)
    if entity is None:
        raise not_found(entity_id)
    follow = known_link_types(model, link_types)
    network = network_around(view, entity_id, hops, follow, max_entities)
    graph = network.graph
    if format == "html":
        return graph_page(
            f"Network around {entity_label(model, entity)}",
            graph,
            model,
            focus=[entity_id],
            clearance=clearance_notice(view.clearance, settings),
            max_nodes=settings.viz_max_nodes,
            summary=[f"{hops} hops" + (", capped" if network.truncated else "")],
        )
    return graph_public(graph, model, truncated=network.truncated, clearance=clearance_notice(view.clearance, settings))
