"""People associated with a person, with the evidence, filtered by link type, time and grade."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from api.auth import ViewDep
from api.deps import ModelDep, SettingsDep
from api.graphs import Format, graph_page
from api.notice import clearance_notice
from api.params import MAX_HOPS, EntityId, LinkTypes, known_link_types, not_found
from api.schemas import AssociationList
from nimgraph.grading import GradeError, parse_minimum
from nimgraph.labels import entity_label
from nimgraph.ontology import Core
from nimgraph.products import connections

router = APIRouter(prefix="/entities", tags=["associations"])


@router.get(
    "/{entity_id}/associations",
    response_model=AssociationList,
    responses={200: {"content": {"text/html": {}}, "description": "The associations, as JSON or drawn"}},
)
def list_associations(
    entity_id: EntityId,
    view: ViewDep,
    model: ModelDep,
    settings: SettingsDep,
    hops: Annotated[int, Query(ge=2, le=MAX_HOPS, description="How far to look for shared connectors")] = 2,
    link_types: LinkTypes = None,
    since: Annotated[date | None, Query(description="Only records dated on or after this day")] = None,
    until: Annotated[date | None, Query(description="Only records dated on or before this day")] = None,
    min_grade: Annotated[
        str | None,
        Query(description="Only records graded at least this well: source 1-3 then assessment A-E", examples=["2B"]),
    ] = None,
    min_strength: Annotated[float, Query(ge=0, le=1e6)] = 0.0,
    format: Format = "json",
):
    """People associated with a person, strongest first, with the evidence and its grading.

    The time window and the minimum grade apply to the records behind each link: a link with no
    record inside them does not count. An undated record is outside every window.
    """
    if since and until and since > until:
        raise HTTPException(400, f"since ({since}) is after until ({until})")
    try:
        minimum = parse_minimum(min_grade) if min_grade else None
    except GradeError as err:
        raise HTTPException(400, str(err)) from None
    entity = view.get(entity_id)
    if entity is None:
        raise not_found(entity_id)
    if not model.is_a(entity.type, Core.PERSON):
        raise HTTPException(400, f"{entity_id!r} is a {entity.type}; associations are between people")
    follow = known_link_types(model, link_types)
    counted = connections.records_counted(
        since.isoformat() if since else None, until.isoformat() if until else None, minimum
    )
    network, found = connections.person_associations(view, model, entity.id, hops, follow, counted, min_strength)
    if format == "html":
        return graph_page(
            f"Associations of {entity_label(model, entity)}",
            connections.association_graph(network, entity.id, found),
            model,
            focus=[entity.id],
            clearance=clearance_notice(view.clearance, settings),
            max_nodes=settings.viz_max_nodes,
            summary=[f"{len(found)} associated people within {hops} hops"],
        )
    return AssociationList(
        subject=entity.id,
        hops=hops,
        link_types=sorted(follow) if follow else None,
        since=since.isoformat() if since else None,
        until=until.isoformat() if until else None,
        min_grade=f"{minimum[0]}{minimum[1]}" if minimum else None,
        items=connections.association_rows(network, found),
        clearance=clearance_notice(view.clearance, settings),
    )
