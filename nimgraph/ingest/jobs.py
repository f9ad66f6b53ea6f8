"""Ingest files as background jobs, one at a time, with progress and the listings of rows to fetch.

Each job has its own directory under ``<work_dir>/jobs/<id>/`` holding the spec, the data files,
the lookup files the spec reads, the listings (``rejects/<file>.{rejects,unmatched,warnings}.csv``)
and ``status.json``, so a finished job's outcome survives a restart. Jobs run on one worker
thread, in the order they were submitted: two ingests writing at once would only contend for the
same store. The checks before a job starts and the load itself are the engine's
(:func:`~nimgraph.ingest.engine.open_sources`, :func:`~nimgraph.ingest.engine.ingest_files`), as
for ``nimgraph ingest``.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from nimgraph.ingest.engine import COMMAND_LINE, IngestReport, Progress, ingest_files, open_sources
from nimgraph.ingest.readers import FileError, Source
from nimgraph.ingest.spec import MappingSpec, SpecError, load_spec
from nimgraph.ingest.values import fold
from nimgraph.ontology import Model
from nimgraph.store.base import GraphStore

Status = Literal["queued", "running", "done", "failed"]
Listing = Literal["rejects", "unmatched", "warnings"]
LISTINGS: tuple[Listing, ...] = ("rejects", "unmatched", "warnings")
STATUS_FILE = "status.json"
# a file's counts, summed over the files for the job's totals
COUNTS = (
    "rows_read", "rows_loaded", "rows_rejected", "rows_filtered", "rows_unmatched", "unconfirmed_dates",
    "entities_created", "entities_merged", "entities_updated", "entities_unchanged", "links_written",
)  # fmt: skip


def custodian_of(holder: str) -> str:
    """How a key holder is named as a source's custodian: apart from the command line, whatever the key's name.

    >>> custodian_of("the command line")
    'api key: the command line'
    """
    return f"api key: {holder}"


class SourceTaken(PermissionError):
    """A job names a source that another holder loads (nim:custodian)."""


@dataclass
class Job:
    id: str
    submitted_by: str
    files: list[str]  # the data files, in the order they load
    source: str
    lookups: list[str] = field(default_factory=list)  # files uploaded for the spec's lookups to read
    status: Status = "queued"
    rows_total: int = 0  # an upper bound from the files' line counts, for progress
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

    @classmethod
    def saved(cls, data: dict[str, Any]) -> Job:
        """A job from its status.json, as this version or an older one wrote it (one ``file``, no ``lookups``)."""
        data = dict(data)
        if "file" in data:
            data.setdefault("files", [data.pop("file")])
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})


def file_report(report: IngestReport) -> dict[str, Any]:
    """One file's report as JSON: every row that did not load as written is counted here."""
    e = report.entities
    summary = report.summary()
    for kind, path in zip(LISTINGS, (report.rejects_file, report.unmatched_file, report.warnings_file), strict=True):
        if path:  # a path on the server means nothing to an API caller; the job's listing is where they are
            summary = summary.replace(f"see {path}", f"see the job's {kind} listing")
    return {
        "file": report.file,
        "read_as": report.read_as,
        "summary": summary,
        "rows_read": report.rows_read,
        "rows_loaded": report.rows_loaded,
        "rows_rejected": report.rows_rejected,
        "rows_filtered": report.rows_filtered,
        "rows_unmatched": report.rows_unmatched,
        "unconfirmed_dates": report.unconfirmed_dates,
        "entities_created": e.created,
        "entities_merged": e.merged,
        "entities_updated": e.updated,
        "entities_unchanged": e.unchanged,
        "links_written": report.links_written,
        "reasons": dict(report.reasons),
        "unmatched": dict(report.unmatched),
        "warnings": dict(report.warnings),
        "dates": {
            what: {"order": c.order, "stated": c.stated, "ambiguous": c.ambiguous} for what, c in report.dates.items()
        },
        "examples": list(report.examples),
        "unmatched_examples": list(report.unmatched_examples),
    }


