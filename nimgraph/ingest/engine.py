"""Run a mapping spec over a file: map rows, quarantine the bad ones, write the good in batches."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from nimgraph.ids import IdKey
from nimgraph.ingest.mapper import Row, RowError, RowMapper
from nimgraph.ingest.neo4j_import import Neo4jImportMapper, parse_header
from nimgraph.ingest.readers import WIDTH, Source, open_source
from nimgraph.ingest.spec import MappingSpec, SpecError
from nimgraph.ontology import Model
from nimgraph.records import Batch, Entity, Link, WriteStats
from nimgraph.store.base import GraphStore

Progress = Callable[[int], None]
MAX_EXAMPLES = 5


@dataclass
class IngestReport:
    file: str
    source: str
    read_as: str = ""  # how the reader read the file: format, encoding, delimiter
    dry_run: bool = False
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_filtered: int = 0  # skipped by the spec's filters: not errors, not loaded
    entities_written: int = 0
    links_written: int = 0
    entities: WriteStats = field(default_factory=WriteStats)
    rejects_file: str | None = None
    reasons: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)  # the first few rejections, as an analyst reads them

    def reject(self, line: int, reason: str) -> None:
        self.rows_rejected += 1
        kind = reason.split(":")[0]  # group "date ('Date'): '31/02' is not..." by its field
        self.reasons[kind] = self.reasons.get(kind, 0) + 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(f"{self.file} row {line}: {reason}")

    def summary(self) -> str:
        e = self.entities
        if self.dry_run:
            text = (
                f"{self.file} (dry run, nothing written): {self.rows_loaded} of {self.rows_read} rows would load; "
                f"{self.entities_written} entity and {self.links_written} link writes"
            )
        else:
            text = (
                f"{self.file}: {self.rows_loaded} of {self.rows_read} rows loaded; entities: {e.created} created, "
                f"{e.merged} merged with another source's, {e.updated} updated; {self.links_written} link writes"
            )
        if self.rows_filtered:
            text += f"; {self.rows_filtered} left out by the spec's filters"
        if self.read_as:
            text += f", read as {self.read_as}"
        if self.rows_rejected:
            text += f"; {self.rows_rejected} rejected, see {self.rejects_file}"
            text += "".join(f"\n  {example}" for example in self.examples)
            if self.rows_rejected > len(self.examples):
                text += f"\n  ... and {self.rows_rejected - len(self.examples)} more"
        if e.merged_ids:
            text += "\n  merged, e.g.: " + ", ".join(e.merged_ids) + " (their provenance lists the records joined)"
        return text


class _BatchWriter:
    """Collects records, merging repeats of the same id, and writes them when the batch is full.

    A full batch is encoded by the store here (``stage``) and written on a background thread while
    the next one is mapped; at most one write is in flight, so batches still commit in file order
    and a failure stops the run at that batch.
    """

    def __init__(self, store: GraphStore | None, size: int, report: IngestReport) -> None:
        self.store, self.size, self.report = store, size, report
        self.entities: dict[str, Entity] = {}
        self.links: dict[str, Link] = {}
        self._records: dict[str, set[tuple[str, str]]] = {}  # per item, the records already pending
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nimgraph-write")
        self._in_flight: Future | None = None
        self.run = uuid.uuid4().hex  # one run: rows sharing a record id add up instead of replacing

    def add(self, entities: list[Entity], links: list[Link]) -> None:
        for items, pending in ((entities, self.entities), (links, self.links)):
            for item in items:
                known = pending.get(item.id)
                if known is None:
                    pending[item.id] = item
                    self._records[item.id] = {(a.source, a.record_id) for a in item.provenance}
                    continue
                known.properties.update(item.properties)
                records = self._records[item.id]
                for assertion in item.provenance:
                    if (assertion.source, assertion.record_id) not in records:
                        records.add((assertion.source, assertion.record_id))
                        known.provenance.append(assertion)
        if len(self.entities) + len(self.links) >= self.size:
            self.flush()

    def flush(self) -> None:
        """Hand the pending batch to the writer thread, once the previous write has committed."""
        self._wait()
        if self.entities or self.links:
            batch = Batch(entities=list(self.entities.values()), links=list(self.links.values()), run=self.run)
            write = self.store.stage(batch) if self.store is not None else lambda: None  # None: a dry run
            self._in_flight = self._writer.submit(self._write, batch, write)
            self.entities, self.links, self._records = {}, {}, {}

    def _write(self, batch: Batch, write: Callable[[], WriteStats | None]) -> None:
        stats = write()
        if stats is not None:
            self.report.entities.add(stats)
        self.report.entities_written += len(batch.entities)
        self.report.links_written += len(batch.links)

    def _wait(self) -> None:
        if self._in_flight is not None:
            in_flight, self._in_flight = self._in_flight, None
            in_flight.result()  # re-raises the write's error here, in the caller's thread

    def abandon(self) -> None:
        """After an error elsewhere: let the write in flight finish, keep nothing else."""
        self._writer.shutdown(wait=True)

    def close(self) -> None:
        """Write what is pending and wait for it; raises the first write error."""
        try:
            self.flush()
            self._wait()
        finally:
            self._writer.shutdown(wait=True)


class _Rejects:
    """The rejects file: each bad row as it was, with its line number and the reason."""

    def __init__(self, path: Path, columns: list[str]) -> None:
        self.path, self.columns = path, columns
        self._handle = None
        self._writer = None
        path.unlink(missing_ok=True)  # a stale file from an earlier run would mislead

    def write(self, line: int, reason: str, fields: list[str]) -> None:
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.path.open("w", encoding="utf-8", newline="")
            self._writer = csv.writer(self._handle)
            self._writer.writerow(["row", "reason", *self.columns])
        self._writer.writerow([line, reason, *fields])

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


def check_columns(spec: MappingSpec, columns: list[str], path: Path) -> None:
    missing = {c: line for c, line in spec.columns_used().items() if c not in columns}
    if missing:
        column, line = next(iter(missing.items()))
        raise SpecError(
            f"{spec.path}:{line or '?'}: unknown column {column!r} in {path.name}; the file has: {', '.join(columns)}"
        )


def ingest_file(
    store: GraphStore | None,
    model: Model,
    spec: MappingSpec,
    path: Path | str,
    *,
    rejects_dir: Path | str,
    batch_size: int = 5000,
    progress: Progress | None = None,
    known_ids: set[str] | None = None,
    source: Source | None = None,
    ids: IdKey | None = None,
) -> IngestReport:
    """Load one file through one spec. Idempotent: a second run writes the same records again.

    With ``store`` None it is a dry run: every row is read, mapped and checked, rejects are written,
    and nothing else; ids are then keyed under a throwaway key unless ``ids`` is given (by default
    the store's id key). Every batch is its own transaction, so a run that fails midway keeps what it wrote, and running
    it again completes it without duplicates.
    """
    path = Path(path)
    ids = ids or (store.id_key() if store is not None else IdKey.generate())
    source = source or open_source(path, spec.read)  # a caller that opened it already saves a detection pass
    columns = source.columns()
    mapper: RowMapper | Neo4jImportMapper
    if spec.neo4j_import is not None:  # known_ids: the nodes earlier files of this run defined
        mapper = Neo4jImportMapper(
            spec,
            model,
            parse_header(spec, model, columns, path.name),
            known_ids if known_ids is not None else set(),
            exists=lambda entity_id: store is not None and store.get(entity_id) is not None,
            ids=ids,
        )
    else:
        check_columns(spec, columns, path)
        mapper = RowMapper(spec, model, ids)
    report = IngestReport(file=path.name, source=spec.source, read_as=source.describe(), dry_run=store is None)
    writer = _BatchWriter(store, batch_size, report)
    rejects = _Rejects(Path(rejects_dir) / f"{path.stem}.rejects.csv", columns)
    try:
        for line, values, fields in source.rows():
            report.rows_read += 1
            if spec.filters and not all(f.keeps(values) for f in spec.filters):
                report.rows_filtered += 1
                if progress:
                    progress(1)
                continue
            try:
                if WIDTH in values:
                    raise RowError(values[WIDTH])
                entities, links = mapper.map(Row(values, line, path.name))
            except RowError as err:
                report.reject(line, str(err))
                rejects.write(line, str(err), fields)
            else:
                report.rows_loaded += 1
                writer.add(entities, links)
            if progress:
                progress(1)
        writer.close()
    finally:
        writer.abandon()
        rejects.close()
    if report.rows_rejected:
        report.rejects_file = str(rejects.path)
    return report
