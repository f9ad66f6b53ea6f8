"""Association strength between people: direct links, and what they share.

Two people are associated directly (a recorded ``knows``, family or household link) or through a
connector they share: an event they were both party to, an address, a phone. Each piece of
evidence contributes ``kind weight x reliability x recency``: the kind weight comes from the
ontology (family and household above social, social above incidental), reliability from the
3x5x2 grades of the records behind it (the best record of each link, the weaker link of a shared
pair), and recency halves every ``half_life_days`` since the latest of those records (1.0 when no
``as_of`` date is given, or when the records carry no date).

Each kind of direct link counts once per pair, whichever way its links run: "Ann knows Bob" and
"Bob knows Ann" are one piece of evidence with the records of both, never two. A link type
weighted 0 in ``link_weights`` makes no association at all: not directly, and not by making its
end a member of a connector (an officer in case is linked to every event they investigate, and
so to nobody through them).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from itertools import combinations

import networkx as nx

from nimgraph.analysis.build import reliability

__all__ = ["Association", "Evidence", "Recency", "associations", "person_projection"]


@dataclass(frozen=True)
class Evidence:
    """One reason two people are associated, with the records that support it."""

    kind: str  # the direct link type, or the type of the shared connector
    via: str | None  # the shared connector's node id; None for a direct link
    links: tuple[str, ...]
    records: tuple[dict, ...]
    weight: float


@dataclass
class Association:
    person: str
    strength: float = 0.0
    evidence: list[Evidence] = field(default_factory=list)


@dataclass(frozen=True)
class Recency:
    """Evidence loses half its weight every ``half_life_days`` before ``as_of`` (ISO date).

    >>> Recency("2026-07-01", 365).factor(({"date": "2025-07-01"},))
    0.5
    >>> Recency("2026-07-01", 365).factor(({"date": None},))
    1.0
    """

    as_of: str | None = None
    half_life_days: float = 365.0

    def factor(self, records: tuple[dict, ...]) -> float:
        dates = [str(r["date"])[:10] for r in records if r.get("date")]
        if self.as_of is None or not dates:
            return 1.0
        age = (date.fromisoformat(self.as_of[:10]) - date.fromisoformat(max(dates))).days
        return 0.5 ** (max(age, 0) / self.half_life_days)


NO_DECAY = Recency()


def _records(graph: nx.MultiDiGraph, edges: list[tuple[str, str, str]]) -> tuple[dict, ...]:
    seen: dict[tuple, dict] = {}
    for u, v, k in edges:
        for record in graph.edges[u, v, k]["provenance"]:
            seen.setdefault((record["source"], record["record_id"]), record)
    return tuple(seen.values())


def _edges_between(
    graph: nx.MultiDiGraph, a: str, b: str, silent: Collection[str] = ()
) -> Iterator[tuple[str, str, str]]:
    """The links between ``a`` and ``b`` either way, but those of a ``silent`` type (weighted 0)."""
    for u, v in ((a, b), (b, a)) if a != b else ((a, b),):
        if graph.has_edge(u, v):
            for key, data in graph[u][v].items():
                if data.get("type") not in silent:
                    yield u, v, key


def _silent(link_weights: Mapping[str, float]) -> frozenset[str]:
    """The link types that make no association: weighted 0."""
    return frozenset(kind for kind, weight in link_weights.items() if weight == 0)


def _edge_reliability(graph: nx.MultiDiGraph, edges: list[tuple[str, str, str]]) -> float:
    return max((reliability(graph.edges[e]["provenance"]) for e in edges), default=0.0)


def _direct(
    graph: nx.MultiDiGraph, a: str, b: str, link_weights: Mapping[str, float], recency: Recency
) -> Iterator[Evidence]:
    """One piece of evidence per kind of link between ``a`` and ``b``, whichever way its links run."""
    by_kind: dict[str, list[tuple[str, str, str]]] = {}
    for edge in _edges_between(graph, a, b, _silent(link_weights)):
        kind = graph.edges[edge]["type"]
        if kind in link_weights:
            by_kind.setdefault(kind, []).append(edge)
    for kind, edges in sorted(by_kind.items()):
        edges.sort(key=lambda e: e[2])
        records = _records(graph, edges)
        yield Evidence(
            kind=kind,
            via=None,
            links=tuple(e[2] for e in edges),
            records=records,
            weight=link_weights[kind] * _edge_reliability(graph, edges) * recency.factor(records),
        )


def _side(
    graph: nx.MultiDiGraph, person: str, connector: str, silent: Collection[str] = ()
) -> tuple[list[tuple[str, str, str]], float]:
    """One person's links to a connector, and the best reliability among them."""
    edges = list(_edges_between(graph, person, connector, silent))
    return edges, _edge_reliability(graph, edges)


