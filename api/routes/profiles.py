"""The subject profile and the problem profile, built from what the caller is cleared to see."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, JSONResponse

from api.auth import ViewDep
from api.deps import ModelDep, SettingsDep
from api.notice import clearance_notice
from api.params import EntityId
from api.workbooks import PAGE_OR_TABLES, tables_download
from nimgraph.access.view import ClearedView
from nimgraph.config import Settings
from nimgraph.products import render
from nimgraph.products.problem import build_problem_profile
from nimgraph.products.subject import build_subject_profile

router = APIRouter(prefix="/profiles", tags=["profiles"])
Format = Annotated[
    Literal["json", "html", "xlsx"],
    Query(description="json; html for the report with its network; xlsx for its tables, a sheet each"),
]
HTML_OR_JSON = PAGE_OR_TABLES


def _respond(product, fmt: str, view: ClearedView, settings: Settings):
    notice = clearance_notice(view.clearance, settings)
    if fmt == "html":
        return HTMLResponse(render.to_html(product, notice=notice.notice))
    if fmt == "xlsx":
        data = product.to_dict()
        return tables_download(data, notice.notice, str(data.get("product", "profile")))
    return JSONResponse({**product.to_dict(), "clearance": notice.model_dump()})


@router.get("/subject/{entity_id}", responses=HTML_OR_JSON)
def subject_profile(
    entity_id: EntityId, view: ViewDep, model: ModelDep, settings: SettingsDep, format: Format = "json"
):
    """The subject profile of a person: identifiers, involvement, associations, risks, gaps."""
    return _respond(build_subject_profile(view, model, entity_id), format, view, settings)


@router.get("/problem/{entity_id}", responses=HTML_OR_JSON)
def problem_profile(
    entity_id: EntityId,
    view: ViewDep,
    model: ModelDep,
    settings: SettingsDep,
    format: Format = "json",
    months: Annotated[int, Query(ge=1, le=60)] = 12,
):
    """The problem profile: volume, repeat locations, victims and offenders within the problem's areas."""
    return _respond(build_problem_profile(view, model, entity_id, months=months), format, view, settings)
