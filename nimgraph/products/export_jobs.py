"""Exports that run in the background: the whole graph takes longer than a request should hold a worker.

A holder is a key holder at one clearance: two keys with the same name but different clearances are
two holders, who see nothing of each other's jobs. Each holder has one export under way at a time
(queued or running; an export a request writes itself counts too), keeps at most ``MAX_FILES``
finished files (a new one removes the oldest) and ``MAX_JOBS`` jobs in its list.

Jobs run one at a time for each clearance, in the order they were asked for. A clearance's queue
holds only jobs read at that clearance, so how long a job waits says nothing about what a wider
clearance is exporting (the machine's cores are still shared, as by any request).

The files hold personal data at rest: they are written readable by the server's user only, in
folders of their own, and removed when they expire (``KEEP`` after the job ends), when their holder
cancels them, when the service stops, and, should it stop without clearing up, when it starts again.

>>> import tempfile
>>> jobs = ExportJobs(Path(tempfile.mkdtemp()))
>>> made = Export(b"<graphml/>", GRAPH_FORMATS["graphml"], "P", 1, 0, "the whole graph", {"Person-1"})
>>> job = jobs.submit(("ana", "P only"), "P only", "graphml", "the whole graph", lambda say: made)
>>> jobs.wait(job.id)
>>> job.status, job.entities, job.path.read_bytes(), sorted(job.held)
('done', 1, b'<graphml/>', ['Person-1'])
>>> jobs.get(job.id, ("ana", "all")) is None  # the same name at another clearance is another holder
True
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
from typing import Any

from nimgraph.products.common import NotVisible, ProductError
from nimgraph.products.exporting import GRAPH_FORMATS, Export

__all__ = ["KEEP", "MAX_FILES", "MAX_JOBS", "Busy", "Cancelled", "ExportJob", "ExportJobs"]

KEEP = timedelta(hours=1)  # how long a finished file waits for its holder
MAX_FILES = 3  # finished files kept for one holder: a new one removes the oldest
MAX_JOBS = 20  # jobs listed for one holder: ended ones beyond are forgotten, oldest first
SCRATCH = "scratch"  # not a job id: job folders are named by 32 hex digits
SWEEP_EVERY = 30.0  # seconds between looks at the folder for files whose time is up
# How far a job is when it reaches each step, by the step's first word (reading is most of the work).
PROGRESS = {"queued": 0.0, "reading": 0.05, "writing": 0.6, "saving": 0.95}


class Busy(Exception):
    """The holder has an export under way already."""


class Cancelled(Exception):
    """The holder cancelled the job while it ran."""


@dataclass
class ExportJob:
    id: str
    holder: Hashable
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
    held: frozenset[str] = frozenset()  # the entities the file holds, by real id: whom the audit log names
    expires_at: datetime | None = None
    progress: float = 0.0
    reader: Any = None  # what it was read through (a cleared view), for the download's audit entry
    cancel_asked: bool = False

    @property
    def filename(self) -> str:
        return f"nimgraph-export{GRAPH_FORMATS[self.format].suffix}"

    @property
    def media_type(self) -> str:
        return GRAPH_FORMATS[self.format].media_type

    @property
    def ended(self) -> bool:
        return self.finished_at is not None

    def reached(self, step: str) -> None:
        self.steps.append({"at": _now().isoformat(timespec="seconds"), "step": step})
        self.progress = max(self.progress, PROGRESS.get(step.split(" ", 1)[0], self.progress))

    def end(self, status: str, error: str | None = None) -> None:
        self.status, self.error, self.finished_at, self.progress = status, error, _now(), 1.0


Make = Callable[[Callable[[str], None]], Export]


class ExportJobs:
    """Background exports, a worker per clearance, with the files they made until they expire."""

    def __init__(self, folder: Path, *, keep: timedelta = KEEP) -> None:
        self._folder = folder
        self.scratch = folder / SCRATCH  # where an export writes its parts before they are one file
        self._keep = keep
        self._jobs: dict[str, ExportJob] = {}
        self._futures: dict[str, Future[None]] = {}
        self._busy: set[Hashable] = set()
        self._lock = threading.Lock()
        self._lanes: dict[Hashable, ThreadPoolExecutor] = {}
        self._stopping = False
        self._swept = 0.0
        self._sweeper: threading.Timer | None = None

    # ------------------------------------------------------------------ one at a time per holder
    def _take(self, holder: Hashable) -> None:
        with self._lock:
            if holder in self._busy:
                raise Busy(holder)
            self._busy.add(holder)

    def _give_back(self, holder: Hashable) -> None:
        with self._lock:
            self._busy.discard(holder)

    @contextmanager
    def holding(self, holder: Hashable) -> Iterator[None]:
        """For an export a request writes itself: Busy while the holder has another under way."""
        self._take(holder)
        try:
            yield
        finally:
            self._give_back(holder)

    # ------------------------------------------------------------------ jobs
    def submit(self, holder: Hashable, lane: Hashable, format_name: str, description: str, make: Make) -> ExportJob:
        """Queue ``make`` (which reads and writes the export, reporting its steps to the function it is
        given) for ``holder``, behind the jobs of the same ``lane`` (its clearance); Busy when the holder
        has an export under way."""
        if format_name not in GRAPH_FORMATS:
            raise ProductError(f"unknown export format {format_name!r}; there are: {', '.join(GRAPH_FORMATS)}")
        self.sweep()
        self._take(holder)
        job = ExportJob(secrets.token_hex(16), holder, format_name, description, _now())
        job.reached("queued")
        with self._lock:
            self._jobs[job.id] = job
            self._forget_beyond(holder)
            worker = None
            if not self._stopping:
                worker = self._lanes.get(lane)
                if worker is None:
                    worker = self._lanes[lane] = ThreadPoolExecutor(max_workers=1, thread_name_prefix="export")
                self._futures[job.id] = worker.submit(self._run, job, make)
        if worker is None:
            self._give_back(holder)
            job.end("failed", "the service is stopping; export again")
        return job

    def _run(self, job: ExportJob, make: Make) -> None:
        try:
            with self._lock:
                if job.cancel_asked:
                    raise Cancelled
                job.status, job.started_at = "running", _now()

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
            with self._lock:  # a cancel now or before is seen here, or finds the job done and removes the file
                if job.cancel_asked:
                    raise Cancelled
                job.path, job.size, job.held = path, len(made.content), frozenset(made.shown)
                job.entities, job.links, job.handling = made.entities, made.links, made.handling
                job.reached(f"done: {made.entities:,} entities and {made.links:,} links")
                job.end("done")
                job.expires_at = job.finished_at + self._keep if job.finished_at else None
                older = self._files_beyond(job.holder)
            for stale in older:
                self._remove(stale)
                stale.status, stale.expires_at = "expired", None
        except Cancelled:
            self._remove(job)
            job.end("cancelled")
        except NotVisible as missing:
            self._remove(job)
            shown = repr(missing.args[0]) if missing.args else "given"
            job.end("failed", f"no entity with id {shown} that you are cleared to see")
        except ProductError as err:
            self._remove(job)
            job.end("failed", str(err))
        except Exception as err:  # reported on the job; in full in the server's log only (it may hold paths)
            logging.getLogger("nimgraph").exception("export job %s failed", job.id)
            self._remove(job)
            job.end("failed", f"the export failed ({type(err).__name__}); see the server log")
        finally:
            self._give_back(job.holder)

    def _files_beyond(self, holder: Hashable) -> list[ExportJob]:
        """The holder's finished files past the newest MAX_FILES (under the lock)."""
        done = [j for j in self._jobs.values() if j.holder == holder and j.status == "done" and j.path is not None]
        done.sort(key=lambda j: j.finished_at or j.submitted_at, reverse=True)
        return done[MAX_FILES:]

    def _forget_beyond(self, holder: Hashable) -> None:
        """Forget the holder's oldest ended jobs past MAX_JOBS (under the lock); their files go too."""
        mine = sorted((j for j in self._jobs.values() if j.holder == holder), key=lambda j: j.submitted_at)
        for job in mine[: max(0, len(mine) - MAX_JOBS)]:
            if job.ended:
                del self._jobs[job.id]
                self._futures.pop(job.id, None)
                shutil.rmtree(self._folder / job.id, ignore_errors=True)

    def get(self, job_id: str, holder: Hashable) -> ExportJob | None:
        """The holder's job, or None: for another holder's as for one that never was."""
        self.sweep()
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job.holder != holder:
            return None
        self._expire_if_due(job)
        return job

    def of(self, holder: Hashable) -> list[ExportJob]:
        """The holder's jobs, newest first."""
        self.sweep()
        with self._lock:
            jobs = sorted((j for j in self._jobs.values() if j.holder == holder), key=lambda j: j.submitted_at)[::-1]
        for job in jobs:
            self._expire_if_due(job)
        return jobs

    def _expire_if_due(self, job: ExportJob) -> None:
        """A file whose time is up is gone when it is asked for, whenever the sweep last looked."""
        if job.status == "done" and job.expires_at is not None and job.expires_at <= _now():
            self._remove(job)
            job.status, job.expires_at = "expired", None

    def cancel(self, job_id: str, holder: Hashable) -> ExportJob | None:
        """Stop the holder's job (at its next step) or remove its file; the job stays listed as cancelled."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.holder != holder:
                return None
            job.cancel_asked = True
            future = self._futures.get(job_id)
            dropped = job.status == "queued" and future is not None and future.cancel()
            finished = job.status == "done"
            if not dropped and not finished and not job.ended:
                job.status = "cancelling"
        if dropped:
            job.end("cancelled")
            self._give_back(job.holder)
        elif finished:
            self._remove(job)
            job.status, job.expires_at = "cancelled", None
        return job

    def wait(self, job_id: str, timeout: float | None = None) -> None:
        """Until the job has ended (for tests and the command line)."""
        future = self._futures.get(job_id)
        if future is not None and not future.cancelled():
            future.result(timeout)

    # ------------------------------------------------------------------ files at rest
    def clear_leftovers(self) -> None:
        """At start: remove what an earlier run of the service left (its jobs ended with it), and keep
        the folder the server user's alone."""
        self._folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._folder.chmod(0o700)
        with self._lock:
            known = set(self._jobs)
        for folder in self._folder.iterdir():
            if folder.name not in known:
                shutil.rmtree(folder, ignore_errors=True)

    def sweep_every(self, seconds: float = SWEEP_EVERY) -> None:
        """Remove expired files on a timer too, not only when someone asks about a job."""

        def tick() -> None:
            self.sweep(force=True)
            if not self._stopping:
                self.sweep_every(seconds)

        self._sweeper = threading.Timer(seconds, tick)
        self._sweeper.daemon = True
        self._sweeper.start()

    def sweep(self, *, force: bool = False) -> None:
        """Remove the files whose time is up, and forget jobs that ended longer ago than a file is kept;
        at most once every SWEEP_EVERY seconds unless ``force``d (a flood of requests must not make each
        one scan every job)."""
        now_seconds = time.monotonic()
        if not force and now_seconds - self._swept < SWEEP_EVERY and self._keep >= timedelta(seconds=SWEEP_EVERY):
            return
        self._swept = now_seconds
        now = _now()
        with self._lock:
            expired = [j for j in self._jobs.values() if j.status == "done" and j.expires_at and j.expires_at <= now]
            for job in [j for j in self._jobs.values() if j.finished_at and j.finished_at + 2 * self._keep <= now]:
                del self._jobs[job.id]
                self._futures.pop(job.id, None)
        for job in expired:
            self._remove(job)
            job.status, job.expires_at = "expired", None

    def _remove(self, job: ExportJob) -> None:
        shutil.rmtree(self._folder / job.id, ignore_errors=True)
        job.path = None

    def shutdown(self) -> None:
        """Stop: queued jobs are dropped, running ones end at their next step, and every file goes."""
        with self._lock:
            self._stopping = True
            jobs = list(self._jobs.values())
            lanes = list(self._lanes.values())
            for job in jobs:
                job.cancel_asked = True
        if self._sweeper is not None:
            self._sweeper.cancel()
        for lane in lanes:
            lane.shutdown(wait=True, cancel_futures=True)
        for job in jobs:
            self._remove(job)
            if not job.ended:
                job.end("cancelled")


def _now() -> datetime:
    return datetime.now(UTC)
