"""Risk indicators: people drawn towards crime through the people they know."""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

__all__ = ["CriminalAssociates", "criminal_associates", "drawn_towards_crime"]


@dataclass
class CriminalAssociates:
    person: str
    party_to_crime: bool
    within_one_hop: list[str] = field(default_factory=list)
    within_two_hops: list[str] = field(default_factory=list)


def _parties(graph: nx.MultiDiGraph, involvement: set[str]) -> set[str]:
    return {u for u, _, kind in graph.edges(data="type") if kind in involvement}


def criminal_associates(
    graph: nx.MultiDiGraph, person: str, *, association: set[str], involvement: set[str]
) -> CriminalAssociates:
    """Whom ``person`` knows (through ``association`` links) who is party to crime (``involvement``).

    Examples
    --------
    Kim is party to nothing but knows two offenders, one of whom knows a third.

    >>> g = nx.MultiDiGraph()
    >>> for u, v, t in [("kim", "a", "knows"), ("kim", "b", "knows"), ("b", "c", "knows"),
    ...                 ("a", "e1", "offenderIn"), ("b", "e1", "suspectIn"), ("c", "e2", "offenderIn")]:
    ...     _ = g.add_edge(u, v, type=t)
    >>> found = criminal_associates(g, "kim", association={"knows"}, involvement={"offenderIn", "suspectIn"})
    >>> found.party_to_crime, found.within_one_hop, found.within_two_hops
    (False, ['a', 'b'], ['c'])
    """
    parties = _parties(graph, involvement)
    social = nx.Graph()
    social.add_node(person)
    social.add_edges_from((u, v) for u, v, kind in graph.edges(data="type") if kind in association)
    distance = nx.single_source_shortest_path_length(social, person, cutoff=2)
    return CriminalAssociates(
        person=person,
        party_to_crime=person in parties,
        within_one_hop=sorted(p for p, d in distance.items() if d == 1 and p in parties),
        within_two_hops=sorted(p for p, d in distance.items() if d == 2 and p in parties),
    )


def drawn_towards_crime(
    graph: nx.MultiDiGraph,
    *,
    association: set[str],
    involvement: set[str],
    min_associates: int = 3,
    person_types: set[str] | None = None,
) -> list[CriminalAssociates]:
    """People party to no crime who directly know ``min_associates`` or more people who are.

    Most at risk first. A screening for exploitation risk, not a finding: every hit needs review.

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> for u, v, t in [("kim", "a", "knows"), ("kim", "b", "knows"), ("lee", "a", "knows"),
    ...                 ("a", "e1", "offenderIn"), ("b", "e2", "suspectIn")]:
    ...     _ = g.add_edge(u, v, type=t)
    >>> [(r.person, r.within_one_hop) for r in drawn_towards_crime(
    ...     g, association={"knows"}, involvement={"offenderIn", "suspectIn"}, min_associates=2)]
    [('kim', ['a', 'b'])]
    """
    parties = _parties(graph, involvement)
    known: dict[str, set[str]] = {}
    for u, v, kind in graph.edges(data="type"):
        if kind in association:
            known.setdefault(u, set()).add(v)
            known.setdefault(v, set()).add(u)
    found = [
        CriminalAssociates(person=p, party_to_crime=False, within_one_hop=sorted(others & parties))
        for p, others in known.items()
        if p not in parties
        and (person_types is None or graph.nodes[p].get("type") in person_types)
        and len(others & parties) >= min_associates
    ]
    return sorted(found, key=lambda r: (-len(r.within_one_hop), r.person))
