"""Turn one row into entities and links, checked against the Model, or reject it with a reason.

A row can also load with something to say about it: a lookup that found nothing for an optional
entity or a property (the row loads without it), a date that fits both day-first and month-first,
an NHS number whose check digit fails. The mapper keeps these as the row's ``notes``; the engine
counts them and lists them beside the rejects, so that nothing is left out in silence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from nimgraph.grading import GradeError, parse_grade
from nimgraph.identity import nhs_check_digit_valid
from nimgraph.ids import IdKey, link_id
from nimgraph.ingest.dates import implied_order
from nimgraph.ingest.spec import EntitySpec, LinkSpec, MappingSpec
from nimgraph.ingest.values import ConversionError, Unmatched, ValueSpec
from nimgraph.ontology import Model
from nimgraph.records import Assertion, Entity, Link
from nimgraph.validation import article, violations

MAX_ID_LENGTH = 200
# A record is keyed by its source and record id, which Neo4j indexes; its index takes keys of up to
# about 8 KB, and four bytes a character is the most UTF-8 takes.
MAX_RECORD_ID_LENGTH = 1000
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def record_id_problem(record_id: str, described: str) -> str | None:
    """Why a row's record id cannot key its record, or None.

    A control character would pass for the separator of the Neo4j store's record key (``\\x1f``),
    so that two records of different sources shared one key.

    >>> record_id_problem("CR/1001/Victim", "{Crime ID}/{Nominal ID}/{Role}") is None
    True
    >>> record_id_problem("a\x1fb", "Ref")
    'the record id Ref holds a control character'
    >>> record_id_problem("x" * 1001, "Ref")
    'the record id Ref is longer than 1000 characters'
    """
    if not record_id:
        return f"the record id {described} is empty"
    if len(record_id) > MAX_RECORD_ID_LENGTH:
        return f"the record id {described} is longer than {MAX_RECORD_ID_LENGTH} characters"
    if _CONTROL.search(record_id):
        return f"the record id {described} holds a control character"
    return None


class RowError(ValueError):
    """Why a row was rejected, in words an analyst understands."""


@dataclass(frozen=True)
class Note:
    """Something a loaded row did not say plainly: see the module."""

    kind: str  # "unmatched", "ambiguous date", "unmapped", "check digit" or "repeated record"
    what: str  # the value, as the summary groups it: "'Date' (date)", "lookup 'owner_of_phone'"
    message: str  # for the unmatched or warnings file
    order: str | None = None  # an ambiguous date: the order it was read in
    stated: bool = False  # ... and whether the spec stated that order


@dataclass(frozen=True)
class Row:
    values: dict[str, str]
    number: int  # the line in the file where the record starts, as a spreadsheet would show it
    file: str


def spec_tables(spec: MappingSpec, model: Model) -> tuple[dict[str, dict[str, str]], dict[str, Any], dict[str, str]]:
    """What the spec's entities need from the Model, looked up once, not per row (the Model is immutable):
    each alias's property datatypes, the code list of every coded property, each alias's type label."""
    datatypes = {
        alias: {name: p.datatype for name, p in model.properties_for(e.type).items()}
        for alias, e in spec.entities.items()
    }
    code_lists = {name: model.code_list(p.code_list) for name, p in model.properties.items() if p.code_list is not None}
    labels = {alias: model.entity_type(e.type).label for alias, e in spec.entities.items()}
    return datatypes, code_lists, labels


class RowMapper:
    """Applies one MappingSpec to rows; entity ids are keyed under ``ids`` (see nimgraph.ids)."""

    def __init__(self, spec: MappingSpec, model: Model, ids: IdKey) -> None:
        self.spec = spec
        self.model = model
        self.ids = ids
        self._datatypes, self._code_lists, self._labels = spec_tables(spec, model)
        self.notes: list[Note] = []  # the last row's, see the module

    def map(self, row: Row) -> tuple[list[Entity], list[Link]]:
        self.notes = []
        try:
            return self._map(row)
        except ConversionError as err:  # raised while reading a value, e.g. a key that fails its check
            raise RowError(str(err)) from None

    def _map(self, row: Row) -> tuple[list[Entity], list[Link]]:
        assertion = self.assertion(row)
        entities: dict[str, Entity] = {}
        for alias, entity_spec in self.spec.entities.items():
            entity = self._entity(entity_spec, row, assertion)
            if entity is not None:
                entities[alias] = entity
        links = [
            link
            for link_spec in self.spec.links
            if (link := self._link(link_spec, row, entities, assertion)) is not None
        ]
        return list(entities.values()), links

    def assertion(self, row: Row) -> Assertion:
        """The provenance of this row: source, record id, file, row, date, grade and handling."""
        grade = self.spec.default_grade
        if self.spec.grade_column and (text := row.values.get(self.spec.grade_column, "").strip()):
            try:
                grade = parse_grade(text)
            except GradeError as err:
                raise RowError(f"{self.spec.grade_column}: {err}") from None
        record_id = f"{row.file}#{row.number}"
        if self.spec.record_id is not None:
            record_id = self._raw(self.spec.record_id, row, "record id")
            if problem := record_id_problem(record_id, self.spec.record_id.describe()):
                raise RowError(problem)
        record_date = None
        if self.spec.record_date is not None and (text := self._raw(self.spec.record_date, row, "record date")):
            record_date = self._convert(self.spec.record_date, text, "date", "record date")
        return Assertion(
            source=self.spec.source,
            record_id=record_id,
            file=row.file,
            row=row.number,
            date=record_date,
            grade=str(grade),
            handling=grade.handling,
        )

    def _raw(self, spec: ValueSpec, row: Row, what: str) -> str:
        """A value's text (see ValueSpec.raw), with an NHS number's check digit checked as the spec asks."""
        text, unmapped = spec.read(row.values)
        if unmapped is not None and spec.unmapped is None:  # kept as written; the summary counts it
            self.notes.append(Note("unmapped", f"{what} ({spec.describe()})", unmapped))
        if text and spec.normalise == "nhs_number" and not nhs_check_digit_valid(text):
            message = f"{what} ({spec.describe()}): NHS number {text!r} fails its check digit"
            if spec.check_digit == "strict":
                raise RowError(message)
            self.notes.append(Note("check digit", what, message + "; loaded as written"))
        return text

    def _entity(self, spec: EntitySpec, row: Row, assertion: Assertion) -> Entity | None:
        try:
            return self._entity_or_reference(spec, row, assertion)
        except Unmatched as err:
            label = self._labels[spec.alias]
            if not spec.optional:
                raise RowError(f"{article(label)} ('{spec.alias}') needs a match: {err}") from None
            self.notes.append(Note("unmatched", f"lookup {err.table!r}",
                                   f"{err}; the {label} '{spec.alias}' and its links are left out"))  # fmt: skip
            return None

    def _entity_or_reference(self, spec: EntitySpec, row: Row, assertion: Assertion) -> Entity | None:
        if spec.id_value is not None:
            return self._entity_with_id(spec, row, assertion)
        keys = [self._raw(key, row, f"the key of '{spec.alias}'") for key in spec.keys]
        if not all(keys):
            if spec.optional:
                return None
            missing = [k.describe() for k, v in zip(spec.keys, keys, strict=True) if not v]
            raise RowError(f"{article(self._labels[spec.alias])} needs its key {', '.join(missing)}; got ''")
        return self._checked(spec, self.ids.entity_id(spec.type, spec.namespace, keys), row, assertion)

    def _entity_with_id(self, spec: EntitySpec, row: Row, assertion: Assertion) -> Entity | None:
        assert spec.id_value is not None
        given = self._raw(spec.id_value, row, f"the id of '{spec.alias}'")
        if not given:
            if spec.optional:
                return None
            raise RowError(f"{article(self._labels[spec.alias])} needs its id {spec.id_value.describe()}; got ''")
        if len(given) > MAX_ID_LENGTH or not given.isprintable():
            raise RowError(f"id {spec.id_value.describe()} must be printable and at most {MAX_ID_LENGTH} characters")
        scope = spec.type if spec.namespace == spec.type else f"{spec.type}:{spec.namespace}"
        if self.model.identifies_person(spec.type):  # a partner's id for a person is as guessable as a name
            return self._checked(spec, self.ids.entity_id(spec.type, scope, [given]), row, assertion)
        return self._checked(spec, f"{scope}:{given}", row, assertion)

    def _checked(self, spec: EntitySpec, entity_id: str, row: Row, assertion: Assertion) -> Entity:
        properties = {}
        datatypes = self._datatypes[spec.alias]
        for name, value_spec in spec.properties.items():
            text = self._property_text(value_spec, row, name)
            if text:
                properties[name] = self._value(name, value_spec, text, datatypes[name])
        if not spec.reference_only:
            self._check_constraints(spec, properties, row)
        return Entity(id=entity_id, type=spec.type, properties=properties, provenance=[assertion])

    def _property_text(self, spec: ValueSpec, row: Row, name: str) -> str:
        """A property's text; a lookup that finds nothing leaves the property out, and says so."""
        try:
            return self._raw(spec, row, name)
        except Unmatched as err:
            self.notes.append(Note("unmatched", f"lookup {err.table!r}", f"{err}; loaded without its {name}"))
            return ""

    def _value(self, name: str, spec: ValueSpec, text: str, datatype: str) -> object:
        """A property's value: converted to its datatype, and for a coded property, the code list's label."""
        code_list = self._code_lists.get(name)
        if code_list is None:
            return self._convert(spec, text, datatype, name)
        concept = code_list.lookup(text)
        if concept is None:
            allowed = ", ".join(c.label for c in code_list.concepts)
            raise RowError(f"{self.model.property_def(name).label} {text!r} is not in the {code_list.label}: {allowed}")
        return concept.label

    def _convert(self, spec: ValueSpec, text: str, datatype: str, what: str) -> object:
        try:
            if datatype not in ("date", "datetime"):
                return spec.convert(text, datatype)
            read = spec.read_date(text, datatype)
        except ConversionError as err:
            raise RowError(f"{what} ({spec.describe()}): {err}") from None
        if read.ambiguous:
            order = spec.date_order or implied_order(spec.formats)
            stated = spec.date_order is not None
            self.notes.append(Note("ambiguous date", f"{what} ({spec.describe()})", "", order, stated))
        return read.value

    def _check_constraints(self, spec: EntitySpec, properties: dict, row: Row) -> None:
        for violation in violations(self.model, spec.type, properties, codes=False):
            if violation.kind == "missing":  # say what the file held, so the analyst can find it
                source = spec.properties.get(violation.path)
                try:
                    got = source.raw(row.values) if source else ""
                except ConversionError:  # a lookup that found nothing: its message is already a note
                    got = ""
                raise RowError(f"{violation.message}; got {got!r}")
            raise RowError(violation.message)

    def _applies(self, name: str, link_type: str) -> bool:
        """Whether a link property belongs on this type of link: a family relation's kind is not a friend's."""
        domain = self.model.property_def(name).domain
        return domain is None or domain not in self.model.links or self.model.is_a(link_type, domain)

    def _link(self, spec: LinkSpec, row: Row, entities: dict[str, Entity], assertion: Assertion) -> Link | None:
        source, target = entities.get(spec.source), entities.get(spec.target)
        if source is None or target is None:
            return None
        type_name = spec.type
        if spec.type_column is not None:
            chosen = " ".join(row.values.get(spec.type_column, "").split())
            type_name = spec.type_map.get(chosen)
            if type_name is None:
                allowed = ", ".join(repr(k) for k in spec.type_map)
                raise RowError(f"{spec.type_column} {chosen!r} is not one of {allowed}")
            if chosen in spec.reversed_for:  # "Son": the row names the child first, the link the parent
                source, target = target, source
        assert type_name is not None
        properties = {
            name: self._value(name, value, text, self.model.property_def(name).datatype)
            for name, value in spec.properties.items()
            if self._applies(name, type_name) and (text := self._property_text(value, row, name))
        }
        start, end = self.model.oriented(type_name, source.id, target.id)  # a symmetric link: once per pair
        return Link(
            id=link_id(type_name, start, end),
            type=type_name,
            source=start,
            target=end,
            properties=properties,
            provenance=[assertion],
        )
