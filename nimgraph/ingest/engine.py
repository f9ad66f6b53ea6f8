"""Run a mapping spec over a file: map rows, quarantine the bad ones, write the good in batches."""

from __future__ import annotations

import csv
import pickle
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any

from nimgraph.ids import IdKey
from nimgraph.ingest.columns import Chunk, ColumnMapper
from nimgraph.ingest.dates import spoken
from nimgraph.ingest.mapper import Note, Row, RowError
from nimgraph.ingest.neo4j_import import Neo4jImportMapper, RunNodes, check_header, parse_header, stored_types
from nimgraph.ingest.process import InProcess
from nimgraph.ingest.readers import WIDTH, FileError, Source, open_source
from nimgraph.ingest.repeats import RecordIds
from nimgraph.ingest.spec import MappingSpec, SpecError
from nimgraph.ingest.values import ConversionError
from nimgraph.ontology import Model
from nimgraph.printable import printable
from nimgraph.private_files import open_private
from nimgraph.records import Assertion, Batch, Entity, Link, WriteStats
from nimgraph.store.base import GraphStore

Progress = Callable[[int], None]
Encoded = tuple[Any, int, int]  # a batch as the store's encoder made it, with its entity and link counts
SHOWN_COLUMNS = 40  # of a file's columns, in a message that a spec's column is missing
SHOWN_PROBLEMS = 50  # of the problems found before a run, each on its own line
COMMAND_LINE = "the command line"  # the custodian of a source first loaded by the operator, not an API key
MAX_EXAMPLES = 5


@dataclass
class DateCounts:
    order: str | None  # the order ambiguous values were read in
    stated: bool  # the spec stated it (date_order), rather than it following from the first format
    ambiguous: int = 0

    def describe(self, what: str) -> str:
        how = "as the spec states" if self.stated else "from the first format with a day and a month"
        text = (
            f"{what}: {self.ambiguous} value(s) fit both day-first and month-first and were read "
            f"{spoken(self.order)} ({how})"
        )
        if not self.stated:
            text += "; set date_order: day_first or month_first to confirm"
        return text


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
    rows_unmatched: int = 0  # loaded, but a reference (a lookup) found nothing: an entity or a value is missing
    unmatched: dict[str, int] = field(default_factory=dict)  # rows by lookup
    unmatched_examples: list[str] = field(default_factory=list)
    unmatched_file: str | None = None
    warnings: dict[str, int] = field(default_factory=dict)  # rows loaded as written but worth a look, by kind
    warnings_file: str | None = None
    dates: dict[str, DateCounts] = field(default_factory=dict)  # ambiguous dates, by value
    unmapped: dict[str, Counter[str]] = field(default_factory=dict)  # values a map lacked, kept as written, by value

    def reject(self, line: int, reason: str) -> None:
        self.rows_rejected += 1
        kind = reason.split(":")[0]  # group "date ('Date'): '31/02' is not..." by its field
        self.reasons[kind] = self.reasons.get(kind, 0) + 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(f"{self.file} row {line}: {reason}")

    def noted(self, line: int, notes: list[Note]) -> None:
        """Count a loaded row's notes (see nimgraph.ingest.mapper)."""
        unmatched = [n for n in notes if n.kind == "unmatched"]
        if unmatched:
            self.rows_unmatched += 1
            if len(self.unmatched_examples) < MAX_EXAMPLES:
                self.unmatched_examples.append(f"{self.file} row {line}: {unmatched[0].message}")
        for note in unmatched:
            self.unmatched[note.what] = self.unmatched.get(note.what, 0) + 1
        for note in notes:
            if note.kind == "ambiguous date":
                counts = self.dates.setdefault(note.what, DateCounts(order=note.order, stated=note.stated))
                counts.ambiguous += 1
            elif note.kind == "unmapped":
                self.unmapped.setdefault(note.what, Counter())[note.message] += 1
        for kind in {n.kind for n in notes} - {"ambiguous date", "unmatched", "unmapped"}:
            self.warnings[kind] = self.warnings.get(kind, 0) + 1

    @property
    def unconfirmed_dates(self) -> int:
        """Ambiguous dates read in an order the spec did not state: what --strict fails on."""
        return sum(c.ambiguous for c in self.dates.values() if not c.stated)

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
                f"{e.merged} merged with another source's, {e.updated} updated, {e.unchanged} unchanged; "
                f"{self.links_written} link writes"
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
        if self.rows_unmatched:
            by_lookup = ", ".join(f"{n} by {what}" for what, n in sorted(self.unmatched.items()))
            text += (
                f"\n{self.rows_unmatched} loaded row(s) had a reference that found nothing ({by_lookup}), "
                f"so they loaded without it; see {self.unmatched_file}"
            )
            text += "".join(f"\n  {example}" for example in self.unmatched_examples)
            if self.rows_unmatched > len(self.unmatched_examples):
                text += f"\n  ... and {self.rows_unmatched - len(self.unmatched_examples)} more"
        for kind, n in sorted(self.warnings.items()):
            text += f"\n{n} row(s) loaded with a warning ({kind}); see {self.warnings_file}"
        for what, counts in sorted(self.dates.items()):
            text += "\n" + counts.describe(what)
        for what, values in sorted(self.unmapped.items()):
            shown = ", ".join(repr(v) for v, _ in values.most_common(5)) + (", ..." if len(values) > 5 else "")
            text += (
                f"\n{what}: {values.total()} value(s) not in its map were kept as written ({shown}); "
                "add them to the map, or say unmapped: keep (or reject)"
            )
        if e.merged_ids:
            text += "\n  merged, e.g.: " + ", ".join(e.merged_ids) + " (their provenance lists the records joined)"
        return text


