"""Search entities by type, text and properties."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from api.auth import ViewDep
from api.deps import ModelDep, SettingsDep
from api.params import ENTITY_ID, SEARCH_TEXT, not_found
from api.questions import HTML_CSV_OR_JSON, AnswerFormat, respond
from api.routes.entities import entity_page
from api.schemas import EntityPage
from nimgraph.ontology import Core, Model
from nimgraph.products import finding
from nimgraph.products.common import NotVisible, ProductError

router = APIRouter(prefix="/search", tags=["search"])


def property_filters(model: Model, where: list[str]) -> dict[str, str]:
    """The ``where`` filters, or a 400 saying how to write one."""
    try:
        return finding.property_filters(model, where)
    except ProductError as err:
        raise HTTPException(400, str(err)) from None


@router.get("", response_model=EntityPage, responses=HTML_CSV_OR_JSON)
def search(
    view: ViewDep,
    model: ModelDep,
    settings: SettingsDep,
    type: Annotated[
        str | None, Query(description="An ontology type; subtypes are included", examples=[Core.PERSON])
    ] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            pattern=SEARCH_TEXT,
            description="Text in any property you can see, or an exact id",
            examples=["Marlowe"],
        ),
    ] = None,
    where: Annotated[
        list[str],
        Query(description="Property equals value, as name:value (repeatable)", examples=[["postcode:NS1 4AB"]]),
    ] = [],  # noqa: B006 - FastAPI copies defaults per request
    linked_to: Annotated[
        str | None,
        Query(pattern=ENTITY_ID, description="Only entities linked to this one (e.g. crimes an officer investigated)"),
    ] = None,
    linked_by: Annotated[
        list[str], Query(description="With linked_to: only links of these types (subtypes included)")
    ] = [],  # noqa: B006
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    format: AnswerFormat = "json",
):
    """Entities by type, text and property values, and by a link to a given entity, a page at a
    time, less what you may not see.

    Offsets count only what you may see, and ``next_offset`` is null after your last match.
    """
    if linked_by and linked_to is None:
        raise HTTPException(400, "linked_by needs linked_to: the entity the links must reach")
    filters = property_filters(model, where)
    try:
        found = finding.find(
            view,
            model,
            type_name=type,
            text=q,
            where=filters,
            linked_to=linked_to,
            linked_by=tuple(linked_by),
            limit=limit,
            offset=offset,
        )
    except NotVisible:
        raise not_found(linked_to or "") from None
    if format != "json":
        asked = {"type": type, "q": q, "where": filters, "linked_to": linked_to, "linked_by": linked_by}
        answer = finding.search_answer(found, model, {**asked, "limit": limit, "offset": offset})
        return respond(answer, view, model, settings, format, named=(linked_to,) if linked_to else ())
    # the page, not every neighbour a linked_to search read, is what the audit log is told of
    view.release_only([e.id for e in found.entities] + ([linked_to] if linked_to else []), before=set())
    return entity_page(view, model, settings, found.entities, limit, offset, found.has_more)
