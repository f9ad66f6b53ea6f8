"""The problem profile: a problem's scope, and the problem analysis triangle inside it.

Victims, offenders and places within the problem's areas over its time window, with repeats and
trends; when events happen (trend, and an hour x weekday heat matrix); other problems that share
its people, places, objects or events; the people in scope and the networks they form; what has
been done about it and with what outcome; the data used and its grading; gaps; owner and SARA
stage. Terms of reference, a handling banner and numbered provenance footnotes as in every product.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import networkx as nx

from nimgraph.analysis.build import to_networkx
from nimgraph.analysis.centrality import key_individuals
from nimgraph.analysis.communities import communities
from nimgraph.analysis.problem_links import problem_links
from nimgraph.analysis.repeats import Repeat, month_range, monthly_counts, repeat_locations, repeat_people, trend
from nimgraph.analysis.timing import WEEKDAYS, hour_weekday
from nimgraph.labels import entity_label
from nimgraph.ontology import Core, Model
from nimgraph.products.answers import Answer, Column
from nimgraph.products.common import (
    Footnotes,
    ProductError,
    category_of,
    crime_roles,
    generated_at,
    people_projection,
    source_register,
)
from nimgraph.records import Entity
from nimgraph.store.base import GraphReader
from nimgraph.viz.network import NetworkView, network_view


@dataclass
class ProblemProfile:
    terms_of_reference: dict
    problem: dict
    scope: dict
    volume: dict
    repeat_locations: list[dict]
    repeat_victims: list[dict]
    repeat_offenders: list[dict]
    timing: dict
    linked_problems: list[dict]
    people: dict
    previous_activity: dict
    intelligence_gaps: list[str]
    sources: list[dict]
    footnotes: list[dict]
    handling: str
    generated_at: str
    truncated: bool = False
    network: NetworkView | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        data = {k: v for k, v in self.__dict__.items() if k != "network"}
        data["product"] = "problem_profile"
        if self.network is not None:
            data["network"] = {"nodes": self.network.node_count, "edges": self.network.edge_count}
        return data


def _window(dates: list[str], months: int) -> tuple[str, str]:
    """The ``months`` whole months up to the latest event in scope."""
    last = max(dates)[:7]
    year, month = int(last[:4]), int(last[5:7]) - (months - 1)
    while month < 1:
        year, month = year - 1, month + 12
    # ISO dates compare as text, so day 31 bounds every month without calendar arithmetic.
    return f"{year:04d}-{month:02d}-01", f"{last}-31"


def _events_in_scope(graph: nx.MultiDiGraph, areas: set[str], model: Model) -> dict[str, str]:
    """Events whose location lies within the areas: event id -> location id."""
    within = model.descendants(Core.WITHIN)
    at = model.descendants(Core.OCCURRED_AT)
    places = {u for u, v, kind in graph.edges(data="type") if kind in within and v in areas} | areas
    return {u: v for u, v, kind in graph.edges(data="type") if kind in at and v in places}


def _repeat_row(graph: nx.MultiDiGraph, repeat: Repeat, notes: Footnotes, link_types: set[str]) -> dict:
    records = [
        record
        for event in repeat.events
        for u, v in ((event, repeat.id), (repeat.id, event))
        if graph.has_edge(u, v)
        for data in graph[u][v].values()
        if data["type"] in link_types
        for record in data["provenance"]
    ]
    return {
        "id": repeat.id,
        "label": graph.nodes[repeat.id].get("label", repeat.id),
        "count": repeat.count,
        "by_type": repeat.by_type,
        "by_month": repeat.by_month,
        "trend_per_month": repeat.trend,
        "events": repeat.events,
        "records": notes.cite(records),
    }


SCOPE_HOPS = 4  # problem -> area -> place -> event -> person


def _scope_links(model: Model) -> set[str]:
    return {
        *model.descendants(Core.CONCERNS),
        *model.descendants(Core.WITHIN),
        *model.descendants(Core.OCCURRED_AT),
        *model.descendants(Core.INVOLVED_IN),
    }


def _scope_graph(store: GraphReader, model: Model, problem_id: str, max_entities: int) -> tuple[nx.MultiDiGraph, bool]:
    follow = {*_scope_links(model), *model.descendants(Core.RESPONDS_TO), *model.descendants(Core.OUTCOME_OF)}
    sub = store.neighbourhood([problem_id], hops=SCOPE_HOPS, link_types=follow, max_entities=max_entities)
    return to_networkx(sub, model), sub.truncated


def _scope(graph: nx.MultiDiGraph, problem_id: str, model: Model) -> tuple[set[str], dict[str, str]]:
    """The problem's areas, and the events within them (event -> location)."""
    concerns = model.descendants(Core.CONCERNS)
    areas = {v for _, v, kind in graph.out_edges(problem_id, data="type") if kind in concerns}
    return areas, _events_in_scope(graph, areas, model)


