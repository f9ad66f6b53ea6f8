"""Turn a store's Subgraph into the NetworkX graph the analysis works on."""

from __future__ import annotations

import networkx as nx

from nimgraph.grading import GradeError, parse_grade
from nimgraph.labels import entity_label
from nimgraph.ontology import Model, default_model
from nimgraph.records import Assertion, Subgraph

__all__ = ["reliability", "to_networkx"]


def to_networkx(subgraph: Subgraph, model: Model | None = None, provenance: bool = True) -> nx.MultiDiGraph:
    """One node per entity and one keyed edge per link, with provenance as plain dicts.

    Each node's ``label`` is the ontology's label for it (``nimgraph.labels``), from ``model``
    (the packaged ontology when not given). ``provenance=False`` leaves the records out, for
    questions about structure alone: converting them is most of the work on a large read.

    Nodes and edges are added in id order, so every analysis gives the same answer whatever order
    the store returned them in.
    """
    model = model or default_model()
    graph = nx.MultiDiGraph()
    for entity in sorted(subgraph.entities.values(), key=lambda e: e.id):
        graph.add_node(
            entity.id,
            type=entity.type,
            label=entity_label(model, entity),
            properties=dict(entity.properties),
            provenance=[a.as_dict() for a in entity.provenance] if provenance else [],
        )
    for link in sorted(subgraph.links.values(), key=lambda k: k.id):
        if link.source in graph and link.target in graph:
            graph.add_edge(
                link.source,
                link.target,
                key=link.id,
                type=link.type,
                properties=dict(link.properties),
                provenance=[a.as_dict() for a in link.provenance] if provenance else [],
            )
    return graph


def reliability(provenance: list[dict] | list[Assertion]) -> float:
    """The best 3x5x2 reliability among the records behind an item; 0 when none can be read.

    >>> reliability([{"grade": "2BC"}, {"grade": "1AP"}])
    1.0
    >>> reliability([])
    0.0
    """
    best = 0.0
    for record in provenance:
        grade = record["grade"] if isinstance(record, dict) else record.grade
        try:
            best = max(best, parse_grade(grade).reliability)
        except GradeError:
            continue
    return best
