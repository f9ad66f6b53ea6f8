"""Exports for the analyst's other tools: i2 Analyst's Notebook (ANX), GraphML, GEXF (Gephi) and Neo4j.

``GET /exports/{format}`` reads a selection through the caller's cleared view and answers the file
while the request waits. ``POST /exports/jobs`` does the same in the background, for any selection
or the whole graph: follow it at ``GET /exports/jobs/{id}`` and fetch the file at
``GET /exports/jobs/{id}/file`` once it is done (nimgraph/products/export_jobs.py says how long it
is kept, and who may fetch it). Every file carries its most restrictive handling code in the
``X-Handling-Code`` header (and inside the file where the format has room for it); the audit log
records the purpose and, when the file is handed over, the entities it holds.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from typing import Annotated, BinaryIO, Literal

from fastapi import APIRouter, FastAPI, HTTPException, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from api.auth import AuditDep, Reader, ViewDep, audited, view_for
from api.deps import ModelDep, SettingsDep
from api.params import ENTITY_ID, ENTITY_ID_HELP, MAX_HOPS, not_found
from api.routes.charts import CHART_ID
from nimgraph.access.charts import Charts, owner
from nimgraph.access.roles import Caller, Clearance
from nimgraph.access.view import ClearedView
from nimgraph.config import Settings
from nimgraph.exports.anx import IconTable
from nimgraph.ontology import Model
from nimgraph.products.common import NotVisible, ProductError
from nimgraph.products.export_jobs import Busy, ExportJob, ExportJobs
from nimgraph.products.exporting import GRAPH_FORMATS, Export, Selection, check_exportable, export_graph
from nimgraph.products.scope import MAX_WITHIN

router = APIRouter(prefix="/exports", tags=["exports"])

BUSY = "one export at a time: your last one is still being written; try again when it ends"
Ids = list[Annotated[str, Field(pattern=ENTITY_ID)]]
FormatName = Literal["anx", "graphml", "gexf", "neo4j-csv"]
JobId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="The job id POST /exports/jobs returned")]
MAX_LINK_TYPES = 50


def _busy() -> HTTPException:
    return HTTPException(429, BUSY, headers={"Retry-After": "5"})


def jobs_of(app: FastAPI) -> ExportJobs:
    """The app's export jobs (made with the app: the schema fuzzer calls routes without its lifespan)."""
    return app.state.export_jobs


def _selection(
    request: Request,
    view: ClearedView,
    model: Model,
    settings: Settings,
    caller: Caller,
    *,
    around: list[str],
    hops: int,
    within: list[str],
    chart: str | None,
    problem: str | None,
    profile: str | None,
    link_types: list[str],
) -> Selection:
    """What the caller asked for, checked: its chart read as the caller sees it now, its link types
    known, and a 400 or 404 saying what is wrong."""
    chosen_ids = tuple(within)
    if chart:
        charts = Charts(settings.access_db)
        try:
            saved = charts.get(owner(caller.name, caller.clearance), chart)
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
        check_exportable(view, selection)
    except ProductError as err:
        raise HTTPException(400, str(err)) from None
    return selection


def _write(
    view: ClearedView,
    model: Model,
    settings: Settings,
    selection: Selection,
    format_name: str,
    say: Callable[[str], None] = lambda _step: None,
    jobs: ExportJobs | None = None,
) -> Export:
    icons = IconTable.load(settings.i2_icons or None)
    scratch = jobs.scratch if jobs is not None else None
    made = export_graph(view, model, selection, format_name, icons=icons, say=say, scratch=scratch)
    view.release_only(made.shown, before=set())  # the audit log names whom the file holds, by real id
    return made


class ExportAsked(BaseModel):
    """An export to run in the background: a format, and one selection or none (the whole graph)."""

    model_config = ConfigDict(extra="forbid")

    format: FormatName
    around: Ids = Field(default=[], max_length=20, description=f"What lies near these entities. {ENTITY_ID_HELP}")
    hops: int = Field(default=2, ge=1, le=MAX_HOPS, description="With around: how far")
    within: Ids = Field(default=[], max_length=MAX_WITHIN, description="Exactly these entities")
    chart: str | None = Field(default=None, pattern=CHART_ID, description="One of your saved workbench charts")
    problem: str | None = Field(default=None, pattern=ENTITY_ID, description="What a problem's scope reaches")
    profile: str | None = Field(default=None, pattern=ENTITY_ID, description="A subject profile's network")
    link_types: list[str] = Field(
        default=[], max_length=MAX_LINK_TYPES, description="Only links of these types (subtypes included)"
    )


