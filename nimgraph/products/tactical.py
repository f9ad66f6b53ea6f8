"""The tactical assessment: what the tasking and co-ordination group needs this fortnight.

The period (14 days by default) is set against the periods of the same length over the 12 months
before: categories and areas above their expected level (an upper control limit from a Poisson
model of those periods), new and emerging hotspots, repeat victims, offenders and locations new in
the period, people newly screened as at risk, new intelligence by grade, the problems in hand, and
recommendations. Incidents dated to the month only cannot be placed in a fortnight: they are left
out, and the gaps say how many.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from nimgraph.analysis import hotspots, significance
from nimgraph.analysis.volumes import count_by, count_by_area, finest_area_type, parties
from nimgraph.collector import collector_paused
from nimgraph.labels import entity_label
from nimgraph.ontology import Core, Model
from nimgraph.products.assessing import (
    AssessmentSettings,
    analyst_sections,
    hotspot_map_cells,
    intelligence_by_grade,
    latest_day,
    map_points,
    read_scoped,
    sources_and_handling,
)
from nimgraph.products.common import ProductError, crime_roles, generated_at
from nimgraph.products.periods import Period, days_back, parse_day
from nimgraph.records import Incident

BASELINE_DAYS = 364
MAX_LISTED = 25
CONTROL_ALPHA = 0.01  # one-sided, per row: the group sees few false alarms


@dataclass
class TacticalAssessment:
    terms_of_reference: dict
    summary: dict
    above_expected: dict
    hotspots: dict
    new_repeats: dict
    newly_at_risk: dict
    intelligence: dict
    problems: dict
    recommendations: list[dict]
    intelligence_gaps: list[str]
    analyst_sections: dict[str, str]
    sources: list[dict]
    footnotes: list[dict]
    handling: str | None
    generated_at: str
    map: dict = field(default_factory=dict, repr=False)
    shown: set[str] = field(default_factory=set, repr=False)

    def to_dict(self) -> dict:
        data = {k: v for k, v in self.__dict__.items() if k not in ("map", "shown")}
        data["product"] = "tactical_assessment"
        data["map"] = {"points": len(self.map.get("points", [])), "hotspots": len(self.map.get("hotspots", []))}
        return data


def _above(
    current: list[Incident], baseline: list[list[Incident]], key: Callable[[list[Incident]], Counter], label
) -> list[dict]:
    now = key(current)
    history = [key(events) for events in baseline]
    rows = []
    for item in sorted(set(now) | {k for h in history for k in h}):
        expected = significance.expected_level([h[item] for h in history], alpha=CONTROL_ALPHA)
        if now[item] and expected.exceeds(now[item]):
            rows.append(
                {
                    "id": item,
                    "label": label(item),
                    "count": now[item],
                    "expected": _rounded(expected.model_mean),
                    "upper_limit": expected.upper_limit,
                    "p_value": round(expected.p_value_above(now[item]) or 0.0, 5),
                }
            )
    return sorted(rows, key=lambda r: (r["p_value"], -r["count"], r["label"]))


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _new_repeats(current: list[Incident], before: list[Incident], involvements, roles: set[str], label) -> list[dict]:
    """Parties (or places) with 2+ incidents up to the period's end, one in the period, who had fewer than 2 before."""
    now = parties(involvements, roles, {i.id for i in current})
    earlier = parties(involvements, roles, {i.id for i in before})
    rows = [
        {"id": p, "label": label(p), "in_period": n, "in_previous_year": earlier[p]}
        for p, n in now.items()
        if n + earlier[p] >= 2 and earlier[p] < 2
    ]
    return sorted(rows, key=lambda r: (-r["in_period"] - r["in_previous_year"], r["id"]))


