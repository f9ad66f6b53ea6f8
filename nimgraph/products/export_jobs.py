"""Exports that run in the background: the whole graph takes longer than a request should hold a worker.

An ``ExportJobs`` runs one export at a time, in submission order, and keeps each finished file for
its holder to download until it expires. A holder has one export at a time, running or queued (an
export asked for while a request writes one counts too): a key cannot fill the queue or the disk.

The files hold personal data at rest, so they are written readable by the server's user only, under
a folder of their own, and removed when they expire, when their holder cancels them, or when the
service stops. The job remembers the clearance it was read under: the file is handed over only to
its holder with that clearance still (a key whose clearance was narrowed since must export again).

>>> import tempfile
>>> jobs = ExportJobs(Path(tempfile.mkdtemp()))
>>> made = Export(b"<graphml/>", GRAPH_FORMATS["graphml"], "P", 1, 0, "the whole graph", {"Person-1"})
>>> job = jobs.submit("ana", "clearance", "graphml", "the whole graph", lambda say: made)
>>> jobs.wait(job.id)
>>> job.status, job.entities, job.path.read_bytes(), sorted(job.held)
('done', 1, b'<graphml/>', ['Person-1'])
>>> jobs.shutdown()
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from nimgraph.products.common import NotVisible, ProductError
from nimgraph.products.exporting import GRAPH_FORMATS, Export

__all__ = ["KEEP", "Busy", "Cancelled", "ExportJob", "ExportJobs"]

KEEP = timedelta(hours=1)  # how long a finished file waits for its holder
# How far a job is when it reaches each step, by the step's first word (reading is most of the work).
PROGRESS = {"queued": 0.0, "reading": 0.05, "writing": 0.6, "saving": 0.95}


class Busy(Exception):
    """The holder has an export under way already."""


class Cancelled(Exception):
    """The holder cancelled the job while it ran."""


@dataclass
class ExportJob:
    id: str
    holder: str
    clearance: Hashable  # what the file was read under; it goes only to a key with the same
    format: str
    description: str
    submitted_at: datetime
    status: str = "queued"  # queued, running, cancelling (at its next step), done, failed, cancelled, expired
    steps: list[dict[str, str]] = field(default_factory=list)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    entities: int | None = None
    links: int | None = None
    handling: str | None = None
    size: int | None = None
    error: str | None = None
    path: Path | None = None
    held: frozenset[str] = frozenset()  # the entities the file holds, by the ids its holder sees
    expires_at: datetime | None = None
    progress: float = 0.0
    cancel_asked: bool = False

    @property
    def filename(self) -> str:
        return f"nimgraph-export{GRAPH_FORMATS[self.format].suffix}"

    @property
    def media_type(self) -> str:
        return GRAPH_FORMATS[self.format].media_type

    def reached(self, step: str) -> None:
        self.steps.append({"at": _now().isoformat(timespec="seconds"), "step": step})
        self.progress = max(self.progress, PROGRESS.get(step.split(" ", 1)[0], self.progress))

    def end(self, status: str, error: str | None = None) -> None:
        self.status, self.error, self.finished_at, self.progress = status, error, _now(), 1.0

    @property
    def ended(self) -> bool:
        return self.finished_at is not None


Make = Callable[[Callable[[str], None]], Export]


class ExportJobs:
    """One background worker for exports, with the files it made until they expire."""

    def __init__(self, folder: Path, *, keep: timedelta = KEEP) -> None:
        self._folder = folder
        self._keep = keep
        self._jobs: dict[str, ExportJob] = {}
        self._futures: dict[str, Future[None]] = {}
        self._busy: set[str] = set()
        self._lock = threading.Lock()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="export")

    # ------------------------------------------------------------------ one at a time per holder
    def _take(self, holder: str) -> None:
        with self._lock:
            if holder in self._busy:
                raise Busy(holder)
            self._busy.add(holder)

    def _give_back(self, holder: str) -> None:
        with self._lock:
            self._busy.discard(holder)

    @contextmanager
    def holding(self, holder: str) -> Iterator[None]:
        """For an export a request writes itself: Busy while the holder has another under way."""
        self._take(holder)
        try:
            yield
        finally:
            self._give_back(holder)

    # ------------------------------------------------------------------ jobs
    def submit(self, holder: str, clearance: Hashable, format_name: str, description: str, make: Make) -> ExportJob:
        """Queue ``make`` (which reads and writes the export, reporting its steps to the function it is
        given) for ``holder``; Busy when the holder has an export under way."""
        if format_name not in GRAPH_FORMATS:
            raise ProductError(f"unknown export format {format_name!r}; there are: {', '.join(GRAPH_FORMATS)}")
        self.sweep()
        self._take(holder)
        job = ExportJob(secrets.token_hex(16), holder, clearance, format_name, description, _now())
        job.reached("queued")
        with self._lock:
            self._jobs[job.id] = job
        try:
            self._futures[job.id] = self._worker.submit(self._run, job, make)
        except RuntimeError:  # the service is stopping
            self._give_back(holder)
            job.end("failed", "the service is stopping; export again")
        return job

    def _run(self, job: ExportJob, make: Make) -> None:
        try:
            if job.cancel_asked:
                raise Cancelled
            job.status, job.started_at = "running", _now()
            if job.cancel_asked:  # asked between the check above and now
                raise Cancelled

            def say(step: str) -> None:
                if job.cancel_asked:
                    raise Cancelled
                job.reached(step)

            made = make(say)
            say("saving the file")
            folder = self._folder / job.id
            folder.mkdir(parents=True, mode=0o700)
            path = folder / job.filename
            # readable by the server's user only, from the moment it exists
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
                out.write(made.content)
            if job.cancel_asked:
                raise Cancelled
            job.path, job.size, job.held = path, len(made.content), frozenset(made.shown)
            job.entities, job.links, job.handling = made.entities, made.links, made.handling
            job.reached(f"done: {made.entities:,} entities and {made.links:,} links")
            job.end("done")
            job.expires_at = job.finished_at + self._keep if job.finished_at else None
        except Cancelled:
            self._remove(job)
            job.end("cancelled")
        except NotVisible as missing:
            self._remove(job)
            job.end(
                "failed",
                f"no entity with id {missing.args[0]!r} that you are cleared to see" if missing.args else "not found",
            )
        except ProductError as err:
            self._remove(job)
            job.end("failed", str(err))
        except Exception as err:  # reported on the job; in full in the server's log only (it may hold paths)
            logging.getLogger("nimgraph").exception("export job %s failed", job.id)
            self._remove(job)
            job.end("failed", f"the export failed ({type(err).__name__}); see the server log")
        finally:
            self._give_back(job.holder)

    def get(self, job_id: str) -> ExportJob | None:
        self.sweep()
        with self._lock:
            return self._jobs.get(job_id)

    def of(self, holder: str) -> list[ExportJob]:
        """The holder's jobs, newest first."""
        self.sweep()
        with self._lock:
            return sorted((j for j in self._jobs.values() if j.holder == holder), key=lambda j: j.submitted_at)[::-1]

    def cancel(self, job_id: str) -> ExportJob | None:
        """Stop the job (at its next step) or remove its file; the job stays listed as cancelled."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            return None
        job.cancel_asked = True
        future = self._futures.get(job_id)
        if job.status == "queued" and future is not None and future.cancel():
            job.end("cancelled")
            self._give_back(job.holder)
        elif job.status == "done":
            self._remove(job)
            job.status, job.expires_at = "cancelled", None
        elif not job.ended:
            job.status = "cancelling"
        return job

    def wait(self, job_id: str, timeout: float | None = None) -> None:
        """Until the job has ended (for tests and the command line)."""
        future = self._futures.get(job_id)
        if future is not None and not future.cancelled():
            future.result(timeout)

    def sweep(self) -> None:
        """Remove the files whose time is up, and any left in the folder by an earlier run of the service;
        forget jobs that ended longer ago than a file is kept."""
        now = _now()
        with self._lock:
            expired = [j for j in self._jobs.values() if j.status == "done" and j.expires_at and j.expires_at <= now]
            for job in [j for j in self._jobs.values() if j.ended and j.finished_at]:
                if job.finished_at and job.finished_at + 2 * self._keep <= now:
                    del self._jobs[job.id]
                    self._futures.pop(job.id, None)
            known = set(self._jobs)
        for job in expired:
            self._remove(job)
            job.status, job.expires_at = "expired", None
        if self._folder.is_dir():
            cutoff = time.time() - self._keep.total_seconds()
            for folder in self._folder.iterdir():
                # another process's files are its own until they are older than any it keeps
                if folder.name not in known and folder.stat().st_mtime < cutoff:
                    shutil.rmtree(folder, ignore_errors=True)

    def _remove(self, job: ExportJob) -> None:
        shutil.rmtree(self._folder / job.id, ignore_errors=True)
        job.path = None

    def shutdown(self) -> None:
        """Stop: queued jobs are dropped, the running one ends, and every file goes."""
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            job.cancel_asked = True
        self._worker.shutdown(wait=True, cancel_futures=True)
        for job in jobs:
            self._remove(job)
            if not job.ended:
                job.end("cancelled")


def _now() -> datetime:
    return datetime.now(UTC)
