"""Writing the partnership's own records: each change is one record, signed by its author.

A priority, tasking, activity or review is an entity of its ontology type, asserted by records of
the ``partnership`` information source, exactly as a partner's row is asserted by its file's
records. Each change is a new record that says only what changed (a null removes a value), with the
author in place of the source file and the time in its record id, so the store's "last writer wins"
merge gives the current state and the records, in order, are its history: nothing is overwritten
without trace. Each link is its own record, so unlinking withdraws that record alone.

Values are checked as ingest checks a row: properties the ontology gives the type, typed by its
datatypes, coded by its code lists, and the shapes' constraints on the result; link ends must be of
the link's range. Every write is for a caller cleared for everything (the routes and commands check).
"""

from __future__ import annotations

import hashlib
import math
import secrets
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from nimgraph.grading import HANDLING_ORDER, most_restrictive
from nimgraph.ids import link_id
from nimgraph.ontology import Model
from nimgraph.records import PARTNERSHIP_SOURCE, Assertion, Batch, Entity, Link
from nimgraph.store.base import GraphStore
from nimgraph.tasking.kinds import Kind, kind_of
from nimgraph.validation import violations

__all__ = [
    "GRADE",
    "MAX_TEXT",
    "SOURCE",
    "RecordError",
    "RecordNotFound",
    "Written",
    "add_links",
    "change_record_id",
    "change_time",
    "create",
    "remove_link",
    "update",
]

SOURCE = PARTNERSHIP_SOURCE
SOURCE_PROPERTIES = {
    "agency": "The community safety partnership (its own records)",
    "dataset": "The partnership's own records: priorities, meetings, taskings, problems, activities, reviews",
    "collectionMethod": "Written by analysts and admins through nimgraph's API and CLI, each change signed",
}
# The partnership's own record of its decisions: a reliable source (1) that knows directly (A).
GRADE = "1A"
MAX_TEXT = 20_000  # characters in one value: a page of minutes, not a file
# Values only nimgraph computes (an operational review's result): a caller who could write one could
# make a review say what it did not find. nimgraph.tasking.reviews writes them.
COMPUTED = frozenset({"reviewResult"})
MAX_COMPUTED = 2_000_000
MAX_AUTHOR = 200
MAX_NUMBER = 1e15
MAX_LINKS = 200  # links made in one write
UNSHOWABLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# What a record's provenance says (its grade, handling, source row): the store's to keep, not a value.
PROVENANCE = frozenset({"grade", "handlingCode", "recordId", "sourceFile", "rowNumber", "recordDate"})
STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"


class RecordError(ValueError):
    """A write that cannot be made as asked; the message says what to change."""


class RecordNotFound(RecordError):
    """No record with that id that this write can change."""


@dataclass(frozen=True)
class Written:
    """What a write did: the record's id, the record id of the change, and when."""

    id: str
    record_id: str
    at: str


def _author(author: str) -> str:
    name = author.strip() if isinstance(author, str) else ""
    if not name:
        raise RecordError("a change needs its author's name")
    if len(name) > MAX_AUTHOR or any(unicodedata.category(c).startswith("C") for c in name):
        raise RecordError(f"an author's name is at most {MAX_AUTHOR} characters, without control characters")
    return name


def _handling(handling: str | None, *records: Entity | None) -> str:
    """The code asked for; without one, the strictest of the records a change touches (so a change to
    a C record, or a link to one, is not shared by default)."""
    if handling is None:
        codes = {a.handling for record in records if record is not None for a in record.provenance}
        return most_restrictive(codes) if codes else HANDLING_ORDER[0]
    if handling not in HANDLING_ORDER:
        raise RecordError(f"handling code {handling!r} is not one of {', '.join(HANDLING_ORDER)}")
    return handling


