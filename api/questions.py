"""What the graph-wide question routes share: scope and projection parameters, and the answer as
JSON, CSV or a drawn page (``format``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Depends, HTTPException, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from api.notice import clearance_notice
from api.params import ENTITY_ID, ENTITY_ID_HELP, MAX_HOPS, not_found
from api.schemas import ClearanceNotice
from nimgraph.access.view import ClearedView
from nimgraph.config import Settings
from nimgraph.exports.tables import XLSX_MEDIA_TYPE
from nimgraph.ontology import Core, Model
from nimgraph.products.answers import Answer
from nimgraph.products.common import NotVisible, ProductError
from nimgraph.products.render import answer_html
from nimgraph.products.scope import MAX_WITHIN, Projection, Scope

AnswerFormat = Annotated[
    Literal["json", "csv", "xlsx", "html"],
    Query(
        description="json; csv (one line per row, per member for groups); xlsx (those lines, the columns' "
        "definitions and the notes); html, a page with the table and drawing"
    ),
]
HTML_CSV_OR_JSON = {
    200: {
        "content": {"text/html": {}, "text/csv": {}, XLSX_MEDIA_TYPE: {}},
        "description": "The answer, as JSON, CSV, a workbook or a drawn page",
    }
}
Ids = list[Annotated[str, Field(pattern=ENTITY_ID)]]


class ColumnPublic(BaseModel):
    name: str
    definition: str


class AnswerPublic(BaseModel):
    """A graph-wide answer: rows with every column defined, and notes on how it was computed."""

    question: str
    parameters: dict[str, Any]
    engine: str = Field(description="networkx, or igraph where the projection is large")
    projection: dict[str, int] = Field(description="nodes and ties of what the question was asked of")
    columns: list[ColumnPublic]
    rows: list[dict[str, Any]]
    notes: list[str]
    truncated: bool
    clearance: ClearanceNotice | None = None


def scope_params(
    within: Annotated[
        Ids,
        Query(max_length=MAX_WITHIN, description=f"Only these entities (a chart), at most {MAX_WITHIN}; repeatable"),
    ] = [],  # noqa: B006 - FastAPI copies defaults per request
    around: Annotated[
        Ids, Query(max_length=20, description=f"Only what lies within hops of these entities. {ENTITY_ID_HELP}")
    ] = [],  # noqa: B006
    hops: Annotated[int, Query(ge=1, le=MAX_HOPS, description="How far around the entities given")] = 2,
    area: Annotated[
        str | None, Query(pattern=ENTITY_ID, description="Only an area's places, the events there and what they link")
    ] = None,
    problem: Annotated[str | None, Query(pattern=ENTITY_ID, description="Only what a problem's scope reaches")] = None,
    since: Annotated[date | None, Query(description="Only links a record dated on or after this day supports")] = None,
    until: Annotated[date | None, Query(description="Only links a record dated on or before this day supports")] = None,
    max_entities: Annotated[int, Query(ge=10, le=200_000, description="Entities a scoped read takes at most")] = 20_000,
) -> Scope:
    try:
        return Scope(
            within=tuple(within),
            around=tuple(around),
            hops=hops,
            area=area,
            problem=problem,
            since=since.isoformat() if since else None,
            until=until.isoformat() if until else None,
            max_entities=max_entities,
        )
    except ProductError as err:  # e.g. since after until: the caller's to fix
        raise HTTPException(400, str(err)) from None


def projection_params(
    types: Annotated[
        list[str], Query(description="Entity types the nodes are (subtypes included)", examples=[[Core.PERSON]])
    ] = [Core.PERSON],  # noqa: B006
    link_types: Annotated[
        list[str], Query(description="Link types that join them (subtypes included); none: every type")
    ] = [],  # noqa: B006
    via: Annotated[
        list[str],
        Query(description="Entity types that join two nodes linked to the same one (an event, a phone, an address)"),
    ] = [],  # noqa: B006
    max_connector_members: Annotated[
        int, Query(ge=2, le=10_000, description="A connector with more members than this is left out")
    ] = 200,
) -> Projection:
    return Projection(
        types=tuple(types), link_types=tuple(link_types), via=tuple(via), max_connector_members=max_connector_members
    )


ScopeDep = Annotated[Scope, Depends(scope_params)]
ProjectionDep = Annotated[Projection, Depends(projection_params)]


def answered(ask: Callable[[], Answer]) -> Answer:
    """The answer, with an entity the scope names that the caller cannot see answered as a missing one."""
    try:
        return ask()
    except ProductError as err:
        raise HTTPException(400, str(err)) from None
    except NotVisible as missing:
        raise not_found(str(missing.args[0]) if missing.args else "") from None
    except ValueError as err:
        raise HTTPException(400, str(err)) from None


def respond(
    answer: Answer, view: ClearedView, model: Model, settings: Settings, format: str, named: tuple[str, ...] = ()
) -> AnswerPublic | Response:
    """The answer in the format asked for; the audit log is told of the people it shows and those
    the caller ``named`` (whose existence the answer confirms), not of everyone the question read."""
    view.release_only(answer.shown() | set(named), before=set())
    notice = clearance_notice(view.clearance, settings)
    if format == "csv":
        name = f"nimgraph-{answer.question}.csv"
        return Response(
            answer.to_csv(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    if format == "xlsx":
        return Response(
            answer.to_xlsx(),
            media_type=XLSX_MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="nimgraph-{answer.question}.xlsx"'},
        )
    if format == "html":
        return HTMLResponse(answer_html(answer, model, notice.notice, max_nodes=settings.viz_max_nodes))
    return AnswerPublic(**answer.to_dict(), clearance=notice)
