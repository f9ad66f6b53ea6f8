"""Resolved entities: the records an analyst accepted as one person, read as one node.

Record linkage only proposes (``possiblySameAs``); an accepted pair joins a cluster, and a cluster
is the connected component of accepted pairs. Analysis reads a cluster as one entity: its links are
the union of its members' links, its properties the representative's, filled in from the others.
The members stay in the store as they were, and the node says which records it was resolved from.
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx

__all__ = ["clusters", "contract", "resolved_from_text"]


def clusters(pairs: Iterable[tuple[str, str]]) -> list[frozenset[str]]:
    """The connected components of the accepted pairs, largest first, then by their first id.

    >>> [sorted(group) for group in clusters([("b", "a"), ("c", "b"), ("x", "y")])]
    [['a', 'b', 'c'], ['x', 'y']]
    >>> clusters([])
    []
    """
    joined = nx.Graph()
    joined.add_edges_from((a, b) for a, b in pairs if a != b)
    found = [frozenset(group) for group in nx.connected_components(joined)]
    return sorted(found, key=lambda group: (-len(group), min(group)))


def contract(graph: nx.MultiDiGraph, groups: Iterable[frozenset[str]], keep: Iterable[str] = ()) -> nx.MultiDiGraph:
    """A copy of ``graph`` with each cluster read as one node.

    The node kept is the member named in ``keep`` (the subject a product is about), else the
    smallest id. It takes every link of the other members (a link between two members is dropped:
    it says nothing about anyone else), their records, and the properties it lacks. Its
    ``resolved_from`` lists each member present, with its label and the sources behind it;
    ``graph.graph["resolved"]`` maps each folded member to the node that stands for it.

    >>> g = nx.MultiDiGraph()
    >>> g.add_node("p1", type="Person", label="Dan Ward", properties={"forename": "Dan"},
    ...            provenance=[{"source": "police"}])
    >>> g.add_node("c7", type="Person", label="Daniel Ward", properties={"postcode": "NW1 2AB"},
    ...            provenance=[{"source": "council"}])
    >>> g.add_node("e1", type="ASBIncident", label="ASB1", properties={}, provenance=[])
    >>> g.add_edge("c7", "e1", key="k1", type="offenderIn", properties={}, provenance=[])
    'k1'
    >>> g.add_edge("p1", "c7", key="k2", type="possiblySameAs", properties={}, provenance=[])
    'k2'
    >>> one = contract(g, [frozenset({"p1", "c7"})], keep=["p1"])
    >>> sorted(one.nodes), list(one.out_edges("p1", keys=True))
    (['e1', 'p1'], [('p1', 'e1', 'k1')])
    >>> one.nodes["p1"]["properties"], [m["id"] for m in one.nodes["p1"]["resolved_from"]]
    ({'forename': 'Dan', 'postcode': 'NW1 2AB'}, ['p1', 'c7'])
    >>> resolved_from_text(one.nodes["p1"]["resolved_from"])
    'resolved from 2 records: council, police'
    """
    wanted = set(keep)
    out = graph.copy()
    folded: dict[str, str] = {}
    for group in groups:
        present = sorted(m for m in group if m in out)
        if len(present) < 2:
            continue
        chosen = [m for m in present if m in wanted]
        head = chosen[0] if chosen else present[0]
        others = [m for m in present if m != head]
        members = [head, *others]
        node = out.nodes[head]
        node["resolved_from"] = [
            {"id": m, "label": out.nodes[m].get("label", m), "sources": _sources(out.nodes[m])} for m in members
        ]
        properties = dict(node.get("properties", {}))
        provenance = list(node.get("provenance", []))
        for other in others:
            for key, value in out.nodes[other].get("properties", {}).items():
                properties.setdefault(key, value)
            provenance += out.nodes[other].get("provenance", [])
            for _, target, key, data in list(out.out_edges(other, keys=True, data=True)):
                if target not in group:
                    out.add_edge(head, target, key=key, **data)
            for source, _, key, data in list(out.in_edges(other, keys=True, data=True)):
                if source not in group:
                    out.add_edge(source, head, key=key, **data)
            out.remove_node(other)
            folded[other] = head
        for u, v, key in [(u, v, k) for u, v, k in out.edges(head, keys=True) if v == head]:
            out.remove_edge(u, v, key)
        node["properties"], node["provenance"] = properties, provenance
    out.graph["resolved"] = {**graph.graph.get("resolved", {}), **folded}
    return out


def _sources(node: dict) -> list[str]:
    return sorted({str(r["source"]) for r in node.get("provenance", []) if r.get("source")})


def resolved_from_text(members: list[dict]) -> str:
    """``resolved from 3 records: council, fire, police``: the sources a resolved node rests on.

    >>> resolved_from_text([{"sources": ["police"]}, {"sources": ["council", "police"]}])
    'resolved from 2 records: council, police'
    """
    sources = sorted({s for m in members for s in m.get("sources", [])})
    return f"resolved from {len(members)} records: {', '.join(sources)}"
