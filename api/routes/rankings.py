"""Who is most central: a measure over a projection of the graph or a scope, top N with ties."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.auth import ViewDep
from api.deps import ModelDep, SettingsDep
from api.questions import HTML_CSV_OR_JSON, AnswerFormat, AnswerPublic, ProjectionDep, ScopeDep, answered, respond
from nimgraph.products.rankings import DEFINITIONS, Measure, rank

router = APIRouter(prefix="/rankings", tags=["questions"])


@router.get("", response_model=AnswerPublic, responses=HTML_CSV_OR_JSON)
def rankings(
    view: ViewDep,
    model: ModelDep,
    settings: SettingsDep,
    scope: ScopeDep,
    projection: ProjectionDep,
    measure: Annotated[Measure, Query(description="; ".join(f"{k}: {v}" for k, v in DEFINITIONS.items()))] = "degree",
    top: Annotated[int, Query(ge=1, le=1000, description="How many to list; ties with the last are listed too")] = 20,
    weighted: Annotated[bool, Query(description="Use the ontology's association weights (distances 1/weight)")] = True,
    normalised: Annotated[bool, Query(description="Betweenness divided by the number of pairs (0 to 1)")] = True,
    pivots: Annotated[
        int | None, Query(ge=10, le=100_000, description="Betweenness above 2,000 nodes: pivots sampled (500)")
    ] = None,
    seed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    format: AnswerFormat = "json",
):
    """Rank the nodes of a projection (entity ``types`` joined by ``link_types``, or through ``via``)
    by one measure, over the whole graph or a scope (``within`` a chart, ``around`` entities, an
    ``area``, a ``problem``, a ``since``/``until`` window). Only what you may see is read, so
    nothing hidden is ranked, counted or tied."""
    answer = answered(
        lambda: rank(
            view,
            model,
            measure,
            scope=scope,
            projection=projection,
            top=top,
            weighted=weighted,
            normalised=normalised,
            pivots=pivots,
            seed=seed,
            workers=settings.analysis_workers,
        )
    )
    return respond(answer, view, model, settings, format)
