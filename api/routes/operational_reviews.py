"""Operational reviews: measure whether an intervention worked, and save the review against what it reviews.

``POST /operational-reviews`` measures, through the caller's view (a read: it needs a purpose);
``POST /operational-reviews/saved`` measures as the writer sees everything and stores the result
as a review record with the analyst's conclusion and lessons, under a handling code no lower than
its evidence's; ``GET /operational-reviews/{id}`` shows a saved review to whoever may see it.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.auth import AuditDep, ViewDep, requires
from api.deps import ModelDep, SettingsDep, StoreDep
from api.notice import clearance_notice
from api.params import EntityId
from api.routes.assessments import map_page
from api.workbooks import PAGE_OR_TABLES, tables_download
from nimgraph.access.roles import Caller, Permission
from nimgraph.products.operational_review import (
    MAX_ALPHA,
    MAX_CIRCLES,
    MAX_PLACES,
    MIN_ALPHA,
    ReviewError,
    ReviewQuestion,
    build_review,
    question_from,
    review_html,
)
from nimgraph.products.periods import EARLIEST, LATEST
from nimgraph.products.record_page import record_page
from nimgraph.tasking.kinds import kind_named
from nimgraph.tasking.reviews import save_review
from nimgraph.tasking.writes import RecordError

router = APIRouter(prefix="/operational-reviews", tags=["operational reviews"])
Recorder = Annotated[Caller, requires(Permission.RECORD, unfiltered=True)]
Format = Annotated[
    Literal["json", "html", "xlsx"], Query(description="json; html for the page with its chart and map; xlsx tables")
]
Day = Annotated[date, Field(ge=EARLIEST, le=LATEST)]
PlaceId = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9]*-[A-Za-z0-9_.:\-]{1,100}$")]


class CircleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    metres: float = Field(gt=0, le=20_000)


class ZoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    places: list[PlaceId] = Field(default_factory=list, max_length=MAX_PLACES, description="area, street or place ids")
    circles: list[CircleIn] = Field(default_factory=list, max_length=MAX_CIRCLES)


class WindowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    since: Day
    until: Day


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    target: ZoneIn
    buffer: ZoneIn = Field(description="where displacement (or a diffusion of benefit) would show")
    control: ZoneIn = Field(description="like the target, far enough away not to be affected")
    before: WindowIn
    after: WindowIn
    categories: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=50, description="incident categories or types that count; none: all"
    )
    alpha: float = Field(0.05, ge=MIN_ALPHA, le=MAX_ALPHA, description="the tests' significance level")
    reviewed: PlaceId | None = Field(None, description="the problem, tasking, activity or priority it reviews")

    def question(self) -> ReviewQuestion:
        fields = ("target", "buffer", "control", "before", "after", "categories", "alpha")
        return question_from(self.model_dump(mode="json", include=set(fields)))[0]


class SaveIn(ReviewIn):
    title: str = Field(min_length=1, max_length=500)
    conclusion: str | None = Field(None, max_length=20_000, description="the analyst's conclusion: did it work?")
    lessons: str | None = Field(None, max_length=20_000, description="lessons learnt, kept for future use")
    handling: Literal["P", "C"] = Field("P", description="raised to C when the evidence is C")


class SavedOut(BaseModel):
    id: str
    record_id: str
    at: str
    handling: str = Field(description="the code it was stored under: never below its evidence's")


@router.post("", responses=PAGE_OR_TABLES)
def measure(body: ReviewIn, view: ViewDep, model: ModelDep, settings: SettingsDep, format: Format = "json"):
    """Measure an intervention: counts in the target, buffer and control areas before and after; WDQ,
    WDD, TNE and a Poisson test, with each method's assumptions and warnings. Nothing is stored."""
    try:
        review = build_review(view, model, body.question(), reviewed=body.reviewed)
    except ReviewError as err:
        raise HTTPException(422 if "cleared to see" not in str(err) else 404, str(err)) from None
    notice = clearance_notice(view.clearance, settings)
    if format == "html":
        html = review_html(
            review,
            notice=notice.notice,
            tile_url=settings.map_tile_url or None,
            attribution=settings.map_tile_attribution or None,
        )
        return map_page(html, settings)
    if format == "xlsx":
        return tables_download(json.loads(review.to_json()), notice.notice, "operational-review")
    return JSONResponse({**json.loads(review.to_json()), "clearance": notice.model_dump()})


@router.post("/saved", response_model=SavedOut, status_code=201)
async def save(
    request: Request, body: SaveIn, caller: Recorder, audit: AuditDep, store: StoreDep, model: ModelDep
) -> SavedOut:
    """Measure and store the review against what it reviews, with the conclusion and lessons; it feeds the
    next strategic assessment's "what worked" section."""
    try:
        written, _, code = await run_in_threadpool(
            save_review,
            store,
            model,
            body.question(),
            reviewed=body.reviewed,
            author=caller.name,
            title=body.title,
            conclusion=body.conclusion,
            lessons=body.lessons,
            handling=body.handling,
        )
    except (ReviewError, RecordError) as err:
        raise HTTPException(422, str(err)) from None
    # it reads everything in its areas: the log names what it was asked about, the places among it
    places = [p for zone in (body.target, body.buffer, body.control) for p in zone.places]
    audit.items.update([written.id, *places, *([body.reviewed] if body.reviewed else [])])
    return SavedOut(id=written.id, record_id=written.record_id, at=written.at, handling=code)


@router.get("/{entity_id}", responses=PAGE_OR_TABLES)
def saved_review(entity_id: EntityId, view: ViewDep, model: ModelDep, settings: SettingsDep, format: Format = "json"):
    """A saved review, as stored, to a caller who may see it."""
    page = record_page(view, model, entity_id, kind_named("review"))
    result = page.properties.get("reviewResult") if page else None
    if page is None or not result:
        raise HTTPException(404, f"no saved review with id {entity_id!r} that you are cleared to see")
    data = json.loads(result)
    saved = {k: page.properties.get(k) for k in ("title", "conclusion", "lessons")}
    # the stored review names places (a home among them, perhaps) and what it reviewed: logged as released
    view.release([p["id"] for places in data.get("places", {}).values() for p in places])
    if data.get("reviewed"):
        view.release([data["reviewed"]["id"]])
    notice = clearance_notice(view.clearance, settings)
    if format == "html":
        html = review_html(
            data,
            saved=saved,
            notice=notice.notice,
            tile_url=settings.map_tile_url or None,
            attribution=settings.map_tile_attribution or None,
        )
        return map_page(html, settings)
    if format == "xlsx":
        return tables_download({**data, **saved}, notice.notice, "operational-review")
    return JSONResponse({"id": page.id, **saved, "review": data, "clearance": notice.model_dump()})