def _timing(graph: nx.MultiDiGraph, events: list[str], months: list[str]) -> dict:
    matrix = hour_weekday(graph, events)
    by_month = monthly_counts(graph.nodes[e]["properties"].get("date") for e in events)
    peak = matrix.peak()
    return {
        "trend_per_month": trend(by_month, months),
        "weekdays": list(WEEKDAYS),
        "hour_by_weekday": matrix.cells,
        "weekday_only": matrix.weekday_only,
        "month_only": matrix.month_only,
        "peak": {"weekday": peak[0], "hour": peak[1], "events": peak[2]} if peak else None,
        "timed_events": sum(map(sum, matrix.cells)),
    }


def _linked_problems(
    store: GraphReader, model: Model, problem_id: str, graph: nx.MultiDiGraph, notes: Footnotes, max_entities: int
) -> list[dict]:
    """Other problems sharing people, places, objects or events with this one's scope.

    Each problem's scope is gathered the same way (its areas, their events, the people in them);
    the shared entities are found by ``problem_links`` over a graph joining each problem to its
    scope, with the records of the scope's links as evidence.
    """
    others = [e.id for e in store.find(Core.PROBLEM, limit=200) if e.id != problem_id]
    joined = nx.MultiDiGraph()
    for problem, problem_graph in [(problem_id, graph)] + [
        (o, _scope_graph(store, model, o, max_entities)[0]) for o in others
    ]:
        _, events = _scope(problem_graph, problem, model)
        involvement = model.descendants(Core.INVOLVED_IN)
        scope = {*events, *events.values()} | {
            p for e in events for p, _, kind in problem_graph.in_edges(e, data="type") if kind in involvement
        }
        joined.add_node(problem, type=Core.PROBLEM)
        for node in scope:
            joined.add_node(
                node, type=problem_graph.nodes[node].get("type"), label=problem_graph.nodes[node].get("label")
            )
            records = [r for _, _, d in problem_graph.edges(node, data=True) for r in d.get("provenance", [])]
            joined.add_edge(problem, node, key=f"{problem}|{node}", type="scope", provenance=records[:5])
    rows = []
    for link in problem_links(joined, [problem_id, *others], hops=1):
        if problem_id not in link.problems:
            continue
        other = link.problems[1] if link.problems[0] == problem_id else link.problems[0]
        entity = store.get(other)
        kinds = Counter(category_of(model)(s.type) for s in link.shared)
        rows.append(
            {
                "problem": other,
                "label": entity_label(model, entity) if entity else other,
                "strength": link.strength,
                "shared": dict(kinds.most_common()),
                "examples": [
                    {"id": s.id, "type": s.type, "label": joined.nodes[s.id].get("label")} for s in link.shared[:8]
                ],
                "records": notes.cite([r for s in link.shared[:8] for r in s.records]),
            }
        )
    return rows


def _problem(store: GraphReader, model: Model, problem_id: str) -> Entity:
    entity = store.get(problem_id)
    if entity is None:
        raise ProductError(f"no entity with id {problem_id!r}; find one with GET /problems")
    if not model.is_a(entity.type, Core.PROBLEM):
        raise ProductError(f"{problem_id!r} is a {entity.type}, not a problem")
    return entity