class _Batcher:
    """Collects records, merging repeats of the same id, and hands each full batch to ``send``."""

    def __init__(self, size: int, send: Callable[[Batch], None]) -> None:
        self.size, self.send = size, send
        self.entities: dict[str, Entity] = {}
        self.links: dict[str, Link] = {}
        # per repeated item, where each of its records' assertions is in its provenance
        self._records: dict[str, dict[tuple[str, str], int]] = {}
        self.run = uuid.uuid4().hex  # one run: rows sharing a record id add up instead of replacing

    def add(self, entities: list[Entity], links: list[Link]) -> None:
        for items, pending in ((entities, self.entities), (links, self.links)):
            for item in items:  # each record keeps what its own row said (see _records_say)
                known = pending.get(item.id)
                if known is None:
                    pending[item.id] = item
                    continue
                records = self._records.get(item.id)
                if records is None:  # its first repeat: from here its properties are the batch's merge
                    known.properties = dict(known.properties)  # its first record may share the first row's dict
                    records = self._records[item.id] = {
                        (a.source, a.record_id): i for i, a in enumerate(known.provenance)
                    }
                known.properties.update(item.properties)
                for assertion in item.provenance:
                    at = records.setdefault((assertion.source, assertion.record_id), len(known.provenance))
                    if at == len(known.provenance):
                        known.provenance.append(assertion)
                    else:  # a later row of the same record: it says what both say, as across two batches
                        known.provenance[at] = _added_up(known.provenance[at], assertion)
        if len(self.entities) + len(self.links) >= self.size:
            self.flush()

    def flush(self) -> None:
        if self.entities or self.links:
            batch = Batch(entities=list(self.entities.values()), links=list(self.links.values()), run=self.run)
            self.entities, self.links, self._records = {}, {}, {}
            self.send(batch)


def _added_up(earlier: Assertion, later: Assertion) -> Assertion:
    """One record's assertion of an item from two of its rows: the later row's, saying what both say
    (where they differ, the later; a null removes), as the stores add up one run's rows of a record.

    >>> said = dict(source="s", record_id="r", file="f", date=None, grade="B2P", handling="P", written=None)
    >>> first = Assertion.of_row({**said, "row": 2}, {"name": "Ann", "age": 30})
    >>> second = Assertion.of_row({**said, "row": 9}, {"age": 31, "town": "Leeds"})
    >>> both = _added_up(first, second)
    >>> both.row, both.properties
    (9, {'name': 'Ann', 'age': 31, 'town': 'Leeds'})
    """
    merged = dict(earlier.properties or {})
    for name, value in (later.properties or {}).items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return replace(later, properties=merged)


