"""Problems on the partnership's register, and the links between them."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import HTMLResponse, JSONResponse

from api.auth import ViewDep
from api.deps import ModelDep, SettingsDep
from api.notice import clearance_notice
from api.params import SEARCH_TEXT, EntityId
from api.routes.entities import entity_page
from api.schemas import EntityPage, ProblemLinks
from api.workbooks import PAGE_OR_TABLES, tables_download
from nimgraph.ontology import Core
from nimgraph.products.problem import linked_problems
from nimgraph.products.tasking_pack import build_problem_page, problem_page_html

router = APIRouter(prefix="/problems", tags=["problems"])


@router.get("", response_model=EntityPage)
def list_problems(
    view: ViewDep,
    model: ModelDep,
    settings: SettingsDep,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=200, pattern=SEARCH_TEXT, description="Text in the problem's record"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> EntityPage:
    """Problems, a page at a time."""
    found = view.find(Core.PROBLEM, q, limit=limit, offset=offset)
    return entity_page(view, model, settings, found, limit, offset)


@router.get("/{entity_id}/links", response_model=ProblemLinks)
def problem_links(entity_id: EntityId, view: ViewDep, model: ModelDep, settings: SettingsDep) -> ProblemLinks:
    """Other problems that share people, places, objects or events with this one's scope, strongest first.

    Each link lists what the problems share by POLE category, examples, and the footnoted source
    records behind them.
    """
    links, records = linked_problems(view, model, entity_id)
    return ProblemLinks(
        problem=entity_id, links=links, footnotes=records, clearance=clearance_notice(view.clearance, settings)
    )


@router.get("/{entity_id}/page", responses=PAGE_OR_TABLES)
def problem_page(
    entity_id: EntityId,
    view: ViewDep,
    model: ModelDep,
    settings: SettingsDep,
    format: Annotated[
        Literal["json", "html", "xlsx"], Query(description="json, html, or xlsx for its tables")
    ] = "json",
):
    """The problem's page: owner, SARA stage and PROCTOR, its activities over its incident trend, its
    taskings and the owner's actions, sub-problems and projects, reviews, outcomes and history."""
    page = build_problem_page(view, model, entity_id)
    if page is None:
        raise HTTPException(404, f"no problem with id {entity_id!r} that you are cleared to see")
    notice = clearance_notice(view.clearance, settings)
    if format == "html":
        return HTMLResponse(problem_page_html(page, notice=notice.notice))
    if format == "xlsx":
        return tables_download(page.to_dict(), notice.notice, "problem-page")
    return JSONResponse({**page.to_dict(), "clearance": notice.model_dump()})
