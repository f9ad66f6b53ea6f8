"""The tasking pack for a tasking and co-ordination meeting, as the caller may see it."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import HTMLResponse, JSONResponse

from api.auth import ViewDep
from api.deps import ModelDep, SettingsDep
from api.notice import clearance_notice
from api.workbooks import PAGE_OR_TABLES, tables_download
from nimgraph.assess_cli import assessment_settings
from nimgraph.products.common import ProductError
from nimgraph.products.periods import EARLIEST, LATEST
from nimgraph.products.tactical import build_tactical_assessment
from nimgraph.products.tasking_pack import build_tasking_pack, tasking_pack_html

router = APIRouter(prefix="/tasking-pack", tags=["tasking pack"])


@router.get("", responses=PAGE_OR_TABLES)
def tasking_pack(
    view: ViewDep,
    model: ModelDep,
    settings: SettingsDep,
    as_of: Annotated[date | None, Query(ge=EARLIEST, le=LATEST, description="the meeting day (default today)")] = None,
    days: Annotated[int, Query(ge=1, le=366, description="the days of activity before it")] = 28,
    recommendations: Annotated[bool, Query(description="add the tactical assessment's recommendations")] = True,
    format: Annotated[
        Literal["json", "html", "xlsx"], Query(description="json, html, or xlsx for its tables")
    ] = "json",
):
    """Open taskings by owner, what is overdue, problems by SARA stage, activity in the period, the current
    priorities and, when there are incidents to assess, the tactical assessment's recommendations."""
    day = as_of.isoformat() if as_of else None

    def recommended() -> tuple[list[dict], str | None]:
        tables = assessment_settings(settings)
        before = set(view.released)
        tactical = build_tactical_assessment(view, model, tables, until=day, days=min(days, 92))
        view.release_only(tactical.shown, before=before)  # of what the assessment read, whom it shows
        return tactical.recommendations, tactical.handling

    try:
        pack = build_tasking_pack(
            view, model, as_of=day, days=days, recommendations=recommended if recommendations else None
        )
    except ProductError as err:
        raise HTTPException(422, str(err)) from None
    notice = clearance_notice(view.clearance, settings)
    if format == "html":
        return HTMLResponse(tasking_pack_html(pack, notice=notice.notice))
    if format == "xlsx":
        return tables_download(pack.to_dict(), notice.notice, "tasking-pack")
    return JSONResponse({**pack.to_dict(), "clearance": notice.model_dump()})