class _BatchWriter:
    """Writes batches in the order given, each on a background thread while the caller goes on.

    A batch is encoded by the store here (its ``encoder``) and written on the thread while the next
    one is mapped; at most one write is in flight, so batches are written in file order and a failure
    stops the run at that batch. The writes are one ``write_group`` of the store, which may commit
    a few batches at a time; ``close`` and ``abandon`` commit what the group holds.
    """

    def __init__(self, store: GraphStore | None, report: IngestReport) -> None:
        self.store, self.report = store, report
        self.group = store.write_group() if store is not None else None  # None: a dry run
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nimgraph-write")
        self._in_flight: Future | None = None

    def send(self, batch: Batch) -> None:
        """Hand ``batch`` to the writer thread, once the previous write is done."""
        self._wait()
        write: Callable[[], WriteStats | None] = _nothing  # a dry run
        if self.store is not None and self.group is not None:
            write = partial(self.group.write, self.store.encoder()(batch))
        self._in_flight = self._writer.submit(self._write, write, len(batch.entities), len(batch.links))

    def send_encoded(self, encoded: Encoded) -> None:
        """As ``send``, for a batch the store's encoder made elsewhere (a mapping process)."""
        assert self.group is not None  # a dry run encodes nothing
        self._wait()
        made, entities, links = encoded
        self._in_flight = self._writer.submit(self._write, partial(self.group.write, made), entities, links)

    def _write(self, write: Callable[[], WriteStats | None], entities: int, links: int) -> None:
        stats = write()
        if stats is not None:
            self.report.entities.add(stats)
        self.report.entities_written += entities
        self.report.links_written += links

    def _wait(self) -> None:
        if self._in_flight is not None:
            in_flight, self._in_flight = self._in_flight, None
            in_flight.result()  # re-raises the write's error here, in the caller's thread

    def abandon(self) -> None:
        """After an error elsewhere: let the write in flight finish and commit what was written
        (what the records no longer say stays until a run of the file ends)."""
        self._writer.shutdown(wait=True)
        if self.group is not None:
            self.group.abandon()

    def close(self) -> None:
        """The file is done: wait for the write in flight, end the run, commit; raises the first write error."""
        try:
            self._wait()
        except BaseException:
            self.abandon()
            raise
        self._writer.shutdown(wait=True)
        if self.group is not None:
            self.group.close()


def _nothing() -> None:
    return None


def _noting_repeats(rows: Iterator[Outcome], repeats: RecordIds) -> Iterator[Outcome]:
    """``rows``, a block at a time, each loaded row that repeats an earlier row's record id noted so.

    A failure reading the file is raised after the rows before it, as without the blocks.
    """
    while True:
        block: list[Outcome] = []
        failure: Exception | None = None
        try:
            block.extend(islice(rows, CHUNK_ROWS))
        except Exception as err:  # whatever stops the reading, the rows read before it go first
            failure = err
        yield from _noted(block, repeats)
        if failure is not None:
            raise failure
        if len(block) < CHUNK_ROWS:
            return


def _noted(block: list[Outcome], repeats: RecordIds) -> Iterator[Outcome]:
    said = [(k, _record_id(outcome)) for k, (_line, _fields, outcome, _notes) in enumerate(block)]
    said = [(k, record_id) for k, record_id in said if record_id is not None]
    firsts = repeats.first_rows([block[k][0] for k, _ in said], [record_id for _, record_id in said])
    repeated = {k: (record_id, first) for (k, record_id), first in zip(said, firsts, strict=True) if first is not None}
    for k, (line, fields, outcome, notes) in enumerate(block):
        if k in repeated:
            record_id, first = repeated[k]
            notes = [
                *notes,
                Note(
                    "repeated record id",
                    "record id",
                    f"repeats the record id {record_id!r} of row {first}: the rows are one record, and where "
                    "they differ, this row's values are kept",
                ),
            ]
        yield line, fields, outcome, notes


def _record_id(outcome: str | tuple[list[Entity], list[Link]]) -> str | None:
    """The record id of a row that loads (its first item's), or None."""
    if isinstance(outcome, str):
        return None
    entities, links = outcome
    item = next(iter(entities), None) or next(iter(links), None)
    return None if item is None else item.provenance[0].record_id


class _Listing:
    """A file of rows as they were, with their line number and a reason: the rejects, the unmatched, the warnings.

    Made only when there is a row to list.
    """

    def __init__(self, path: Path, columns: list[str]) -> None:
        self.path, self.columns = path, columns
        self._handle = None
        self._writer = None
        path.unlink(missing_ok=True)  # a stale file from an earlier run would mislead

    def write(self, line: int, reason: str, fields: list[str]) -> None:
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = open_private(self.path, "w", encoding="utf-8", newline="")
            self._writer = csv.writer(self._handle)
            self._writer.writerow(["row", "reason", *self.columns])
        self._writer.writerow([line, reason, *fields])

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


