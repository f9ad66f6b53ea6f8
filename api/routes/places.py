"""Where crime of a kind is concentrated: locations or areas ranked by their events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.auth import ViewDep
from api.deps import ModelDep, SettingsDep
from api.questions import HTML_CSV_OR_JSON, AnswerFormat, AnswerPublic, ScopeDep, answered, respond
from api.routes.search import property_filters
from nimgraph.ontology import Core
from nimgraph.products.places import Level, places

router = APIRouter(prefix="/places", tags=["questions"])


@router.get("", response_model=AnswerPublic, responses=HTML_CSV_OR_JSON)
def ranked_places(
    view: ViewDep,
    model: ModelDep,
    settings: SettingsDep,
    scope: ScopeDep,
    event_types: Annotated[
        list[str],
        Query(description="Event types counted (subtypes included), e.g. CrimeIncident", examples=[[Core.EVENT]]),
    ] = [Core.EVENT],  # noqa: B006 - FastAPI copies defaults per request
    where: Annotated[
        list[str],
        Query(
            description="Event property equals value, as name:value (repeatable)",
            examples=[["outcome:Under investigation"]],
        ),
    ] = [],  # noqa: B006
    level: Annotated[
        Level, Query(description="location: where events occurred; area: areas they lie within")
    ] = "location",
    area_types: Annotated[list[str], Query(description="With level=area: which areas")] = [Core.AREA],  # noqa: B006
    top: Annotated[int, Query(ge=1, le=1000)] = 20,
    format: AnswerFormat = "json",
):
    """Locations, or areas, by how many events of the chosen types (with the property values given)
    occurred there, in the ``since``/``until`` window by the event's own date, top N with ties."""
    filters = property_filters(model, where)
    answer = answered(
        lambda: places(
            view,
            model,
            event_types=tuple(event_types),
            where=filters,
            level=level,
            area_types=tuple(area_types),
            scope=scope,
            top=top,
        )
    )
    return respond(answer, view, model, settings, format)
