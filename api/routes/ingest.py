"""Ingest jobs: upload a file with its mapping spec, watch the job's progress, fetch its rejects."""

from __future__ import annotations

import pathlib
import re
import threading
from typing import Annotated

from fastapi import APIRouter, FastAPI, File, HTTPException, Path, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from api.auth import AuditDep, audited, requires
from nimgraph.access.roles import Caller, Permission
from nimgraph.ingest.jobs import IngestJobs, Job
from nimgraph.ingest.readers import FileError
from nimgraph.ingest.spec import SpecError, printable

router = APIRouter(prefix="/ingest/jobs", tags=["ingest jobs"])

CHUNK = 1 << 20
MAX_SPEC_BYTES = 1_000_000
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx", ".json", ".jsonl", ".ndjson", ".parquet"}
JobId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="The job id POST returned")]
Ingester = Annotated[Caller, requires(Permission.INGEST)]


class JobPublic(BaseModel):
    id: str
    status: str = Field(description="queued, running, done or failed")
    file: str
    source: str
    submitted_by: str
    submitted_at: str
    finished_at: str | None
    rows_done: int
    rows_total: int = Field(description="an upper bound from the file's line count")
    progress: float = Field(description="0 to 1")
    report: dict | None = Field(description="the ingest summary once done: rows loaded and rejected, entities...")
    error: str | None
    rejects: str | None = Field(description="where to fetch the rejected rows, when there are any")


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
    rejects = jobs.rejects_file(job) if job.status == "done" else None
    return JobPublic(
        **{k: getattr(job, k) for k in ("id", "status", "file", "source", "submitted_by", "submitted_at")},
        finished_at=job.finished_at,
        rows_done=job.rows_done,
        rows_total=job.rows_total,
        progress=job.progress,
        report=job.report,
        error=job.error,
        rejects=f"/ingest/jobs/{job.id}/rejects" if rejects else None,
    )


async def _save(upload: UploadFile, target: pathlib.Path, limit: int) -> None:
    written = 0
    with target.open("wb") as out:
        while chunk := await upload.read(CHUNK):
            written += len(chunk)
            if written > limit:
                name = printable(upload.filename or "the file")
                raise HTTPException(413, f"{name} is larger than the {limit:,}-byte limit")
            out.write(chunk)


@router.post("", response_model=JobPublic, status_code=202)
async def submit(
    request: Request,
    caller: Ingester,
    spec: Annotated[UploadFile, File(description="The mapping spec (YAML), checked before the job starts")],
    file: Annotated[UploadFile, File(description="The partner file: CSV, TSV, xlsx, JSON, JSON Lines or Parquet")],
) -> JobPublic:
    """Check the spec against the ontology and the file's header, then ingest the file in the background.

    A spec with errors, or a file that cannot be read as it says, is refused here (422, naming the
    line); rows that fail are rejected one by one while the rest load, and the rejects file can be
    fetched once the job is done. The key is checked before any of the upload is read (api/limits.py).
    """
    settings = request.app.state.settings
    jobs = _jobs(request)
    name = SAFE_NAME.sub("_", (file.filename or "upload.csv").rsplit("/", 1)[-1]).strip("._") or "upload.csv"
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix not in SUFFIXES:
        raise HTTPException(415, f"{name!r}: send one of {', '.join(sorted(SUFFIXES))}")
    with jobs.staged() as (job_id, directory):  # removed, with whatever was saved, if anything below raises
        await _save(spec, directory / "spec.yaml", MAX_SPEC_BYTES)
        await _save(file, directory / name, settings.max_upload_bytes)
        try:
            checked, rows = jobs.check(directory, directory / "spec.yaml", directory / name)
        except (SpecError, FileError) as err:
            raise HTTPException(422, printable(str(err).replace(str(directory) + "/", ""))) from None
        job = jobs.submit(job_id, caller.name, checked, directory / name, rows)
    audited(request, f"ingest-job:{job.id}")  # collection: the audit entry names the job
    return _public(job, jobs)


@router.get("/{job_id}", response_model=JobPublic)
def status(job_id: JobId, request: Request, caller: Ingester) -> JobPublic:
    """The job's status and progress; its report once done."""
    jobs = _jobs(request)
    job = jobs.get(job_id)
    if job is None:
        raise HTTPException(404, f"no ingest job {job_id!r}")
    audited(request, f"ingest-job:{job.id}")  # its report echoes rejected values
    return _public(job, jobs)


@router.get("/{job_id}/rejects", response_class=FileResponse, responses={200: {"content": {"text/csv": {}}}})
def rejects(job_id: JobId, request: Request, caller: Ingester, audit: AuditDep) -> FileResponse:
    """The rejected rows as CSV: row number, reason, and the original fields (personal data: audited)."""
    jobs = _jobs(request)
    job = jobs.get(job_id)
    if job is None:
        raise HTTPException(404, f"no ingest job {job_id!r}")
    if job.submitted_by != caller.name and not caller.may(Permission.AUDIT):
        raise HTTPException(403, "only whoever submitted the job, or an admin, may fetch its rejected rows")
    path = jobs.rejects_file(job)
    if path is None:
        raise HTTPException(404, f"job {job_id} has no rejected rows" + ("" if job.status == "done" else " yet"))
    audit.items.add(f"ingest-job:{job_id}:rejects")
    return FileResponse(path, media_type="text/csv", filename=path.name)


def shutdown(app: FastAPI) -> None:
    jobs = getattr(app.state, "ingest_jobs", None)
    if jobs is not None:
        jobs.shutdown()
