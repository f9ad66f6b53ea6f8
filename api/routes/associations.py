from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from api.deps import ModelDep, StoreDep
from api.schemas import AssociationList
from nimgraph.analysis.association import associations
from nimgraph.analysis.build import to_networkx
from nimgraph.ontology import Core
from nimgraph.products.common import association_weights

router = APIRouter(prefix="/entities", tags=["associations"])


@router.get("/{entity_id}/associations", response_model=AssociationList)
def list_associations(
    entity_id: str,
    store: StoreDep,
    model: ModelDep,
    hops: Annotated[int, Query(ge=2, le=4, description="How far to look for shared connectors")] = 2,
    min_strength: Annotated[float, Query(ge=0)] = 0.0,
) -> AssociationList:
    """People associated with a person, strongest first, with the evidence and its grading."""
    entity = store.get(entity_id)
    if entity is None:
        raise HTTPException(404, f"no entity with id {entity_id!r}")
    if not model.is_a(entity.type, Core.PERSON):
        raise HTTPException(400, f"{entity_id!r} is a {entity.type}; associations are between people")
    graph = to_networkx(store.neighbourhood([entity_id], hops=hops))
    people, links, connectors = association_weights(model)
    found = associations(graph, entity_id, person_types=people, link_weights=links, connector_weights=connectors)
    items = [
        {
            "person": a.person,
            "label": graph.nodes[a.person].get("label", a.person),
            "strength": round(a.strength, 4),
            "evidence": [
                {
                    "kind": e.kind,
                    "via": e.via,
                    "via_label": graph.nodes[e.via].get("label") if e.via else None,
                    "weight": round(e.weight, 4),
                    "records": list(e.records),
                }
                for e in a.evidence
            ],
        }
        for a in found
        if a.strength >= min_strength
    ]
    return AssociationList(subject=entity_id, hops=hops, items=items)
