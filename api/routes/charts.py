"""Workbench charts: save one, list yours, reopen one; every call audited with its purpose.

A chart is saved as ids and arrangement (``nimgraph/access/charts.py``). Reopening reads every
entity again through the caller's cleared view: an entity ``view.get`` no longer returns is
dropped, as is a link the view no longer shows between two kept entities, so a chart shows only
what its owner may see now. A chart belongs to the key holder who saved it; anyone else's id
answers 404 exactly as a missing one. The body is counted as it arrives and refused past
``MAX_CHART_BYTES``, before it is parsed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from api.auth import AuditContext, AuditDep, Reader, ViewDep, audited
from api.deps import ModelDep, SettingsDep
from api.notice import clearance_notice
from api.params import ENTITY_ID, SEARCH_TEXT
from api.schemas import ClearanceNotice, LinkPublic, NodePublic
from nimgraph.access.charts import PREFIX, Charts, SavedChart, owner
from nimgraph.access.view import ClearedView
from nimgraph.labels import entity_label
from nimgraph.ontology import Model

MAX_CHART_BYTES = 1_000_000
MAX_CHART_NODES = 1_000
MAX_CHART_LINKS = 10_000
MAX_CHARTS = 500  # per key holder
CHART_ID = rf"^{PREFIX}[A-Za-z0-9_\-]{{10,40}}$"
DATE = r"^\d{4}-\d{2}-\d{2}$"
LINK_RECHECKS = 500  # links looked up one by one when the chart's one read was cut short


class CappedRequest(Request):
    """A request whose body is refused once it passes MAX_CHART_BYTES, whatever Content-Length says."""

    async def body(self) -> bytes:
        if not hasattr(self, "_body"):
            declared = self.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_CHART_BYTES:
                raise _too_large(int(declared))
            chunks, size = [], 0
            async for chunk in self.stream():
                size += len(chunk)
                if size > MAX_CHART_BYTES:
                    raise _too_large(size)
                chunks.append(chunk)
            self._body = b"".join(chunks)
        return self._body


class CappedRoute(APIRoute):
    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def capped(request: Request) -> Response:
            return await handler(CappedRequest(request.scope, request.receive))

        return capped


def _too_large(size: int) -> HTTPException:
    return HTTPException(
        413, f"the chart is larger than {MAX_CHART_BYTES:,} bytes (at least {size:,}): remove entities and save again"
    )


router = APIRouter(prefix="/charts", tags=["charts"], route_class=CappedRoute)


# ---------------------------------------------------------------------- what is saved
class ChartNode(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(pattern=ENTITY_ID, description="An entity id (or pseudonym) as the workbench showed it")
    x: float | None = Field(default=None, allow_inf_nan=False, ge=-1e7, le=1e7)
    y: float | None = Field(default=None, allow_inf_nan=False, ge=-1e7, le=1e7)
    pinned: bool = False
    hidden: bool = False


class ChartLink(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(pattern=ENTITY_ID)
    type: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9]{0,100}$")
    source: str = Field(pattern=ENTITY_ID)
    target: str = Field(pattern=ENTITY_ID)


class ChartSettings(BaseModel):
    """The view the analyst left the chart in: filters and mode."""

    model_config = ConfigDict(extra="ignore")

    mode: Literal["network", "map"] = "network"
    hidden_link_types: list[Annotated[str, Field(max_length=100)]] = Field(default=[], max_length=200)
    min_grade: str | None = Field(default=None, pattern=r"^[123][A-E]$")
    handling: list[Literal["P", "C"]] | None = None
    since: str | None = Field(default=None, pattern=DATE)
    until: str | None = Field(default=None, pattern=DATE)


class ChartState(BaseModel):
    model_config = ConfigDict(extra="ignore")

    nodes: list[ChartNode] = []
    links: list[ChartLink] = []
    settings: ChartSettings = ChartSettings()


class ChartIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, pattern=SEARCH_TEXT)
    chart: ChartState


# ---------------------------------------------------------------------- what is answered
class ChartSummary(BaseModel):
    id: str
    name: str
    created: str


class ChartList(BaseModel):
    items: list[ChartSummary]
    clearance: ClearanceNotice  # as on every answer to this key: the charts reopen through it


class ChartNodePublic(NodePublic):
    x: float | None
    y: float | None
    pinned: bool
    hidden: bool


class ChartContent(BaseModel):
    nodes: list[ChartNodePublic]
    links: list[LinkPublic]
    settings: ChartSettings


class ChartPublic(ChartSummary):
    chart: ChartContent = Field(description="what of the saved chart you may see now, read again from the graph")
    clearance: ClearanceNotice


def _charts(settings: SettingsDep) -> Iterator[Charts]:
    charts = Charts(settings.access_db)
    try:
        yield charts
    finally:
        charts.close()


ChartsDep = Annotated[Charts, Depends(_charts)]
ChartId = Annotated[str, Path(pattern=CHART_ID, description="A chart id, as saving it answered")]


@router.post("", status_code=201, response_model=ChartSummary)
def save_chart(body: ChartIn, audit: AuditDep, reader: Reader, charts: ChartsDep, request: Request) -> ChartSummary:
    """Save a chart (ids, positions, pins, hidden items and the view's filters) as yours."""
    chart = body.chart
    if len(chart.nodes) > MAX_CHART_NODES or len(chart.links) > MAX_CHART_LINKS:
        raise HTTPException(
            413,
            f"a chart holds at most {MAX_CHART_NODES:,} entities and {MAX_CHART_LINKS:,} links; this one has "
            f"{len(chart.nodes):,} and {len(chart.links):,}: remove some and save again",
        )
    if len({node.id for node in chart.nodes}) < len(chart.nodes):
        # each would be read again on reopening: a thousand copies of one id time its read
        raise HTTPException(400, "a chart lists each entity once: remove the repeated ids and save again")
    saved = charts.save(_owner(audit), body.name, chart.model_dump(), most=MAX_CHARTS)
    if saved is None:
        raise HTTPException(
            409,
            f"you have {MAX_CHARTS} saved charts, the most one person may keep: delete some (DELETE /charts/{{id}})",
        )
    audited(request, f"chart:{saved.id}")
    return ChartSummary(id=saved.id, name=saved.name, created=saved.created)


@router.get("", response_model=ChartList)
def list_charts(audit: AuditDep, reader: Reader, charts: ChartsDep, settings: SettingsDep) -> ChartList:
    """Your saved charts, newest first (nobody else's)."""
    return ChartList(
        items=[ChartSummary(id=c.id, name=c.name, created=c.created) for c in charts.owned_by(_owner(audit))],
        clearance=clearance_notice(audit.caller.clearance, settings),
    )


@router.get("/{chart_id}", response_model=ChartPublic)
def open_chart(
    chart_id: ChartId,
    audit: AuditDep,
    view: ViewDep,
    model: ModelDep,
    settings: SettingsDep,
    charts: ChartsDep,
    request: Request,
) -> ChartPublic:
    """One of your charts, with what of it you may see now: each entity and link read again."""
    saved = charts.get(_owner(audit), chart_id)
    if saved is None:
        raise HTTPException(404, f"no chart with id {chart_id!r} of yours")
    audited(request, f"chart:{saved.id}")
    return ChartPublic(
        id=saved.id,
        name=saved.name,
        created=saved.created,
        chart=reopen(saved, view, model),
        clearance=clearance_notice(view.clearance, settings),
    )


@router.delete("/{chart_id}", status_code=204)
def delete_chart(chart_id: ChartId, audit: AuditDep, reader: Reader, charts: ChartsDep, request: Request) -> Response:
    """Delete one of your charts; another's, or a missing one, is a 404 alike."""
    if not charts.delete(_owner(audit), chart_id):
        raise HTTPException(404, f"no chart with id {chart_id!r} of yours")
    audited(request, f"chart:{chart_id}")
    return Response(status_code=204)


def _owner(audit: AuditContext) -> str:
    """The key holder at the key's clearance (nimgraph.access.charts.owner)."""
    return owner(audit.caller.name, audit.caller.clearance)


def reopen(saved: SavedChart, view: ClearedView, model: Model) -> ChartContent:
    """The saved chart as the caller may see it now."""
    state = ChartState.model_validate(saved.body)
    nodes = [node for kept in state.nodes if (node := _node(view, model, kept)) is not None]
    shown = {node.id for node in nodes}
    wanted = {k.id: k for k in state.links if k.source in shown and k.target in shown and k.type in model.links}
    return ChartContent(nodes=nodes, links=_links(view, model, shown, wanted), settings=state.settings)


def _node(view: ClearedView, model: Model, kept: ChartNode) -> ChartNodePublic | None:
    entity = view.get(kept.id)
    if entity is None or entity.id != kept.id:  # an id the caller may no longer use as it was saved
        return None
    return ChartNodePublic(
        id=entity.id,
        type=entity.type,
        label=entity_label(model, entity),
        properties=entity.properties,
        provenance=[a.as_dict() for a in entity.provenance],
        **kept.model_dump(exclude={"id"}),
    )


def _links(view: ClearedView, model: Model, shown: set[str], wanted: dict[str, ChartLink]) -> list[LinkPublic]:
    """The wanted links the view still shows, read once around the chart's entities.

    The read is capped at the chart's own entities, so it releases nothing beyond them; if the
    store's link budget cut it short, the links it missed are looked up one by one.
    """
    if not wanted:
        return []
    types = {k.type for k in wanted.values()}
    found = view.neighbourhood(sorted(shown), 1, types, max_entities=len(shown)) if shown else None
    links = {i: k for i, k in found.links.items() if i in wanted} if found else {}
    if found is not None and found.truncated:
        for missing in [k for i, k in sorted(wanted.items()) if i not in links][:LINK_RECHECKS]:
            pair = view.neighbourhood([missing.source, missing.target], 1, {missing.type}, max_entities=2)
            links.update({i: k for i, k in pair.links.items() if i == missing.id})
    return [
        LinkPublic(
            id=link.id,
            type=link.type,
            source=link.source,
            target=link.target,
            inferred=model.links[link.type].inferred if link.type in model.links else False,
            provenance=[a.as_dict() for a in link.provenance],
        )
        for _, link in sorted(links.items())
    ]
