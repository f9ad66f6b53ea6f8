"""What an assessment reads: the incidents of a period, where they happened and who took part, as flat rows.

A strategic assessment counts a year or two of a partnership's incidents (a million is a busy
area), so it cannot read them as entities with their records, the way a profile reads a network
(`bench/RESULTS.md`: 34 s for 200,000 events that way). Each store gathers the same raw rows
(``RawIncidents``) with its own queries, taking only the properties an assessment needs, and
``assemble`` turns them into an ``IncidentRead`` the same way for both, so both give the same
assessment.

With handling codes, a store keeps only what a record of those codes asserts (events, the links
placing them and naming people, the places and areas), and an item that other records also
assert shows what the visible records themselves said (``told``), so a caller's counts and
dates are what they would be if the hidden records did not exist.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from nimgraph.labels import entity_label
from nimgraph.ontology import Core, Model
from nimgraph.records import Entity, Incident, IncidentRead, Involvement, Place, Report
from nimgraph.store.base import merged_properties

REPORT_DATE_KEYS = ("reportDate", "date")
AREA_DEPTH = 4  # street -> LSOA -> ward -> district -> partnership area


@dataclass(frozen=True)
class IncidentTypes:
    """The ontology's names for what an assessment reads, from the Model (never from a caller)."""

    events: list[str]
    placed: list[str]
    within: list[str]
    roles: list[str]
    reports: list[str]

    @classmethod
    def of(cls, model: Model) -> IncidentTypes:
        return cls(
            events=sorted(model.descendants(Core.INCIDENT)),
            placed=sorted(model.descendants(Core.OCCURRED_AT)),
            within=sorted(model.descendants(Core.WITHIN)),
            roles=sorted(model.descendants(Core.INVOLVED_IN)),
            reports=sorted(model.descendants(Core.INTELLIGENCE_REPORT)),
        )


@dataclass
class RawIncidents:
    """The rows a store gathers, before they are shaped; properties hold only the keys asked for."""

    # id, type, day (date, else dateTime's day), datePrecision, category (else crimeType), latitude,
    # longitude, location (of the places the event occurred at, the first by id: one place an event)
    events: list[tuple] = field(default_factory=list)
    within: list[tuple[str, str]] = field(default_factory=list)  # place, the area it lies within
    places: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)  # id -> type, properties
    involvements: list[tuple[str, str, str]] = field(default_factory=list)  # person, event, link type
    reports: list[tuple[str, dict[str, Any], list[str]]] = field(default_factory=list)  # id, properties, grades


def told(said: Iterable[str | None]) -> dict[str, Any]:
    """What a caller's visible records say of an item, merged in write order (last writer wins).

    A record from before stores kept what each said gives nothing to go on: the item then shows
    no properties (so no date, and an assessment does not count it) rather than what a hidden
    record may have said.

    >>> told(['{"date": "2026-01-02"}', '{"category": "Robbery"}'])
    {'date': '2026-01-02', 'category': 'Robbery'}
    >>> told(['{"date": "2026-01-02"}', None])
    {}
    """
    return merged_properties(said) or {}


def stated_text(properties: Mapping[str, Any], key: str) -> str | None:
    """A property that is text and not empty; anything else states nothing (the stores' queries
    test the same: SQL ``json_type`` is ``'text'``, Cypher ``IS :: STRING``).

    >>> stated_text({"date": "2026-05"}, "date"), stated_text({"date": 20260512}, "date"), stated_text({}, "date")
    ('2026-05', None, None)
    """
    value = properties.get(key)
    return value if isinstance(value, str) and value else None


def stated_day(properties: Mapping[str, Any]) -> str | None:
    """The day an event states as it is stored: its date, else its dateTime's first ten characters.

    >>> stated_day({"date": "", "dateTime": "2026-03-10T21:00:00"}), stated_day({"date": "2026-03"})
    ('2026-03-10', '2026-03')
    """
    date = stated_text(properties, "date")
    if date is not None:
        return date
    moment = stated_text(properties, "dateTime")
    return moment[:10] if moment is not None else None


def event_row(event_id: str, type_name: str, properties: Mapping[str, Any], location: str | None) -> tuple:
    """The raw row of an event from its properties, as the embedded store's query makes it in SQL.

    >>> event_row("e1", "CrimeIncident", {"dateTime": "2026-05-12T23:51:00", "crimeType": "Robbery"}, "s1")
    ('e1', 'CrimeIncident', '2026-05-12', None, 'Robbery', None, None, 's1')
    """
    return (
        event_id,
        type_name,
        stated_day(properties),
        properties.get("datePrecision"),
        stated_text(properties, "category") or stated_text(properties, "crimeType"),
        properties.get("latitude"),
        properties.get("longitude"),
        location,
    )


