"""Who is at risk through association: screenings for review, with each count defined."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.auth import ViewDep
from api.deps import ModelDep, SettingsDep
from api.questions import HTML_CSV_OR_JSON, AnswerFormat, AnswerPublic, ScopeDep, answered, respond
from nimgraph.products.screenings import INDICATORS, Indicator, Links, screen

router = APIRouter(prefix="/screenings", tags=["questions"])

LinkList = Annotated[list[str], Query(description="Link types (subtypes included); none: the ontology's default")]


@router.get("", response_model=AnswerPublic, responses=HTML_CSV_OR_JSON)
def screenings(
    view: ViewDep,
    model: ModelDep,
    settings: SettingsDep,
    scope: ScopeDep,
    indicator: Annotated[
        Indicator, Query(description="; ".join(f"{k}: {v}" for k, v in INDICATORS.items()))
    ] = "criminal_associates",
    association: LinkList = [],  # noqa: B006 - FastAPI copies defaults per request
    involvement: LinkList = [],  # noqa: B006
    family: LinkList = [],  # noqa: B006
    household: LinkList = [],  # noqa: B006
    residence: LinkList = [],  # noqa: B006
    min_associates: Annotated[int, Query(ge=1, le=1000, description="Fewest associates party to crime")] = 2,
    min_within_two_hops: Annotated[
        int | None, Query(ge=1, le=1000, description="Or this many within two associations")
    ] = None,
    min_triangles: Annotated[int, Query(ge=1, le=100_000)] = 1,
    top: Annotated[int, Query(ge=1, le=1000)] = 50,
    format: AnswerFormat = "json",
):
    """People at risk through the people they know (``criminal_associates``), through a relative
    (``relatives``, and whether they live together), or at the core of a group party to crime
    (``criminal_triangles``). The link types are parameters; every count is defined in ``columns``."""
    links = Links(
        association=tuple(association),
        involvement=tuple(involvement),
        family=tuple(family),
        household=tuple(household),
        residence=tuple(residence),
    )
    answer = answered(
        lambda: screen(
            view,
            model,
            indicator,
            scope=scope,
            links=links,
            min_associates=min_associates,
            min_within_two_hops=min_within_two_hops,
            min_triangles=min_triangles,
            top=top,
        )
    )
    return respond(answer, view, model, settings, format)
