"""Operational review: did it work? Incidents in a target area, its buffer and a control area,
before and after, measured by WDQ, WDD, TNE and a Poisson test (nimgraph.analysis.displacement).

Each area is made of places (areas, streets, premises or other locations, by id: an incident counts
when its place is one of them or lies within one) and circles around points. The three are kept
apart: an incident in the target is not counted in the buffer, nor one in either in the control.
Everything is read through the reader it is given (the caller's cleared view), so the counts are
those of the records the caller may see.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from nimgraph.analysis.displacement import (
    AreaCounts,
    ReviewCounts,
    before_after_test,
    total_net_effect,
    weighted_displacement_difference,
    weighted_displacement_quotient,
)
from nimgraph.analysis.repeats import month_range
from nimgraph.grading import most_restrictive
from nimgraph.labels import entity_label
from nimgraph.ontology import Core, Model
from nimgraph.records import Incident
from nimgraph.store.base import GraphReader
from nimgraph.tasking.kinds import kind_of

__all__ = [
    "AREA_NAMES",
    "Circle",
    "OperationalReview",
    "ReviewError",
    "ReviewQuestion",
    "Window",
    "Zone",
    "build_review",
]

AREA_NAMES = ("target", "buffer", "control")
MAX_CIRCLES = 50
MAX_PLACES = 500
MAX_METRES = 20_000.0
MAX_MAP_POINTS = 5000
MIN_ALPHA, MAX_ALPHA = 1e-6, 0.5
MAX_SPAN_DAYS = 10 * 365 + 2  # ten years of windows: a review, not a history
EARTH_METRES = 6_371_000


class ReviewError(ValueError):
    """The review cannot be made as asked; the message says what to change."""


@dataclass(frozen=True)
class Circle:
    latitude: float
    longitude: float
    metres: float

    def __post_init__(self) -> None:
        if not (-90 <= self.latitude <= 90 and -180 <= self.longitude <= 180):
            raise ReviewError(
                f"a circle's centre must be a latitude and longitude, not {self.latitude}, {self.longitude}"
            )
        if not (0 < self.metres <= MAX_METRES):
            raise ReviewError(f"a circle's radius must be more than 0 and at most {MAX_METRES:g} metres")

    def holds(self, latitude: float, longitude: float) -> bool:
        p1, p2 = math.radians(self.latitude), math.radians(latitude)
        dp, dl = p2 - p1, math.radians(longitude - self.longitude)
        h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
        return 2 * EARTH_METRES * math.asin(math.sqrt(min(h, 1.0))) <= self.metres


@dataclass(frozen=True)
class Zone:
    """One of the three areas: places by id, circles around points, or both."""

    places: tuple[str, ...] = ()
    circles: tuple[Circle, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.places and not self.circles


@dataclass(frozen=True)
class Window:
    """A period of whole days, both ends included."""

    since: str
    until: str

    def __post_init__(self) -> None:
        try:
            first, last = date.fromisoformat(self.since), date.fromisoformat(self.until)
        except (TypeError, ValueError):
            raise ReviewError(f"a window's days are written YYYY-MM-DD, not {self.since!r} to {self.until!r}") from None
        if first > last:
            raise ReviewError(f"a window cannot end ({self.until}) before it starts ({self.since})")

    @property
    def days(self) -> int:
        return (date.fromisoformat(self.until) - date.fromisoformat(self.since)).days + 1

    def holds_day(self, day: str) -> bool:
        return self.since <= day <= self.until

    def holds_month(self, first_day: str) -> bool:
        """Whether the window covers the whole month that starts on ``first_day``."""
        start = date.fromisoformat(first_day)
        following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
        return self.since <= first_day and date.fromisoformat(self.until) >= date.fromordinal(following.toordinal() - 1)


@dataclass(frozen=True)
class ReviewQuestion:
    target: Zone
    buffer: Zone
    control: Zone
    before: Window
    after: Window
    categories: tuple[str, ...] = ()  # incident categories or types that count; none: every incident
    alpha: float = 0.05

    def zones(self) -> tuple[tuple[str, Zone], ...]:
        return (("target", self.target), ("buffer", self.buffer), ("control", self.control))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class OperationalReview:
    question: ReviewQuestion
    reviewed: dict[str, Any] | None
    places: dict[str, list[dict[str, str]]]  # area name -> the places it is made of, as the reader sees them
    counts: ReviewCounts
    wdq: dict[str, Any]
    wdd: dict[str, Any]
    tne: dict[str, Any]
    poisson: dict[str, Any]
    months: list[str]
    series: dict[str, list[float | None]]  # target, buffer, control, and the target as the control predicts it
    summary: list[str]
    warnings: list[str]
    points: list[dict[str, Any]]
    circles: dict[str, Any]  # GeoJSON of the areas drawn as circles
    handling: str | None
    produced_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    product: str = "operational_review"

    def to_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__ if name not in ("question", "counts")}
        data["question"] = self.question.as_dict()
        data["counts"] = {name: asdict(getattr(self.counts, name)) for name in ("target", "buffer", "control")} | {
            "before_days": self.counts.before_length,
            "after_days": self.counts.after_length,
        }
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str)


def _check(question: ReviewQuestion) -> None:
    for name, zone in question.zones():
        if zone.empty:
            raise ReviewError(f"the {name} area needs places or circles")
        if len(zone.places) > MAX_PLACES or len(zone.circles) > MAX_CIRCLES:
            raise ReviewError(f"the {name} area may have at most {MAX_PLACES} places and {MAX_CIRCLES} circles")
    seen: dict[str, str] = {}
    for name, zone in question.zones():
        for place in zone.places:
            if place in seen and seen[place] != name:
                raise ReviewError(f"{place} is in both the {seen[place]} and the {name} area: they must not overlap")
            seen[place] = name
    if question.before.until >= question.after.since:
        raise ReviewError(
            f"the before window ({question.before.since} to {question.before.until}) must end before the after "
            f"window starts ({question.after.since})"
        )
    if not MIN_ALPHA <= question.alpha <= MAX_ALPHA:
        # below about 1e-16 the interval's critical value is infinite
        raise ReviewError(f"alpha must lie between {MIN_ALPHA:g} and {MAX_ALPHA:g}")
    first, last = min(question.before.since, question.after.since), max(question.before.until, question.after.until)
    if date.fromisoformat(last) - date.fromisoformat(first) > timedelta(days=MAX_SPAN_DAYS):
        raise ReviewError(f"the windows may span at most {MAX_SPAN_DAYS // 365} years, from the first day to the last")


def _places(
    reader: GraphReader, model: Model, question: ReviewQuestion
) -> tuple[dict[str, list[dict[str, str]]], set[str]]:
    """Each area's places as the reader sees them, and the handling codes of their records; a place it
    cannot see is refused as one that does not exist."""
    shown: dict[str, list[dict[str, str]]] = {}
    codes: set[str] = set()
    for name, zone in question.zones():
        shown[name] = []
        for place_id in zone.places:
            entity = reader.get(place_id)
            if entity is None or not (model.is_a(entity.type, Core.LOCATION) or model.is_a(entity.type, Core.AREA)):
                raise ReviewError(f"no place or area with id {place_id!r} that you are cleared to see")
            shown[name].append({"id": entity.id, "type": entity.type, "label": entity_label(model, entity)})
            codes |= {a.handling for a in entity.provenance}
    return shown, codes


def _zone_of(incident: Incident, question: ReviewQuestion, place_sets: dict[str, frozenset[str]]) -> str | None:
    located = incident.latitude is not None and incident.longitude is not None
    for name, zone in question.zones():
        ids = place_sets[name]
        if ids and (incident.location in ids or any(area in ids for area in incident.areas)):
            return name
        if located and any(c.holds(incident.latitude, incident.longitude) for c in zone.circles):  # type: ignore[arg-type]
            return name
    return None


def _counts_in(incident: Incident, window: Window) -> bool | None:
    """True or False; None for a month-only date that the window covers only part of."""
    if incident.month_only:
        if window.holds_month(incident.date):
            return True
        first, last = incident.date, incident.date[:8] + "31"
        return False if last < window.since or first > window.until else None
    return window.holds_day(incident.date)


def _wanted(categories: Iterable[str]) -> frozenset[str]:
    return frozenset(c.strip().casefold() for c in categories if c.strip())


def _circle_features(question: ReviewQuestion) -> dict[str, Any]:
    features = []
    for name, zone in question.zones():
        for circle in zone.circles:
            ring = []
            for step in range(49):
                bearing = 2 * math.pi * step / 48
                dlat = circle.metres * math.cos(bearing) / EARTH_METRES
                dlon = circle.metres * math.sin(bearing) / (EARTH_METRES * math.cos(math.radians(circle.latitude)))
                ring.append([circle.longitude + math.degrees(dlon), circle.latitude + math.degrees(dlat)])
            features.append(
                {
                    "type": "Feature",
                    "properties": {"name": f"{name.capitalize()} ({circle.metres:g} m)"},
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                }
            )
    return {"type": "FeatureCollection", "features": features}


def _percent(after: float, before: float) -> str:
    return f"{(after - before) / before * 100:+.0f}%" if before else "from none"


def _summary(counts: ReviewCounts, wdq, wdd, tne, poisson) -> list[str]:
    target, buffer, control = counts.target, counts.buffer, counts.control
    lines = [
        f"Target: {target.before} before, {target.after} after ({_percent(target.after, target.before)}); "
        f"buffer: {buffer.before} to {buffer.after} ({_percent(buffer.after, buffer.before)}); "
        f"control: {control.before} to {control.after} ({_percent(control.after, control.before)}).",
        f"Target before and after (Poisson E-test, as rates over the windows): p = {poisson.p_value:.3g}, "
        f"{'significant' if poisson.significant else 'not significant'}.",
        f"WDQ: {wdq.reading}" + (f" (quotient {wdq.quotient:.2f})" if wdq.quotient is not None else ""),
        f"WDD: {wdd.reading}",
        f"TNE: {tne.reading}",
    ]
    return lines


def build_review(
    reader: GraphReader,
    model: Model,
    question: ReviewQuestion,
    *,
    reviewed: str | None = None,
) -> OperationalReview:
    """The review of ``question`` as ``reader`` sees the incidents; ``reviewed`` is the problem, tasking
    or activity it reviews (refused, as one that does not exist, if the reader cannot see it)."""
    _check(question)
    about, codes = None, set()
    if reviewed is not None:
        entity = reader.get(reviewed)
        kind = kind_of(model, entity.type) if entity is not None else None
        if entity is None or kind is None or kind.name not in ("problem", "tasking", "activity", "priority"):
            raise ReviewError(f"no problem, tasking, activity or priority {reviewed!r} that you are cleared to see")
        about = {"id": entity.id, "type": entity.type, "kind": kind.name, "label": entity_label(model, entity)}
        codes = {a.handling for a in entity.provenance}
    places, place_codes = _places(reader, model, question)
    codes |= place_codes
    place_sets = {name: frozenset(p["id"] for p in places[name]) for name in AREA_NAMES}
    since = min(question.before.since, question.after.since)
    until = max(question.before.until, question.after.until)
    read = reader.incidents(since, until)
    wanted = _wanted(question.categories)
    months = month_range(since[:7], until[:7])
    by_month = {name: Counter() for name in AREA_NAMES}
    tally = {(name, window): 0 for name in AREA_NAMES for window in ("before", "after")}
    split = Counter()
    points = []
    counted: list[Incident] = []
    for incident in read.incidents:
        if wanted and incident.category.casefold() not in wanted and incident.type.casefold() not in wanted:
            continue
        zone = _zone_of(incident, question, place_sets)
        if zone is None:
            continue
        counted.append(incident)
        by_month[zone][incident.date[:7]] += 1
        for window_name, window in (("before", question.before), ("after", question.after)):
            inside = _counts_in(incident, window)
            if inside is None:
                split[zone] += 1
            elif inside:
                tally[zone, window_name] += 1
                if len(points) < MAX_MAP_POINTS and incident.latitude is not None:
                    points.append(
                        {
                            "lat": incident.latitude,
                            "lon": incident.longitude,
                            "label": f"{incident.category}, {incident.date} ({window_name})",
                            "category": f"{zone.capitalize()}, {window_name}",
                        }
                    )
    counts = ReviewCounts(
        *(AreaCounts(tally[name, "before"], tally[name, "after"]) for name in AREA_NAMES),
        before_length=question.before.days,
        after_length=question.after.days,
    )
    wdq = weighted_displacement_quotient(counts)
    wdd = weighted_displacement_difference(counts, alpha=question.alpha)
    tne = total_net_effect(counts)
    poisson = before_after_test(counts, alpha=question.alpha)
    warnings = list(dict.fromkeys([*wdq.warnings, *wdd.warnings, *tne.warnings]))
    if split:
        left = ", ".join(f"{n} in the {zone}" for zone, n in sorted(split.items()))
        warnings.append(
            f"Incidents known only to the month that a window covers in part were left out of that window: {left}. "
            "Windows of whole months count them."
        )
    if len(points) >= MAX_MAP_POINTS:
        warnings.append(f"The map shows the first {MAX_MAP_POINTS} incidents; the counts include all.")
    series: dict[str, list[float | None]] = {name: [by_month[name].get(m, 0) for m in months] for name in AREA_NAMES}
    series["expected"] = _expected(by_month, months, question)
    codes |= {handling for (_, _, handling) in read.records}
    # homes whose incidents the map shows are personal data: released (and audited) as the places named are
    homes = {
        incident.location
        for incident in counted
        if incident.location and (place := read.places.get(incident.location)) and model.identifies_person(place.type)
    }
    release = getattr(reader, "release", None)
    if release is not None:
        release(sorted(homes))
    return OperationalReview(
        question=question,
        reviewed=about,
        places=places,
        counts=counts,
        wdq=wdq.as_dict(),
        wdd=wdd.as_dict(),
        tne=tne.as_dict(),
        poisson=poisson.as_dict(),
        months=months,
        series=series,
        summary=_summary(counts, wdq, wdd, tne, poisson),
        warnings=warnings,
        points=points,
        circles=_circle_features(question),
        handling=most_restrictive(codes) if codes else None,
    )


def _expected(by_month: dict[str, Counter], months: list[str], question: ReviewQuestion) -> list[float | None]:
    """What the target would have had each month had it followed the control: its before months' mean,
    scaled by the control's count that month against the control's before mean (the mean alone when
    the control had none before)."""
    before_months = month_range(question.before.since[:7], question.before.until[:7])
    target_mean = sum(by_month["target"].get(m, 0) for m in before_months) / len(before_months)
    control_mean = sum(by_month["control"].get(m, 0) for m in before_months) / len(before_months)
    if not control_mean:
        return [round(target_mean, 2)] * len(months)
    return [round(target_mean * by_month["control"].get(m, 0) / control_mean, 2) for m in months]


def review_html(
    review: OperationalReview | dict[str, Any],
    *,
    saved: dict[str, Any] | None = None,
    notice: str | None = None,
    tile_url: str | None = None,
    attribution: str | None = None,
) -> str:
    """The review as one page that needs nothing from the network (unless a tile URL is set): its chart
    of the four monthly series, a map of the three areas, the measures with their assumptions; with
    ``saved``, the stored review's title, conclusion and lessons."""
    from nimgraph.grading import HANDLING
    from nimgraph.products.render import environment
    from nimgraph.viz import charts, maps

    data = review.to_dict() if isinstance(review, OperationalReview) else review
    series = data["series"]
    chart = charts.trend_chart(
        data["months"],
        [
            ("Target", series["target"]),
            ("Buffer", series["buffer"]),
            ("Control", series["control"]),
            ("Target as the control predicts", series["expected"]),
        ],
        title="Incidents per month in the three areas",
        y_label="Incidents",
    )
    map_markup = maps.map_html(
        element_id="review-map",
        points=data["points"],
        hotspots=[],
        areas=data["circles"] if data["circles"]["features"] else None,
        tile_url=tile_url,
        attribution=attribution,
    )
    handling = data.get("handling")
    return (
        environment()
        .get_template("operational_review.html")
        .render(
            review=data,
            saved=saved,
            notice=notice,
            handling=handling,
            handling_text=HANDLING[handling] if handling else "",
            chart=chart,
            map=map_markup,
            map_assets=maps.map_assets(),
        )
    )


