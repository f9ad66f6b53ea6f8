from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, JSONResponse

from api.deps import ModelDep, StoreDep
from nimgraph.products import render
from nimgraph.products.problem import build_problem_profile
from nimgraph.products.subject import build_subject_profile

router = APIRouter(prefix="/profiles", tags=["profiles"])
Format = Annotated[Literal["json", "html"], Query(description="json, or html for the report with its network")]


def _respond(product, fmt: str):
    if fmt == "html":
        return HTMLResponse(render.to_html(product))
    return JSONResponse(product.to_dict())


@router.get("/subject/{entity_id}", responses={200: {"content": {"text/html": {}}}})
def subject_profile(entity_id: str, store: StoreDep, model: ModelDep, format: Format = "json"):
    """The subject profile of a person: identifiers, involvement, associations, risks, gaps."""
    return _respond(build_subject_profile(store, model, entity_id), format)


@router.get("/problem/{entity_id}", responses={200: {"content": {"text/html": {}}}})
def problem_profile(
    entity_id: str,
    store: StoreDep,
    model: ModelDep,
    format: Format = "json",
    months: Annotated[int, Query(ge=1, le=60)] = 12,
):
    """The problem profile: volume, repeat locations, victims and offenders within the problem's areas."""
    return _respond(build_problem_profile(store, model, entity_id, months=months), format)
