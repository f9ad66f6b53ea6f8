"""Ingest jobs: upload a mapping spec with its files, watch the job's progress, fetch its listings of rows."""

from __future__ import annotations

import pathlib
import re
import threading
from http import HTTPStatus
from typing import Annotated

from fastapi import APIRouter, FastAPI, File, HTTPException, Path, Request, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.auth import AuditDep, Requirement, audited, requires
from api.errors import problem
from nimgraph.access.roles import Caller, Permission
from nimgraph.ingest.jobs import STATUS_FILE, IngestJobs, Job, Listing, SourceTaken
from nimgraph.ingest.readers import BY_SUFFIX, FileError, known_formats
from nimgraph.ingest.spec import SpecError
from nimgraph.printable import printable
from nimgraph.private_files import open_private

router = APIRouter(prefix="/ingest/jobs", tags=["ingest jobs"])

CHUNK = 1 << 20
MAX_SPEC_BYTES = 1_000_000
MAX_PARTS = 100  # data and lookup files in one job
MAX_NAME = 100  # characters of a saved file's name
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
JobId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="The job id POST returned")]
# Every job route: the status and listings quote what was written, and ingests run against the whole store.
Ingester = Annotated[Caller, requires(Permission.INGEST, unfiltered=True)]
# An admin may load under any source's name and read any job; anyone else, their own.
OVERSEER = Requirement(Permission.AUDIT)
CSV = {200: {"content": {"text/csv": {}}}}


class JobPublic(BaseModel):
    id: str
    status: str = Field(description="queued, running, done or failed")
    files: list[str] = Field(description="the data files, in the order they load (Neo4j node files first)")
    lookups: list[str] = Field(description="the files uploaded for the spec's lookups to read")
    source: str
    submitted_by: str
    submitted_at: str
    finished_at: str | None
    rows_done: int
    rows_total: int = Field(description="an upper bound from the files' line counts")
    progress: float = Field(description="0 to 1, across the files")
    report: dict | None = Field(
        description="once each file is done: the totals (rows read, loaded, rejected, filtered and unmatched, "
        "entities created, merged, updated and unchanged, ambiguous dates...) and each file's own under 'files'"
    )
    error: str | None
    rejects: str | None = Field(description="where to fetch the rejected rows, when there are any")
    unmatched: str | None = Field(description="where to fetch the rows a reference found nothing for, when any")
    warnings: str | None = Field(description="where to fetch the rows loaded with a warning, when there are any")


_CREATING = threading.Lock()


def _jobs(request: Request) -> IngestJobs:
    """The app's one job runner, made on first use (two runners would write to the store at once)."""
    state = request.app.state
    with _CREATING:
        if getattr(state, "ingest_jobs", None) is None:
            settings = state.settings
            state.ingest_jobs = IngestJobs(state.store, state.model, settings.work_dir, settings.batch_size)
    return state.ingest_jobs


def _public(job: Job, jobs: IngestJobs) -> JobPublic:
    finished = job.status in ("done", "failed")
    urls = {kind: f"/ingest/jobs/{job.id}/{kind}" if finished and jobs.listings(job, kind) else None
            for kind in ("rejects", "unmatched", "warnings")}  # fmt: skip
    return JobPublic(
        **{k: getattr(job, k) for k in ("id", "status", "files", "lookups", "source", "submitted_by")},
        submitted_at=job.submitted_at,
        finished_at=job.finished_at,
        rows_done=job.rows_done,
        rows_total=job.rows_total,
        progress=job.progress,
        report=job.report,
        error=job.error,
        **urls,
    )


def _safe_name(upload: UploadFile, default: str) -> str:
    """The upload's name as it is saved: its last path part, in safe characters, of a sane length."""
    name = (upload.filename or default).replace("\\", "/").rsplit("/", 1)[-1]
    name = SAFE_NAME.sub("_", name).strip("._") or default
    if len(name) > MAX_NAME:
        stem, _, suffix = name.rpartition(".")
        name = stem[: MAX_NAME - len(suffix) - 1] + "." + suffix
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix not in BY_SUFFIX:  # the readers' registry: a file saved here is read by the suffix it keeps
        raise HTTPException(415, f"{name!r}: unknown format; known formats: {known_formats()}; rename the file")
    return name


