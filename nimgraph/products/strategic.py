"""The strategic assessment: a partnership area's year, what changed, where harm concentrates, and priorities.

Built from the incidents the caller may see (``ClearedView.incidents``): volume and trend by
category and area against the previous period and the same period last year, each change tested
(Poisson E-test); harm as well as volume (a harm index with its source and year); concentration
(repeat locations and victims, the top 5% and 10% of places, the concentration curve); hotspots
(Getis-Ord Gi* on a grid, emerging and persistent over 28-day sub-periods); the people (repeat
victims, prolific offenders, risk screenings); the partnership's problems; recommended
priorities scored by a MoRiLE-style matrix, each with its evidence and gaps; intelligence gaps;
and the analyst's own sections, kept when the product is regenerated.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import chain
from operator import attrgetter

import networkx as nx

from nimgraph.analysis import concentration, hotspots, significance
from nimgraph.analysis.risk import drawn_towards_crime, relatives_with_criminal_associates
from nimgraph.analysis.volumes import count_by, count_by_area, finest_area_type, monthly, parties
from nimgraph.collector import collector_paused
from nimgraph.grading import most_restrictive
from nimgraph.labels import entity_label
from nimgraph.ontology import Core, Model
from nimgraph.products.assessing import (
    AssessmentSettings,
    analyst_sections,
    hotspot_map_cells,
    intelligence_by_grade,
    latest_day,
    map_points,
    period_of,
    read_scoped,
    sources_and_handling,
)
from nimgraph.products.common import ProductError, crime_roles, generated_at
from nimgraph.products.periods import Period, month_list, parse_day, whole_months
from nimgraph.products.priorities import Candidate, score_candidates
from nimgraph.records import Entity, Incident, Link

SUB_PERIOD_DAYS = 28
SUB_PERIODS = 13  # 13 x 28 days: a year, the last sub-period being the last 28 days
PROLIFIC_SHARE = 0.10  # prolific offenders: the tenth of named offenders with the most crimes
MAX_PROBLEMS = 500
MAX_REVIEWS = 20  # reviews in the "what worked" section, latest first


@dataclass
class StrategicAssessment:
    terms_of_reference: dict
    summary: dict
    volume: dict
    harm: dict
    concentration: dict
    hotspots: dict
    people: dict
    partnership_activity: dict
    intelligence: dict
    priorities: dict
    intelligence_gaps: list[str]
    analyst_sections: dict[str, str]
    sources: list[dict]
    footnotes: list[dict]
    handling: str | None
    generated_at: str
    map: dict = field(default_factory=dict, repr=False)
    shown: set[str] = field(default_factory=set, repr=False)  # ids of people and homes the product names

    def to_dict(self) -> dict:
        data = {k: v for k, v in self.__dict__.items() if k not in ("map", "shown")}
        data["product"] = "strategic_assessment"
        data["map"] = {"points": len(self.map.get("points", [])), "hotspots": len(self.map.get("hotspots", []))}
        return data


_ID, _CATEGORY = attrgetter("id"), attrgetter("category")


def _change_rows(current: Counter, previous: Counter, alpha: float, label: Callable[[str], str]) -> list[dict]:
    rows = []
    for key in sorted(set(current) | set(previous), key=lambda k: (-current[k], label(k))):
        change = significance.compare_counts(current[key], previous[key], alpha=alpha)
        rows.append({"id": key, "label": label(key), **_change(change)})
    return rows


def _change(change: significance.Change) -> dict:
    data = change.as_dict()
    return {
        "current": data["current"],
        "previous": data["previous"],
        "change_percent": None if data["percent"] is None else round(data["percent"], 1),
        "p_value": round(data["p_value"], 4),
        "significant": data["significant"],
        "direction": "up"
        if data["current"] > data["previous"]
        else "down"
        if data["current"] < data["previous"]
        else "level",
    }


def _direction(current: int, previous: int) -> str:
    return "up" if current > previous else "down" if current < previous else "level"


def _volume(
    current: list[Incident],
    previous: list[Incident],
    area_ids: set[str],
    label: Callable[[str], str],
    period: Period,
    last_year: Period,
    alpha: float,
) -> dict:
    months = month_list(period)
    previous_months = month_list(last_year)
    by_category = _change_rows(
        count_by(current, lambda i: i.category), count_by(previous, lambda i: i.category), alpha, str
    )
    by_area = _change_rows(count_by_area(current, area_ids), count_by_area(previous, area_ids), alpha, label)
    total = _change(significance.compare_counts(len(current), len(previous), alpha=alpha))
    return {
        "total": total,
        "by_category": by_category,
        "by_area": by_area,
        "by_month": {
            "months": months,
            "current": monthly(current, months),
            "last_year": monthly(previous, previous_months),
        },
        "method": significance.METHOD,
        "alpha": alpha,
        "significant_changes": sum(1 for r in by_category + by_area if r["significant"]),
        "tests": len(by_category) + len(by_area),
    }


def _harm(current: list[Incident], settings: AssessmentSettings) -> dict:
    index = settings.harm
    counts = count_by(current, lambda i: i.category)
    rows = []
    for category, count in counts.items():
        weight = index.weight(category)
        rows.append(
            {
                "category": category,
                "count": count,
                "weight": index.default if weight is None else weight,
                "weight_listed": weight is not None,
                "harm": count * (index.default if weight is None else weight),
            }
        )
    by_volume = sorted(rows, key=lambda r: (-r["count"], r["category"]))
    for rank, row in enumerate(by_volume, 1):
        row["volume_rank"] = rank
    by_harm = sorted(rows, key=lambda r: (-r["harm"], r["category"]))
    for rank, row in enumerate(by_harm, 1):
        row["harm_rank"] = rank
    total = sum(r["harm"] for r in rows) or 1
    for row in rows:
        row["harm_share"] = round(row["harm"] / total, 4)
    lifted = [
        {
            "category": high["category"],
            "above": low["category"],
            "high_count": high["count"],
            "low_count": low["count"],
            "high_harm": high["harm"],
            "low_harm": low["harm"],
        }
        for high in by_harm
        for low in by_harm
        if high["harm_rank"] < low["harm_rank"] and high["volume_rank"] > low["volume_rank"]
    ]
    return {
        "index": index.describe(),
        "by_category": by_harm,
        "rank_differs": [r["category"] for r in by_harm if r["harm_rank"] != r["volume_rank"]],
        "lifted": lifted[:50],
        "unweighted_categories": sorted(r["category"] for r in rows if not r["weight_listed"]),
    }


def _concentration(current: list[Incident], previous: list[Incident], victims: Counter) -> dict:
    at = count_by(current, lambda i: i.location)
    places = {i.location for i in current + previous if i.location}
    return {
        "places_definition": "places (locations) with at least one incident in this period or the previous one",
        "places": len(places),
        "repeat_locations": concentration.repeat_rate(at).as_dict(),
        "repeat_victims": concentration.repeat_rate(victims).as_dict(),
        "top_5_percent_share": round(concentration.top_share(at, 0.05, population=len(places)), 4) if at else None,
        "top_10_percent_share": round(concentration.top_share(at, 0.10, population=len(places)), 4) if at else None,
        "gini": round(concentration.gini(at, population=len(places)), 4) if at else None,
        "curve": [[round(x, 4), round(y, 4)] for x, y in concentration.concentration_curve(at, population=len(places))]
        if at
        else [],
    }


def _hotspots(current: list[Incident], until: date, settings: AssessmentSettings) -> tuple[dict, list[dict]]:
    placed = [i for i in current if i.latitude is not None]
    if len(placed) < 3:
        return {"note": "too few incidents with coordinates for a hotspot analysis", "cells": []}, []
    grid = hotspots.grid([i.latitude for i in placed], [i.longitude for i in placed], cell_metres=settings.cell_metres)
    weights = hotspots.grid_weights(grid)
    counts = grid.counts([i.latitude for i in placed], [i.longitude for i in placed])
    found = hotspots.gi_star(counts, weights, alpha=settings.alpha)
    periods = [
        Period(
            (until - timedelta(days=SUB_PERIOD_DAYS * (k + 1) - 1)).isoformat(),
            (until - timedelta(days=SUB_PERIOD_DAYS * k)).isoformat(),
        )
        for k in reversed(range(SUB_PERIODS))
    ]
    dated = [i for i in placed if not i.month_only]
    by_period = []
    for sub in periods:
        inside = [i for i in dated if sub.holds(i.date)]
        by_period.append(grid.counts([i.latitude for i in inside], [i.longitude for i in inside]))
    trends = hotspots.hotspot_trends(by_period, weights, alpha=settings.alpha) if dated else []
    patterns = {t.id: t.pattern for t in trends if t.pattern != "none"}
    cells = {c.id: c for c in grid.cells}
    hot = sorted((s for s in found if s.hot), key=lambda s: -s.z)
    trend_rows = [
        {
            "cell": t.id,
            "pattern": t.pattern,
            "hot_periods": sum(t.hot_periods),
            "hot_in_last": bool(t.hot_periods[-1]),
            "trend_p": None if t.trend_p != t.trend_p else round(float(t.trend_p), 4),  # NaN: no trend testable
            "centre": [cells[t.id].centre_lat, cells[t.id].centre_lon],
            "in_year": int(counts.get(t.id, 0)),
            "in_last_28_days": int(by_period[-1].get(t.id, 0)),
        }
        for t in trends
        # a cell with no incidents of its own is hot only by its neighbours': it is drawn, not listed
        if t.pattern != "none" and counts.get(t.id, 0)
    ]
    section = {
        "method": hotspots.describe_method(
            weights="grid", alpha=settings.alpha, cell_metres=round(grid.cell_metres), periods=SUB_PERIODS
        ),
        "cell_metres": grid.cell_metres,
        "cells": len(grid.cells),
        "alpha": settings.alpha,
        "hot_cells": [
            {
                "cell": s.id,
                "count": int(s.count),
                "z": round(float(s.z), 2),
                "p": round(float(s.p), 5),
                "centre": [cells[s.id].centre_lat, cells[s.id].centre_lon],
                "pattern": patterns.get(s.id, ""),
            }
            for s in hot
            if s.count  # hot only by its neighbours' incidents: drawn on the map, not listed
        ][:50],
        "sub_periods": [p.as_dict() for p in periods],
        "patterns": dict(Counter(t["pattern"] for t in trend_rows)),
        "emerging": [t for t in trend_rows if t["pattern"] in EMERGING and t["in_last_28_days"]],
        "persistent": [t for t in trend_rows if t["pattern"] in PERSISTENT],
        "left_out": "incidents dated to the month only are in the year's Gi* but not in the 28-day sub-periods",
    }
    emerging = [t for t in trends if t.pattern in EMERGING]
    return section, hotspot_map_cells(grid, found, patterns, also=emerging)


EMERGING = {"new", "consecutive", "intensifying"}
PERSISTENT = {"persistent", "sporadic", "oscillating"}


def _people(
    current: list[Incident], involvements, model: Model, screenings: dict | None
) -> tuple[dict, Counter, Counter]:
    events = {i.id for i in current}
    victims = parties(involvements, set(model.descendants(Core.VICTIM_IN)), events)
    roles = crime_roles(model)
    offenders = parties(involvements, roles, events)
    ranked = sorted(offenders.values(), reverse=True)
    prolific_count = max(1, round(len(ranked) * PROLIFIC_SHARE)) if ranked else 0
    cut = ranked[prolific_count - 1] if ranked else 0
    prolific = {p for p, n in offenders.items() if n >= cut and n > 1} if ranked else set()
    offender_events = {i.event for i in involvements if i.event in events and i.role in roles}
    prolific_events = {i.event for i in involvements if i.person in prolific and i.event in events}
    return (
        {
            "victims": len(victims),
            "repeat_victims": sum(1 for n in victims.values() if n > 1),
            "offenders": len(offenders),
            "prolific_definition": f"the {PROLIFIC_SHARE:.0%} of named offenders and suspects with the most crimes "
            "(those tied at the cut included), with more than one",
            "prolific_offenders": len(prolific),
            "crimes_with_named_offender": len(offender_events),
            "prolific_share_of_those": round(len(prolific_events) / len(offender_events), 4)
            if offender_events
            else None,
            "prolific_share_of_all": _share(len(prolific_events), len(events)),
            "screenings": screenings,
        },
        victims,
        offenders,
    )


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _screenings(view, model: Model, involvements, events: set[str]) -> dict:
    """The risk screenings' counts, with party to crime meaning an offender or suspect in the
    incidents assessed. The screenings route reads every involvement link in the graph with its
    records; a million incidents' worth is minutes of reading, and the associations that the
    screenings follow are few, so only they are read, through the caller's view."""
    from nimgraph.products.screenings import INDICATORS, Links

    roles = Links().resolved(model)
    social = view.subgraph(sorted(roles["association"] | roles["family"] | roles["household"]))
    entities = dict(social.entities)
    links = dict(social.links)
    # only the parties the links reach matter: whether someone's associates are party to crime
    social_people = set(entities)
    for n, involvement in enumerate(
        i for i in involvements if i.person in social_people and i.event in events and i.role in roles["involvement"]
    ):
        entities.setdefault(involvement.person, Entity(involvement.person, Core.PERSON))
        entities.setdefault(involvement.event, Entity(involvement.event, Core.INCIDENT))
        links[f"involvement-{n}"] = Link(f"involvement-{n}", involvement.role, involvement.person, involvement.event)
    # counting needs only types, not the labels and records a drawn graph carries
    graph = nx.MultiDiGraph()
    graph.add_nodes_from((e.id, {"type": e.type}) for e in entities.values())
    graph.add_edges_from((k.source, k.target, k.id, {"type": k.type}) for k in links.values())
    people = set(model.descendants(Core.PERSON))
    associates = drawn_towards_crime(
        graph, association=roles["association"], involvement=roles["involvement"], min_associates=2, person_types=people
    )
    relatives = relatives_with_criminal_associates(
        graph,
        family=roles["family"],
        association=roles["association"],
        involvement=roles["involvement"],
        household=roles["household"],
        residence=set(),
        min_associates=2,
    )
    party = "party to crime: an offender or suspect in the incidents of this period or the one before"
    return {
        "criminal_associates": {
            "people": len(associates),
            "definition": f"{INDICATORS['criminal_associates']} At least two such associates; {party}.",
        },
        "relatives": {
            "people": len({r.person for r in relatives}),
            "definition": f"{INDICATORS['relatives']} A relative with at least two such associates; {party}.",
        },
    }