@collector_paused()
def build_tactical_assessment(
    view,
    model: Model,
    settings: AssessmentSettings,
    *,
    area: str | None = None,
    until: str | None = None,
    days: int = 14,
    screenings: bool = True,
    progress: Callable[[str], None] = lambda _: None,
) -> TacticalAssessment:
    """The tactical assessment of ``area`` for the ``days`` ending ``until`` (by default the day of
    the latest incident the caller may see), against the same-length periods of the year before."""
    if not 1 <= days <= 92:
        raise ProductError("days must be between 1 and 92")
    progress("reading incidents")
    today = date.today()
    last = parse_day(until, "until") if until else today
    widest = Period((last - timedelta(days=BASELINE_DAYS + days + (0 if until else 365))).isoformat(), last.isoformat())
    scoped = read_scoped(view, model, widest.since, widest.until, area)
    dated = [i for i in scoped.incidents if not i.month_only]
    end = latest_day(dated, today) if until is None else last
    period = days_back(end, days)
    periods_before = BASELINE_DAYS // days
    baseline_periods = [days_back(end, days, back) for back in range(periods_before, 0, -1)]
    baseline = Period(baseline_periods[0].since, baseline_periods[-1].until)
    current = [i for i in dated if period.holds(i.date)]
    before = [i for i in dated if baseline.holds(i.date)]
    in_baseline = [[i for i in before if p.holds(i.date)] for p in baseline_periods]
    area_type = finest_area_type(dated, lambda a: scoped.read.places[a].type if a in scoped.read.places else None)
    area_ids = {a for a, p in scoped.read.places.items() if p.type == area_type}
    progress("levels against the year")
    above = {
        "by_category": _above(current, in_baseline, lambda ev: count_by(ev, lambda i: i.category), str),
        "by_area": _above(current, in_baseline, lambda ev: count_by_area(ev, area_ids), scoped.label),
        "method": significance.CONTROL_METHOD,
        "alpha": CONTROL_ALPHA,
        "baseline": {**baseline.as_dict(), "periods": len(baseline_periods)},
    }
    progress("hotspots")
    hotspot_section, hot_cells = _hotspots(current, in_baseline, settings)
    progress("repeats")
    victim_roles = set(model.descendants(Core.VICTIM_IN))
    offender_roles = crime_roles(model)
    involvements = scoped.read.involvements
    victims = _new_repeats(current, before, involvements, victim_roles, lambda p: p)
    offenders = _new_repeats(current, before, involvements, offender_roles, lambda p: p)
    at_now, at_before = count_by(current, lambda i: i.location), count_by(before, lambda i: i.location)
    locations = sorted(
        (
            {"id": p, "label": scoped.label(p), "in_period": n, "in_previous_year": at_before[p]}
            for p, n in at_now.items()
            if n + at_before[p] >= 2 and at_before[p] < 2
        ),
        key=lambda r: (-r["in_period"] - r["in_previous_year"], r["label"], r["id"]),
    )
    # homes listed are personal data: released (and audited) as the people are
    homes = [
        r["id"]
        for r in locations[:MAX_LISTED]
        if (place := scoped.read.places.get(r["id"])) and model.identifies_person(place.type)
    ]
    view.release(homes)
    people_shown = {r["id"] for r in victims[:MAX_LISTED] + offenders[:MAX_LISTED]} | set(homes)
    labels = _people_labels(view, model, people_shown)
    for row in victims + offenders:
        row["label"] = labels.get(row["id"], row["id"])
    new_repeats = {
        "definition": "two or more incidents in the period and the year before it together, at least one in the "
        "period, and fewer than two before it",
        "victims": {"count": len(victims), "listed": victims[:MAX_LISTED]},
        "offenders": {"count": len(offenders), "listed": offenders[:MAX_LISTED]},
        "locations": {"count": len(locations), "listed": locations[:MAX_LISTED]},
    }
    at_risk = _newly_at_risk(view, model, period) if screenings else {"note": "not run"}
    intelligence = intelligence_by_grade(scoped.read.reports, period)
    problems = _problems(view, model, current, in_baseline)
    recommendations = _recommendations(above, hotspot_section, new_repeats, at_risk, problems)
    gaps = []
    month_only = sum(1 for i in scoped.incidents if i.month_only)
    if month_only:
        gaps.append(
            f"{month_only:,} incidents read are dated to the month only (police.uk street-level data) and cannot be "
            "placed in a fortnight: they are left out of this assessment. The strategic assessment counts them."
        )
    if not current:
        gaps.append(f"No incidents dated to the day lie within {period.since} to {period.until}.")
    if len(baseline_periods) and not before:
        gaps.append("No incidents lie in the year before the period, so no expected level can be set.")
    footnotes, sources, handling = sources_and_handling(view, scoped.read)
    points, placed = map_points(current)
    return TacticalAssessment(
        terms_of_reference={
            "area": scoped.area or {"id": None, "label": "everything you may see"},
            "period": period.as_dict(),
            "baseline": baseline.as_dict(),
            "until_from": "given" if until else "the latest incident dated to the day you may see",
            "area_type": area_type,
            "methods": {
                "above_expected": significance.CONTROL_METHOD,
                "hotspots": hotspot_section.get("method"),
                "alpha": settings.alpha,
            },
        },
        summary={
            "incidents": len(current),
            "expected": round(len(before) / max(len(baseline_periods), 1), 1),
            "categories_above_expected": len(above["by_category"]),
            "areas_above_expected": len(above["by_area"]),
            "new_or_emerging_hotspots": len(hotspot_section.get("new_or_emerging", [])),
            "new_repeat_victims": len(victims),
        },
        above_expected=above,
        hotspots=hotspot_section,
        new_repeats=new_repeats,
        newly_at_risk=at_risk,
        intelligence=intelligence,
        problems=problems,
        recommendations=recommendations,
        intelligence_gaps=gaps,
        analyst_sections=analyst_sections("tactical_assessment", settings, area or "all"),
        sources=sources,
        footnotes=footnotes,
        handling=handling,
        generated_at=generated_at(),
        map={"points": points, "placed": placed, "hotspots": hot_cells},
        shown=people_shown | {r["id"] for r in at_risk.get("listed", [])},
    )


