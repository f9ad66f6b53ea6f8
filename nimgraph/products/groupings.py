"""Which groups exist: connected components or communities (Louvain, Leiden) of a projection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import networkx as nx

from nimgraph.analysis.communities import communities, modularity
from nimgraph.ontology import Model
from nimgraph.products.answers import Answer, Column, entity_cells
from nimgraph.products.scope import Projection, Scope, projected, read_scope
from nimgraph.store.base import GraphReader

Method = Literal["components", "louvain", "leiden"]
MAX_MEMBERS_LISTED = 500  # per group; the size column still counts them all

METHODS = {
    "components": "Connected components: everyone joined to everyone else in the group by some chain of ties.",
    "louvain": "Louvain communities (networkx): groups more tightly tied inside than chance, by modularity.",
    "leiden": "Leiden communities (igraph): as Louvain, with every community guaranteed internally connected.",
}


def groups(
    store: GraphReader,
    model: Model,
    method: Method = "components",
    *,
    scope: Scope = Scope(),  # noqa: B008 - frozen
    projection: Projection = Projection(),  # noqa: B008 - frozen
    min_size: int = 2,
    top: int = 20,
    resolution: float = 1.0,
    seed: int = 0,
    progress: Callable[[str], None] = lambda _: None,
) -> Answer:
    """The ``top`` largest groups of at least ``min_size`` nodes, largest first, with their members."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    progress(f"reading {scope.describe()}")
    read = read_scope(store, model, scope, projection.followed(model), provenance=False)
    graph, notes = projected(read, model, projection)
    progress(f"{method} over {graph.number_of_nodes():,} nodes and {graph.number_of_edges():,} ties")
    if method == "components":
        found = sorted((set(c) for c in nx.connected_components(graph)), key=lambda c: (-len(c), sorted(c)))
        found = [g for g in found if len(g) >= min_size]
    else:
        found = communities(graph, method=method, resolution=resolution, seed=seed, min_size=min_size)
        notes.append(f"Modularity {modularity(graph, found)} (resolution {resolution}, seed {seed}).")
    engine = "igraph" if method == "leiden" else "networkx"
    if len(found) > top:
        notes.append(f"The {top} largest of {len(found)} groups of {min_size} or more are shown.")
    rows = []
    for number, members in enumerate(found[:top], start=1):
        cells = sorted((entity_cells(read.graph, model, m) for m in members), key=lambda c: (c["label"], c["id"]))
        if len(cells) > MAX_MEMBERS_LISTED:
            notes.append(f"Group {number} lists its first {MAX_MEMBERS_LISTED} members of {len(cells)}, by label.")
        ties = graph.subgraph(members).number_of_edges()
        rows.append({"group": number, "size": len(members), "ties": ties, "members": cells[:MAX_MEMBERS_LISTED]})
    shown = {m["id"] for row in rows for m in row["members"]}
    return Answer(
        question="groups",
        parameters={
            "method": method,
            "min_size": min_size,
            "top": top,
            "resolution": resolution if method != "components" else None,
            "seed": seed,
            "scope": scope.as_dict(),
            "projection": projection.as_dict(),
        },
        columns=[
            Column("group", "The group's number, largest first (ties by their members)."),
            Column("size", "How many nodes the group holds."),
            Column("ties", "How many ties join two of its members in the projection."),
            Column("id", "A member's id."),
            Column("type", "A member's type."),
            Column("label", "A member's label."),
        ],
        rows=rows,
        notes=[METHODS[method], *read.notes, *notes],
        engine=engine,
        projection={"nodes": graph.number_of_nodes(), "links": graph.number_of_edges()},
        truncated=read.truncated,
        graph=read.drawing(shown),
    )