def job_report(reports: list[IngestReport]) -> dict[str, Any]:
    """The job's report: the totals over its files, their summaries, and each file's own report under ``files``."""
    per_file = [file_report(report) for report in reports]
    totals: dict[str, Any] = {count: sum(f[count] for f in per_file) for count in COUNTS}
    for by_kind in ("reasons", "unmatched", "warnings"):
        merged: dict[str, int] = {}
        for f in per_file:
            for kind, n in f[by_kind].items():
                merged[kind] = merged.get(kind, 0) + n
        totals[by_kind] = merged
    dates: dict[str, dict[str, Any]] = {}
    for f in per_file:
        for what, counts in f["dates"].items():
            dates.setdefault(what, {**counts, "ambiguous": 0})["ambiguous"] += counts["ambiguous"]
    return {"summary": "\n".join(f["summary"] for f in per_file), **totals, "dates": dates, "files": per_file}


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
        directory.mkdir(parents=True, mode=0o700)  # the uploaded rows and their rejects: the service user's alone
        try:
            yield job_id, directory
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise

    def check(self, directory: Path, spec_path: Path, data_paths: list[Path]) -> tuple[MappingSpec, list[Source]]:
        """The spec, checked against the ontology (its lookups read from ``directory`` only), and every
        file's header and mapping checked against it, in loading order.

        Raises SpecError (or FileError) naming every problem with every file before anything is written.
        """
        spec = load_spec(spec_path, self._model, confine_to=directory)
        return spec, open_sources(spec, self._model, data_paths)

    def check_custodian(self, source: str, holder: str, any_source: bool) -> None:
        """Refuse (SourceTaken) a holder who may not load under ``source``: it is another's (nim:custodian).

        Only the custodian of a registered source, or a holder who may load ``any_source`` (an admin), may;
        otherwise a job could re-grade, replace or withdraw another's records by naming their source.
        """
        registered = self._store.sources()
        alike = [name for name in registered if name != source and fold(name) == fold(source)]
        if alike and not any_source:  # Council-ASB beside council-asb: one would pass for the other
            raise SourceTaken(f"a source named {alike[0]!r} is registered; use its exact name, or another name")
        known = registered.get(source)
        custodian = None if known is None else known.get("custodian", COMMAND_LINE)
        if custodian not in (None, custodian_of(holder)) and not any_source:
            raise SourceTaken(
                f"the source {source!r} is loaded by another holder ({custodian}); name a source of your own "
                "in the spec, or ask an admin to load it"
            )

    def submit(
        self,
        job_id: str,
        submitted_by: str,
        spec: MappingSpec,
        sources: list[Source],
        lookups: list[str],
        any_source: bool = False,
    ) -> Job:
        job = Job(
            id=job_id,
            submitted_by=submitted_by,
            files=[source.path.name for source in sources],
            source=spec.source,
            lookups=lookups,
            rows_total=sum(source.count() for source in sources),
        )
        with self._lock:
            self._jobs[job_id] = job
        self._save(job)
        self._worker.submit(self._run, job, spec, sources, any_source)
        return job

    def _run(self, job: Job, spec: MappingSpec, sources: list[Source], any_source: bool) -> None:
        job.status = "running"
        self._save(job)
        reports: list[IngestReport] = []

        def advance(rows: int) -> None:
            job.rows_done += rows

        def progress(_name: str, _rows: int) -> Progress:
            return advance

        def ended(report: IngestReport) -> None:
            reports.append(report)
            job.report = job_report(reports)  # the files done so far, while the rest load
            self._save(job)

        try:
            # claimed as the job starts, and checked again: another's job may have claimed it since submission
            self._store.register_source(spec.source, {"custodian": custodian_of(job.submitted_by)})
            self.check_custodian(spec.source, job.submitted_by, any_source)
            ingest_files(
                self._store,
                self._model,
                spec,
                sources,
                rejects_dir=self._dir / job.id / "rejects",
                batch_size=self._batch_size,
                progress_factory=progress,
                on_report=ended,
                custodian=custodian_of(job.submitted_by),
            )
        except (SpecError, FileError, SourceTaken) as err:
            job.status, job.error = "failed", self._scrubbed(str(err), job)
        except Exception as err:  # the job reports it, with the files that loaded before; the server carries on
            job.status, job.error = "failed", self._scrubbed(f"{type(err).__name__}: {err}", job)
        else:
            job.status = "done"
        job.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
        self._save(job)

    def _scrubbed(self, message: str, job: Job) -> str:
        """A message without the server's folders: the files are named as they were uploaded."""
        for folder in {self._dir / job.id, (self._dir / job.id).resolve()}:
            message = message.replace(f"{folder}/", "").replace(str(folder), "the job's folder")
        return message

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            if job_id in self._jobs:
                return self._jobs[job_id]
        status = self._dir / job_id / STATUS_FILE
        if not status.is_file():
            return None
        saved = json.loads(status.read_text())
        if saved["status"] in ("queued", "running"):  # the process that ran it stopped before it finished
            saved["status"], saved["error"] = "failed", "the server stopped before the job finished; submit it again"
        return Job.saved(saved)

    def listings(self, job: Job, kind: Listing) -> list[tuple[str, Path]]:
        """Each file's listing of ``kind`` that has rows, as (the file's name, the listing), in loading order."""
        folder = self._dir / job.id / "rejects"
        found = [(name, folder / f"{Path(name).stem}.{kind}.csv") for name in job.files]
        return [(name, path) for name, path in found if path.is_file()]

    def combined(self, job: Job, kind: Listing) -> Iterator[str] | None:
        """The listings of ``kind`` as one CSV, streamed: ``file``, ``row``, ``reason``, then the columns
        of every file with a listing (in order of first appearance; blank where a file has no such column).

        None when no file has such rows.
        """
        listings = self.listings(job, kind)
        if not listings:
            return None
        headers = [_header(path) for _, path in listings]
        columns = list(dict.fromkeys(c for header in headers for c in header[2:]))
        return _combined_rows(listings, headers, columns)

    def _save(self, job: Job) -> None:
        path = self._dir / job.id / STATUS_FILE
        path.write_text(json.dumps(asdict(job), indent=2))

    def shutdown(self) -> None:
        self._worker.shutdown(wait=True, cancel_futures=True)


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle), [])


def _combined_rows(listings: list[tuple[str, Path]], headers: list[list[str]], columns: list[str]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values: list[str]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue()

    yield line(["file", "row", "reason", *columns])
    for (name, path), header in zip(listings, headers, strict=True):
        position = {column: i for i, column in enumerate(header[2:], start=2)}  # a file may have a 'row' column
        with path.open(encoding="utf-8", newline="") as handle:
            rows = csv.reader(handle)
            next(rows, None)
            for row in rows:
                cells = [row[position[c]] if position.get(c, len(row)) < len(row) else "" for c in columns]
                yield line([name, *row[:2], *cells])