def _partnership(view, model: Model) -> tuple[dict, set[str]]:
    """The partnership section, and the handling codes of the records it counts and names."""
    problems = view.find(Core.PROBLEM, limit=MAX_PROBLEMS)
    stages = Counter(str(p.properties.get("saraStage") or "not recorded") for p in problems)
    activities = view.find(Core.ACTIVITY, limit=MAX_PROBLEMS)
    pillars = Counter(str(a.properties.get("pillar") or "not recorded") for a in activities)
    outcomes = view.find(Core.OUTCOME, limit=MAX_PROBLEMS)
    taskings = view.find(Core.TASKING, limit=MAX_PROBLEMS)
    reviews = view.find(Core.EVALUATION, limit=MAX_PROBLEMS)
    codes = {
        a.handling for group in (problems, activities, outcomes, taskings, reviews) for e in group for a in e.provenance
    }
    return {
        "taskings": len(taskings),
        "taskings_by_status": dict(
            Counter(str(t.properties.get("taskingStatus") or "not recorded") for t in taskings).most_common()
        ),
        "what_worked": what_worked(view, model, reviews),
        "problems": len(problems),
        "by_sara_stage": dict(stages.most_common()),
        "activities": len(activities),
        "activity_by_pillar": dict(pillars.most_common()),
        "outcomes_recorded": len(outcomes),
        "list": [
            {
                "id": p.id,
                "label": entity_label(model, p),
                "stage": p.properties.get("saraStage"),
                "owner": p.properties.get("owner"),
                "opened": p.properties.get("opened"),
            }
            for p in problems[:50]
        ],
        "source": "the problem register and the partnership's own records of taskings, activities and reviews",
        "truncated": len(problems) >= MAX_PROBLEMS,
    }, codes


