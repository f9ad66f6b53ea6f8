"""Predicted associations: people who are probably linked though no record says so.

Link prediction scores pairs of people who are not directly associated by the neighbours they
share in a projection: common neighbours (how many), Adamic-Adar (shared neighbours weighted by
``1/log(degree)``, so a rare contact counts more than a hub) and resource allocation
(``1/degree``). The results are :class:`Inference` objects with their evidence; nothing here adds
them to any graph. An analyst may accept one, which stores it as an inferred link of its own type
(see ``nimgraph.inferences``), never as a recorded one.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import combinations
from typing import Literal

import networkx as nx

__all__ = ["Inference", "predict_associations"]

Method = Literal["common_neighbours", "adamic_adar", "resource_allocation"]
METHODS: tuple[Method, ...] = ("common_neighbours", "adamic_adar", "resource_allocation")


@dataclass(frozen=True)
class Inference:
    """A predicted association between two people, with the shared neighbours behind it."""

    source: str
    target: str
    method: str
    score: float
    evidence: tuple[str, ...] = field(default_factory=tuple)

    @property
    def id(self) -> str:
        """Stable for the same pair and method, whichever way round the pair was given."""
        a, b = sorted((self.source, self.target))
        return "inference:" + hashlib.sha256(f"{self.method}|{a}|{b}".encode()).hexdigest()[:24]


def _score(projection: nx.Graph, shared: list[str], method: Method) -> float:
    if method == "common_neighbours":
        return float(len(shared))
    if method == "adamic_adar":
        return sum(1.0 / math.log(projection.degree(n)) for n in shared if projection.degree(n) > 1)
    if method == "resource_allocation":
        return sum(1.0 / projection.degree(n) for n in shared if projection.degree(n) > 0)
    raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")


def predict_associations(
    projection: nx.Graph,
    *,
    method: Method = "adamic_adar",
    among: Iterable[str] | None = None,
    min_shared: int = 2,
    top: int = 20,
) -> list[Inference]:
    """Pairs not yet associated, scored by ``method``, best first; ties broken by the pair's ids.

    Only pairs with at least ``min_shared`` neighbours in common are scored. ``among`` limits the
    pairs to those with at least one person in it (e.g. a subject).

    Examples
    --------
    Ann and Bob both know Cat and Dan but not each other; Eve knows only Dan.

    >>> p = nx.Graph([("ann", "cat"), ("ann", "dan"), ("bob", "cat"), ("bob", "dan"), ("eve", "dan")])
    >>> found = predict_associations(p, method="common_neighbours")
    >>> [(i.source, i.target, i.score, i.evidence) for i in found]
    [('ann', 'bob', 2.0, ('cat', 'dan')), ('cat', 'dan', 2.0, ('ann', 'bob'))]
    >>> [(i.source, i.target) for i in predict_associations(p, among=["ann"])]
    [('ann', 'bob')]
    >>> "ann" in p["bob"]  # the graph is unchanged
    False
    >>> round(predict_associations(p, method="resource_allocation", among=["ann"])[0].score, 3)
    0.833
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    focus = set(among) if among is not None else None
    candidates: set[tuple[str, str]] = set()
    if focus is not None:  # only pairs two steps from the focus: the cost follows the question
        for a in focus & set(projection):
            for middle in projection[a]:
                for b in projection[middle]:
                    if b != a and not projection.has_edge(a, b):
                        candidates.add((a, b) if a < b else (b, a))
    else:
        for middle in projection:
            for a, b in combinations(sorted(projection[middle]), 2):
                if not projection.has_edge(a, b):
                    candidates.add((a, b))
    found = []
    for a, b in candidates:
        shared = sorted(set(projection[a]) & set(projection[b]) - {a, b})
        if len(shared) >= min_shared:
            found.append(Inference(a, b, method, round(_score(projection, shared, method), 6), tuple(shared)))
    found.sort(key=lambda i: (-i.score, i.source, i.target))
    return found[:top]