def column_problems(spec: MappingSpec, columns: list[str], path: Path) -> list[str]:
    """Every column the spec reads that the file lacks, each with the spec line that reads it."""
    shown = ", ".join(columns[:SHOWN_COLUMNS]) + (
        f" and {len(columns) - SHOWN_COLUMNS:,} more" if len(columns) > SHOWN_COLUMNS else ""
    )
    return [
        f"{spec.path}:{line or '?'}: unknown column {column!r} in {path.name}; the file has: {shown}"
        for column, line in spec.columns_used().items()
        if column not in columns
    ]


def check_columns(spec: MappingSpec, columns: list[str], path: Path) -> None:
    if problems := column_problems(spec, columns, path):
        raise SpecError("\n".join(problems))


def check_sources(spec: MappingSpec, model: Model, sources: list[Source]) -> list[str]:
    """Every problem with every file's header and its mapping, so that one run reports them all before any write."""
    problems = []
    for source in sources:
        try:
            columns = source.columns()
            if spec.neo4j_import is not None:
                problems += check_header(spec, model, columns, source.path.name)
            elif missing := column_problems(spec, columns, source.path):
                problems += missing
                if hint := source.header_hint():  # a title row above the header, say
                    problems.append(f"{source.path}: {hint}")
        except (SpecError, FileError) as err:
            problems += str(err).splitlines()
    return problems


def stem_clashes(sources: Iterable[Source]) -> list[str]:
    """A problem for each name that several files share but for the suffix: a file's listings
    (rejects...) are named by it, so one would overwrite another's."""
    stems = Counter(source.path.stem for source in sources)
    return [
        f"{n} files are named {stem!r}.*; their rejects would overwrite each other: rename one"
        for stem, n in stems.items()
        if n > 1
    ]


def open_sources(spec: MappingSpec, model: Model, paths: list[Path]) -> list[Source]:
    """The files opened and checked, in loading order; raises SpecError listing every problem with any of them."""
    sources, problems = [], []
    for path in paths:
        try:
            sources.append(open_source(path, spec.read))
        except FileError as err:
            problems.append(str(err))
    problems += check_sources(spec, model, sources)
    problems += stem_clashes(sources)
    if len(problems) > SHOWN_PROBLEMS:  # told in a line each: enough to fix the first, not a flood
        problems = [*problems[:SHOWN_PROBLEMS], f"... and {len(problems) - SHOWN_PROBLEMS:,} more"]
    if len(problems) == 1:
        raise SpecError(f"nothing was loaded: {printable(problems[0])}")
    if problems:
        listed = "\n".join(f"  {printable(problem)}" for problem in problems)  # one line each, whatever they quote
        raise SpecError(f"nothing was loaded: {len(problems)} problems to fix first\n{listed}")
    if spec.neo4j_import is not None:  # node files before the relationship files that use them
        sources.sort(key=lambda source: any(":START_ID" in c for c in source.columns()))
    return sources


def ingest_files(
    store: GraphStore | None,
    model: Model,
    spec: MappingSpec,
    sources: list[Source],
    *,
    rejects_dir: Path | str,
    batch_size: int = 5000,
    progress_factory: Callable[[str, int], Progress] | None = None,
    on_report: Callable[[IngestReport], None] | None = None,
    custodian: str = COMMAND_LINE,
) -> list[IngestReport]:
    """Load files opened by :func:`open_sources` through one spec, in order; ``on_report`` hears each
    as it ends. See :func:`ingest_plan`."""
    return ingest_plan(
        store,
        model,
        [(spec, source) for source in sources],
        rejects_dir=rejects_dir,
        batch_size=batch_size,
        progress_factory=progress_factory,
        on_report=on_report,
        custodian=custodian,
    )