class ExportJobPublic(BaseModel):
    id: str
    status: str = Field(description="queued, running, cancelling, done, failed, cancelled or expired")
    format: str
    selection: str = Field(description="what it exports, in words")
    submitted_at: str
    started_at: str | None
    finished_at: str | None
    progress: float = Field(description="0 to 1")
    steps: list[dict[str, str]] = Field(description="what it has done so far, with when")
    entities: int | None
    links: int | None
    handling: str | None = Field(description="the file's most restrictive handling code: share it only as that allows")
    size: int | None = Field(description="the file's size in bytes")
    error: str | None
    file: str | None = Field(description="where to fetch the file, while it is kept")
    expires_at: str | None = Field(description="when the file is removed, unfetched or not")


def _public(job: ExportJob) -> ExportJobPublic:
    def when(moment: datetime | None) -> str | None:
        return moment.isoformat(timespec="seconds") if moment else None

    return ExportJobPublic(
        id=job.id,
        status=job.status,
        format=job.format,
        selection=job.description,
        submitted_at=when(job.submitted_at),
        started_at=when(job.started_at),
        finished_at=when(job.finished_at),
        progress=job.progress,
        steps=list(job.steps),
        entities=job.entities,
        links=job.links,
        handling=job.handling,
        size=job.size,
        error=job.error,
        file=f"/exports/jobs/{job.id}/file" if job.status == "done" and job.path else None,
        expires_at=when(job.expires_at),
    )


@router.post("/jobs", response_model=ExportJobPublic, status_code=202)
def submit(
    asked: ExportAsked, view: ViewDep, audit: AuditDep, model: ModelDep, settings: SettingsDep, request: Request
) -> ExportJobPublic:
    """Export a selection, or the whole graph (give no selection), in the background.

    Checked first (a 400 or 404 says what to change); then follow the job at the URL in ``id``. The
    whole graph needs a key cleared for every handling code without pseudonyms. One export at a time
    per key (429); the file is read through your clearance as it is when the job runs.
    """
    caller = audit.caller
    selection = _selection(
        request, view, model, settings, caller,
        around=asked.around, hops=asked.hops, within=asked.within, chart=asked.chart,
        problem=asked.problem, profile=asked.profile, link_types=asked.link_types,
    )  # fmt: skip
    for entity_id in [*selection.around, *selection.within, selection.problem, selection.profile]:
        if entity_id and view.get(entity_id) is None:  # said now, not as a failed job later
            raise not_found(entity_id)
    job_view = view_for(request, caller)  # its own: this request's view is audited when the request ends

    def make(say: Callable[[str], None]) -> Export:
        made = _write(job_view, model, settings, selection, asked.format, say, jobs_of(request.app))
        return replace(made, shown=set(job_view.released))

    try:
        job = jobs_of(request.app).submit(
            _holder(caller), caller.clearance, asked.format, selection.describe(), make
        )  # fmt: skip
    except Busy:
        raise _busy() from None
    job.reader = job_view  # the download's audit entry says what the reading withheld
    # the body is not in the logged path: the entry names the job, the format and the selection's seeds
    seeds = [*selection.around, *selection.within, selection.problem, selection.profile]
    audited(request, f"export-job:{job.id}", f"export:{asked.format}", *(f"seed:{s}" for s in seeds if s))
    return _public(job)


def _holder(caller: Caller) -> tuple[str, str, Clearance]:
    """Whose job it is: one key, at its clearance (another key, even of the same name, is another holder)."""
    return caller.name, caller.key, caller.clearance


def _own(request: Request, job_id: str, caller: Caller) -> ExportJob:
    """The caller's job: 404 for anyone else's, as for one that never was."""
    job = jobs_of(request.app).get(job_id, _holder(caller))
    if job is None:
        raise HTTPException(404, f"no export job {job_id!r} of yours")
    return job


@router.get("/jobs", response_model=list[ExportJobPublic])
def listing(request: Request, caller: Reader) -> list[ExportJobPublic]:
    """Your export jobs, newest first, while they are kept."""
    jobs = jobs_of(request.app).of(_holder(caller))
    audited(request, *(f"export-job:{j.id}" for j in jobs))
    return [_public(j) for j in jobs]


