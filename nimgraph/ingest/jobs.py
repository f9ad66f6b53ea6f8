"""Ingest files as background jobs, one at a time, with progress and a rejects file to fetch.

Each job has its own directory under ``<work_dir>/jobs/<id>/`` holding the spec, the data file,
the rejects file and ``status.json``, so a finished job's outcome survives a restart. Jobs run
on one worker thread, in the order they were submitted: two ingests writing at once would only
contend for the same store.
"""

from __future__ import annotations

import json
import shutil
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from nimgraph.ingest.engine import check_columns, ingest_file
from nimgraph.ingest.readers import FileError, open_source
from nimgraph.ingest.spec import MappingSpec, SpecError, load_spec
from nimgraph.ontology import Model
from nimgraph.store.base import GraphStore

Status = Literal["queued", "running", "done", "failed"]


@dataclass
class Job:
    id: str
    submitted_by: str
    file: str
    source: str
    status: Status = "queued"
    rows_total: int = 0  # an upper bound from the file's line count, for progress
    rows_done: int = 0
    submitted_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    finished_at: str | None = None
    report: dict[str, Any] | None = None
    error: str | None = None

    @property
    def progress(self) -> float:
        if self.status == "done":
            return 1.0
        return round(min(self.rows_done / self.rows_total, 1.0), 4) if self.rows_total else 0.0


class IngestJobs:
    def __init__(self, store: GraphStore, model: Model, work_dir: Path, batch_size: int) -> None:
        self._store = store
        self._model = model
        self._dir = work_dir / "jobs"
        self._batch_size = batch_size
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest")

    @contextmanager
    def staged(self) -> Iterator[tuple[str, Path]]:
        """A new job's id and directory; if the block raises, the directory goes with all it holds.

        An upload that is refused, for any reason, must leave nothing on disk.
        """
        job_id = uuid.uuid4().hex
        directory = self._dir / job_id
        directory.mkdir(parents=True)
        try:
            yield job_id, directory
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise

    def check(self, directory: Path, spec_path: Path, data_path: Path) -> tuple[MappingSpec, int]:
        """The spec, checked against the ontology and the file's header; raises SpecError or FileError."""
        spec = load_spec(spec_path, self._model, confine_to=directory)
        source = open_source(data_path, spec.read)
        if spec.neo4j_import is None:
            check_columns(spec, source.columns(), data_path)
        return spec, source.count()

    def submit(self, job_id: str, submitted_by: str, spec: MappingSpec, data_path: Path, rows_total: int) -> Job:
        job = Job(id=job_id, submitted_by=submitted_by, file=data_path.name, source=spec.source, rows_total=rows_total)
        with self._lock:
            self._jobs[job_id] = job
        self._save(job)
        self._worker.submit(self._run, job, spec, data_path)
        return job

    def _run(self, job: Job, spec: MappingSpec, data_path: Path) -> None:
        job.status = "running"
        self._save(job)

        def advance(rows: int) -> None:
            job.rows_done += rows

        try:
            self._store.prepare()
            report = ingest_file(
                self._store,
                self._model,
                spec,
                data_path,
                rejects_dir=data_path.parent / "rejects",
                batch_size=self._batch_size,
                progress=advance,
            )
        except (SpecError, FileError) as err:
            job.status, job.error = "failed", str(err)
        except Exception as err:  # the job reports it; the server carries on
            job.status, job.error = "failed", f"{type(err).__name__}: {err}"
        else:
            job.status = "done"
            job.report = {
                "summary": report.summary(),
                "rows_read": report.rows_read,
                "rows_loaded": report.rows_loaded,
                "rows_rejected": report.rows_rejected,
                "rows_filtered": report.rows_filtered,
                "entities_created": report.entities.created,
                "entities_merged": report.entities.merged,
                "entities_updated": report.entities.updated,
                "links_written": report.links_written,
                "reasons": report.reasons,
            }
        job.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
        self._save(job)

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            if job_id in self._jobs:
                return self._jobs[job_id]
        status = self._dir / job_id / "status.json"
        if not status.is_file():
            return None
        saved = json.loads(status.read_text())
        if saved["status"] in ("queued", "running"):  # the process that ran it stopped before it finished
            saved["status"], saved["error"] = "failed", "the server stopped before the job finished; submit it again"
        return Job(**saved)

    def rejects_file(self, job: Job) -> Path | None:
        found = sorted((self._dir / job.id / "rejects").glob("*.rejects.csv"))
        return found[0] if found else None

    def _save(self, job: Job) -> None:
        path = self._dir / job.id / "status.json"
        path.write_text(json.dumps(asdict(job), indent=2))

    def shutdown(self) -> None:
        self._worker.shutdown(wait=True, cancel_futures=True)
