"""What the graph holds: entities, links, and the source records that assert them."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

# The information source of the records the partnership writes itself (nimgraph.tasking): a change's
# record id holds its item's id and time, so a reader who may see the item may see it.
PARTNERSHIP_SOURCE = "partnership"


@dataclass(frozen=True)
class Assertion:
    """One source record saying that an entity or link exists: the unit of provenance."""

    source: str
    record_id: str
    file: str
    row: int
    date: str | None
    grade: str
    handling: str
    # What this record says of an entity's properties, where the store kept it: lets a caller who
    # may see only some of an entity's records see what those records say, and nothing else.
    properties: dict[str, Any] | None = field(default=None, compare=False, hash=False, repr=False)
    # The record's place in the store's write sequence, where the store gave it: a reader who sees only
    # some records merges what they said in this order, as the store merges them all (last writer wins).
    written: int | None = field(default=None, compare=False, hash=False, repr=False)

    @classmethod
    def of_row(cls, said: dict[str, Any], properties: dict[str, Any]) -> Assertion:
        """``Assertion(**said, properties=properties)``, ``said`` naming every other field, at a third
        of the cost: a frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``,
        and a chunk of rows makes several a row.

        >>> said = dict(source="s", record_id="r", file="f", row=2, date=None, grade="B2P", handling="P", written=None)
        >>> made = Assertion.of_row(said, {"a": 1})
        >>> made == Assertion(**said) and hash(made) == hash(Assertion(**said)) and made.properties
        {'a': 1}
        """
        made = object.__new__(cls)
        object.__setattr__(made, "__dict__", {**said, "properties": properties})
        return made

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "record_id": self.record_id,
            "file": self.file,
            "row": self.row,
            "date": self.date,
            "grade": self.grade,
            "handling": self.handling,
        }


@dataclass
class Entity:
    id: str
    type: str
    properties: dict[str, Any] = field(default_factory=dict)
    provenance: list[Assertion] = field(default_factory=list)


@dataclass
class Link:
    id: str
    type: str
    source: str
    target: str
    properties: dict[str, Any] = field(default_factory=dict)
    provenance: list[Assertion] = field(default_factory=list)


@dataclass
class Batch:
    """Entities and links to write in one transaction, each with the assertions behind it.

    ``run`` names the ingest run. A record written by a later run asserts exactly what that run
    says (a corrected file replaces it); within one run, rows that share a record id add up.
    """

    entities: list[Entity] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    run: str = field(default_factory=lambda: uuid.uuid4().hex)

    def __len__(self) -> int:
        return len(self.entities) + len(self.links)


@dataclass
class Subgraph:
    """A bounded part of the graph handed to the analysis."""

    entities: dict[str, Entity] = field(default_factory=dict)
    links: dict[str, Link] = field(default_factory=dict)
    truncated: bool = False  # True when a size cap left part of the asked-for graph out

    def merged(self, other: Subgraph) -> Subgraph:
        """Both parts together (the same entity or link in both is kept once)."""
        return Subgraph(
            entities={**self.entities, **other.entities},
            links={**self.links, **other.links},
            truncated=self.truncated or other.truncated,
        )

    def links_supported_by(self, keep: Callable[[Assertion], bool]) -> Subgraph:
        """Links with only the records ``keep`` accepts; a link left with none goes. Entities stay."""
        links = {}
        for link_id, link in self.links.items():
            records = [a for a in link.provenance if keep(a)]
            if records:
                links[link_id] = link if len(records) == len(link.provenance) else replace(link, provenance=records)
        return Subgraph(entities=self.entities, links=links, truncated=self.truncated)


@dataclass
class WriteStats:
    """What a write did to entities: new, joined to records from another source, changed, or re-asserted as they were.

    An entity already known to its sources counts as ``updated`` only when a property value changed;
    re-asserting the values it has is ``unchanged`` (so a re-run of the same file changes nothing).
    """

    created: int = 0
    merged: int = 0
    updated: int = 0
    unchanged: int = 0
    merged_ids: list[str] = field(default_factory=list)  # the first few, for the summary

    def count(self, entity_id: str, sources_before: set[str] | None, sources_now: set[str], changed: bool) -> None:
        if sources_before is None:
            self.created += 1
        elif sources_now - sources_before:
            self.merged += 1
            if len(self.merged_ids) < 5:
                self.merged_ids.append(entity_id)
        elif changed:
            self.updated += 1
        else:
            self.unchanged += 1

    def add(self, other: WriteStats) -> None:
        self.created += other.created
        self.merged += other.merged
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.merged_ids.extend(other.merged_ids[: 5 - len(self.merged_ids)])


# ---------------------------------------------------------------------- what an assessment reads
class Incident(NamedTuple):
    """One event as an assessment counts it: what, when, where; no people, no records.

    ``date`` is ISO (``YYYY-MM-DD``); an event known only to the month (police.uk street-level
    crime) has the month's first day and ``month_only`` set, so day-level windows can leave it out.
    ``category`` is the event's category, else its crime type, else its type. ``areas`` are the
    areas its location lies within; coordinates are the event's own, else its location's.
    A named tuple: a million are made for one assessment, and a tuple is the cheapest to make.
    """

    id: str
    type: str
    date: str
    category: str
    month_only: bool = False
    location: str | None = None
    areas: tuple[str, ...] = ()
    latitude: float | None = None
    longitude: float | None = None


class Involvement(NamedTuple):
    """A person's part in an event: ``role`` is the link type (victimIn, offenderIn, ...)."""

    person: str
    event: str
    role: str


@dataclass(frozen=True, slots=True)
class Place:
    """A location or area an incident names, with what a report shows of it."""

    id: str
    type: str
    label: str
    code: str | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True, slots=True)
class Report:
    """An intelligence report in the period: its date and the grades of the records behind it."""

    id: str
    date: str
    grades: tuple[str, ...]


@dataclass
class IncidentRead:
    """Everything an assessment reads for a period, as flat rows (a million incidents fit)."""

    incidents: list[Incident] = field(default_factory=list)
    involvements: list[Involvement] = field(default_factory=list)
    places: dict[str, Place] = field(default_factory=dict)
    reports: list[Report] = field(default_factory=list)
    # the visible records behind the incidents: (source, grade, handling) -> how many
    records: dict[tuple[str, str, str], int] = field(default_factory=dict)