def _shared(
    graph: nx.MultiDiGraph,
    a: str,
    b: str,
    connector: str,
    weight: float,
    recency: Recency,
    sides: dict[tuple[str, str], tuple[list, float]] | None = None,
    silent: Collection[str] = (),
) -> Evidence:
    """``sides`` memoises each person's side of a connector, which every pair around it reuses."""
    if sides is None:
        sides = {}
    for person in (a, b):
        if (person, connector) not in sides:
            sides[person, connector] = _side(graph, person, connector, silent)
    (edges_a, reliability_a), (edges_b, reliability_b) = sides[a, connector], sides[b, connector]
    records = _records(graph, [*edges_a, *edges_b])
    return Evidence(
        kind=graph.nodes[connector]["type"],
        via=connector,
        links=tuple(e[2] for e in [*edges_a, *edges_b]),
        records=records,
        weight=weight * min(reliability_a, reliability_b) * recency.factor(records),
    )


def _people_around(graph: nx.MultiDiGraph, node: str, person_types: set[str], silent: Collection[str] = ()) -> set[str]:
    """The people linked to ``node`` by a link of a type that is not ``silent``."""
    around = set(graph.predecessors(node)) | set(graph.successors(node))
    people = {p for p in around if graph.nodes[p].get("type") in person_types}
    return {p for p in people if next(_edges_between(graph, p, node, silent), None)} if silent else people


def associations(
    graph: nx.MultiDiGraph,
    subject: str,
    *,
    person_types: set[str],
    link_weights: Mapping[str, float],
    connector_weights: Mapping[str, float],
    recency: Recency = NO_DECAY,
) -> list[Association]:
    """People associated with ``subject``, strongest first, each with its evidence.

    Examples
    --------
    Ann and Bob were both at one incident (1AP); Ann knows Cat (graded 2BC).

    >>> g = nx.MultiDiGraph()
    >>> for n, t in [("ann", "Person"), ("bob", "Person"), ("cat", "Person"), ("e1", "Event")]:
    ...     g.add_node(n, type=t)
    >>> police = [{"source": "police", "record_id": "1", "grade": "1AP"}]
    >>> intel = [{"source": "intel", "record_id": "7", "grade": "2BC"}]
    >>> _ = g.add_edge("ann", "e1", key="l1", type="victimIn", provenance=police)
    >>> _ = g.add_edge("bob", "e1", key="l2", type="offenderIn", provenance=police)
    >>> _ = g.add_edge("ann", "cat", key="l3", type="knows", provenance=intel)
    >>> found = associations(g, "ann", person_types={"Person"}, link_weights={"knows": 1.0},
    ...                      connector_weights={"Event": 1.0})
    >>> [(a.person, round(a.strength, 3)) for a in found]
    [('bob', 1.0), ('cat', 0.595)]
    >>> found[1].evidence[0].records[0]["record_id"]
    '7'

    Weighed by recency, an incident a year before ``as_of`` counts half:

    >>> police[0]["date"] = "2025-06-01"
    >>> found = associations(g, "ann", person_types={"Person"}, link_weights={"knows": 1.0},
    ...                      connector_weights={"Event": 1.0}, recency=Recency("2026-06-01", 365))
    >>> [(a.person, round(a.strength, 3)) for a in found]
    [('cat', 0.595), ('bob', 0.5)]

    A second record listing the same link the other way round adds its record, not its weight:

    >>> more = [{"source": "intel", "record_id": "8", "grade": "2BC"}]
    >>> _ = g.add_edge("cat", "ann", key="l4", type="knows", provenance=more)
    >>> cat = associations(g, "ann", person_types={"Person"}, link_weights={"knows": 1.0}, connector_weights={})[0]
    >>> round(cat.strength, 3), cat.evidence[0].links, [r["record_id"] for r in cat.evidence[0].records]
    (0.595, ('l3', 'l4'), ['7', '8'])
    """
    found: dict[str, Association] = {}
    silent = _silent(link_weights)
    for neighbour in set(graph.predecessors(subject)) | set(graph.successors(subject)):
        kind = graph.nodes[neighbour].get("type")
        if kind in person_types:
            evidence = list(_direct(graph, subject, neighbour, link_weights, recency))
            pairs = [(neighbour, e) for e in evidence]
        elif kind in connector_weights:
            members = _people_around(graph, neighbour, person_types, silent)
            if subject not in members:  # joined to it only by silent links
                continue
            pairs = [
                (other, _shared(graph, subject, other, neighbour, connector_weights[kind], recency, silent=silent))
                for other in sorted(members - {subject})
            ]
        else:
            continue
        for person, evidence in pairs:
            association = found.setdefault(person, Association(person))
            association.evidence.append(evidence)
            association.strength += evidence.weight
    return sorted(found.values(), key=lambda a: (-a.strength, a.person))


