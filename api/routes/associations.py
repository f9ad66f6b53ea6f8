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
from nimgraph.grading import GradeError, meets, parse_minimum
from nimgraph.labels import entity_label
from nimgraph.ontology import Core
from nimgraph.products.connections import person_associations
from nimgraph.records import Assertion

router = APIRouter(prefix="/entities", tags=["associations"])


def _in_window(since: date | None, until: date | None):
    def keep(record: Assertion) -> bool:
        if since is None and until is None:
            return True
        if not record.date:
            return False  # an undated record cannot be placed inside a window
        day = record.date[:10]
        return (since is None or day >= since.isoformat()) and (until is None or day <= until.isoformat())

    return keep


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
    window = _in_window(since, until)
    network, found = person_associations(
        view,
        model,
        entity.id,
        hops,
        follow,
        lambda record: window(record) and (minimum is None or meets(record.grade, minimum)),
        min_strength,
    )
    graph = network.graph
    if format == "html":
        keep = {entity.id} | {a.person for a in found} | {e.via for a in found for e in a.evidence if e.via}
        return graph_page(
            f"Associations of {entity_label(model, entity)}",
            graph.subgraph(keep).copy(),
            model,
            focus=[entity.id],
            clearance=clearance_notice(view.clearance, settings),
            max_nodes=settings.viz_max_nodes,
            summary=[f"{len(found)} associated people within {hops} hops"],
        )
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
    ]
    return AssociationList(
        subject=entity.id,
        hops=hops,
        link_types=sorted(follow) if follow else None,
        since=since.isoformat() if since else None,
        until=until.isoformat() if until else None,
        min_grade=f"{minimum[0]}{minimum[1]}" if minimum else None,
        items=items,
        clearance=clearance_notice(view.clearance, settings),
    )
