"""Map a chunk of rows column by column: the entities, links, notes and rejects that RowMapper gives.

RowMapper reads every value of every row in Python, so a file of 100k rows reads its month column
100k times though it holds a few dozen months. Here each value of the spec is read, converted and
checked once per distinct input in the chunk, and the outcome (a text, a value, a note, or a reason
to reject) is handed to every row that holds that input. A partner's file repeats itself: months,
categories, outcomes, streets and areas are a small share of its rows.

What a row gets is decided in RowMapper's order, step by step across the chunk: the grade, the
record id and date; then each entity (its keys or id, each property, the shapes' constraints); then
each link. A row's first failure rejects it, with RowMapper's reason, and a row rejected at one step
takes no part in the later ones; a step that RowMapper would not reach for a row (the properties of
an optional entity the row does not name, the properties of a link whose end is missing) says
nothing about it. Notes follow the same order. RowMapper stays as the reference: the parity tests
(tests/test_column_mapper.py) require the same output for every spec feature.

The mapped chunk keeps its output as columns (``MappedChunk``); ``MappedChunk.row`` gives one row's
entities and links as RowMapper does.

>>> from nimgraph.ontology import default_model
>>> from nimgraph.ingest.spec import load_spec
>>> from nimgraph.mappings import mapping_path
>>> spec = load_spec(mapping_path("police_uk_street"), default_model())
>>> chunk = Chunk("street.csv", [2, 3, 4], {"Crime ID": ["c1", "c2", "c3"], "Month": ["2026-01", "2026-01", "Jan"],
...     "Location": ["On or near Moss Road"] * 3, "LSOA code": ["E01099010"] * 3, "Crime type": ["Drugs"] * 3})
>>> mapped = ColumnMapper(spec, default_model(), IdKey("doctest")).map(chunk)
>>> mapped.rejected
{2: "record date ('Month'): 'Jan' is not a date in the format '%Y-%m'"}
>>> entities, links = mapped.row(0)
>>> [(e.type, e.properties.get("name")) for e in entities], [k.type for k in links]
([('CrimeIncident', None), ('Street', 'Moss Road'), ('LSOA', None)], ['occurredAt', 'within'])
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from nimgraph.grading import GradeError, parse_grade
from nimgraph.identity import nhs_check_digit_valid
from nimgraph.ids import IdKey
from nimgraph.ingest.dates import implied_order
from nimgraph.ingest.mapper import MAX_ID_LENGTH, Note, record_id_problem, spec_tables
from nimgraph.ingest.spec import EntitySpec, LinkSpec, MappingSpec
from nimgraph.ingest.values import ConversionError, Unmatched, ValueSpec, fold
from nimgraph.ontology import Model
from nimgraph.records import Assertion, Entity, Link
from nimgraph.validation import article, constraint_violations

__all__ = ["Chunk", "ColumnMapper", "EntityColumns", "LinkColumns", "MappedChunk"]

NO_NOTES: tuple[Note, ...] = ()


@dataclass
class Chunk:
    """Rows of one file as columns: ``columns[name][i]`` is row i's text ("" when it has none)."""

    file: str
    lines: list[int]  # each row's line in the file, as RowMapper's Row.number
    columns: dict[str, list[str]]
    problems: dict[int, str] = field(default_factory=dict)  # rows the reader could not read as they are (a width)

    def __len__(self) -> int:
        return len(self.lines)

    @classmethod
    def of_rows(cls, file: str, rows: Sequence[tuple[int, dict[str, str]]], names: Iterable[str]) -> Chunk:
        """The rows (line, values) as a chunk of the columns ``names``."""
        return cls(file, [line for line, _ in rows], {n: [v.get(n) or "" for _, v in rows] for n in names})

    def column(self, name: str) -> list[str]:
        found = self.columns.get(name)
        return found if found is not None else [""] * len(self)


@dataclass
class EntityColumns:
    alias: str
    type: str
    ids: list[str | None]  # None: the row names no such entity (or was rejected)
    properties: dict[str, list[Any]] = field(default_factory=dict)  # None: the row gives no value