def linked_problems(
    store: GraphReader, model: Model, problem_id: str, *, max_entities: int = 50000
) -> tuple[list[dict], list[dict]]:
    """The problems linked to one problem, as its profile lists them, with the records they cite."""
    _problem(store, model, problem_id)
    graph, _ = _scope_graph(store, model, problem_id, max_entities)
    notes = Footnotes()
    return _linked_problems(store, model, problem_id, graph, notes, max_entities), notes.records


def linked_problems_answer(store: GraphReader, model: Model, problem_id: str, *, max_entities: int = 50000) -> Answer:
    """What links a problem to others, in the shape every question answers in (for the command line)."""
    links, records = linked_problems(store, model, problem_id, max_entities=max_entities)
    rows = [{**{k: v for k, v in link.items() if k != "records"}, "records": link["records"]} for link in links]
    return Answer(
        question="linked problems",
        parameters={"problem": problem_id, "max_entities": max_entities},
        columns=[
            Column("problem", "The other problem's id."),
            Column("label", "The other problem's label."),
            Column("strength", "How much the two problems share, weighted by what is shared (people count most)."),
            Column("shared", "What they share, by POLE category: people, objects, locations, events."),
            Column("examples", "Up to eight of the shared entities."),
            Column("records", "Footnote numbers of the source records behind the examples."),
        ],
        rows=rows,
        notes=[f"[{r['n']}] {r['source']} {r['record_id']} ({r['grade']}, {r['handling']})" for r in records],
        projection={"nodes": len(rows), "links": 0},
    )


def _people(scoped: nx.MultiDiGraph, model: Model, seed: int) -> dict:
    """The people in scope, the groups they form and who holds them together."""
    projection = people_projection(scoped, model)
    projection.remove_nodes_from([n for n in list(projection) if projection.degree(n) == 0])
    label = lambda n: scoped.nodes[n].get("label", n)  # noqa: E731
    groups = communities(projection, seed=seed, min_size=3) if projection.number_of_edges() else []
    return {
        "associated": projection.number_of_nodes(),
        "networks": [
            {"size": len(g), "members": [{"id": m, "label": label(m)} for m in sorted(g)[:15]]} for g in groups[:5]
        ],
        "key_individuals": [
            {**row, "label": label(row["person"])} for row in key_individuals(projection, top=5, seed=seed)
        ]
        if projection.number_of_edges()
        else [],
    }


def _previous_activity(graph: nx.MultiDiGraph, problem_id: str, model: Model, notes: Footnotes) -> dict:
    responds, outcome_of = model.descendants(Core.RESPONDS_TO), model.descendants(Core.OUTCOME_OF)

    def rows(link_types: set[str]) -> list[dict]:
        found = []
        for other, _, data in graph.in_edges(problem_id, data=True):
            if data["type"] in link_types:
                node = graph.nodes[other]
                found.append(
                    {
                        "id": other,
                        "type": node.get("type"),
                        "label": node.get("label", other),
                        "properties": node.get("properties", {}),
                        "records": notes.cite(data["provenance"]),
                    }
                )
        return sorted(found, key=lambda r: (str(r["properties"].get("startDate", "")), r["id"]))

    return {"activities": rows(responds), "outcomes": rows(outcome_of)}