def _typed(model: Model, type_name: str, name: str, value: Any, longest: int = MAX_TEXT) -> Any:
    """``value`` as the ontology types property ``name``; a RecordError says what is wrong with it."""
    prop = model.property_def(name)
    label = prop.label
    if prop.datatype in ("number", "integer"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise RecordError(f"{label} must be a number, not {value!r}")
        if abs(value) > MAX_NUMBER or not math.isfinite(value):  # a 400-digit integer overflows a float
            raise RecordError(f"{label} must be a finite number no larger than {MAX_NUMBER:.0e}")
        if prop.datatype == "integer":
            if isinstance(value, float) and not value.is_integer():
                raise RecordError(f"{label} must be a whole number, not {value!r}")
            return int(value)
        return float(value)
    if prop.datatype == "boolean":
        if not isinstance(value, bool):
            raise RecordError(f"{label} must be true or false, not {value!r}")
        return value
    if not isinstance(value, str):
        raise RecordError(f"{label} must be text, not {value!r}")
    text = value.strip()
    if not text:
        raise RecordError(f"{label} is empty: send null to remove a value")
    if any(unicodedata.category(c) in UNSHOWABLE and c not in "\n\t" for c in text):
        # a NUL, a text-direction override or a zero-width character makes a value read as another
        raise RecordError(f"{label} may not hold control characters, text-direction overrides or invisible characters")
    if len(text) > longest:
        raise RecordError(f"{label} is longer than {longest} characters")
    if prop.datatype == "date":
        try:
            if len(text) != len("YYYY-MM-DD"):  # fromisoformat also takes 20261130, which no one means here
                raise ValueError(text)
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise RecordError(f"{label} {text!r} is not a date written YYYY-MM-DD") from None
    if prop.datatype == "datetime":
        try:
            return datetime.fromisoformat(text).isoformat()
        except ValueError:
            raise RecordError(f"{label} {text!r} is not a date and time written YYYY-MM-DDTHH:MM") from None
    if prop.code_list:
        codes = model.code_list(prop.code_list)
        concept = codes.lookup(text)
        if concept is None:
            allowed = ", ".join(c.label for c in codes.concepts)
            raise RecordError(f"{label} {text!r} is not in the {codes.label}: {allowed}")
        return concept.label  # as ingest stores a coded value, so both read the same
    return text


def _changes(
    model: Model, type_name: str, given: Mapping[str, Any], computed: Mapping[str, str] | None = None
) -> dict[str, Any]:
    known = {k: v for k, v in model.properties_for(type_name).items() if k not in PROVENANCE}
    unknown = sorted(name for name in given if name not in known)
    if unknown:
        label = model.entity_type(type_name).label.lower()
        writable = ", ".join(sorted(set(known) - COMPUTED))
        raise RecordError(f"not a property of a {label}: {', '.join(unknown)}; its properties: {writable}")
    ours = sorted(COMPUTED & set(given))
    if ours:
        raise RecordError(f"{', '.join(ours)} is computed by nimgraph and cannot be written")
    values = {name: None if value is None else _typed(model, type_name, name, value) for name, value in given.items()}
    for name, text in (computed or {}).items():
        values[name] = _typed(model, type_name, name, text, MAX_COMPUTED)
    return values


def _check(model: Model, type_name: str, result: dict[str, Any], touched: Iterable[str] | None) -> None:
    """The shapes' complaints about the record as it will stand, limited to what this change touched
    (an ingested problem that already lacks a value is not this writer's to fix)."""
    wanted = None if touched is None else set(touched)
    problems = [
        v.message
        for v in violations(model, type_name, result, codes=False)
        if wanted is None or v.path in wanted or v.kind != "missing"
    ]
    if problems:
        raise RecordError("; ".join(problems))


def _stamp(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC)


def change_record_id(item_id: str, at: datetime, key: str | None = None) -> str:
    """A change's record id: the item, the time (which orders the history) and a random tail that keeps
    two changes in one microsecond apart, so neither replaces the other (a stable key makes it repeatable).

    >>> change_record_id("Tasking-1", datetime(2026, 11, 2, 9, 0, tzinfo=UTC), key="demo")
    'Tasking-1@2026-11-02T09:00:00.000000Z-201b0c'
    """
    tail = hashlib.sha256(f"{key}\x1f{item_id}".encode()).hexdigest()[:6] if key else secrets.token_hex(3)
    return f"{item_id}@{at.strftime(STAMP)}-{tail}"


def change_time(record_id: str) -> str | None:
    """The time a change's record id holds, or None for any other record id.

    >>> change_time("Tasking-1@2026-11-02T09:00:00.000000Z-0a0b0c"), change_time("PRB-7")
    ('2026-11-02T09:00:00.000000Z', None)
    """
    return record_id.rsplit("@", 1)[-1].rsplit("-", 1)[0] if "@" in record_id else None


def _assertion(item_id: str, author: str, handling: str, at: datetime, key: str | None = None) -> Assertion:
    return Assertion(
        source=SOURCE,
        record_id=change_record_id(item_id, at, key),
        file=author,
        row=0,
        date=at.date().isoformat(),
        grade=f"{GRADE}{handling}",
        handling=handling,
    )


def _link(
    model: Model, store: GraphStore, kind: Kind, record: Entity, field: str, target_id: str
) -> tuple[Link, Entity]:
    wanted = kind.link_field(field)
    link_type = model.link_type(wanted.link_type)
    target = store.get(target_id) if isinstance(target_id, str) and target_id else None
    if target is None:
        raise RecordError(f"{field}: no record with id {target_id!r}")
    if link_type.range and not model.is_a(target.type, link_type.range):
        wanted_label = model.entity_type(link_type.range).label.lower()
        raise RecordError(f"{field}: {target_id} is a {target.type}, and {link_type.label} needs a {wanted_label}")
    if target.id == record.id:
        raise RecordError(f"{field}: a record cannot link to itself")
    source, end = model.oriented(link_type.name, record.id, target.id)
    return Link(id=link_id(link_type.name, source, end), type=link_type.name, source=source, target=end), target


def _write(store: GraphStore, entities: list[Entity], links: list[Link], run: str) -> None:
    store.register_source(SOURCE, SOURCE_PROPERTIES)
    store.upsert(Batch(entities=entities, links=links, run=run))


def create(
    store: GraphStore,
    model: Model,
    kind: Kind,
    properties: Mapping[str, Any],
    links: Mapping[str, Iterable[str]] | None = None,
    *,
    author: str,
    handling: str | None = None,
    type_name: str | None = None,
    now: datetime | None = None,
    computed: Mapping[str, str] | None = None,
    key: str | None = None,
) -> Written:
    """A new record of ``kind`` (or of ``type_name``, a subtype the kind allows, such as a project).

    Without ``handling`` the record is P, and each link the strictest of P and its end's records.
    ``computed`` holds values only nimgraph computes (:data:`COMPUTED`), which ``properties`` may not.
    ``key`` makes the record's id (and, with ``now``, its record ids) the same whenever it is written
    under the same store key: for records a program writes once, such as the demo's; else random.
    """
    asked = handling
    author, handling, at = _author(author), _handling(handling), _stamp(now)
    chosen = type_name or kind.type
    if chosen != kind.type and chosen not in kind.also:
        allowed = ", ".join((kind.type, *kind.also))
        raise RecordError(f"a {kind.name} is one of: {allowed}, not {chosen!r}")
    values = _changes(model, chosen, properties, computed)
    if any(v is None for v in values.values()):
        raise RecordError("a new record has no values to remove: leave out what it lacks")
    _check(model, chosen, values, None)
    entity_id = store.id_key().entity_id(chosen, SOURCE, [key or secrets.token_hex(16)])
    record = _assertion(entity_id, author, handling, at, key)
    entity = Entity(id=entity_id, type=chosen, properties=values, provenance=[record])
    made = _links(store, model, kind, entity, links or {}, author, asked, at, key)
    _write(store, [entity], made, record.record_id)
    return Written(entity_id, record.record_id, at.isoformat())


def _links(
    store: GraphStore,
    model: Model,
    kind: Kind,
    record: Entity,
    links: Mapping[str, Iterable[str]],
    author: str,
    handling: str | None,
    at: datetime,
    key: str | None = None,
) -> list[Link]:
    """Each link a record of its own: the code asked for, else the strictest of the two ends' records."""
    made: dict[str, Link] = {}
    wanted = sum(1 if isinstance(t, str) else len(list(t)) for t in links.values())
    if wanted > MAX_LINKS:
        raise RecordError(f"at most {MAX_LINKS} links in one write, not {wanted}")
    for field, targets in links.items():
        if isinstance(targets, str):
            targets = [targets]
        for target in targets:
            link, end = _link(model, store, kind, record, field, target)
            link.provenance.append(_assertion(link.id, author, _handling(handling, record, end), at, key))
            made.setdefault(link.id, link)
    return list(made.values())


def _written(store: GraphStore, model: Model, entity_id: str) -> tuple[Entity, Kind]:
    entity = store.get(entity_id) if isinstance(entity_id, str) and entity_id else None
    kind = kind_of(model, entity.type) if entity is not None else None
    if entity is None or kind is None:
        raise RecordNotFound(f"no priority, meeting, tasking, problem, activity, outcome or review {entity_id!r}")
    return entity, kind


def update(
    store: GraphStore,
    model: Model,
    entity_id: str,
    properties: Mapping[str, Any],
    *,
    author: str,
    handling: str | None = None,
    now: datetime | None = None,
) -> Written:
    """Change some values of a record (null removes one): a new record that says only what changed.

    Without ``handling`` the change takes the strictest code of the record's own records.
    """
    author, at = _author(author), _stamp(now)
    entity, _ = _written(store, model, entity_id)
    handling = _handling(handling, entity)
    if not properties:
        raise RecordError("nothing to change: name at least one property")
    keys = sorted(set(model.entity_type(entity.type).keys) & set(properties))
    if keys:
        # a key identifies the record to every source (and to a reader of older records): it stays as made
        raise RecordError(f"{', '.join(keys)} identifies the record and cannot be changed; write a new record instead")
    values = _changes(model, entity.type, properties)
    result = {k: v for k, v in {**entity.properties, **values}.items() if v is not None}
    _check(model, entity.type, result, values)
    record = _assertion(entity.id, author, handling, at)
    changed = Entity(id=entity.id, type=entity.type, properties=values, provenance=[record])
    _write(store, [changed], [], record.record_id)
    return Written(entity.id, record.record_id, at.isoformat())


def add_links(
    store: GraphStore,
    model: Model,
    entity_id: str,
    field: str,
    targets: Iterable[str],
    *,
    author: str,
    handling: str | None = None,
    now: datetime | None = None,
) -> list[Written]:
    """Link a record to more ends under ``field``; each link is its own record, by default as strict
    as the stricter of its two ends' records."""
    author, at = _author(author), _stamp(now)
    if handling is not None:
        _handling(handling)
    entity, kind = _written(store, model, entity_id)
    try:
        made = _links(store, model, kind, entity, {field: targets}, author, handling, at)
    except KeyError as err:
        raise RecordError(err.args[0]) from None
    if not made:
        raise RecordError(f"{field}: name at least one record to link to")
    _write(store, [], made, f"links:{entity.id}@{at.strftime(STAMP)}")
    return [Written(link.id, link.provenance[0].record_id, at.isoformat()) for link in made]


def remove_link(store: GraphStore, model: Model, entity_id: str, field: str, target_id: str) -> int:
    """Withdraw the partnership's records of one link; how many records went (0: it made none).

    A link a partner's file also records stays: only the partnership's own records are withdrawn.
    """
    entity, kind = _written(store, model, entity_id)
    try:
        link, _ = _link(model, store, kind, entity, field, target_id)
    except KeyError as err:
        raise RecordError(err.args[0]) from None
    held = store.neighbourhood([entity.id], 1, [link.type], entity_provenance=False).links.get(link.id)
    records = [a.record_id for a in held.provenance if a.source == SOURCE] if held else []
    if not records:
        return 0
    store.retract(SOURCE, records)
    return len(records)