@dataclass
class LinkColumns:
    types: list[str | None]  # None: no link in that row
    ids: list[str | None]
    sources: list[str | None]
    targets: list[str | None]
    properties: dict[str, list[Any]] = field(default_factory=dict)


@dataclass
class MappedChunk:
    """A chunk's output: what each loaded row asserts, as columns, and why the others were rejected."""

    source: str
    file: str
    lines: list[int]
    rejected: dict[int, str]  # row index -> the reason, as RowMapper words it
    filtered: set[int]  # rows the spec's filters skip (neither loaded nor rejected)
    notes: dict[int, list[Note]]  # row index -> what a loaded row did not say plainly
    record_ids: list[str]
    dates: list[str | None]
    grades: list[str]
    handling: list[str]
    entities: list[EntityColumns]
    links: list[LinkColumns]
    _said: tuple[list[list[dict[str, Any]]], list[list[dict[str, Any]]]] | None = field(
        default=None, repr=False, compare=False
    )

    def __len__(self) -> int:
        return len(self.lines)

    def loaded(self) -> list[int]:
        """The indexes of the rows that load."""
        return [i for i in range(len(self.lines)) if i not in self.rejected and i not in self.filtered]

    def assertion(self, i: int) -> Assertion:
        return Assertion(
            source=self.source,
            record_id=self.record_ids[i],
            file=self.file,
            row=self.lines[i],
            date=self.dates[i],
            grade=self.grades[i],
            handling=self.handling[i],
        )

    def row(self, i: int) -> tuple[list[Entity], list[Link]]:
        """Row ``i``'s entities and links, as RowMapper.map gives them (for a row that loads).

        Each item's record also keeps what it says of the item (``Assertion.properties``), as the
        writer would otherwise copy it in (a row's record must tell a reader cleared for it alone
        what that row said, whatever other rows say of the same item). It is the item's own dict:
        the batch writer copies an item's before merging another row's into it.
        """
        if self._said is None:  # each item's properties, a dict a row, made for the whole chunk at once
            self._said = (
                [_present(e.properties, len(self)) for e in self.entities],
                [_present(k.properties, len(self)) for k in self.links],
            )
        entity_said, link_said = self._said
        said = {
            "source": self.source,
            "record_id": self.record_ids[i],
            "file": self.file,
            "row": self.lines[i],
            "date": self.dates[i],
            "grade": self.grades[i],
            "handling": self.handling[i],
            "written": None,
        }
        of_row = Assertion.of_row
        entities = []
        for e, properties in zip(self.entities, entity_said, strict=True):
            if (entity_id := e.ids[i]) is not None:
                entities.append(Entity(entity_id, e.type, properties[i], [of_row(said, properties[i])]))
        links = []
        for k, properties in zip(self.links, link_said, strict=True):
            if (link_id := k.ids[i]) is not None and (type_name := k.types[i]) is not None:
                record = of_row(said, properties[i])
                links.append(Link(link_id, type_name, k.sources[i], k.targets[i], properties[i], [record]))  # type: ignore[arg-type]
        return entities, links


def _present(columns: dict[str, list[Any]], rows: int) -> list[dict[str, Any]]:
    """Each row's values of ``columns`` as a dict, without those it does not give (None).

    >>> _present({"name": ["Ann", None], "age": [30, 31]}, 2)
    [{'name': 'Ann', 'age': 30}, {'age': 31}]
    """
    if not columns:
        return [{} for _ in range(rows)]
    names = tuple(columns)
    return [
        {n: v for n, v in zip(names, values, strict=True) if v is not None}
        if None in values
        else dict(zip(names, values, strict=True))
        for values in zip(*columns.values(), strict=True)
    ]


@dataclass
class _Read:
    """One value's outcome per row: its text, and (sparse) the error or notes of the rows that have any."""

    texts: list[str]
    errors: dict[int, ConversionError]
    notes: dict[int, tuple[Note, ...]]


