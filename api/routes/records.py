"""The partnership's own records, one router per kind: /priorities, /tasking-groups, /meetings,
/taskings, /problems, /activities, /outcomes and /reviews.

Each router lists, reads (with links both ways and history), creates and changes its kind, and
links or unlinks it. Reads go through the caller's cleared view, with a purpose; writes need a key
that may record and is cleared for everything, are signed with the key's name, and name what they
wrote in the audit entry.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.auth import ViewDep, audited, requires
from api.deps import ModelDep, SettingsDep, StoreDep
from api.notice import clearance_notice
from api.params import SEARCH_TEXT, EntityId
from api.routes.entities import entity_page
from api.schemas import ClearanceNotice, EntityPage
from nimgraph.access.roles import Caller, Permission
from nimgraph.products.record_page import record_page, records_of
from nimgraph.tasking.kinds import KINDS, Kind, kind_of
from nimgraph.tasking.writes import RecordError, RecordNotFound, add_links, create, remove_link, update

Recorder = Annotated[Caller, requires(Permission.RECORD, unfiltered=True)]
Scalar = str | bool | int | float | None
MAX_VALUES = 60  # properties in one write: more than any type has
MAX_TARGETS = 200  # ends linked in one write
Field_ = Annotated[str, Path(pattern=r"^[a-z]{1,40}$", description="The link's field, e.g. problems")]


class RecordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    properties: dict[str, Scalar] = Field(
        max_length=MAX_VALUES, description="Property values by ontology name (GET /ontology/types/{type})"
    )
    links: dict[str, list[str]] = Field(
        default_factory=dict, max_length=10, description="Ids to link to, by the kind's link field"
    )
    handling: Literal["P", "C"] | None = Field(
        None, description="P shared or C confidential (default P; each link as strict as its end)"
    )
    type: str | None = Field(None, description="A subtype the kind allows instead of its own (Project for a problem)")


class ChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    properties: dict[str, Scalar] = Field(
        min_length=1, max_length=MAX_VALUES, description="The values to change; null removes one"
    )
    handling: Literal["P", "C"] | None = Field(None, description="default: as strict as the record (and a link's end)")


class LinksIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    targets: list[str] = Field(min_length=1, max_length=MAX_TARGETS, description="The ids to link to")
    handling: Literal["P", "C"] | None = Field(None, description="default: as strict as the record (and a link's end)")


class WrittenOut(BaseModel):
    id: str
    record_id: str = Field(description="The record this change was written as")
    at: str


class RecordOut(BaseModel):
    id: str
    type: str
    kind: str
    label: str
    properties: dict[str, Any]
    links: list[dict[str, Any]] = Field(description="role (field, or the kind a link comes from), outward, the end")
    history: list[dict[str, Any]] = Field(description="the records behind it, oldest first, with what each said")
    truncated: bool
    clearance: ClearanceNotice


class UnlinkedOut(BaseModel):
    withdrawn: int = Field(description="the partnership's records of the link that were withdrawn (0: none)")


def _must_be(store, model, entity_id: str, kind: Kind) -> None:
    entity = store.get(entity_id)
    if entity is None or kind_of(model, entity.type) != kind:
        raise HTTPException(404, f"no {kind.name} with id {entity_id!r}")


def _refused(err: RecordError) -> HTTPException:
    return HTTPException(404 if isinstance(err, RecordNotFound) else 422, str(err))


def router_for(kind: Kind, *, list_route: bool = True) -> APIRouter:
    """The routes of one kind; ``list_route=False`` where another router already lists it (problems)."""
    router = APIRouter(prefix=f"/{kind.plural}", tags=[kind.plural])
    article = "an" if kind.name[0] in "aeiou" else "a"

    def _page(view, model, settings, entity_id: str) -> RecordOut:
        page = record_page(view, model, entity_id, kind)
        if page is None:
            raise HTTPException(404, f"no {kind.name} with id {entity_id!r} that you are cleared to see")
        return RecordOut(**page.as_dict(), clearance=clearance_notice(view.clearance, settings))

    if list_route:

        @router.get("", response_model=EntityPage, summary=f"List {kind.plural}")
        def list_records(
            view: ViewDep,
            model: ModelDep,
            settings: SettingsDep,
            q: Annotated[str | None, Query(min_length=1, max_length=200, pattern=SEARCH_TEXT)] = None,
            limit: Annotated[int, Query(ge=1, le=500)] = 50,
            offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
        ) -> EntityPage:
            found = records_of(view, kind, q, limit=limit, offset=offset)
            return entity_page(view, model, settings, found, limit, offset)

    @router.get("/{entity_id}", response_model=RecordOut, summary=f"Read {article} {kind.name}")
    def read_record(entity_id: EntityId, view: ViewDep, model: ModelDep, settings: SettingsDep) -> RecordOut:
        return _page(view, model, settings, entity_id)

    @router.post("", response_model=WrittenOut, status_code=201, summary=f"Write {article} {kind.name}")
    async def create_record(
        request: Request, body: RecordIn, caller: Recorder, store: StoreDep, model: ModelDep
    ) -> WrittenOut:
        try:
            written = await run_in_threadpool(
                create,
                store,
                model,
                kind,
                body.properties,
                body.links,
                author=caller.name,
                handling=body.handling,
                type_name=body.type,
            )
        except RecordError as err:
            raise _refused(err) from None
        except KeyError as err:
            raise HTTPException(422, str(err.args[0])) from None
        audited(request, written.id, *(target for targets in body.links.values() for target in targets))
        return WrittenOut(**written.__dict__)

    @router.patch("/{entity_id}", response_model=WrittenOut, summary=f"Change {article} {kind.name}")
    async def change_record(
        request: Request, entity_id: EntityId, body: ChangeIn, caller: Recorder, store: StoreDep, model: ModelDep
    ) -> WrittenOut:
        await run_in_threadpool(_must_be, store, model, entity_id, kind)
        try:
            written = await run_in_threadpool(
                update, store, model, entity_id, body.properties, author=caller.name, handling=body.handling
            )
        except RecordError as err:
            raise _refused(err) from None
        audited(request, written.id)
        return WrittenOut(**written.__dict__)

    @router.post("/{entity_id}/links/{field}", response_model=list[WrittenOut], status_code=201)
    async def link_record(
        request: Request,
        entity_id: EntityId,
        field: Field_,
        body: LinksIn,
        caller: Recorder,
        store: StoreDep,
        model: ModelDep,
    ) -> list[WrittenOut]:
        """Link the record to more ends under one of its kind's link fields; each link is its own record."""
        await run_in_threadpool(_must_be, store, model, entity_id, kind)
        try:
            made = await run_in_threadpool(
                add_links, store, model, entity_id, field, body.targets, author=caller.name, handling=body.handling
            )
        except RecordError as err:
            raise _refused(err) from None
        audited(request, entity_id, *body.targets)
        return [WrittenOut(**w.__dict__) for w in made]

    @router.delete("/{entity_id}/links/{field}/{target}", response_model=UnlinkedOut)
    async def unlink_record(
        request: Request,
        entity_id: EntityId,
        field: Field_,
        target: EntityId,
        caller: Recorder,
        store: StoreDep,
        model: ModelDep,
    ) -> UnlinkedOut:
        """Withdraw the partnership's records of one link (a partner's own record of it stays)."""
        await run_in_threadpool(_must_be, store, model, entity_id, kind)
        try:
            withdrawn = await run_in_threadpool(remove_link, store, model, entity_id, field, target)
        except RecordError as err:
            raise _refused(err) from None
        audited(request, entity_id, target)
        return UnlinkedOut(withdrawn=withdrawn)

    return router


# /problems already lists problems (api/routes/problems.py); the rest list their own.
ROUTERS = [router_for(kind, list_route=kind.plural != "problems") for kind in KINDS]
# Where a write is refused unread without the record permission (api/limits.py)
WRITE_PREFIXES = (*(f"/{kind.plural}" for kind in KINDS), "/operational-reviews/saved")
__all__ = ["ROUTERS", "router_for"]