def _people_labels(view, model: Model, ids: set[str]) -> dict[str, str]:
    """Labels of the people a product lists, released to the caller (and audited) as it shows them."""
    view.release(ids)
    labels = {}
    for person in sorted(ids):
        entity = view.get(person)
        labels[person] = entity_label(model, entity) if entity is not None else person
    return labels


def _hotspots(current: list[Incident], baseline: list[list[Incident]], settings: AssessmentSettings):
    everything = current + [i for p in baseline for i in p]
    placed = [i for i in everything if i.latitude is not None]
    if len(placed) < 3:
        return {"note": "too few incidents with coordinates for a hotspot analysis", "new_or_emerging": []}, []
    grid = hotspots.grid([i.latitude for i in placed], [i.longitude for i in placed], cell_metres=settings.cell_metres)
    weights = hotspots.grid_weights(grid)

    def counts(events: list[Incident]) -> dict[str, int]:
        inside = [i for i in events if i.latitude is not None]
        return grid.counts([i.latitude for i in inside], [i.longitude for i in inside])

    series = [counts(p) for p in baseline] + [counts(current)]
    trends = hotspots.hotspot_trends(series, weights, alpha=settings.alpha)
    now = hotspots.gi_star(series[-1], weights, alpha=settings.alpha)
    patterns = {t.id: t.pattern for t in trends}
    cells = {c.id: c for c in grid.cells}
    fresh = [
        {
            "cell": t.id,
            "pattern": t.pattern,
            "z_now": round(float(t.z[-1]), 2),
            "count_now": int(series[-1].get(t.id, 0)),
            "centre": [cells[t.id].centre_lat, cells[t.id].centre_lon],
        }
        for t in trends
        if t.hot_periods
        and t.hot_periods[-1]
        and t.pattern in ("new", "consecutive", "intensifying")
        and series[-1].get(t.id, 0)  # hot only by its neighbours' incidents: drawn, not listed
    ]
    return (
        {
            "method": hotspots.describe_method(
                weights="grid", alpha=settings.alpha, cell_metres=round(grid.cell_metres), periods=len(series)
            ),
            "cell_metres": grid.cell_metres,
            "periods": len(series),
            "new_or_emerging": sorted(fresh, key=lambda r: -r["z_now"]),
            "hot_now": sum(1 for s in now if s.hot),
        },
        hotspot_map_cells(
            grid, now, patterns, also=[t for t in trends if t.pattern in ("new", "consecutive", "intensifying")]
        ),
    )


