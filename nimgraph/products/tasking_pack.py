"""The tasking pack for a tasking and co-ordination meeting, and a problem's own page.

The pack: open taskings by owner, what is overdue, problems by SARA stage, activity in the period,
current priorities, and the tactical assessment's recommendations when there are incidents to
assess. The problem page: the problem with its owner, sub-problems and projects, taskings,
activities laid over its incident trend, outcomes and reviews. Both read only through the reader
they are given (the caller's cleared view).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from nimgraph.analysis.repeats import month_range
from nimgraph.grading import HANDLING, most_restrictive
from nimgraph.labels import entity_label
from nimgraph.ontology import Core, Model
from nimgraph.products.common import ProductError
from nimgraph.products.record_page import RecordPage, record_page
from nimgraph.products.render import environment
from nimgraph.records import Entity
from nimgraph.store.base import GraphReader
from nimgraph.tasking.kinds import kind_named
from nimgraph.viz import charts

__all__ = [
    "ProblemPage",
    "TaskingPack",
    "build_problem_page",
    "build_tasking_pack",
    "problem_page_html",
    "tasking_pack_html",
]

CLOSED = frozenset({"done", "cancelled"})
MAX_RECORDS = 5000  # of one kind, in one pack
TREND_MONTHS = 24


def _day(value: Any) -> str | None:
    return value[:10] if isinstance(value, str) and len(value) >= 10 else None


def _row(model: Model, entity: Entity, **extra: Any) -> dict[str, Any]:
    codes = {a.handling for a in entity.provenance}
    return {"id": entity.id, "label": entity_label(model, entity), **entity.properties, **extra, "_codes": codes}


def _handling(*groups: Any) -> str | None:
    """The most restrictive code of the rows shown; the rows lose their working set of codes."""
    codes: set[str] = set()
    for rows in groups:
        for row in rows:
            codes |= row.pop("_codes", set())
    return most_restrictive(codes) if codes else None


@dataclass
class TaskingPack:
    as_of: str
    since: str
    open_by_owner: dict[str, list[dict[str, Any]]]
    overdue: list[dict[str, Any]]
    problems_by_stage: dict[str, list[dict[str, Any]]]
    activity: list[dict[str, Any]]
    activity_by_pillar: dict[str, dict[str, float]]
    priorities: list[dict[str, Any]]
    recommendations: list[dict[str, Any]] | None  # None: no tactical assessment could be made
    recommendations_note: str
    handling: str | None = None  # the most restrictive code of the records the pack shows
    generated_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    product: str = "tasking_pack"

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _active_in(activity: Entity, since: str, until: str) -> bool:
    props = activity.properties
    start = _day(props.get("startDate")) or _day(props.get("plannedStart"))
    end = _day(props.get("endDate")) or _day(props.get("plannedEnd")) or start
    if start is None:
        return False
    return start <= until and (end or start) >= since


def build_tasking_pack(
    reader: GraphReader,
    model: Model,
    *,
    as_of: str | None = None,
    days: int = 28,
    recommendations: Callable[[], tuple[list[dict[str, Any]], str | None]] | None = None,
) -> TaskingPack:
    """The pack for a meeting on ``as_of`` (default today) covering the ``days`` before it.

    ``recommendations`` builds the tactical assessment's recommendations for the same reader, with
    the assessment's handling code; a ProductError from it (no incidents to assess) leaves them out
    with a note.
    """
    try:
        today = date.fromisoformat(as_of) if as_of else date.today()
    except ValueError:
        raise ProductError(f"the meeting's day is written YYYY-MM-DD, not {as_of!r}") from None
    if not 1 <= days <= 366:
        raise ProductError("a tasking pack covers 1 to 366 days")
    since, until = (today - timedelta(days=days)).isoformat(), today.isoformat()
    taskings = reader.find(Core.TASKING, limit=MAX_RECORDS)
    open_by_owner: dict[str, list[dict]] = defaultdict(list)
    overdue = []
    statuses = model.code_list(model.property_def("taskingStatus").code_list or "")
    for tasking in taskings:
        status = str(tasking.properties.get("taskingStatus") or statuses.concepts[0].label)
        concept = statuses.lookup(status)
        if concept is not None and concept.notation in CLOSED:
            continue
        due = _day(tasking.properties.get("dueDate"))
        late = due is not None and due < until
        row = _row(model, tasking, taskingStatus=status, overdue=late)
        open_by_owner[str(tasking.properties.get("owner") or "no owner")].append(row)
        if late:
            overdue.append(row)
    for rows in open_by_owner.values():
        rows.sort(key=lambda r: (r.get("dueDate") or "9999", r["label"]))
    overdue.sort(key=lambda r: (r["dueDate"], r["label"]))
    stages: dict[str, list[dict]] = defaultdict(list)
    for problem in reader.find(Core.PROBLEM, limit=MAX_RECORDS):
        stages[str(problem.properties.get("saraStage") or "not recorded")].append(_row(model, problem))
    stage_codes = model.property_def("saraStage").code_list
    order = [c.label for c in model.code_list(stage_codes).concepts] if stage_codes else []
    problems_by_stage = {
        s: sorted(stages[s], key=lambda r: r["label"]) for s in [*order, *sorted(stages)] if s in stages
    }
    activity = [_row(model, a) for a in reader.find(Core.ACTIVITY, limit=MAX_RECORDS) if _active_in(a, since, until)]
    activity.sort(key=lambda r: (_day(r.get("startDate")) or _day(r.get("plannedStart")) or "", r["label"]))
    by_pillar: dict[str, dict[str, float]] = defaultdict(lambda: {"activities": 0, "hours": 0.0, "cost": 0.0})
    for row in activity:
        totals = by_pillar[str(row.get("pillar") or "not recorded")]
        totals["activities"] += 1
        totals["hours"] += float(row.get("hours") or 0)
        totals["cost"] += float(row.get("cost") or 0)
    priorities = [
        _row(model, p)
        for p in reader.find(Core.PRIORITY, limit=MAX_RECORDS)
        if (_day(p.properties.get("startDate")) or "") <= until
        and (_day(p.properties.get("endDate")) or "9999-12-31") >= until
    ]
    priorities.sort(key=lambda r: (r.get("rank") or 10**9, r["label"]))
    found, note, assessed = None, "Not asked for.", None
    if recommendations is not None:
        try:
            found, assessed = recommendations()
            note = "From the tactical assessment of the same period, as you may see it."
        except ProductError as err:
            note = f"No tactical assessment: {err}"
    shown = [row for rows in open_by_owner.values() for row in rows]
    handling = _handling(shown, [r for rows in problems_by_stage.values() for r in rows], activity, priorities, overdue)
    if found and assessed:  # the recommendations are the assessment's: as restricted as it is
        handling = most_restrictive({assessed, *([handling] if handling else [])})
    return TaskingPack(
        handling=handling,
        as_of=until,
        since=since,
        open_by_owner=dict(sorted(open_by_owner.items())),
        overdue=overdue,
        problems_by_stage=problems_by_stage,
        activity=activity,
        activity_by_pillar=dict(sorted(by_pillar.items())),
        priorities=priorities,
        recommendations=found,
        recommendations_note=note,
    )


# ------------------------------------------------------------------------------------------ problem page
@dataclass
class ProblemPage:
    problem: dict[str, Any]
    owner: str | None
    sub_problems: list[dict[str, Any]]
    taskings: list[dict[str, Any]]
    owner_taskings: list[dict[str, Any]]
    activities: list[dict[str, Any]]
    outcomes: list[dict[str, Any]]
    reviews: list[dict[str, Any]]
    places: list[dict[str, Any]]
    months: list[str]
    incidents_by_month: list[int]
    activities_by_month: list[int]
    history: list[dict[str, Any]]
    sara_stages: list[dict[str, Any]] = field(default_factory=list)  # each change of stage: when, to what, by whom
    handling: str | None = None  # the most restrictive code of the records the page shows
    generated_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    product: str = "problem_page"

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _linked(page: RecordPage, reader: GraphReader, model: Model, role: str, outward: bool) -> list[dict[str, Any]]:
    rows = []
    for link in page.links:
        if link.role == role and link.outward == outward:
            entity = reader.get(link.id)
            if entity is not None:
                rows.append(_row(model, entity))
    return sorted(rows, key=lambda r: r["label"])


def build_problem_page(
    reader: GraphReader, model: Model, problem_id: str, *, until: str | None = None, months: int = TREND_MONTHS
) -> ProblemPage | None:
    """The problem's page as ``reader`` sees it, or None when it cannot see that problem."""
    page = record_page(reader, model, problem_id, kind_named("problem"))
    if page is None:
        return None
    owner = page.properties.get("owner")
    places = [{"id": k.id, "type": k.type, "label": k.label} for k in page.links if k.role == "places" and k.outward]
    last = date.fromisoformat(until) if until else date.today()
    index = last.year * 12 + last.month - 1 - (months - 1)  # the first month's, counted from year 0
    first = date(index // 12, index % 12 + 1, 1)
    month_list = month_range(first.isoformat()[:7], last.isoformat()[:7])
    incidents_by_month = [0] * len(month_list)
    where = {m: i for i, m in enumerate(month_list)}
    place_ids = {p["id"] for p in places}
    kind = str(page.properties.get("problemType") or "").casefold()
    read_codes: set[str] = set()
    if place_ids:
        read = reader.incidents(first.isoformat(), last.isoformat())
        # the read's records, all of them: more than the counted incidents', never fewer
        read_codes = {handling for (_, _, handling) in read.records}
        for incident in read.incidents:
            here = incident.location in place_ids or any(a in place_ids for a in incident.areas)
            of_kind = not kind or kind in (incident.category.casefold(), incident.type.casefold())
            if here and of_kind and incident.date[:7] in where:
                incidents_by_month[where[incident.date[:7]]] += 1
    activities = _linked(page, reader, model, "activities", outward=False)
    running = Counter()
    for activity in activities:
        start = _day(activity.get("startDate")) or _day(activity.get("plannedStart"))
        end = _day(activity.get("endDate")) or _day(activity.get("plannedEnd")) or start
        if start:
            for month in month_range(start[:7], (end or start)[:7]):
                running[month] += 1
    owner_taskings = (
        [_row(model, t) for t in reader.find(Core.TASKING, limit=MAX_RECORDS) if t.properties.get("owner") == owner]
        if owner
        else []
    )
    sub_problems = _linked(page, reader, model, "problems", outward=False)
    taskings = _linked(page, reader, model, "taskings", outward=False)
    outcomes = _linked(page, reader, model, "outcomes", outward=False)
    reviews = _linked(page, reader, model, "reviews", outward=False)
    codes = {h.handling for h in page.history} | read_codes
    shown = _handling(sub_problems, taskings, outcomes, reviews, activities, owner_taskings)
    return ProblemPage(
        handling=most_restrictive(codes | ({shown} if shown else set())) if codes or shown else None,
        problem={"id": page.id, "type": page.type, "label": page.label, **page.properties},
        owner=owner,
        sub_problems=sub_problems,
        taskings=taskings,
        owner_taskings=sorted(owner_taskings, key=lambda r: (r.get("dueDate") or "9999", r["label"])),
        activities=activities,
        outcomes=outcomes,
        reviews=reviews,
        places=places,
        months=month_list,
        incidents_by_month=incidents_by_month,
        activities_by_month=[running.get(m, 0) for m in month_list],
        history=[r.as_dict() for r in page.history],
        sara_stages=[
            {"at": r.at, "stage": r.said["saraStage"], "by": r.author or r.source}
            for r in page.history
            if r.said and r.said.get("saraStage")
        ],
    )


def tasking_pack_html(pack: TaskingPack, *, notice: str | None = None) -> str:
    """The pack as one self-contained page."""
    handling = pack.handling
    return (
        environment()
        .get_template("tasking_pack.html")
        .render(pack=pack.to_dict(), notice=notice, handling=handling, handling_text=HANDLING.get(handling or "", ""))
    )


def problem_page_html(page: ProblemPage, *, notice: str | None = None) -> str:
    """The problem's page: its record, and a chart of its incidents with its activities running."""
    chart = charts.trend_chart(
        page.months,
        [("Incidents", list(page.incidents_by_month)), ("Activities running", list(page.activities_by_month))],
        title="Incidents per month, and the activities responding",
        y_label="Count",
    )
    return (
        environment()
        .get_template("problem_page.html")
        .render(
            page=page.to_dict(),
            chart=chart,
            notice=notice,
            handling=page.handling,
            handling_text=HANDLING.get(page.handling or "", ""),
        )
    )