def person_projection(
    graph: nx.MultiDiGraph,
    *,
    person_types: set[str],
    link_weights: Mapping[str, float],
    connector_weights: Mapping[str, float],
    recency: Recency = NO_DECAY,
    with_evidence: bool = True,
) -> nx.Graph:
    """Person-to-person graph: an edge wherever people are associated, ``weight`` its strength.

    Each edge lists its ``evidence``; ``with_evidence=False`` keeps only the weights (the same
    numbers), for structure questions such as communities that never show the evidence.

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> for n, t in [("ann", "Person"), ("bob", "Person"), ("flat", "Address")]:
    ...     g.add_node(n, type=t)
    >>> for p in ("ann", "bob"):
    ...     record = {"source": "police", "record_id": p, "grade": "1AC"}
    ...     _ = g.add_edge(p, "flat", key=p, type="livesAt", provenance=[record])
    >>> p = person_projection(g, person_types={"Person"}, link_weights={}, connector_weights={"Address": 2.0})
    >>> p.edges["ann", "bob"]["weight"]
    2.0
    >>> person_projection(g, person_types={"Person"}, link_weights={}, connector_weights={"Address": 2.0},
    ...                   with_evidence=False).edges["ann", "bob"]
    {'weight': 2.0, 'evidence': []}
    """
    projection = nx.Graph()
    projection.add_nodes_from(n for n, t in graph.nodes(data="type") if t in person_types)

    def add(a: str, b: str, evidence: Evidence) -> None:
        if not projection.has_edge(a, b):
            projection.add_edge(a, b, weight=0.0, evidence=[])
        projection.edges[a, b]["weight"] += evidence.weight
        if with_evidence:
            projection.edges[a, b]["evidence"].append(evidence)

    sides: dict[tuple[str, str], tuple[list, float]] = {}
    silent = _silent(link_weights)
    for node, kind in graph.nodes(data="type"):
        if kind in connector_weights:
            around = sorted(_people_around(graph, node, person_types, silent))
            if not with_evidence and recency.as_of is None:  # weights alone: no records to gather
                for person in around:
                    sides.setdefault((person, node), _side(graph, person, node, silent))
                for a, b in combinations(around, 2):
                    weight = connector_weights[kind] * min(sides[a, node][1], sides[b, node][1])
                    add(a, b, Evidence(kind, node, (), (), weight))
                continue
            for a, b in combinations(around, 2):
                add(a, b, _shared(graph, a, b, node, connector_weights[kind], recency, sides, silent))
    for a, b in sorted({tuple(sorted((u, v))) for u, v, kind in graph.edges(data="type") if kind in link_weights}):
        if a in projection and b in projection:
            for evidence in _direct(graph, a, b, link_weights, recency):
                add(a, b, evidence)
    return projection