def ingest_plan(
    store: GraphStore | None,
    model: Model,
    plan: list[tuple[MappingSpec, Source]],
    *,
    rejects_dir: Path | str,
    batch_size: int = 5000,
    progress_factory: Callable[[str, int], Progress] | None = None,
    on_report: Callable[[IngestReport], None] | None = None,
    custodian: str = COMMAND_LINE,
) -> list[IngestReport]:
    """Load each file through its spec, in order (a partnership's exports, each with its mapping);
    ``on_report`` hears each as it ends. The files of a Neo4j import's spec find the nodes that
    files before them defined.

    Each file after the first is mapped in a process of its own, spawned once the file before has
    its first batch on the way to the store: its spawn and imports overlap that file's writes, where
    the writer would otherwise wait for them (monthly files, a few megabytes each, add up). It opens
    nothing until its file's turn, so a file that fails stops the run there and leaves the next
    untouched, its rejects listing included.
    """
    if clashes := stem_clashes(source for _, source in plan):
        raise SpecError(f"nothing was loaded: {'; '.join(clashes)}")
    known_ids = RunNodes()  # nodes of a Neo4j import (id -> type), so its relationship files find them
    reports = []
    if store is not None:
        store.prepare()
    ids = store.id_key() if store is not None else None  # a dry run keys each file's ids afresh
    ahead: InProcess[IngestReport] | None = None  # the next file's mapping process, spawned early
    try:
        for place, (spec, source) in enumerate(plan):
            following = plan[place + 1] if place + 1 < len(plan) else None

            def start_next(following: tuple[MappingSpec, Source] | None = following) -> None:
                nonlocal ahead
                if store is not None and following is not None and _maps_in_a_process(*following):
                    try:
                        ahead = InProcess(_map_and_send)
                    except OSError:  # no process to spare now: the file starts its own in its turn
                        ahead = None

            progress = progress_factory(source.path.name, source.count()) if progress_factory else None
            mapping, ahead = ahead, None
            try:
                report = ingest_file(
                    store,
                    model,
                    spec,
                    source.path,
                    rejects_dir=rejects_dir,
                    batch_size=batch_size,
                    progress=progress,
                    known_ids=known_ids,
                    source=source,
                    ids=ids,
                    custodian=custodian,
                    mapping=mapping,
                    then=start_next,
                )
            finally:
                if mapping is not None:  # its work done, or never given: an error came first
                    mapping.stop()
            reports.append(report)
            if on_report is not None:
                on_report(report)
    finally:
        if ahead is not None:  # a file failed: the next one's mapping will not be wanted
            ahead.stop()
    return reports


def _maps_in_a_process(spec: MappingSpec, source: Source) -> bool:
    """Whether the file can be mapped in a process of its own, were one started for it."""
    return spec.neo4j_import is None and _picklable(source)


FILTERED = "filtered"  # a row the spec's filters skip: neither loaded nor rejected
CHUNK_ROWS = 5000  # rows mapped together: each distinct value is read once per chunk
# A row as the run handles it: its line, its fields as read, and what became of it: FILTERED, the reason
# it was rejected, or its entities and links (with its notes).
Outcome = tuple[int, list[str], "str | tuple[list[Entity], list[Link]]", list[Note]]


def _mapped_rows(mapper: ColumnMapper, source: Source, file: str, columns: list[str]) -> Iterator[Outcome]:
    """The file's rows, mapped a chunk at a time (see nimgraph.ingest.columns), in the file's order."""
    pending: list[tuple[int, dict[str, str], list[str]]] = []

    def flush() -> Iterator[Outcome]:
        chunk = Chunk.of_rows(file, [(line, values) for line, values, _fields in pending], columns)
        chunk.problems = {i: values[WIDTH] for i, (_line, values, _f) in enumerate(pending) if WIDTH in values}
        mapped = mapper.map(chunk)
        for i, (line, _values, fields) in enumerate(pending):
            if i in mapped.filtered:
                yield line, fields, FILTERED, []
            elif (reason := mapped.rejected.get(i)) is not None:
                yield line, fields, reason, []
            else:
                yield line, fields, mapped.row(i), mapped.notes.get(i, [])
        pending.clear()

    for row in source.rows():
        pending.append(row)
        if len(pending) >= CHUNK_ROWS:
            yield from flush()
    if pending:
        yield from flush()


def _row_by_row(mapper: Neo4jImportMapper, spec: MappingSpec, source: Source, file: str) -> Iterator[Outcome]:
    """The file's rows, mapped one at a time (a Neo4j import's files)."""
    for line, values, fields in source.rows():
        try:
            if spec.filters and not all(f.keeps(values) for f in spec.filters):
                yield line, fields, FILTERED, []
                continue
            if WIDTH in values:
                raise RowError(values[WIDTH])
            mapped = mapper.map(Row(values, line, file))
        except (RowError, ConversionError) as err:  # ConversionError: a filter's pattern that took too long
            yield line, fields, str(err), []
        else:
            _records_say(mapped)
            yield line, fields, mapped, list(mapper.notes)