def _newly_at_risk(view, model: Model, period: Period) -> dict:
    from nimgraph.products.scope import Scope
    from nimgraph.products.screenings import INDICATORS, screen

    day_before = (date.fromisoformat(period.since) - timedelta(days=1)).isoformat()
    # undated records (a nominal extract) count as known before the period, so only what records
    # dated within it add can make someone newly at risk
    now = screen(view, model, "criminal_associates", scope=Scope(until=period.until, undated=True), top=10**9)
    then = screen(view, model, "criminal_associates", scope=Scope(until=day_before, undated=True), top=10**9)
    earlier = {r["id"] for r in then.rows}
    fresh = [
        {"id": r["id"], "label": r["label"], "associates": r["one_hop"]} for r in now.rows if r["id"] not in earlier
    ]
    return {
        "definition": INDICATORS["criminal_associates"] + " Newly: screened so on what records dated up to the "
        "period's end (or undated) say, and not on what those dated up to the day before it say.",
        "count": len(fresh),
        "listed": fresh[:MAX_LISTED],
    }


def _problems(view, model: Model, current: list[Incident], baseline: list[list[Incident]]) -> dict:
    concerns = set(model.descendants(Core.CONCERNS))
    periods = [*baseline, current]
    in_area: dict[str, list[set[str]]] = {}  # area -> the ids of its incidents in each period
    for n, events in enumerate(periods):
        for i in events:
            for area in i.areas:
                in_area.setdefault(area, [set() for _ in periods])[n].add(i.id)
    rows = []
    for problem in view.find(Core.PROBLEM, limit=200):
        around = view.neighbourhood([problem.id], hops=1, link_types=concerns, max_entities=50)
        areas = [e for e in around.entities if e != problem.id and e in in_area]
        counts = [len(set().union(*(in_area[a][n] for a in areas))) for n in range(len(periods))]
        now, history = counts[-1], counts[:-1]
        expected = significance.expected_level(history, alpha=CONTROL_ALPHA)
        rows.append(
            {
                "id": problem.id,
                "label": entity_label(model, problem),
                "stage": problem.properties.get("saraStage"),
                "owner": problem.properties.get("owner"),
                "incidents": now,
                "expected": _rounded(expected.model_mean),
                "above_expected": bool(now and expected.exceeds(now)),
            }
        )
    return {"open": rows, "source": "the problem register (taskings will add to this)"}


def _recommendations(above: dict, hotspot_section: dict, repeats: dict, at_risk: dict, problems: dict) -> list[dict]:
    out = []
    for row in above["by_category"][:5]:
        out.append(
            {
                "for": row["label"],
                "why": f"{row['count']} incidents against about {row['expected']} expected (p {row['p_value']:.3g})",
                "recommend": "Task analysis of the rise and a response (patrol plan or problem-solving lead).",
            }
        )
    for row in above["by_area"][:5]:
        out.append(
            {
                "for": row["label"],
                "why": f"{row['count']} incidents against about {row['expected']} expected (p {row['p_value']:.3g})",
                "recommend": "Direct neighbourhood resources to the area and review it at the next meeting.",
            }
        )
    for spot in hotspot_section.get("new_or_emerging", [])[:5]:
        out.append(
            {
                "for": f"hotspot {spot['cell']} ({spot['pattern']})",
                "why": f"{spot['count_now']} incidents in the period, Gi* z {spot['z_now']}",
                "recommend": "Consider targeted patrols and a location-based problem-solving plan.",
            }
        )
    if repeats["victims"]["count"]:
        out.append(
            {
                "for": f"{repeats['victims']['count']} new repeat victims",
                "why": "victimised again within a year",
                "recommend": "Refer to victim services and check safeguarding and target hardening.",
            }
        )
    if at_risk.get("count"):
        out.append(
            {
                "for": f"{at_risk['count']} people newly screened as at risk",
                "why": "associated with people party to crime",
                "recommend": "Review each for safeguarding or diversion; a screening is a prompt, not a finding.",
            }
        )
    for row in problems["open"]:
        if row["above_expected"]:
            out.append(
                {
                    "for": row["label"],
                    "why": f"{row['incidents']} incidents in its areas against about {row['expected']} expected",
                    "recommend": "Ask the owner for an update and whether the response needs changing.",
                }
            )
    return out