def build_problem_profile(
    store: GraphReader,
    model: Model,
    problem_id: str,
    *,
    months: int = 12,
    top: int = 10,
    max_entities: int = 50000,
    link_problems: bool = True,
    seed: int = 0,
) -> ProblemProfile:
    """Profile a problem from the events within its areas over the last ``months`` months."""
    entity = _problem(store, model, problem_id)
    graph, truncated = _scope_graph(store, model, problem_id, max_entities)
    notes = Footnotes()
    notes.cite([a.as_dict() for a in entity.provenance])
    areas, in_scope = _scope(graph, problem_id, model)
    if not areas:
        raise ProductError(f"problem {problem_id!r} is scoped to no area; link it to one with 'concerns'")
    dates = [d for e in in_scope if (d := graph.nodes[e].get("properties", {}).get("date"))]
    if not dates:
        raise ProductError(f"no dated events lie within the areas of problem {problem_id!r}")
    window = _window(dates, months)
    month_list = month_range(window[0][:7], window[1][:7])
    scoped = graph.subgraph(
        {problem_id, *areas, *in_scope, *in_scope.values(), *(p for e in in_scope for p in graph.predecessors(e))}
    )
    at = set(model.descendants(Core.OCCURRED_AT))
    locations = repeat_locations(scoped, at, window=window, months=month_list)
    victim_links = set(model.descendants(Core.VICTIM_IN))
    offender_links = crime_roles(model)
    victims = repeat_people(scoped, victim_links, window=window, months=month_list)
    offenders = repeat_people(scoped, offender_links, window=window, months=month_list)
    windowed = [
        e for e in sorted(in_scope) if window[0] <= (graph.nodes[e]["properties"].get("date") or "") <= window[1]
    ]
    for event in windowed:
        notes.cite(graph.nodes[event]["provenance"])
    by_type = Counter(graph.nodes[e]["type"] for e in windowed)
    by_category = Counter(graph.nodes[e]["properties"].get("category") or "unrecorded" for e in windowed)
    named = {e for e in windowed if scoped.in_degree(e) > 0}
    gaps = []
    if windowed and len(named) < len(windowed):
        share = 100 * (len(windowed) - len(named)) // len(windowed)
        gaps.append(f"{share}% of events in scope name no victim, offender or witness.")
    if not offenders:
        gaps.append("No repeat offender is identified; offender data for the area may be incomplete.")
    timing = _timing(graph, windowed, month_list)
    if windowed and timing["month_only"]:
        share = 100 * timing["month_only"] // len(windowed)
        gaps.append(
            f"{share}% of events are dated to the month only (police.uk street-level data), "
            "so they are left out of the hour and weekday analysis."
        )
    activity = _previous_activity(graph, problem_id, model, notes)
    if not activity["activities"]:
        gaps.append("No previous activity against this problem is recorded; ask the owner what has been tried.")
    props = entity.properties
    location_rows = [_repeat_row(scoped, r, notes, at) for r in locations[:top]]
    drawn_nodes = {
        problem_id,
        *areas,
        *(r["id"] for r in location_rows[:5]),
        *(r.id for r in victims[:top]),
        *(r.id for r in offenders[:top]),
    }
    drawn_nodes |= {e for r in [*victims[:top], *offenders[:top]] for e in r.events}
    drawn_nodes |= {v for e in drawn_nodes & set(in_scope) for v in [in_scope[e]]}
    return ProblemProfile(
        terms_of_reference={
            "problem": problem_id,
            "months": months,
            "top": top,
            "window": {"from": window[0], "to": window[1]},
            "linked_problems": {"hops": 1, "through": "shared people, places, objects and events in scope"},
            "communities": {"method": "louvain", "seed": seed},
        },
        problem={
            "id": entity.id,
            "label": entity_label(model, entity),
            "reference": props.get("reference"),
            "title": props.get("title"),
            "owner": props.get("owner"),
            "sara_stage": props.get("saraStage"),
            "opened": props.get("opened"),
            "type": props.get("description"),
        },
        scope={
            "areas": [{"id": a, "label": graph.nodes[a].get("label", a)} for a in sorted(areas)],
            "from": window[0],
            "to": window[1],
            "months": month_list,
        },
        volume={
            "events": len(windowed),
            "by_type": dict(by_type.most_common()),
            "by_category": dict(by_category.most_common()),
            "by_month": monthly_counts(graph.nodes[e]["properties"].get("date") for e in windowed),
        },
        repeat_locations=location_rows,
        repeat_victims=[_repeat_row(scoped, r, notes, victim_links) for r in victims[:top]],
        repeat_offenders=[_repeat_row(scoped, r, notes, offender_links) for r in offenders[:top]],
        timing=timing,
        linked_problems=(
            _linked_problems(store, model, problem_id, graph, notes, max_entities) if link_problems else []
        ),
        people=_people(scoped, model, seed),
        previous_activity=activity,
        intelligence_gaps=gaps,
        sources=notes.sources(source_register(store)),
        footnotes=notes.records,
        handling=notes.handling,
        generated_at=generated_at(),
        truncated=truncated,
        network=network_view(graph.subgraph(drawn_nodes), model, focus=[problem_id]),
    )