def what_worked(view, model: Model, reviews: list[Entity] | None = None, limit: int = MAX_REVIEWS) -> list[dict]:
    """The operational reviews the reader may see, latest first: what each reviewed, its headline
    measures and the analyst's conclusion and lessons (for the "what worked" section)."""
    rows = []
    for review in view.find(Core.EVALUATION, limit=MAX_PROBLEMS) if reviews is None else reviews:
        props = review.properties
        result = json.loads(props["reviewResult"]) if props.get("reviewResult") else None
        counts = (result or {}).get("counts", {})
        rows.append(
            {
                "id": review.id,
                "title": props.get("title") or entity_label(model, review),
                "reviewed": ((result or {}).get("reviewed") or {}).get("label"),
                "produced_at": (result or {}).get("produced_at", ""),
                "target": counts.get("target"),
                "significant": ((result or {}).get("poisson") or {}).get("significant"),
                "wdq": ((result or {}).get("wdq") or {}).get("reading"),
                "net_effect": ((result or {}).get("tne") or {}).get("total"),
                "conclusion": props.get("conclusion"),
                "lessons": props.get("lessons"),
            }
        )
    rows.sort(key=lambda r: (r["produced_at"], r["id"]), reverse=True)
    return rows[:limit]


@collector_paused()
def build_strategic_assessment(
    view,
    model: Model,
    settings: AssessmentSettings,
    *,
    area: str | None = None,
    until: str | None = None,
    months: int = 12,
    screenings: bool = True,
    progress: Callable[[str], None] = lambda _: None,
) -> StrategicAssessment:
    """The strategic assessment of ``area`` (everything the caller can see when None) for the
    ``months`` whole months ending with ``until``'s month (by default the latest incident's)."""
    if not 1 <= months <= 36:
        raise ProductError("months must be between 1 and 36")
    progress("reading incidents")
    today = date.today()
    last = parse_day(until, "until") if until else today
    widest = whole_months(last, months * 2 + (0 if until else 12))
    scoped = read_scoped(view, model, widest.since, widest.until, area)
    end = latest_day(scoped.incidents, today) if until is None else last
    period = whole_months(end, months)
    last_year = whole_months(end, months, back=12)
    previous = whole_months(end, months, back=months)
    current = period_of(scoped.incidents, period)
    if not current:
        raise ProductError(
            f"no incidents you may see lie within {period.since} to {period.until}"
            + (" in that area" if area else "")
            + "; give another period (until, months) or area"
        )
    before = period_of(scoped.incidents, previous)
    year_before = period_of(scoped.incidents, last_year)
    area_type = finest_area_type(current, lambda a: scoped.read.places[a].type if a in scoped.read.places else None)
    area_ids = {a for a, p in scoped.read.places.items() if p.type == area_type}
    progress("volume, trend and harm")
    volume = _volume(current, year_before, area_ids, scoped.label, period, last_year, settings.alpha)
    volume["previous_period"] = _change(significance.compare_counts(len(current), len(before), alpha=settings.alpha))
    if previous != last_year:  # a period shorter than a year: the one before it is another comparison
        category = lambda i: i.category  # noqa: E731
        volume["by_category_against_previous_period"] = _change_rows(
            count_by(current, category), count_by(before, category), settings.alpha, str
        )
        volume["by_area_against_previous_period"] = _change_rows(
            count_by_area(current, area_ids), count_by_area(before, area_ids), settings.alpha, scoped.label
        )
    harm = _harm(current, settings)
    progress("people and concentration")
    assessed = {i.id for i in current} | {i.id for i in before}
    screening = _screenings(view, model, scoped.read.involvements, assessed) if screenings else None
    people, victims, _ = _people(current, scoped.read.involvements, model, screening)
    concentration_section = _concentration(current, before, victims)
    progress("hotspots")
    hotspot_section, hot_cells = _hotspots(current, end, settings)
    progress("priorities")
    priorities = _priorities(current, year_before, scoped, model, settings, area_ids, area_type, view)
    gaps = _gaps(current, scoped, harm, people, period, end)
    footnotes, sources, handling = sources_and_handling(view, scoped.read)
    partnership, partnership_codes = _partnership(view, model)
    if partnership_codes:  # the partnership's records it names are as much the product as the incidents
        handling = most_restrictive(partnership_codes | ({handling} if handling else set()))
    points, placed = map_points(current)
    scope_key = area or "all"
    return StrategicAssessment(
        terms_of_reference={
            "area": scoped.area or {"id": None, "label": "everything you may see"},
            "period": period.as_dict(),
            "previous_period": previous.as_dict(),
            "same_period_last_year": last_year.as_dict(),
            "until_from": "given" if until else "the latest incident you may see",
            "area_type": area_type,
            "event_types": sorted({i.type for i in current}),
            "harm_index": settings.harm.describe(),
            "priority_matrix": settings.matrix.describe(),
            "methods": {
                "change": significance.METHOD,
                "hotspots": hotspot_section.get("method"),
                "alpha": settings.alpha,
            },
        },
        summary={
            "incidents": len(current),
            "previous_period": len(before),
            "same_period_last_year": len(year_before),
            "top_priorities": [p["name"] for p in priorities["ranked"][:3]],
            "hot_cells": len(hotspot_section.get("hot_cells", [])),
            "emerging_hotspots": len(hotspot_section.get("emerging", [])),
        },
        volume=volume,
        harm=harm,
        concentration=concentration_section,
        hotspots=hotspot_section,
        people=people,
        partnership_activity=partnership,
        intelligence=intelligence_by_grade(scoped.read.reports, period),
        priorities=priorities,
        intelligence_gaps=gaps,
        analyst_sections=analyst_sections("strategic_assessment", settings, scope_key),
        sources=sources,
        footnotes=footnotes,
        handling=handling,
        generated_at=generated_at(),
        map={"points": points, "placed": placed, "hotspots": hot_cells},
    )


