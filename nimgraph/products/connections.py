"""Graph-shaped answers: the network around an entity, a person's associations, paths between
entities and the network that connects several, each read through ``store`` (a ClearedView for
an API caller) and analysed in NetworkX. Routes and commands reach the analysis through here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import networkx as nx

from nimgraph.analysis.association import Association, associations
from nimgraph.analysis.build import to_networkx
from nimgraph.analysis.paths import ConnectingNetwork, connecting_network, shortest_paths
from nimgraph.analysis.resolved import contract
from nimgraph.grading import meets
from nimgraph.ontology import Model
from nimgraph.products.answers import Answer, Column, entity_cells
from nimgraph.products.common import association_weights, members_of, resolved_clusters
from nimgraph.records import Assertion
from nimgraph.store.base import GraphReader

MAX_HOPS = 4  # links out from seeds a read may go: past it, a neighbourhood is most of the graph
MAX_PATH_HOPS = 8  # the longest path looked for: each end is read out to half of it, MAX_HOPS


@dataclass(frozen=True)
class Network:
    graph: nx.MultiDiGraph
    truncated: bool  # a size cap left part of the asked-for graph out


def network_around(
    store: GraphReader, entity_id: str, hops: int, follow: set[str] | None, max_entities: int
) -> Network:
    """The entities and links within ``hops`` of an entity, nearest first up to ``max_entities``; records
    an analyst resolved as one (accepted matches) are one node, and the entity is read from all of them."""
    seeds = members_of(resolved_clusters(store, [entity_id]), entity_id)
    sub = store.neighbourhood(seeds, hops=hops, link_types=follow, max_entities=max_entities)
    return Network(contract(to_networkx(sub), resolved_clusters(store, sub.entities), keep=[entity_id]), sub.truncated)


def person_associations(
    store: GraphReader,
    model: Model,
    person_id: str,
    hops: int,
    follow: set[str] | None,
    counts: Callable[[Assertion], bool],
    min_strength: float = 0.0,
) -> tuple[Network, list[Association]]:
    """People associated with a person, strongest first, from the links that records ``counts`` support;
    records an analyst resolved as one person are read as one."""
    seeds = members_of(resolved_clusters(store, [person_id]), person_id)
    sub = store.neighbourhood(seeds, hops=hops, link_types=follow).links_supported_by(counts)
    graph = contract(to_networkx(sub, model), resolved_clusters(store, sub.entities), keep=[person_id])
    people, links, connectors = association_weights(model)
    found = associations(graph, person_id, person_types=people, link_weights=links, connector_weights=connectors)
    return Network(graph, sub.truncated), [a for a in found if a.strength >= min_strength]


def records_counted(
    since: str | None, until: str | None, minimum: tuple[str, str] | None, *, undated: bool = False
) -> Callable[[Assertion], bool]:
    """Which records count: dated inside the window (an undated one is outside every window, unless
    ``undated``: a network "as at" a date keeps what no date places after it) and graded at least ``minimum``.

    >>> keep = records_counted("2026-01-01", None, None)
    >>> keep(Assertion("s", "r", "f", 1, "2026-02-01", "1AP", "P")), keep(Assertion("s", "r", "f", 1, None, "1AP", "P"))
    (True, False)
    >>> records_counted(None, "2026-01-01", None, undated=True)(Assertion("s", "r", "f", 1, None, "1AP", "P"))
    True
    """

    def keep(record: Assertion) -> bool:
        if since or until:
            if not record.date:
                return undated
            day = record.date[:10]
            if (since and day < since) or (until and day > until):
                return False
        return minimum is None or meets(record.grade, minimum)

    return keep


def association_rows(network: Network, found: list[Association]) -> list[dict]:
    """Each associated person with their strength and the evidence, labelled, for an answer."""
    graph = network.graph
    return [
        {
            "person": a.person,
            "label": graph.nodes[a.person].get("label", a.person),
            "strength": round(a.strength, 4),
            "evidence": [
                {
                    "kind": e.kind,
                    "via": e.via,
                    "via_label": graph.nodes[e.via].get("label") if e.via else None,
                    "weight": round(e.weight, 4),
                    "records": list(e.records),
                }
                for e in a.evidence
            ],
        }
        for a in found
    ]


def association_graph(network: Network, subject: str, found: list[Association]) -> nx.MultiDiGraph:
    """The subject, the associated people and what joins them: what a drawing of the answer shows."""
    keep = {subject} | {a.person for a in found} | {e.via for a in found for e in a.evidence if e.via}
    return network.graph.subgraph(keep).copy()


def paths_between(
    store: GraphReader,
    source: str,
    target: str,
    follow: set[str] | None,
    *,
    max_hops: int,
    limit: int,
    direction: Literal["both", "out", "in"],
    max_entities: int,
) -> tuple[Network, list[list[str]]]:
    """The shortest paths between two entities, and the graph they run through.

    Both ends are read out to half the hop limit each, so every path of that length is found
    unless ``max_entities`` cut the read short.
    """
    sub = store.neighbourhood([source, target], hops=(max_hops + 1) // 2, link_types=follow, max_entities=max_entities)
    graph = to_networkx(sub)
    found = shortest_paths(graph, source, target, follow, max_hops=max_hops, limit=limit, direction=direction)
    on_paths = graph.subgraph({n for path in found for n in path} | {source, target}).copy()
    return Network(on_paths, sub.truncated), found


def connecting(
    store: GraphReader, ids: list[str], follow: set[str] | None, *, max_hops: int, max_entities: int
) -> tuple[Network, ConnectingNetwork]:
    """How several entities connect: the shortest paths between every pair, merged, and the graph they draw."""
    sub = store.neighbourhood(ids, hops=(max_hops + 1) // 2, link_types=follow, max_entities=max_entities)
    graph = to_networkx(sub)
    found = connecting_network(graph, ids, follow, max_hops=max_hops)
    return Network(found.subgraph(graph), sub.truncated), found


def paths_answer(network: Network, found: list[list[str]], model: Model, parameters: dict) -> Answer:
    """Shortest paths in the shape every question answers in: one row per path, its entities in order."""
    graph = network.graph
    rows = []
    for number, path in enumerate(found, start=1):
        cells = [entity_cells(graph, model, node) for node in path]
        rows.append(
            {
                "path": number,
                "links": len(path) - 1,
                "route": " > ".join(c["label"] for c in cells),
                "ids": " > ".join(path),
                "entities": cells,
            }
        )
    return Answer(
        question="paths",
        parameters=parameters,
        columns=[
            Column("path", "The path's number, shortest first."),
            Column("links", "How many links the path takes."),
            Column("route", "The entities along the path, by label, from the first to the second."),
            Column("ids", "The same entities by id."),
        ],
        rows=rows,
        notes=["Part of the graph was not read: raise max_entities."] if network.truncated else [],
        projection={"nodes": graph.number_of_nodes(), "links": graph.number_of_edges()},
        truncated=network.truncated,
        graph=graph,
    )