def _distinct(keys: Sequence[Hashable], outcome: Callable[[Any], tuple]) -> list[tuple]:
    """``outcome`` of every key, computed once per distinct key."""
    known = {key: outcome(key) for key in dict.fromkeys(keys)}
    return [known[key] for key in keys]


class ColumnMapper:
    """Applies one MappingSpec to chunks of rows; entity ids are keyed under ``ids`` (see nimgraph.ids)."""

    def __init__(self, spec: MappingSpec, model: Model, ids: IdKey) -> None:
        self.spec = spec
        self.model = model
        self.ids = ids
        self._datatypes, self._code_lists, self._labels = spec_tables(spec, model)

    # ------------------------------------------------------------------ one chunk
    def map(self, chunk: Chunk) -> MappedChunk:
        run = _Run(self, chunk)
        run.filter()
        for i, problem in chunk.problems.items():
            if i not in run.filtered:
                run.reject(i, problem)
        record_ids, dates, grades, handling = run.assertions()
        entities: dict[str, EntityColumns] = {}
        for alias, entity_spec in self.spec.entities.items():
            entities[alias] = run.entity(entity_spec)
        links = [run.link(link_spec, entities) for link_spec in self.spec.links]
        for i in run.filtered:
            del run.rejected[i]
        notes = {
            i: found for i, found in run.notes.items() if found and i not in run.rejected and i not in run.filtered
        }
        for columns in [*entities.values(), *links]:  # a rejected or filtered row asserts nothing
            for i in [*run.rejected, *run.filtered]:
                if isinstance(columns, EntityColumns):
                    columns.ids[i] = None
                else:
                    columns.ids[i] = columns.types[i] = None
        return MappedChunk(
            source=self.spec.source,
            file=chunk.file,
            lines=chunk.lines,
            rejected=dict(sorted(run.rejected.items())),
            filtered=run.filtered,
            notes=notes,
            record_ids=record_ids,
            dates=dates,
            grades=grades,
            handling=handling,
            entities=list(entities.values()),
            links=links,
        )