def _priorities(
    current: list[Incident],
    previous: list[Incident],
    scoped,
    model: Model,
    settings: AssessmentSettings,
    area_ids: set[str],
    area_type: str | None,
    view,
) -> dict:
    victim_roles = set(model.descendants(Core.VICTIM_IN))
    named: dict[str, set[str]] = {}
    for involvement in scoped.read.involvements:
        if involvement.role in victim_roles:
            named.setdefault(involvement.event, set()).add(involvement.person)
    victims_of = {event: tuple(people) for event, people in named.items()}

    def victims(events: list[Incident]) -> Counter:
        # C loops over the events, not a Python loop each: 27,000 candidates share a million events
        return Counter(chain.from_iterable(filter(None, map(victims_of.get, map(_ID, events)))))

    candidates: list[Candidate] = []
    concerns = set(model.descendants(Core.CONCERNS))
    problem_areas = {}
    for problem in view.find(Core.PROBLEM, limit=MAX_PROBLEMS):
        within = view.neighbourhood([problem.id], hops=1, link_types=concerns, max_entities=50)
        problem_areas[problem.id] = (problem, sorted(e for e in within.entities if e != problem.id))
    counted_areas = {a for _, areas in problem_areas.values() for a in areas}
    # one pass each over the incidents: a million of them meet every category and area once
    now_by: defaultdict[tuple, list[Incident]] = defaultdict(list)
    before_by: defaultdict[tuple, list[Incident]] = defaultdict(list)
    groups_of: dict[tuple[str, tuple[str, ...]], tuple[tuple, ...]] = {}  # (category, areas) -> its groups

    def groups(category: str, areas: tuple[str, ...]) -> tuple[tuple, ...]:
        return (
            (category,),
            *(("area", a) for a in areas if a in counted_areas),
            *((category, a) for a in areas if a in area_ids),
        )

    for events, grouped in ((current, now_by), (previous, before_by)):
        for i in events:
            key = (i.category, i.areas)
            found = groups_of.get(key)
            if found is None:
                found = groups_of[key] = groups(*key)
            for group in found:
                grouped[group].append(i)
    for category in sorted({k[0] for k in (*now_by, *before_by) if len(k) == 1}):
        now, before = now_by.get((category,), []), before_by.get((category,), [])
        candidates.append(Candidate("category", category, now, before, {"category": category}, victims(now)))
    for category, area_id in sorted({k for k in (*now_by, *before_by) if len(k) == 2 and k[0] != "area"}):
        here_now, here_before = now_by.get((category, area_id), []), before_by.get((category, area_id), [])
        candidates.append(
            Candidate(
                "category in area",
                f"{category} in {scoped.label(area_id)}",
                here_now,
                here_before,
                {"category": category, "area": area_id, "area_label": scoped.label(area_id)},
                victims(here_now),
            )
        )
    for problem, areas in problem_areas.values():
        if not areas:
            continue
        now = list({i.id: i for a in areas for i in now_by.get(("area", a), [])}.values())
        before = list({i.id: i for a in areas for i in before_by.get(("area", a), [])}.values())
        label = entity_label(model, problem)
        candidates.append(Candidate("problem", label, now, before, {"problem": problem.id}, victims(now)))
    repeat = {p for p, n in victims(current).items() if n > 1}
    if repeat:
        of_repeat = {event for event, people in victims_of.items() if not repeat.isdisjoint(people)}
        now = [i for i in current if i.id in of_repeat]
        before = [i for i in previous if i.id in of_repeat]
        candidates.append(
            Candidate("cohort", "repeat victims of the period", now, before, {"cohort": "repeat victims"}, victims(now))
        )
    public = set()
    for type_name in settings.matrix.public_types:
        if type_name in model.entities:
            public |= model.descendants(type_name)
    weights = {c: settings.harm.weight_or_default(c) for c in set(map(_CATEGORY, current))}
    common_gaps = []
    if settings.harm.status.casefold() == "illustrative":
        common_gaps.append("the harm weights are illustrative, not a published index")
    ranked = score_candidates(
        candidates,
        settings.matrix,
        harm_weights=weights,
        public_types=public,
        alpha=settings.alpha,
        common_gaps=common_gaps,
    )
    return {
        "matrix": settings.matrix.name,
        "candidates": len(ranked),
        "kinds": dict(Counter(r["kind"] for r in ranked)),
        "area_type": area_type,
        "ranked": ranked[: settings.matrix.top],
        "note": "Scores rank candidates for the strategy group's discussion; they are not decisions.",
    }


