"""Risk indicators: people drawn towards crime through the people they know."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import networkx as nx

__all__ = [
    "CriminalAssociates",
    "RelativeAtRisk",
    "criminal_associates",
    "criminal_triangles",
    "drawn_towards_crime",
    "parties_to_crime",
    "relatives_with_criminal_associates",
]


@dataclass
class CriminalAssociates:
    person: str
    party_to_crime: bool
    within_one_hop: list[str] = field(default_factory=list)
    within_two_hops: list[str] = field(default_factory=list)


def parties_to_crime(graph: nx.MultiDiGraph, involvement: set[str]) -> set[str]:
    """People with an ``involvement`` link (e.g. offender or suspect in) to any event."""
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
    parties = parties_to_crime(graph, involvement)
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
    min_within_two_hops: int | None = None,
    person_types: set[str] | None = None,
) -> list[CriminalAssociates]:
    """People party to no crime who know ``min_associates`` or more people who are.

    Each hit also lists who is party to crime two associations away. With
    ``min_within_two_hops``, a person also qualifies by knowing that many within two hops (the
    friend of a friend), however few they know directly. Most at risk first. A screening for
    exploitation risk, not a finding: every hit needs review.

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> for u, v, t in [("kim", "a", "knows"), ("kim", "b", "knows"), ("lee", "a", "knows"),
    ...                 ("mo", "lee", "knows"), ("b", "c", "knows"),
    ...                 ("a", "e1", "offenderIn"), ("b", "e2", "suspectIn"), ("c", "e3", "offenderIn")]:
    ...     _ = g.add_edge(u, v, type=t)
    >>> rules = {"association": {"knows"}, "involvement": {"offenderIn", "suspectIn"}}
    >>> [(r.person, r.within_one_hop, r.within_two_hops) for r in drawn_towards_crime(g, **rules, min_associates=2)]
    [('kim', ['a', 'b'], ['c'])]
    >>> [(r.person, r.within_two_hops) for r in drawn_towards_crime(
    ...     g, **rules, min_associates=99, min_within_two_hops=1)]
    [('kim', ['c']), ('mo', ['a'])]
    """
    parties = parties_to_crime(graph, involvement)
    known: dict[str, set[str]] = {}
    for u, v, kind in graph.edges(data="type"):
        if kind in association and u != v:
            known.setdefault(u, set()).add(v)
            known.setdefault(v, set()).add(u)
    found = []
    for person, others in known.items():
        if person in parties or (person_types is not None and graph.nodes[person].get("type") not in person_types):
            continue
        direct = others & parties
        further = {f for o in others for f in known.get(o, ())} - others - {person}
        two_hops = further & parties
        if len(direct) >= min_associates or (min_within_two_hops is not None and len(two_hops) >= min_within_two_hops):
            found.append(CriminalAssociates(person, False, sorted(direct), sorted(two_hops)))
    return sorted(found, key=lambda r: (-len(r.within_one_hop), -len(r.within_two_hops), r.person))


@dataclass
class RelativeAtRisk:
    """A person whose relative knows people party to crime, and whether they live together."""

    person: str
    relative: str
    relatives_associates: list[str]
    lives_with_relative: bool


def _neighbours(graph: nx.MultiDiGraph, links: set[str]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for u, v, kind in graph.edges(data="type"):
        if kind in links and u != v:
            found.setdefault(u, set()).add(v)
            found.setdefault(v, set()).add(u)
    return found


def relatives_with_criminal_associates(
    graph: nx.MultiDiGraph,
    *,
    family: set[str],
    association: set[str],
    involvement: set[str],
    household: set[str],
    residence: set[str],
    min_associates: int = 2,
) -> list[RelativeAtRisk]:
    """People party to no crime whose relatives (``family`` links) know ``min_associates`` who are.

    They live with the relative if a ``household`` link joins them or both have a ``residence``
    link (e.g. lives at) to the same address. Those who live with the relative come first.

    Examples
    --------
    Tia's brother Sam knows two offenders; Tia and Sam live at the same flat.

    >>> g = nx.MultiDiGraph()
    >>> for u, v, t in [("tia", "sam", "familyOf"), ("sam", "a", "knows"), ("sam", "b", "knows"),
    ...                 ("a", "e1", "offenderIn"), ("b", "e2", "offenderIn"),
    ...                 ("tia", "flat", "livesAt"), ("sam", "flat", "livesAt")]:
    ...     _ = g.add_edge(u, v, type=t)
    >>> found = relatives_with_criminal_associates(
    ...     g, family={"familyOf"}, association={"knows"}, involvement={"offenderIn"},
    ...     household={"livesWith"}, residence={"livesAt"})
    >>> [(r.person, r.relative, r.relatives_associates, r.lives_with_relative) for r in found]
    [('tia', 'sam', ['a', 'b'], True)]
    """
    parties = parties_to_crime(graph, involvement)
    relatives, known = _neighbours(graph, family), _neighbours(graph, association)
    together, homes = _neighbours(graph, household), {}
    for u, v, kind in graph.edges(data="type"):
        if kind in residence:
            homes.setdefault(u, set()).add(v)
    found = []
    for person, family_members in relatives.items():
        if person in parties:
            continue
        for relative in sorted(family_members):
            associates = sorted((known.get(relative, set()) & parties) - {person})
            if len(associates) >= min_associates:
                lives_with = relative in together.get(person, set()) or bool(
                    homes.get(person, set()) & homes.get(relative, set())
                )
                found.append(RelativeAtRisk(person, relative, associates, lives_with))
    return sorted(found, key=lambda r: (not r.lives_with_relative, -len(r.relatives_associates), r.person, r.relative))


def criminal_triangles(
    projection: nx.Graph, parties: set[str], *, min_triangles: int = 1, people: Iterable[str] | None = None
) -> list[dict]:
    """People in many triangles of the criminal subgraph: ``projection`` kept to ``parties`` to crime.

    A triangle is three people party to crime each associated with the other two (through a
    recorded link or shared events, phones, addresses: whatever the projection holds): the
    cohesive core of a group. Most triangles first; ``people`` counts only theirs (a profile's subject).

    Examples
    --------
    >>> p = nx.Graph([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "a"), ("x", "a"), ("x", "c")])
    >>> found = criminal_triangles(p, parties={"a", "b", "c", "d"})
    >>> [(r["person"], r["triangles"]) for r in found]
    [('a', 2), ('c', 2), ('b', 1), ('d', 1)]
    """
    keep = parties & set(projection)
    if people is not None:  # a triangle through a person lies within their own neighbourhood
        keep &= {n for p in people if p in projection for n in (p, *projection[p])}
    criminal = nx.Graph(projection.subgraph(keep))
    criminal.remove_edges_from(list(nx.selfloop_edges(criminal)))
    wanted = None if people is None else [p for p in people if p in criminal]
    counts = nx.triangles(criminal, wanted) if wanted is None or wanted else {}
    rows = [{"person": p, "triangles": t} for p, t in counts.items() if t >= min_triangles]
    return sorted(rows, key=lambda r: (-r["triangles"], r["person"]))
