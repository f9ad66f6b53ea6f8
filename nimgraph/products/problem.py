"""The problem profile: a problem's scope, and the problem analysis triangle inside it.

Victims, offenders and places within the problem's areas over its time window, with repeats and
trends; the data used and its grading; gaps; owner and SARA stage. Terms of reference, a handling
banner and numbered provenance footnotes as in every product.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import networkx as nx

from nimgraph.analysis.build import to_networkx
from nimgraph.analysis.repeats import Repeat, month_range, monthly_counts, repeat_locations, repeat_people
from nimgraph.ontology import Core, Model
from nimgraph.products.common import Footnotes, ProductError, category_of, generated_at
from nimgraph.store.base import GraphStore
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


def build_problem_profile(
    store: GraphStore,
    model: Model,
    problem_id: str,
    *,
    months: int = 12,
    top: int = 10,
    max_entities: int = 50000,
) -> ProblemProfile:
    """Profile a problem from the events within its areas over the last ``months`` months."""
    entity = store.get(problem_id)
    if entity is None:
        raise ProductError(f"no entity with id {problem_id!r}; find one with GET /entities?type=Problem")
    if not model.is_a(entity.type, Core.PROBLEM):
        raise ProductError(f"{problem_id!r} is a {entity.type}, not a problem")
    follow = {
        *model.descendants(Core.CONCERNS),
        *model.descendants(Core.WITHIN),
        *model.descendants(Core.OCCURRED_AT),
        *model.descendants(Core.INVOLVED_IN),
    }
    sub = store.neighbourhood([problem_id], hops=4, link_types=follow, max_entities=max_entities)
    graph = to_networkx(sub)
    notes = Footnotes()
    notes.cite([a.as_dict() for a in entity.provenance])
    concerns = model.descendants(Core.CONCERNS)
    areas = {v for _, v, kind in graph.out_edges(problem_id, data="type") if kind in concerns}
    if not areas:
        raise ProductError(f"problem {problem_id!r} is scoped to no area; link it to one with 'concerns'")
    in_scope = _events_in_scope(graph, areas, model)
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
    offender_links = {*model.descendants(Core.OFFENDER_IN), *model.descendants(Core.SUSPECT_IN)}
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
        },
        problem={
            "id": entity.id,
            "label": entity.caption,
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
        intelligence_gaps=gaps,
        sources=notes.sources(),
        footnotes=notes.records,
        handling=notes.handling,
        generated_at=generated_at(),
        truncated=sub.truncated,
        network=network_view(graph.subgraph(drawn_nodes), category_of(model), focus=[problem_id]),
    )