def _gaps(current: list[Incident], scoped, harm: dict, people: dict, period: Period, end: date) -> list[str]:
    gaps = []
    month_only = sum(1 for i in current if i.month_only)
    if month_only:
        gaps.append(
            f"{month_only:,} of {len(current):,} incidents ({month_only / len(current):.0%}) are dated to the month "
            "only (police.uk street-level data): they count in months and the year, not in 28-day hotspot periods."
        )
    unplaced = sum(1 for i in current if i.latitude is None)
    if unplaced:
        gaps.append(f"{unplaced:,} incidents have no coordinates and are not on the map or in the hotspot analysis.")
    no_area = sum(1 for i in current if not i.areas)
    if no_area:
        gaps.append(f"{no_area:,} incidents lie in no known area and are left out of the counts by area.")
    if harm["unweighted_categories"]:
        gaps.append(
            "The harm index gives no weight for "
            + ", ".join(harm["unweighted_categories"][:10])
            + ("..." if len(harm["unweighted_categories"]) > 10 else "")
            + f"; they count at the default weight {harm['index']['default_weight']:g}."
        )
    if harm["index"]["status"].casefold() == "illustrative":
        gaps.append("The harm weights are illustrative (see the harm index's source), not a published index.")
    if people["victims"] == 0:
        gaps.append("No victims are named in the incidents you may see, so repeat victimisation cannot be measured.")
    if end.isoformat() < period.until:
        gaps.append(
            f"The latest incident is dated {end.isoformat()}: the last month may be incomplete; compare it with care."
        )
    return gaps
