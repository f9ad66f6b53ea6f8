"""The landing page, the reports the demo wrote, and the API documentation served from local files."""

from __future__ import annotations

from importlib.resources import files
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, Response

from api import browser
from api.auth import AuditDep, Reader, Requirement, meets
from api.deps import SettingsDep, StoreDep
from nimgraph.access.roles import Caller, Permission
from nimgraph.products.render import environment

router = APIRouter(tags=["pages"])

# A report written ahead of time holds every record it used: only fully cleared callers get it.
PREBUILT_REPORTS = Requirement(
    Permission.READ,
    unfiltered=True,
    hint="reports written ahead of time hold every record they used; ask /profiles/... for one built from what "
    "you may see",
)
ReportReader = Annotated[Caller, meets(PREBUILT_REPORTS)]
DOCS_ASSETS = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css", "favicon.png": "image/png"}


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def landing(
    request: Request,
    settings: SettingsDep,
    store: StoreDep,
    caller: Reader,
    purpose: Annotated[str | None, Query(max_length=500)] = None,
) -> HTMLResponse:
    reports = sorted(p.name for p in settings.reports_dir.glob("*.html")) if settings.reports_dir.exists() else []
    template = environment().get_template("landing.html")
    return HTMLResponse(
        template.render(
            reports=reports,
            counts=store.counts() if caller.clearance.sees_everything else None,  # sizes include hidden material
            handling=None,
            caller=caller,
            purpose=(purpose or "").strip(),
            may_read_reports=PREBUILT_REPORTS.allows(caller),
            # A browser on Basic credentials needs the token in the links that state a purpose.
            csrf=browser.issue_token(request, caller) if browser.uses_basic(request) else "",
        )
    )


@router.get("/reports/{name}", include_in_schema=False)
def report(name: str, settings: SettingsDep, audit: AuditDep, caller: ReportReader) -> FileResponse:
    """A report written ahead of time, to a caller cleared for every handling code without pseudonyms."""
    available = {p.name: p for p in settings.reports_dir.glob("*.html")} if settings.reports_dir.exists() else {}
    if name not in available:
        raise HTTPException(404, f"no report named {name!r}")
    audit.items.add(f"report:{name}")
    return FileResponse(available[name], media_type="text/html")


@router.get("/docs", include_in_schema=False)
def docs() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="nimgraph API",
        swagger_js_url="/docs-assets/swagger-ui-bundle.js",
        swagger_css_url="/docs-assets/swagger-ui.css",
        swagger_favicon_url="/docs-assets/favicon.png",
    )


@router.get("/docs-assets/{name}", include_in_schema=False)
def docs_asset(name: str) -> Response:
    if name not in DOCS_ASSETS:
        raise HTTPException(404, f"no documentation asset {name!r}")
    body = files("fastapi_offline").joinpath("static", name).read_bytes()
    return Response(body, media_type=DOCS_ASSETS[name], headers={"Cache-Control": "public, max-age=86400"})