def _records_say(mapped: tuple[list[Entity], list[Link]]) -> None:
    """Give each record of a row what the row says of its item (``Assertion.properties``), as the
    column-wise mapper does: merged in a batch with another row's (a C row's name on a P row's
    person), the item's properties would tell a caller cleared for one record what only the other said."""
    for items in mapped:
        for item in items:
            if any(a.properties is None for a in item.provenance):
                item.provenance = [
                    a if a.properties is not None else replace(a, properties=dict(item.properties))
                    for a in item.provenance
                ]


def ingest_file(
    store: GraphStore | None,
    model: Model,
    spec: MappingSpec,
    path: Path | str,
    *,
    rejects_dir: Path | str,
    batch_size: int = 5000,
    progress: Progress | None = None,
    known_ids: dict[str, str] | None = None,
    source: Source | None = None,
    ids: IdKey | None = None,
    custodian: str = COMMAND_LINE,
    mapping_process: bool | None = None,
    mapping: InProcess[IngestReport] | None = None,
    then: Callable[[], None] | None = None,
) -> IngestReport:
    """Load one file through one spec. Idempotent: a second run writes the same records again.

    With ``store`` None it is a dry run: every row is read, mapped and checked, rejects are written,
    and nothing else; ids are then keyed under a throwaway key unless ``ids`` is given (by default
    the store's id key). A run that fails midway keeps what it committed (a store may commit a few batches at a time,
    see GraphStore.write_group), and running it again completes it without duplicates.

    A file of :data:`MAPPING_PROCESS_BYTES` or more is mapped in a process of its own (see
    nimgraph.ingest.process) while this one writes; ``mapping_process`` True or False decides instead.
    The outcome is the same either way. ``mapping`` is such a process, spawned ahead by the caller
    (``ingest_plan``), who stops it; the file is mapped in it, whatever its size. ``then`` is called
    once, when the first batch is on its way to the store (or the file turns out to have none).
    """
    path = Path(path)
    ids = ids or (store.id_key() if store is not None else IdKey.generate())
    source = source or open_source(path, spec.read)  # a caller that opened it already saves a detection pass
    columns = source.columns()
    mapper: ColumnMapper | Neo4jImportMapper
    if spec.neo4j_import is not None:  # known_ids: the nodes earlier files of this run defined
        mapper = Neo4jImportMapper(
            spec,
            model,
            parse_header(spec, model, columns, path.name),
            known_ids if known_ids is not None else {},
            stored_type=stored_types(store),
            ids=ids,
        )
    else:
        check_columns(spec, columns, path)
        mapper = ColumnMapper(spec, model, ids)
    if store is not None:  # what the spec says of its source: every product's source table shows the agency
        said = {"agency": spec.agency, "defaultGrade": str(spec.default_grade), "custodian": custodian}
        store.register_source(spec.source, said)
    report = IngestReport(file=path.name, source=spec.source, read_as=source.describe(), dry_run=store is None)
    writer = _BatchWriter(store, report)
    first_batch_sent = _Once(then)
    try:
        if (
            isinstance(mapper, ColumnMapper)
            and store is not None
            and (mapping is not None or _worth_a_process(source, mapping_process))
        ):

            def take(sent: Encoded | int) -> None:
                if isinstance(sent, int):
                    if progress:
                        progress(sent)
                else:
                    writer.send_encoded(sent)
                    first_batch_sent()

            if mapping is None:
                mapping = InProcess(_map_and_send)
            mapping.start((store.encoder(), spec, model, ids, source, columns, path, Path(rejects_dir), batch_size))
            mapped: IngestReport = mapping.collect(take)
            first_batch_sent()
            writer.close()
            mapped.entities = report.entities  # what the writes here did, to the mapping's account of the rows
            mapped.entities_written, mapped.links_written = report.entities_written, report.links_written
            return mapped
        if isinstance(mapper, ColumnMapper):
            rows = _mapped_rows(mapper, source, path.name, columns)
        else:
            rows = _row_by_row(mapper, spec, source, path.name)
        batcher = _Batcher(batch_size, first_batch_sent.after(writer.send))
        _load_rows(rows, batcher, report, spec, Path(rejects_dir), path, columns, progress)
        first_batch_sent()
        writer.close()
    finally:
        writer.abandon()
        if mapping is not None:  # its work done, or never given: an error came first
            mapping.stop()
    return report