class _Run:
    """The state of mapping one chunk: which rows are rejected (first reason kept) and their notes."""

    def __init__(self, mapper: ColumnMapper, chunk: Chunk) -> None:
        self.mapper, self.spec, self.model, self.chunk = mapper, mapper.spec, mapper.model, chunk
        self.size = len(chunk)
        # A filtered row counts as rejected here: no later step reads it; map() tells the two apart.
        self.rejected: dict[int, str] = {}
        self.filtered: set[int] = set()
        self.notes: dict[int, list[Note]] = {}
        self.texts: dict[ValueSpec, tuple[list[str], dict[int, ConversionError], dict[int, str]]] = {}

    def reject(self, i: int, reason: str) -> None:
        self.rejected.setdefault(i, reason)

    def filter(self) -> None:
        """The spec's filters, in order: the first a row fails skips it; one that cannot decide rejects it."""
        for row_filter in self.spec.filters:
            column = self.chunk.column(row_filter.column)
            known: dict[str, bool | str] = {}
            for i in range(self.size):
                if i in self.rejected:
                    continue
                value = column[i]
                kept = known.get(value)
                if kept is None:
                    try:
                        kept = known[value] = row_filter.keeps({row_filter.column: value})
                    except ConversionError as err:  # a pattern that took too long
                        kept = known[value] = str(err)
                if kept is False:
                    self.rejected[i] = ""
                    self.filtered.add(i)
                elif kept is not True:
                    self.reject(i, kept)

    def note(self, i: int, found: Iterable[Note]) -> None:
        self.notes.setdefault(i, []).extend(found)

    # ------------------------------------------------------------------ reading values
    def read(self, spec: ValueSpec, what: str) -> _Read:
        """``spec``'s text in every row, as RowMapper._raw reads it (its notes; an error it raises)."""
        texts, errors, unmapped = self._text(spec)
        notes: dict[int, tuple[Note, ...]] = {}
        said_unmapped = bool(unmapped) and spec.unmapped is None
        check = spec.normalise == "nhs_number"
        if not (said_unmapped or check):
            return _Read(texts, errors, notes)
        strict: dict[int, ConversionError] = {}
        for i, text in enumerate(texts):
            if i in errors:
                continue
            found = []
            if said_unmapped and (left := unmapped.get(i)) is not None:
                found.append(Note("unmapped", f"{what} ({spec.describe()})", left))
            if check and text and not nhs_check_digit_valid(text):
                message = f"{what} ({spec.describe()}): NHS number {text!r} fails its check digit"
                if spec.check_digit == "strict":
                    strict[i] = ConversionError(message)
                    continue
                found.append(Note("check digit", what, message + "; loaded as written"))
            if found:
                notes[i] = tuple(found)
        return _Read(texts, {**errors, **strict} if strict else errors, notes)

    def _text(self, spec: ValueSpec) -> tuple[list[str], dict[int, ConversionError], dict[int, str]]:
        """ValueSpec.read of every row, once per distinct input, and once per chunk for values that differ
        only by the spec line that names them (a record id that is also a key and a property)."""
        same = replace(spec, line=None)
        cached = self.texts.get(same)
        if cached is not None:
            return cached
        columns = spec.columns
        if not columns:
            keys: Sequence[Hashable] = [()] * self.size
        elif len(columns) == 1:
            keys = self.chunk.column(columns[0])
        else:
            keys = list(zip(*(self.chunk.column(c) for c in columns), strict=True))
        single = len(columns) == 1
        known: dict[Any, tuple[str, str | None, ConversionError | None]] = {}
        for key in dict.fromkeys(keys):
            row = {columns[0]: key} if single else dict(zip(columns, key, strict=True))
            try:
                text, left = spec.read(row)
                known[key] = (text, left, None)
            except ConversionError as err:
                known[key] = ("", None, err)
        text_of = {key: outcome[0] for key, outcome in known.items()}
        texts = list(map(text_of.__getitem__, keys))
        errors: dict[int, ConversionError] = {}
        unmapped: dict[int, str] = {}
        if any(outcome[2] is not None for outcome in known.values()):
            errors = {i: err for i, key in enumerate(keys) if (err := known[key][2]) is not None}
        if any(outcome[1] is not None for outcome in known.values()):
            unmapped = {i: left for i, key in enumerate(keys) if (left := known[key][1]) is not None}
        self.texts[same] = (texts, errors, unmapped)
        return texts, errors, unmapped

    def values(
        self, spec: ValueSpec, texts: list[str], rows: Iterable[int], name: str, datatype: str, what: str
    ) -> list[Any]:
        """The rows' texts as values (RowMapper._value for a property, _convert for the record date): each
        row in ``rows`` with a text gets its value, its notes, or its rejection; the others None."""
        code_list = self.mapper._code_lists.get(name) if name else None

        def outcome(text: str) -> tuple[Any, tuple[Note, ...], str | None]:
            if code_list is not None:
                concept = code_list.lookup(text)
                if concept is None:
                    allowed = ", ".join(c.label for c in code_list.concepts)
                    label = self.model.property_def(name).label
                    return None, NO_NOTES, f"{label} {text!r} is not in the {code_list.label}: {allowed}"
                return concept.label, NO_NOTES, None
            try:
                if datatype not in ("date", "datetime"):
                    return spec.convert(text, datatype), NO_NOTES, None
                read = spec.read_date(text, datatype)
            except ConversionError as err:
                return None, NO_NOTES, f"{what} ({spec.describe()}): {err}"
            if read.ambiguous:
                order = spec.date_order or implied_order(spec.formats)
                note = Note("ambiguous date", f"{what} ({spec.describe()})", "", order, spec.date_order is not None)
                return read.value, (note,), None
            return read.value, NO_NOTES, None

        values: list[Any] = [None] * self.size
        rejected = self.rejected
        wanted = [i for i in rows if texts[i] and i not in rejected]
        known = {text: outcome(text) for text in dict.fromkeys(texts[i] for i in wanted)}
        if all(reason is None and not notes for _value, notes, reason in known.values()):
            for i in wanted:  # most values: converted, with nothing to say
                values[i] = known[texts[i]][0]
            return values
        for i in wanted:
            value, notes, reason = known[texts[i]]
            if reason is not None:
                self.reject(i, reason)
                continue
            values[i] = value
            if notes:
                self.note(i, notes)
        return values

    def raw(self, spec: ValueSpec, what: str, rows: Iterable[int]) -> list[str]:
        """RowMapper._raw for ``rows``: an error rejects the row (an Unmatched one too); notes are kept."""
        read = self.read(spec, what)
        self._apply(read, rows)
        return read.texts

    def _apply(self, read: _Read, rows: Iterable[int]) -> None:
        if not read.errors and not read.notes:
            return
        for i in rows:
            if i in self.rejected:
                continue
            if (err := read.errors.get(i)) is not None:
                self.reject(i, str(err))
            elif found := read.notes.get(i):
                self.note(i, found)

    # ------------------------------------------------------------------ the record
    def assertions(self) -> tuple[list[str], list[str | None], list[str], list[str]]:
        spec, every = self.spec, range(self.size)
        grade = spec.default_grade
        grades, handling = [str(grade)] * self.size, [grade.handling] * self.size
        if spec.grade_column:
            column = [text.strip() for text in self.chunk.column(spec.grade_column)]

            def parsed(text: str) -> tuple[str, str, str | None]:
                if not text:
                    return str(grade), grade.handling, None
                try:
                    read = parse_grade(text)
                except GradeError as err:
                    return "", "", f"{spec.grade_column}: {err}"
                return str(read), read.handling, None

            for i, (code, handled, reason) in enumerate(_distinct(column, parsed)):
                if reason is not None:
                    self.reject(i, reason)
                grades[i], handling[i] = code, handled
        if spec.record_id is not None:
            record_ids = self.raw(spec.record_id, "record id", every)
            described = spec.record_id.describe()
            for i in every:
                if i not in self.rejected and (problem := record_id_problem(record_ids[i], described)):
                    self.reject(i, problem)
        else:
            record_ids = [f"{self.chunk.file}#{line}" for line in self.chunk.lines]
        dates: list[str | None] = [None] * self.size
        if spec.record_date is not None:
            texts = self.raw(spec.record_date, "record date", every)
            dates = self.values(spec.record_date, texts, every, "", "date", "record date")
        return record_ids, dates, grades, handling

    # ------------------------------------------------------------------ entities
    def entity(self, spec: EntitySpec) -> EntityColumns:
        label = self.mapper._labels[spec.alias]
        ids: list[str | None] = [None] * self.size
        if spec.id_value is not None:
            self._given_ids(spec, label, ids)
        else:
            self._keyed_ids(spec, label, ids)
        present = [i for i in range(self.size) if ids[i] is not None and i not in self.rejected]
        columns = EntityColumns(spec.alias, spec.type, ids)
        datatypes = self.mapper._datatypes[spec.alias]
        texts_of: dict[str, list[str]] = {}
        for name, value_spec in spec.properties.items():
            texts = self._property_texts(value_spec, name, present)
            texts_of[name] = texts
            columns.properties[name] = self.values(value_spec, texts, present, name, datatypes[name], name)
        if not spec.reference_only:
            self._check_constraints(spec, label, columns, texts_of, present)
        return columns

    def _unmatched(self, spec: EntitySpec, label: str, i: int, err: Unmatched) -> None:
        if not spec.optional:
            self.reject(i, f"{article(label)} ('{spec.alias}') needs a match: {err}")
        else:
            self.note(i, [Note("unmatched", f"lookup {err.table!r}",
                               f"{err}; the {label} '{spec.alias}' and its links are left out")])  # fmt: skip

    def _keyed_ids(self, spec: EntitySpec, label: str, ids: list[str | None]) -> None:
        reads = [self.read(key, f"the key of '{spec.alias}'") for key in spec.keys]
        troubled = set().union(*(r.errors for r in reads)) if reads else set()
        noted = set().union(*(r.notes for r in reads)) if reads else set()
        keyed: dict[tuple[str, ...], str] = {}
        texts = list(zip(*(r.texts for r in reads), strict=True)) if reads else [()] * self.size
        rejected = self.rejected
        if not troubled and not noted:  # most chunks: every key read as it is
            entity_id = self.mapper.ids.entity_id
            for keys in dict.fromkeys(texts):
                if all(keys):
                    keyed[keys] = entity_id(spec.type, spec.namespace, list(keys))
            for i, keys in enumerate(texts):
                if i in rejected:
                    continue
                found = keyed.get(keys)
                if found is not None:
                    ids[i] = found
                elif not spec.optional:
                    missing = [k.describe() for k, v in zip(spec.keys, keys, strict=True) if not v]
                    self.reject(i, f"{article(label)} needs its key {', '.join(missing)}; got ''")
            return
        for i in range(self.size):
            if i in rejected:
                continue
            if i in troubled or i in noted:
                stopped = False
                for read in reads:  # RowMapper reads the keys in order, and stops at the first that fails
                    if (err := read.errors.get(i)) is not None:
                        if isinstance(err, Unmatched):
                            self._unmatched(spec, label, i, err)
                        else:
                            self.reject(i, str(err))
                        stopped = True
                        break
                    if found := read.notes.get(i):
                        self.note(i, found)
                if stopped:
                    continue
            keys = texts[i]
            if not all(keys):
                if not spec.optional:
                    missing = [k.describe() for k, v in zip(spec.keys, keys, strict=True) if not v]
                    self.reject(i, f"{article(label)} needs its key {', '.join(missing)}; got ''")
                continue
            entity_id = keyed.get(keys)
            if entity_id is None:
                entity_id = keyed[keys] = self.mapper.ids.entity_id(spec.type, spec.namespace, list(keys))
            ids[i] = entity_id

    def _given_ids(self, spec: EntitySpec, label: str, ids: list[str | None]) -> None:
        assert spec.id_value is not None
        read = self.read(spec.id_value, f"the id of '{spec.alias}'")
        scope = spec.type if spec.namespace == spec.type else f"{spec.type}:{spec.namespace}"
        hashed = self.model.identifies_person(spec.type)  # a partner's id for a person is as guessable as a name
        made: dict[str, str] = {}
        for i in range(self.size):
            if i in self.rejected:
                continue
            if (err := read.errors.get(i)) is not None:
                if isinstance(err, Unmatched):
                    self._unmatched(spec, label, i, err)
                else:
                    self.reject(i, str(err))
                continue
            if found := read.notes.get(i):
                self.note(i, found)
            given = read.texts[i]
            if not given:
                if not spec.optional:
                    self.reject(i, f"{article(label)} needs its id {spec.id_value.describe()}; got ''")
                continue
            if len(given) > MAX_ID_LENGTH or not given.isprintable():
                limit = f"must be printable and at most {MAX_ID_LENGTH} characters"
                self.reject(i, f"id {spec.id_value.describe()} {limit}")
                continue
            entity_id = made.get(given)
            if entity_id is None:
                entity_id = self.mapper.ids.entity_id(spec.type, scope, [given]) if hashed else f"{scope}:{given}"
                made[given] = entity_id
            ids[i] = entity_id

    def _property_texts(self, spec: ValueSpec, name: str, rows: list[int]) -> list[str]:
        """RowMapper._property_text: a lookup that finds nothing leaves the property out, and says so."""
        read = self.read(spec, name)
        if read.errors or read.notes:
            for i in rows:
                if i in self.rejected:
                    continue
                if (err := read.errors.get(i)) is not None:
                    if isinstance(err, Unmatched):
                        self.note(i, [Note("unmatched", f"lookup {err.table!r}", f"{err}; loaded without its {name}")])
                    else:
                        self.reject(i, str(err))
                elif found := read.notes.get(i):
                    self.note(i, found)
        return read.texts

    def _check_constraints(
        self, spec: EntitySpec, label: str, columns: EntityColumns, texts_of: dict[str, list[str]], rows: list[int]
    ) -> None:
        """The shapes' constraints, in RowMapper's order: the first a row breaks rejects it."""
        for constraint in self.model.constraints_for(spec.type):
            prop = self.model.properties.get(constraint.path)
            if prop is None:
                continue
            values = columns.properties.get(constraint.path)
            alive = [i for i in rows if i not in self.rejected]
            given = [values[i] for i in alive] if values is not None else [None] * len(alive)

            def check(value: Any, constraint: Any = constraint, prop_label: str = prop.label) -> Any:
                return next(constraint_violations(constraint, label, prop_label, value), None)

            try:
                known = {value: check(value) for value in dict.fromkeys(given)}
                found_of: Callable[[Any], Any] = known.__getitem__
                if all(found is None for found in known.values()):
                    continue  # most constraints: every row meets them
            except TypeError:  # a value that cannot be a key: each checked where it is
                found_of = check
            for i, value in zip(alive, given, strict=True):
                found = found_of(value)
                if found is None:
                    continue
                if found.kind == "missing":  # say what the file held, so the analyst can find it
                    texts = texts_of.get(found.path)
                    self.reject(i, f"{found.message}; got {texts[i] if texts else ''!r}")
                else:
                    self.reject(i, found.message)

    # ------------------------------------------------------------------ links
    def link(self, spec: LinkSpec, entities: dict[str, EntityColumns]) -> LinkColumns:
        sources, targets = entities[spec.source].ids, entities[spec.target].ids
        size = self.size
        columns = LinkColumns([None] * size, [None] * size, [None] * size, [None] * size)
        present = [
            i for i in range(size) if sources[i] is not None and targets[i] is not None and i not in self.rejected
        ]
        types: list[str | None] = [spec.type] * size
        turned: set[int] = set()
        if spec.type_column is not None:
            allowed = ", ".join(repr(k) for k in spec.type_map)
            chosen_of = self.chunk.column(spec.type_column)
            said: dict[str, str] = {}
            for i in present:
                chosen = said.get(raw := chosen_of[i])
                if chosen is None:
                    chosen = said[raw] = " ".join(raw.split())
                type_name = spec.type_map.get(chosen)
                if type_name is None:
                    self.reject(i, f"{spec.type_column} {chosen!r} is not one of {allowed}")
                    continue
                types[i] = type_name
                if chosen in spec.reversed_for:  # "Son": the row names the child first, the link the parent
                    turned.add(i)
            present = [i for i in present if i not in self.rejected]
        for name, value_spec in spec.properties.items():
            applying = [i for i in present if self._applies(name, types[i])]  # type: ignore[arg-type]
            texts = self._property_texts(value_spec, name, applying)
            datatype = self.model.property_def(name).datatype
            columns.properties[name] = self.values(value_spec, texts, applying, name, datatype, name)
        made: dict[tuple[str, str, str], tuple[str, str, str]] = {}
        for i in present:
            if i in self.rejected:
                continue
            type_name = types[i]
            assert type_name is not None
            source, target = sources[i], targets[i]
            if i in turned:
                source, target = target, source
            key = (type_name, source, target)
            found = made.get(key)  # type: ignore[arg-type]
            if found is None:
                start, end = self.model.oriented(type_name, source, target)  # type: ignore[arg-type]
                found = made[key] = (_link_id(type_name, start, end), start, end)  # type: ignore[index,arg-type]
            columns.ids[i], columns.sources[i], columns.targets[i] = found
            columns.types[i] = type_name
        return columns

    def _applies(self, name: str, link_type: str) -> bool:
        domain = self.model.property_def(name).domain
        return domain is None or domain not in self.model.links or self.model.is_a(link_type, domain)


def _link_id(type_name: str, source: str, target: str) -> str:
    """nimgraph.ids.link_id, without building its list of parts for every row.

    >>> from nimgraph.ids import link_id
    >>> _link_id("knows", "Person-a", "Person B") == link_id("knows", "Person-a", "Person B")
    True
    """
    text = f"link\x1f{fold(source)}\x1f{fold(target)}"
    return f"{type_name}-{hashlib.sha256(text.encode()).hexdigest()[:20]}"