def _names(files: list[UploadFile], lookups: list[UploadFile]) -> tuple[list[str], list[str]]:
    """The names the files and lookups are saved under; refused (422) when two would be one file."""
    if len(files) + len(lookups) > MAX_PARTS:
        raise HTTPException(422, f"send at most {MAX_PARTS} files and lookups in one job")
    data, tables = [_safe_name(f, "upload.csv") for f in files], [_safe_name(f, "lookup.csv") for f in lookups]
    sent = [printable(f.filename or "(no name)") for f in [*files, *lookups]]
    names = [*data, *tables]
    seen: dict[str, int] = {}
    stems: dict[str, int] = {}
    clashes = []
    for i, name in enumerate(names):
        if name.casefold() == STATUS_FILE:
            clashes.append(f"{sent[i]!r}: {STATUS_FILE!r} is the name the job keeps its status under")
        elif (first := seen.setdefault(name.casefold(), i)) != i:
            same = f"both saved as {name!r}" if names[first] == name else "the same name but for case"
            clashes.append(f"{sent[first]!r} and {sent[i]!r} ({same})")
        elif i < len(data) and (first := stems.setdefault(pathlib.PurePath(name).stem.casefold(), i)) != i:
            # a file's rejects, unmatched and warnings listings are named by its stem
            clashes.append(f"{sent[first]!r} and {sent[i]!r} (their listings would share a name)")
    if clashes:
        raise HTTPException(422, "files must have different names once made safe to save: " + "; ".join(clashes))
    return data, tables


async def _save(upload: UploadFile, target: pathlib.Path, limit: int, left: int) -> int:
    """Save ``upload``, refused (413) past ``limit`` bytes or past the ``left`` of the job's total."""
    written = 0
    with open_private(target, "wb") as out:  # a partner's rows: the service user's alone
        while chunk := await upload.read(CHUNK):
            written += len(chunk)
            if written > limit:
                raise HTTPException(413, f"{target.name} is larger than the {limit:,}-byte limit")
            if written > left:
                raise HTTPException(413, f"the files together are larger than the {limit:,}-byte limit")
            out.write(chunk)
    return written


class _Refused(Exception):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems


def _problems(err: Exception, directory: pathlib.Path) -> list[str]:
    """The check's problems, one line each, naming files as uploaded rather than where they were saved."""
    text = str(err)
    for folder in {str(directory), str(directory.resolve())}:
        text = text.replace(folder + "/", "").replace(folder, "the job's folder")
    return [printable(line.strip()) for line in text.splitlines() if line.strip()]


@router.post("", response_model=JobPublic, status_code=202, responses={422: {"description": "the problems"}})
async def submit(
    request: Request,
    caller: Ingester,
    spec: Annotated[UploadFile, File(description="The mapping spec (YAML), checked before the job starts")],
    file: Annotated[
        list[UploadFile],
        File(description="The files to load, in order: CSV, TSV, xlsx, JSON, JSON Lines or Parquet; one part each"),
    ],
    lookup: Annotated[
        list[UploadFile] | None,
        File(description="The files the spec's lookups read, named as the spec names them; one part each"),
    ] = None,
) -> JobPublic | JSONResponse:
    """Check the spec against the ontology and every file's header, then ingest the files in the background.

    Files are saved under their names made safe (their last path part, in letters, digits, ``.``,
    ``_`` and ``-``); two that would share a name are refused (422). Each file, and all together,
    must be within ``NIMGRAPH_MAX_UPLOAD_BYTES`` (413). A spec with errors, or files that cannot be
    read as it says, are refused here (422, with every problem with every file in ``problems``)
    and nothing is kept; rows that fail are rejected one by one while the rest load, and the
    listings can be fetched once the job is done. The key is checked before any of the upload is
    read (api/limits.py).
    """
    limit = request.app.state.settings.max_upload_bytes
    jobs = _jobs(request)
    data, tables = _names(file, lookup or [])
    try:
        with jobs.staged() as (job_id, directory):  # removed, with whatever was saved, if anything below raises
            await _save(spec, directory / "spec.yaml", MAX_SPEC_BYTES, MAX_SPEC_BYTES)
            left = limit
            for upload, name in [*zip(lookup or [], tables, strict=True), *zip(file, data, strict=True)]:
                left -= await _save(upload, directory / name, limit, left)
            try:  # reading whole files: off the event loop
                checked, sources = await run_in_threadpool(
                    jobs.check, directory, directory / "spec.yaml", [directory / n for n in data]
                )
            except (SpecError, FileError) as err:
                raise _Refused(_problems(err, directory)) from None
            any_source = OVERSEER.allows(caller)  # an admin may load under any source's name
            try:
                jobs.check_custodian(checked.source, caller.name, any_source)
            except SourceTaken as err:
                raise HTTPException(403, str(err)) from None
            job = jobs.submit(job_id, caller.name, checked, sources, tables, any_source)
    except _Refused as refused:
        head, *listed = refused.problems or ["the spec or a file could not be read"]
        detail = f"{head}: {'; '.join(listed)}" if listed else head
        return problem(422, HTTPStatus(422).phrase, detail, request, problems=listed or [head])
    audited(request, f"ingest-job:{job.id}")  # collection: the audit entry names the job
    return _public(job, jobs)


