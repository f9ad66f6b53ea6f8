"""Which groups exist: connected components and communities of a projection."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.auth import ViewDep
from api.deps import ModelDep, SettingsDep
from api.questions import HTML_CSV_OR_JSON, AnswerFormat, AnswerPublic, ProjectionDep, ScopeDep, answered, respond
from nimgraph.products.groupings import METHODS, Method, groups

router = APIRouter(prefix="/groups", tags=["questions"])


@router.get("", response_model=AnswerPublic, responses=HTML_CSV_OR_JSON)
def list_groups(
    view: ViewDep,
    model: ModelDep,
    settings: SettingsDep,
    scope: ScopeDep,
    projection: ProjectionDep,
    method: Annotated[Method, Query(description="; ".join(f"{k}: {v}" for k, v in METHODS.items()))] = "components",
    min_size: Annotated[int, Query(ge=1, le=100_000, description="Smallest group listed")] = 2,
    top: Annotated[int, Query(ge=1, le=1000, description="How many groups, largest first")] = 20,
    resolution: Annotated[float, Query(gt=0, le=100, description="Communities: above 1 gives smaller groups")] = 1.0,
    seed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    format: AnswerFormat = "json",
):
    """The groups of a projection, largest first, with their members: connected components, or
    Louvain or Leiden communities, over the whole graph or a scope, among what you may see."""
    answer = answered(
        lambda: groups(
            view,
            model,
            method,
            scope=scope,
            projection=projection,
            min_size=min_size,
            top=top,
            resolution=resolution,
            seed=seed,
        )
    )
    return respond(answer, view, model, settings, format)
