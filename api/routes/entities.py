from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from api.deps import ModelDep, StoreDep
from api.schemas import EntityPage, EntityPublic, EntitySummary
from nimgraph.ontology import Core
from nimgraph.records import Entity

router = APIRouter(prefix="/entities", tags=["entities"])


def summary(entity: Entity) -> EntitySummary:
    return EntitySummary(id=entity.id, type=entity.type, label=entity.caption, properties=entity.properties)


@router.get("", response_model=EntityPage)
def search(
    store: StoreDep,
    model: ModelDep,
    type: Annotated[
        str | None, Query(description="An ontology type; subtypes are included", examples=[Core.PERSON])
    ] = None,
    q: Annotated[str | None, Query(description="Text in any property, or an exact id", examples=["Marlowe"])] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> EntityPage:
    """Search entities by type and text."""
    if type is not None:
        model.entity_type(type)
    found = store.find(type, q, limit=limit, offset=offset)
    return EntityPage(items=[summary(e) for e in found], limit=limit, offset=offset)


@router.get("/{entity_id}", response_model=EntityPublic)
def get_entity(entity_id: str, store: StoreDep) -> EntityPublic:
    """One entity with every source record that asserts it."""
    entity = store.get(entity_id)
    if entity is None:
        raise HTTPException(404, f"no entity with id {entity_id!r}")
    return EntityPublic(**summary(entity).model_dump(), provenance=[a.as_dict() for a in entity.provenance])
