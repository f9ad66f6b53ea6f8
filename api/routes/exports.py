"""Exports for the analyst's other tools: i2 Analyst's Notebook (ANX), GraphML and GEXF (Gephi).

``GET /exports/{format}`` reads the selection through the caller's cleared view and answers the
file, with its most restrictive handling code in the ``X-Handling-Code`` header (and inside the file
where the format has room for it). The audit log records the purpose and the entities it holds.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import Field

from api.auth import AuditDep, ViewDep, audited
from api.deps import ModelDep, SettingsDep
from api.params import ENTITY_ID, ENTITY_ID_HELP, MAX_HOPS, not_found
from api.routes.charts import CHART_ID
from nimgraph.access.charts import Charts, owner
from nimgraph.exports.anx import IconTable
from nimgraph.products.common import NotVisible, ProductError
from nimgraph.products.exporting import GRAPH_FORMATS, Selection, export_graph
from nimgraph.products.scope import MAX_WITHIN

router = APIRouter(prefix="/exports", tags=["exports"])

# One export at a time for each key holder: a large one holds a worker and memory for seconds.
_EXPORTING: set[str] = set()
_EXPORTING_LOCK = threading.Lock()


@contextmanager
def _one_at_a_time(holder: str) -> Iterator[None]:
    with _EXPORTING_LOCK:
        if holder in _EXPORTING:
            raise HTTPException(
                429, "one export at a time: your last one is still being written; try again when it ends",
                headers={"Retry-After": "5"},
            )  # fmt: skip
        _EXPORTING.add(holder)
    try:
        yield
    finally:
        with _EXPORTING_LOCK:
            _EXPORTING.discard(holder)


Ids = list[Annotated[str, Field(pattern=ENTITY_ID)]]
FormatName = Literal["anx", "graphml", "gexf", "neo4j-csv"]


@router.get(
    "/{format_name}",
    responses={200: {"content": {f.media_type: {} for f in GRAPH_FORMATS.values()}, "description": "The file"}},
    response_class=Response,
)
def export(
    format_name: FormatName,
    view: ViewDep,
    audit: AuditDep,
    model: ModelDep,
    settings: SettingsDep,
    request: Request,
    around: Annotated[Ids, Query(max_length=20, description=f"What lies near these entities. {ENTITY_ID_HELP}")] = [],  # noqa: B006
    hops: Annotated[int, Query(ge=1, le=MAX_HOPS, description="With around: how far")] = 2,
    within: Annotated[Ids, Query(max_length=MAX_WITHIN, description="Exactly these entities")] = [],  # noqa: B006
    chart: Annotated[str | None, Query(pattern=CHART_ID, description="One of your saved workbench charts")] = None,
    problem: Annotated[str | None, Query(pattern=ENTITY_ID, description="What a problem's scope reaches")] = None,
    profile: Annotated[str | None, Query(pattern=ENTITY_ID, description="A subject profile's network")] = None,
    link_types: Annotated[list[str], Query(description="Only links of these types (subtypes included)")] = [],  # noqa: B006
) -> Response:
    """A part of the graph as a file for i2, Gephi or Neo4j.

    Give one of ``around`` (with ``hops``), ``within``, ``chart``, ``problem`` and ``profile``; the
    whole graph is exported with the command line (``nimgraph export FORMAT``).
    """
    chosen_ids = tuple(within)
    if chart:
        charts = Charts(settings.access_db)
        try:
            saved = charts.get(owner(audit.caller.name, audit.caller.clearance), chart)
        finally:
            charts.close()
        if saved is None:
            raise HTTPException(404, f"no chart with id {chart!r} of yours")
        if within:
            raise HTTPException(400, "export one selection at a time; got within and chart")
        audited(request, f"chart:{saved.id}")
        # what of the chart the caller may see now, as reopening it in the workbench shows
        chosen_ids = tuple(i for n in saved.body.get("nodes", []) if view.get(i := str(n.get("id"))) is not None)
        if not chosen_ids:
            raise HTTPException(404, f"nothing of chart {chart!r} is there for you now")
    for name in link_types:
        model.link_type(name)  # an unknown type is a 400 naming the closest
    try:
        selection = Selection(
            around=tuple(around),
            hops=hops,
            within=chosen_ids,
            problem=problem,
            profile=profile,
            link_types=tuple(link_types),
        )
    except ProductError as err:
        raise HTTPException(400, str(err)) from None
    if selection.whole_graph:
        # Reading and writing every entity takes longer than a request should hold a worker (and a proxy
        # waits): the whole graph is exported with the command line until exports run as background jobs.
        raise HTTPException(
            400,
            "give a selection (around, within, chart, problem or profile); the whole graph is exported "
            f"with the command line: nimgraph export {format_name} --purpose ...",
        )
    try:
        icons = IconTable.load(settings.i2_icons or None)
        with _one_at_a_time(audit.caller.name):
            made = export_graph(view, model, selection, format_name, icons=icons)
    except NotVisible as missing:
        raise not_found(str(missing.args[0]) if missing.args else "") from None
    except ProductError as err:
        raise HTTPException(400, str(err)) from None
    view.release_only(made.shown, before=set())  # the audit log names whom the file holds
    audited(request, f"export:{format_name}")
    return Response(
        made.content,
        media_type=made.format.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{made.filename}"',
            "X-Handling-Code": made.handling,
        },
    )