def _own(job_id: str, request: Request, caller: Caller) -> tuple[Job, IngestJobs]:
    """The job, for whoever submitted it or an admin: 404 when there is none, 403 when it is another's."""
    jobs = _jobs(request)
    job = jobs.get(job_id)
    if job is None:
        raise HTTPException(404, f"no ingest job {job_id!r}")
    if job.submitted_by != caller.name and not OVERSEER.allows(caller):
        raise HTTPException(403, "only whoever submitted the job, or an admin, may read it or its rows")
    return job, jobs


@router.get("/{job_id}", response_model=JobPublic)
def status(job_id: JobId, request: Request, caller: Ingester) -> JobPublic:
    """The job's status and progress; its report as each file is done (submitter or admin)."""
    job, jobs = _own(job_id, request, caller)
    audited(request, f"ingest-job:{job.id}")  # its report echoes rejected values
    return _public(job, jobs)


def _listing(job_id: str, request: Request, caller: Caller, audit: AuditDep, kind: Listing) -> StreamingResponse:
    job, jobs = _own(job_id, request, caller)
    rows = jobs.combined(job, kind)
    if rows is None:
        raise HTTPException(404, f"job {job_id} has no {kind} rows" + ("" if job.status == "done" else " yet"))
    audit.items.add(f"ingest-job:{job_id}:{kind}")
    disposition = f'attachment; filename="{job_id}.{kind}.csv"'
    return StreamingResponse(rows, media_type="text/csv", headers={"Content-Disposition": disposition})


@router.get("/{job_id}/rejects", response_class=StreamingResponse, responses=CSV)
def rejects(job_id: JobId, request: Request, caller: Ingester, audit: AuditDep) -> StreamingResponse:
    """The rejected rows of every file as one CSV: file, row number, reason, and the original fields
    (personal data: submitter or admin, audited)."""
    return _listing(job_id, request, caller, audit, "rejects")


@router.get("/{job_id}/unmatched", response_class=StreamingResponse, responses=CSV)
def unmatched(job_id: JobId, request: Request, caller: Ingester, audit: AuditDep) -> StreamingResponse:
    """The rows that loaded although a reference (a lookup) found nothing, as for rejects."""
    return _listing(job_id, request, caller, audit, "unmatched")


@router.get("/{job_id}/warnings", response_class=StreamingResponse, responses=CSV)
def warnings(job_id: JobId, request: Request, caller: Ingester, audit: AuditDep) -> StreamingResponse:
    """The rows that loaded as written with something to check (a failed check digit), as for rejects."""
    return _listing(job_id, request, caller, audit, "warnings")


def shutdown(app: FastAPI) -> None:
    jobs = getattr(app.state, "ingest_jobs", None)
    if jobs is not None:
        jobs.shutdown()
