"""Where crime of a kind is concentrated: locations (or areas) ranked by their events."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Literal

from nimgraph.analysis.repeats import rank_areas, repeat_locations
from nimgraph.ontology import Core, Model
from nimgraph.products.answers import Answer, Column, entity_cells, top_with_ties
from nimgraph.products.scope import Scope, expand_types, read_scope
from nimgraph.store.base import GraphReader

Level = Literal["location", "area"]


def places(
    store: GraphReader,
    model: Model,
    *,
    event_types: tuple[str, ...] = (Core.EVENT,),
    where: dict[str, str] | None = None,
    level: Level = "location",
    area_types: tuple[str, ...] = (Core.AREA,),
    scope: Scope = Scope(),  # noqa: B008 - frozen
    top: int = 20,
    progress: Callable[[str], None] = lambda _: None,
) -> Answer:
    """Locations (``level="location"``) or areas (``"area"``) by how many events of ``event_types``
    happened there, in the scope's window (by the event's own date), top ``top`` with ties.

    ``where`` keeps events whose property equals the value (case and spacing folded), e.g. an outcome.
    """
    if level not in ("location", "area"):
        raise ValueError(f"level must be 'location' or 'area'; got {level!r}")
    kinds = expand_types(model, event_types, "entity")
    for name in where or {}:
        model.property_def(name)
    at = set(model.descendants(Core.OCCURRED_AT))
    up = set(model.descendants(Core.WITHIN))
    progress(f"reading {scope.describe()}")
    window_free = replace(scope, since=None, until=None)  # the window applies to event dates
    read = read_scope(store, model, window_free, at | up)
    graph = read.graph
    wanted = {k: " ".join(v.split()).casefold() for k, v in (where or {}).items()}
    events = set(model.descendants(Core.EVENT))
    for node, data in list(graph.nodes(data=True)):
        kind = data.get("type")
        if (kind in events or kind in kinds) and (kind not in kinds or not _has(data.get("properties", {}), wanted)):
            graph.remove_node(node)  # an event of another kind, or without the property values asked for
    window = (scope.since or "0000-01-01", scope.until or "9999-12-31") if scope.since or scope.until else None
    if level == "area":
        found = rank_areas(graph, at, up, expand_types(model, area_types, "entity"), window=window)
        found = [r for r in found if any(graph.nodes[e].get("type") in kinds for e in r.events)]
        counted = {r.id: sum(1 for e in r.events if graph.nodes[e].get("type") in kinds) for r in found}
    else:
        found = repeat_locations(graph, at, event_types=kinds, min_count=1, window=window)
        counted = {r.id: r.count for r in found}
    by_id = {r.id: r for r in found}
    ranked = top_with_ties(counted, top, lambda n: entity_cells(graph, model, n)["label"])
    rows = [
        {
            "rank": position,
            **entity_cells(graph, model, node),
            "events": value,
            "by_type": {t: c for t, c in by_id[node].by_type.items() if t in kinds},
            "trend": by_id[node].trend + 0.0,  # no -0.0
        }
        for position, node, value in ranked.rows
    ]
    notes = list(read.notes)
    if window:
        notes.append("Events are counted by their own date; undated events are outside any window.")
    notes += ranked.notes(top)
    shown = {r["id"] for r in rows}
    return Answer(
        question="places",
        parameters={
            "event_types": list(event_types),
            "where": where or {},
            "level": level,
            "area_types": list(area_types) if level == "area" else None,
            "top": top,
            "scope": scope.as_dict(),
        },
        columns=[
            Column("rank", "Position by events; tied counts share a rank."),
            Column("id", "The location's or area's id."),
            Column("type", "Its type."),
            Column("label", "Its label."),
            Column(
                "events",
                "Distinct events of the chosen types that occurred there"
                + (" or anywhere within it." if level == "area" else "."),
            ),
            Column("by_type", "The events by type."),
            Column("trend", "Least-squares slope of the monthly counts, events per month."),
        ],
        rows=rows,
        notes=notes,
        projection={"nodes": graph.number_of_nodes(), "links": graph.number_of_edges()},
        truncated=read.truncated,
        graph=graph.subgraph(shown).copy(),
    )


def _has(properties: dict, wanted: dict[str, str]) -> bool:
    return all(" ".join(str(properties.get(k, "")).split()).casefold() == v for k, v in wanted.items())
