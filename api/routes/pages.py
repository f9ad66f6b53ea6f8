"""The landing page and the reports the demo (or `nimgraph profile --html`) wrote."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, HTMLResponse

from api.deps import SettingsDep, StoreDep
from nimgraph.products.render import environment

router = APIRouter(tags=["pages"])


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def landing(settings: SettingsDep, store: StoreDep) -> HTMLResponse:
    reports = sorted(p.name for p in settings.reports_dir.glob("*.html")) if settings.reports_dir.exists() else []
    template = environment().get_template("landing.html")
    return HTMLResponse(template.render(reports=reports, counts=store.counts(), handling=None))


@router.get("/reports/{name}", include_in_schema=False)
def report(name: str, settings: SettingsDep) -> FileResponse:
    available = {p.name: p for p in settings.reports_dir.glob("*.html")} if settings.reports_dir.exists() else {}
    if name not in available:
        raise HTTPException(404, f"no report named {name!r}")
    return FileResponse(available[name], media_type="text/html")