class _Once:
    """Call ``then`` (if any) the first time this is called, and never again."""

    def __init__(self, then: Callable[[], None] | None) -> None:
        self.then = then

    def __call__(self) -> None:
        then, self.then = self.then, None
        if then is not None:
            then()

    def after(self, send: Callable[[Batch], None]) -> Callable[[Batch], None]:
        def sending(batch: Batch) -> None:
            send(batch)
            self()

        return sending


# Below this a file maps here: starting a process costs about half a second. The 100k bench files, one
# run each: council ASB (2.2 MB) 3.1-4.0 s in a process against 5.5-6.7 s here; deliberate fires
# (0.9 MB) 1.17 s against 1.27 s.
MAPPING_PROCESS_BYTES = 1 << 20


def _worth_a_process(source: Source, asked: bool | None) -> bool:
    """Whether to map in a process of its own: as asked, else for a file large enough to repay it."""
    if asked is False or not _picklable(source):  # a source that cannot travel maps here
        return False
    return asked or source.path.stat().st_size >= MAPPING_PROCESS_BYTES


def _picklable(source: Source) -> bool:
    try:
        pickle.dumps(source)
    except Exception:  # whatever stops it pickling, the answer is the same
        return False
    return True


def _map_and_send(
    send: Callable[[Encoded | int], None],
    encoder: Callable[[Batch], Any],
    spec: MappingSpec,
    model: Model,
    ids: IdKey,
    source: Source,
    columns: list[str],
    path: Path,
    rejects_dir: Path,
    batch_size: int,
) -> IngestReport:
    """In the mapping process: map the file, send each full batch (encoded for the store) and the rows
    done, return the report."""

    def encode_and_send(batch: Batch) -> None:
        send((encoder(batch), len(batch.entities), len(batch.links)))

    report = IngestReport(file=path.name, source=spec.source, read_as=source.describe())
    rows = _mapped_rows(ColumnMapper(spec, model, ids), source, path.name, columns)
    tally = _Tally(send)
    _load_rows(rows, _Batcher(batch_size, encode_and_send), report, spec, rejects_dir, path, columns, tally)
    tally.flush()
    return report


class _Tally:
    """Rows done, sent on in hundreds rather than one message a row."""

    def __init__(self, send: Callable[[int], None], every: int = 500) -> None:
        self.send, self.every, self.done = send, every, 0

    def __call__(self, rows: int) -> None:
        self.done += rows
        if self.done >= self.every:
            self.flush()

    def flush(self) -> None:
        if self.done:
            self.send(self.done)
            self.done = 0


def _load_rows(
    rows: Iterator[Outcome],
    batcher: _Batcher,
    report: IngestReport,
    spec: MappingSpec,
    rejects_dir: Path,
    path: Path,
    columns: list[str],
    progress: Progress | None,
) -> None:
    """Take each mapped row: reject it, or batch it, listing what it did not say plainly."""
    rejects, unmatched, warned = (
        _Listing(rejects_dir / f"{path.stem}.{kind}.csv", columns) for kind in ("rejects", "unmatched", "warnings")
    )
    if spec.record_id is not None:
        rows = _noting_repeats(rows, RecordIds())
    try:
        for line, fields, outcome, notes in rows:
            report.rows_read += 1
            if outcome is FILTERED:
                report.rows_filtered += 1
            elif isinstance(outcome, str):
                report.reject(line, outcome)
                rejects.write(line, outcome, fields)
            else:
                entities, links = outcome
                report.rows_loaded += 1
                batcher.add(entities, links)
                if notes:
                    report.noted(line, notes)
                    for listing, wanted in ((unmatched, True), (warned, False)):
                        said = [
                            n.message
                            for n in notes
                            if n.kind not in ("ambiguous date", "unmapped") and (n.kind == "unmatched") == wanted
                        ]
                        if said:
                            listing.write(line, "; ".join(dict.fromkeys(said)), fields)
            if progress:
                progress(1)
        batcher.flush()
    finally:
        for listing in (rejects, unmatched, warned):
            listing.close()
    if report.rows_rejected:
        report.rejects_file = str(rejects.path)
    if report.rows_unmatched:
        report.unmatched_file = str(unmatched.path)
    if report.warnings:
        report.warnings_file = str(warned.path)