def window_day(stated: str) -> str:
    """The day a stated day is counted on: a month (``YYYY-MM``) is its first day, and a date
    carrying a time is its first ten characters. One expression, so that the stores' queries can
    say it with the stated day read once (SQL ``substr(s || '-01', 1, 10)``, Cypher ``left``).

    >>> window_day("2026-03"), window_day("2026-03-31T22:00:00"), window_day("2026-03-05")
    ('2026-03-01', '2026-03-31', '2026-03-05')
    """
    return (stated + "-01")[:10]


def _day(day: str | None, precision: Any) -> tuple[str | None, bool]:
    if not day:
        return None, False
    month_only = len(day) == 7 or (precision is not None and str(precision).casefold() == "month")
    return window_day(day), month_only


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number else None  # NaN is no coordinate


def assemble(raw: RawIncidents, model: Model, since: str, until: str) -> IncidentRead:
    """The rows as an assessment reads them: incidents dated within [since, until], ordered by id."""
    parents: dict[str, set[str]] = {}
    for place, area in raw.within:
        parents.setdefault(place, set()).add(area)

    def areas(place: str) -> tuple[str, ...]:
        found: set[str] = set()
        frontier = {place}
        for _ in range(AREA_DEPTH):
            frontier = {a for p in frontier for a in parents.get(p, ())} - found
            found |= frontier
        if _is_area(model, raw.places.get(place, ("", {}))[0]):
            found.add(place)
        return tuple(sorted(found))

    places_used = {row[7] for row in raw.events}
    areas_of = {place: areas(place) for place in places_used if place}  # once a place, not an incident

    coordinates = {  # once a place, not once an incident: a million incidents share 40,000 streets
        place_id: (_number(properties.get("latitude")), _number(properties.get("longitude")))
        for place_id, (_, properties) in raw.places.items()
    }
    # One string object for each type, day, category and place, however many incidents share it:
    # a million incidents then point at a few thousand strings that stay in the processor's cache,
    # and every count by category or day after this compares them by identity.
    one = {}.setdefault
    incidents = []
    for event_id, type_name, day, precision, category, own_latitude, own_longitude, location in sorted(
        raw.events, key=_first
    ):
        if day is not None and len(day) == 10 and (precision is None or precision == "Month"):  # no call: the usual
            date, month_only = day, precision is not None
        else:
            date, month_only = _day(day, precision)
        if date is None or not since <= date <= until:
            continue
        latitude = longitude = None
        if own_latitude is not None:
            latitude, longitude = _number(own_latitude), _number(own_longitude)
        if (latitude is None or longitude is None) and location:
            latitude, longitude = coordinates.get(location, (None, None))
        incidents.append(
            Incident(  # positional: a million of them (id, type, date, category, month_only, location, areas, lat, lon)
                event_id,
                one(type_name, type_name),
                one(date, date),
                one(category, category)
                if category and type(category) is str
                else str(category or _type_label(model, type_name)),
                month_only,
                one(location, location) if location else location,
                areas_of[location] if location else (),
                latitude if longitude is not None else None,
                longitude if latitude is not None else None,
            )
        )
    kept = {i.id for i in incidents}
    located = {i.location for i in incidents if i.location}
    named = located.union(*(areas_of[place] for place in located))
    places = {
        place_id: _place(model, place_id, *raw.places[place_id]) for place_id in sorted(named) if place_id in raw.places
    }
    reports = []
    for report_id, properties, grades in sorted(raw.reports, key=lambda r: r[0]):
        date = next((str(properties[k])[:10] for k in REPORT_DATE_KEYS if properties.get(k)), None)
        if date is not None and since <= date <= until:
            reports.append(Report(id=report_id, date=date, grades=tuple(sorted(grades))))
    return IncidentRead(
        incidents=incidents,
        involvements=[
            Involvement(p, e, r) for e, p, r in sorted({(e, p, r) for p, e, r in raw.involvements if e in kept})
        ],
        places=places,
        reports=reports,
    )


def _is_area(model: Model, type_name: str) -> bool:
    return type_name in model.entities and model.is_a(type_name, Core.AREA)


def _type_label(model: Model, type_name: str) -> str:
    return model.entities[type_name].label if type_name in model.entities else type_name


def _first(row: tuple) -> str:
    return row[0]


def _place(model: Model, place_id: str, type_name: str, properties: dict[str, Any]) -> Place:
    return Place(
        id=place_id,
        type=type_name,
        label=entity_label(model, Entity(place_id, type_name, properties)),
        code=properties.get("areaCode"),
        latitude=_number(properties.get("latitude")),
        longitude=_number(properties.get("longitude")),
    )
