"""Who is most central: one measure over a projection of a scope, the top N with ties shown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from nimgraph.analysis.measures import DEFINITIONS, EXACT_BETWEENNESS_LIMIT, scores
from nimgraph.ontology import Model
from nimgraph.products.answers import Answer, Column, entity_cells, top_with_ties
from nimgraph.products.scope import Projection, Scope, projected, read_scope
from nimgraph.store.base import GraphReader

__all__ = ["DEFINITIONS", "Measure", "rank"]  # DEFINITIONS: what routes and commands show for each measure

Progress = Callable[[str], None]
Measure = Literal[
    "degree",
    "weighted_degree",
    "betweenness",
    "closeness",
    "eigenvector",
    "pagerank",
    "triangles",
    "core_number",
    "clustering",
]


def rank(
    store: GraphReader,
    model: Model,
    measure: str,
    *,
    scope: Scope = Scope(),  # noqa: B008 - frozen
    projection: Projection = Projection(),  # noqa: B008 - frozen
    top: int = 20,
    weighted: bool = True,
    normalised: bool = True,
    engine: str = "auto",
    pivots: int | None = None,
    seed: int = 0,
    workers: int = 1,
    progress: Progress = lambda _: None,
) -> Answer:
    """The ``top`` nodes of the projection by ``measure``, and everyone tied with the last of them.

    Reads through ``store`` (a caller's cleared view), so nothing hidden is counted, ranked or tied.
    """
    if measure not in DEFINITIONS:
        raise ValueError(f"unknown measure {measure!r}; choose one of {', '.join(DEFINITIONS)}")
    progress(f"reading {scope.describe()}")
    read = read_scope(store, model, scope, projection.followed(model), provenance=False)
    progress(f"projecting {read.graph.number_of_nodes():,} entities")
    graph, notes = projected(read, model, projection)
    progress(f"{measure} over {graph.number_of_nodes():,} nodes and {graph.number_of_edges():,} ties")
    found = scores(
        graph,
        measure,
        weighted=weighted,
        normalised=normalised,
        engine=engine,
        pivots=pivots,
        seed=seed,
        workers=workers,  # type: ignore[arg-type]
    )
    ranked = top_with_ties(found.values, top, lambda n: read.graph.nodes[n].get("label", n))
    rows = [
        {"rank": position, **entity_cells(read.graph, model, node), measure: value, "degree": graph.degree(node)}
        for position, node, value in ranked.rows
    ]
    beside = [] if measure == "degree" else [Column("degree", DEFINITIONS["degree"])]
    definition = DEFINITIONS[measure]
    if measure == "betweenness":
        definition += (
            " Normalised: divided by the number of pairs of other nodes, (n-1)(n-2)/2, so 0 to 1."
            if normalised
            else " Raw: the number of shortest paths through the node, each split among equal ones."
        )
        if found.pivots:
            notes.append(
                f"Betweenness estimated from {found.pivots} pivots drawn with seed {seed} "
                f"(exact up to {EXACT_BETWEENNESS_LIMIT:,} nodes)."
            )
    if found.engine == "igraph":
        notes.append(f"Computed with igraph (C), as the projection has {graph.number_of_nodes():,} nodes.")
    notes += ranked.notes(top)
    if measure in ("betweenness", "closeness") and weighted:
        notes.append("Distances are 1/weight: a strong tie is a short one.")
    return Answer(
        question="rank",
        parameters={
            "measure": measure,
            "top": top,
            "weighted": weighted,
            "normalised": normalised if measure == "betweenness" else None,
            "scope": scope.as_dict(),
            "projection": projection.as_dict(),
            "seed": seed,
        },
        columns=[
            Column("rank", "Position; tied values share a rank (1, 2, 2, 4)."),
            Column("id", "The entity's id (a pseudonym where you see people under pseudonyms)."),
            Column("type", "The entity's type in the ontology."),
            Column("label", "What the entity is called, from its properties (the ontology's label patterns)."),
            Column(measure, definition),
            *beside,
        ],
        rows=rows,
        notes=read.notes + notes,
        engine=found.engine,
        projection={"nodes": graph.number_of_nodes(), "links": graph.number_of_edges()},
        truncated=read.truncated,
        graph=read.drawing([r["id"] for r in rows]),
    )
