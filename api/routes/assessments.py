"""The strategic and tactical assessments, built from what the caller is cleared to see."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response

from api.auth import ViewDep
from api.browser import PAGE_POLICY
from api.deps import ModelDep, SettingsDep
from api.notice import clearance_notice
from nimgraph.access.view import ClearedView
from nimgraph.assess_cli import assessment_settings
from nimgraph.config import Settings
from nimgraph.products import assessment_output
from nimgraph.products.common import NotVisible
from nimgraph.products.periods import EARLIEST, LATEST
from nimgraph.products.strategic import build_strategic_assessment
from nimgraph.products.tactical import build_tactical_assessment

router = APIRouter(prefix="/assessments", tags=["assessments"])
Format = Annotated[
    Literal["json", "html", "xlsx"], Query(description="json; html for the report with charts and map; xlsx tables")
]
Area = Annotated[str | None, Query(max_length=200, description="an area's id (default: everything you may see)")]
Until = Annotated[
    date | None,
    Query(ge=EARLIEST, le=LATEST, description="the period's last day (default: the latest incident seen)"),
]
RESPONSES = {
    200: {
        "content": {"text/html": {}, assessment_output.XLSX_TYPE: {}},
        "description": "The assessment as JSON, a report, or a workbook",
    }
}


def _respond(product, fmt: str, view: ClearedView, settings: Settings, name: str):
    view.release_only(product.shown, before=set())  # the audit log names whom the product shows
    notice = clearance_notice(view.clearance, settings)
    if fmt == "html":
        return map_page(
            assessment_output.to_html(
                product,
                notice=notice.notice,
                tile_url=settings.map_tile_url or None,
                attribution=settings.map_tile_attribution or None,
            ),
            settings,
        )
    if fmt == "xlsx":
        return Response(
            assessment_output.to_xlsx(product),
            media_type=assessment_output.XLSX_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    return JSONResponse({**product.to_dict(), "clearance": notice.model_dump()})


def _day(until: date | None) -> str | None:
    return until.isoformat() if until else None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def map_page(html: str, settings: Settings) -> HTMLResponse:
    """A page with a map: it may fetch tiles from the configured tile server, and from nowhere else."""
    page = HTMLResponse(html)
    if settings.map_tile_url:
        page.headers["Content-Security-Policy"] = PAGE_POLICY.replace(
            "img-src 'self' data: blob:", f"img-src 'self' data: blob: {_origin(settings.map_tile_url)}"
        )
    return page


def _not_visible() -> HTTPException:
    # the same answer whether the area does not exist or the caller may not see it
    return HTTPException(404, "no such area; find one with GET /search?type=Area")


@router.get("/strategic", responses=RESPONSES)
def strategic_assessment(
    view: ViewDep,
    model: ModelDep,
    settings: SettingsDep,
    area: Area = None,
    until: Until = None,
    months: Annotated[int, Query(ge=1, le=36)] = 12,
    format: Format = "json",
):
    """The strategic assessment: volume and trend, harm, concentration, hotspots, people, priorities."""
    try:
        product = build_strategic_assessment(
            view, model, assessment_settings(settings), area=area, until=_day(until), months=months
        )
    except NotVisible:
        raise _not_visible() from None
    return _respond(product, format, view, settings, "strategic-assessment")


@router.get("/tactical", responses=RESPONSES)
def tactical_assessment(
    view: ViewDep,
    model: ModelDep,
    settings: SettingsDep,
    area: Area = None,
    until: Until = None,
    days: Annotated[int, Query(ge=1, le=92)] = 14,
    format: Format = "json",
):
    """The tactical assessment: what is above its expected level, new hotspots and repeats, recommendations."""
    try:
        tables = assessment_settings(settings)
        product = build_tactical_assessment(view, model, tables, area=area, until=_day(until), days=days)
    except NotVisible:
        raise _not_visible() from None
    return _respond(product, format, view, settings, "tactical-assessment")