@router.get("/jobs/{job_id}", response_model=ExportJobPublic)
def status(job_id: JobId, request: Request, caller: Reader) -> ExportJobPublic:
    """An export job's progress; once done, where to fetch its file and until when."""
    job = _own(request, job_id, caller)
    audited(request, f"export-job:{job.id}")
    return _public(job)


@router.get(
    "/jobs/{job_id}/file",
    responses={200: {"content": {f.media_type: {} for f in GRAPH_FORMATS.values()}, "description": "The file"}},
    response_class=StreamingResponse,
)
def file(job_id: JobId, request: Request, audit: AuditDep, caller: Reader) -> StreamingResponse:
    """The job's file (with a purpose: it holds personal data); the audit log names whom it holds."""
    job = _own(request, job_id, caller)
    path = job.path
    try:  # opened here: removed a moment later (expired, cancelled), it is still read to the end
        handle = path.open("rb") if job.status == "done" and path is not None else None
    except FileNotFoundError:
        handle = None
    if handle is None:
        still = not job.ended
        raise HTTPException(409 if still else 410, f"export job {job_id} is {job.status}" + (
            ": fetch the file when it is done" if still else "; export again"))  # fmt: skip
    audit.view = job.reader  # what it released (whom the file holds, by real id) and withheld
    audit.items.update(job.held)
    audited(request, f"export-job:{job.id}", f"export:{job.format}")
    return StreamingResponse(
        _chunks(handle),
        media_type=job.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{job.filename}"',
            "Content-Length": str(os.fstat(handle.fileno()).st_size),
            "X-Handling-Code": job.handling or "",
        },
    )


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(1 << 20):
            yield chunk


@router.delete("/jobs/{job_id}")
def cancel(job_id: JobId, request: Request, caller: Reader) -> dict[str, str]:
    """Stop the job, or remove its file now rather than when it expires."""
    job = jobs_of(request.app).cancel(job_id, _holder(caller))
    if job is None:
        raise HTTPException(404, f"no export job {job_id!r} of yours")
    audited(request, f"export-job:{job.id}")
    return {"id": job.id, "status": job.status}


# After the job routes: /exports/jobs is not a format.
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
    link_types: Annotated[
        list[str], Query(max_length=MAX_LINK_TYPES, description="Only links of these types (subtypes included)")
    ] = [],  # noqa: B006
) -> Response:
    """A part of the graph as a file for i2, Gephi or Neo4j, while the request waits.

    Give one of ``around`` (with ``hops``), ``within``, ``chart``, ``problem`` and ``profile``; the
    whole graph is exported in the background (``POST /exports/jobs``).
    """
    selection = _selection(
        request, view, model, settings, audit.caller,
        around=around, hops=hops, within=within, chart=chart, problem=problem, profile=profile, link_types=link_types,
    )  # fmt: skip
    if selection.whole_graph:
        # Reading and writing every entity takes longer than a request should hold a worker (and a proxy waits).
        raise HTTPException(
            400,
            "give a selection (around, within, chart, problem or profile); the whole graph is exported in the "
            f'background: POST /exports/jobs with {{"format": "{format_name}"}}, or nimgraph export {format_name}',
        )
    try:
        with jobs_of(request.app).holding(_holder(audit.caller)):
            made = _write(view, model, settings, selection, format_name, jobs=jobs_of(request.app))
    except Busy:
        raise _busy() from None
    except NotVisible as missing:
        raise not_found(str(missing.args[0]) if missing.args else "") from None
    except ProductError as err:
        raise HTTPException(400, str(err)) from None
    audited(request, f"export:{format_name}")
    return Response(
        made.content,
        media_type=made.format.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{made.filename}"',
            "X-Handling-Code": made.handling,
        },
    )


def start(app: FastAPI, settings: Settings) -> None:
    app.state.export_jobs = ExportJobs(settings.work_dir / "exports")


def serving(app: FastAPI) -> None:
    """As the service starts: what an earlier run left is removed, and expired files go on a timer."""
    jobs_of(app).clear_leftovers()
    jobs_of(app).sweep_every()


def shutdown(app: FastAPI) -> None:
    jobs = getattr(app.state, "export_jobs", None)
    if jobs is not None:
        jobs.shutdown()