def question_from(data: dict[str, Any]) -> tuple[ReviewQuestion, str | None]:
    """A review question (and the id of what it reviews) from the JSON the API takes, for the command line.

    >>> q, reviewed = question_from({"target": {"places": ["Street-1"]}, "buffer": {"places": ["Street-2"]},
    ...     "control": {"circles": [{"latitude": 53.5, "longitude": -2.2, "metres": 300}]},
    ...     "before": {"since": "2026-01-01", "until": "2026-06-30"},
    ...     "after": {"since": "2026-07-01", "until": "2026-12-31"}, "categories": ["ASBIncident"]})
    >>> q.control.circles[0].metres, q.after.days, reviewed
    (300.0, 184, None)
    """
    if not isinstance(data, dict):
        raise ReviewError("a review question is a JSON object: target, buffer, control, before, after")
    known = {"target", "buffer", "control", "before", "after", "categories", "alpha", "reviewed"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ReviewError(f"not part of a review question: {', '.join(unknown)}; it takes {', '.join(sorted(known))}")

    def zone(name: str) -> Zone:
        given = data.get(name)
        if not isinstance(given, dict):
            raise ReviewError(f"the {name} area is an object with places and/or circles")
        places, circles = given.get("places", []), given.get("circles", [])
        if not isinstance(places, list) or not all(isinstance(p, str) for p in places):
            raise ReviewError(f"the {name} area's places are a list of ids")
        if not isinstance(circles, list) or not all(isinstance(c, dict) for c in circles):
            raise ReviewError(f"the {name} area's circles are a list of {{latitude, longitude, metres}}")
        try:
            made = tuple(Circle(float(c["latitude"]), float(c["longitude"]), float(c["metres"])) for c in circles)
        except (KeyError, TypeError, ValueError):
            raise ReviewError(f"each circle of the {name} area needs a latitude, a longitude and metres") from None
        return Zone(tuple(places), made)

    def window(name: str) -> Window:
        given = data.get(name)
        if not isinstance(given, dict) or not {"since", "until"} <= set(given):
            raise ReviewError(f"the {name} window is an object with since and until, each YYYY-MM-DD")
        return Window(str(given["since"]), str(given["until"]))

    categories = data.get("categories", [])
    if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
        raise ReviewError("categories are a list of incident categories or types")
    alpha = data.get("alpha", 0.05)
    if isinstance(alpha, bool) or not isinstance(alpha, int | float):
        raise ReviewError("alpha is a number between 0 and 1")
    reviewed = data.get("reviewed")
    if reviewed is not None and not isinstance(reviewed, str):
        raise ReviewError("reviewed is the id of a problem, tasking, activity or priority")
    question = ReviewQuestion(
        zone("target"), zone("buffer"), zone("control"), window("before"), window("after"), tuple(categories), alpha
    )
    return question, reviewed
