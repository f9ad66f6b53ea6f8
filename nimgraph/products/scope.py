"""What part of the graph a graph-wide question is asked of, and the projection it is asked on.

A scope is the whole graph, the entities on an analyst's chart, the network around some seeds,
an area (its places and what happened there) or a problem (what its scope reaches), optionally
kept to the links that a record dated in a window supports. Every read goes through ``store``:
for an API caller that is their ``ClearedView``, so nothing they may not see is ever counted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import networkx as nx

from nimgraph.analysis.build import to_networkx
from nimgraph.analysis.projection import project
from nimgraph.analysis.resolved import contract
from nimgraph.ontology import Core, Model
from nimgraph.products.common import NotVisible, ProductError, members_of, resolved_clusters
from nimgraph.products.connections import records_counted
from nimgraph.records import Subgraph
from nimgraph.store.base import GraphReader

MAX_WITHIN = 300  # entities an analyst's chart may send as a scope
PLACE_HOPS = 3  # area -> street or address -> event, and the area's own sub-areas on the way


@dataclass(frozen=True)
class Scope:
    """Where to look. At most one of ``within``, ``around``, ``area`` and ``problem``; none is the whole graph."""

    within: tuple[str, ...] = ()  # exactly these entities (a chart) and the links among them
    around: tuple[str, ...] = ()  # these entities and what lies within ``hops`` of them
    hops: int = 2
    area: str | None = None  # an Area's id: its places, the events there and what they link to
    problem: str | None = None  # a Problem's id: what its scope reaches
    since: str | None = None  # YYYY-MM-DD: only links a record dated on or after it supports
    until: str | None = None
    undated: bool = False  # with a window, undated records count as inside it (a network "as at" until)
    max_entities: int = 20_000  # read at most this many entities (scoped reads only)

    def __post_init__(self) -> None:
        anchors = [name for name in ("within", "around", "area", "problem") if getattr(self, name)]
        if len(anchors) > 1:
            raise ProductError(f"give one scope at a time; got {' and '.join(anchors)}")
        if len(self.within) > MAX_WITHIN:
            raise ProductError(f"a chart scope holds at most {MAX_WITHIN} entities; got {len(self.within)}")
        if self.since and self.until and self.since > self.until:
            raise ProductError(f"since ({self.since}) is after until ({self.until})")

    def describe(self) -> str:
        if self.within:
            return f"the {len(self.within)} entities given"
        if self.around:
            return f"within {self.hops} links of {len(self.around)} entit{'y' if len(self.around) == 1 else 'ies'}"
        if self.area:
            return "the area's places and what happened there"
        if self.problem:
            return "what the problem's scope reaches"
        return "the whole graph"

    def as_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Projection:
    """What the question is asked of: nodes of ``types`` joined by ``link_types``, or through ``via``."""

    types: tuple[str, ...] = (Core.PERSON,)
    link_types: tuple[str, ...] = ()  # empty: every link type
    via: tuple[str, ...] = ()  # connector entity types: two nodes sharing one are joined
    max_connector_members: int = 200

    def followed(self, model: Model) -> set[str] | None:
        """The link types to read: the projection's, with their subtypes, and the links that reach a
        ``via`` type (``via=Phone`` follows ``usesPhone``: a connector joins nothing unread); None
        (every type) when it names none."""
        if not self.link_types:
            return None
        found = expand_types(model, self.link_types, "link")
        connectors = expand_types(model, self.via, "entity")
        for name, link in model.links.items():
            ends = {link.domain, link.range} - {None}
            if not link.inferred and any(
                model.is_a(c, end) or model.is_a(end, c) for c in connectors for end in ends if end in model.entities
            ):
                found.add(name)
        return found

    def as_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}


@dataclass
class Read:
    """The graph a question reads: every entity and link of the scope, as the caller may see them."""

    graph: nx.MultiDiGraph  # without provenance when read for structure alone
    truncated: bool
    notes: list[str] = field(default_factory=list)
    subgraph: Subgraph = field(default_factory=Subgraph, repr=False)
    model: Model | None = field(default=None, repr=False)
    resolved: list[frozenset[str]] = field(default_factory=list, repr=False)  # accepted matches' clusters

    def drawing(self, ids: set[str] | list[str]) -> nx.MultiDiGraph:
        """The entities ``ids`` and the links among them, with their records: what an answer draws."""
        keep = set(ids)
        keep |= {m for g in self.resolved if g & keep for m in g}  # a resolved node is drawn with its links
        part = Subgraph(
            entities={i: e for i, e in self.subgraph.entities.items() if i in keep},
            links={i: k for i, k in self.subgraph.links.items() if k.source in keep and k.target in keep},
        )
        return contract(to_networkx(part, self.model), self.resolved, keep=ids)


def expand_types(model: Model, names: tuple[str, ...], kind: str) -> set[str]:
    """The named entity or link types with their subtypes; an unknown name raises UnknownTypeError."""
    found: set[str] = set()
    for name in names:
        if kind == "entity":
            model.entity_type(name)
        else:
            model.link_type(name)
        found |= model.descendants(name)
    return found


def _anchored(store: GraphReader, model: Model, scope: Scope, follow: set[str] | None) -> Subgraph:
    """The entities an area or a problem reaches, then one more step along the question's links."""
    anchor = scope.area or scope.problem
    assert anchor is not None
    entity = store.get(anchor)
    expected = Core.AREA if scope.area else Core.PROBLEM
    if entity is None or not model.is_a(entity.type, expected):
        raise NotVisible(anchor)
    reach = {*model.descendants(Core.WITHIN), *model.descendants(Core.OCCURRED_AT)}
    if scope.problem:
        reach |= model.descendants(Core.CONCERNS)
    hops = PLACE_HOPS if scope.area else PLACE_HOPS + 1
    core = store.neighbourhood([entity.id], hops=hops, link_types=reach, max_entities=scope.max_entities)
    seeds = sorted(core.entities)
    if len(seeds) >= scope.max_entities:
        return core  # the cap is reached already
    around = store.neighbourhood(seeds, hops=1, link_types=follow, max_entities=scope.max_entities)
    return around.merged(core)


def read_scope(
    store: GraphReader, model: Model, scope: Scope, link_types: set[str] | None, provenance: bool = True
) -> Read:
    """The scope's entities and the links among them of ``link_types`` (all when None).

    ``provenance=False`` builds the graph without records (a ranking or a grouping needs none);
    ``Read.drawing`` still gives the shown part with them.

    Raises NotVisible with the id when an entity the scope names is not there for the caller.
    """
    follow = link_types
    notes: list[str] = []

    def resolved(ids: tuple[str, ...]) -> list[str]:
        seeds = resolved_clusters(store, ids)
        return sorted({m for i in ids for m in members_of(seeds, i)})

    if scope.within:
        for entity_id in scope.within:
            if store.get(entity_id) is None:
                raise NotVisible(entity_id)
        keep = set(resolved(scope.within))
        sub = store.neighbourhood(
            sorted(keep), hops=1, link_types=follow, max_entities=scope.max_entities, entity_provenance=provenance
        )
        sub = Subgraph(
            entities={i: e for i, e in sub.entities.items() if i in keep},
            links={i: k for i, k in sub.links.items() if k.source in keep and k.target in keep},
            truncated=sub.truncated,
        )
    elif scope.around:
        for entity_id in scope.around:
            if store.get(entity_id) is None:
                raise NotVisible(entity_id)
        sub = store.neighbourhood(
            resolved(scope.around),
            hops=scope.hops,
            link_types=follow,
            max_entities=scope.max_entities,
            entity_provenance=provenance,
        )
    elif scope.area or scope.problem:
        sub = _anchored(store, model, scope, follow)
    else:
        sub = store.subgraph(sorted(follow) if follow is not None else sorted(model.links))
    if sub.truncated:
        notes.append(f"The read stopped at {scope.max_entities:,} entities, nearest first: raise max_entities.")
    if scope.since or scope.until:
        sub = sub.links_supported_by(records_counted(scope.since, scope.until, None, undated=scope.undated))
        notes.append(
            "Only links a record dated inside the window supports count; undated records are "
            + ("inside it." if scope.undated else "outside it.")
        )
    # records an analyst resolved as one (accepted matches) are one node; a named seed keeps its id
    anchored = scope.within or scope.around or scope.area or scope.problem
    groups = resolved_clusters(store, sub.entities if anchored else None)
    graph = contract(to_networkx(sub, model, provenance), groups, keep=[*scope.around, *scope.within])
    if graph.graph["resolved"]:
        folded = len(graph.graph["resolved"])
        notes.append(f"{folded:,} record(s) are read as the person an analyst resolved them with.")
    return Read(graph, sub.truncated, notes, sub, model, groups)


def projected(read: Read, model: Model, projection: Projection) -> tuple[nx.Graph, list[str]]:
    """The projection of what was read, weighted by the ontology's association weights, and notes on it."""
    nodes = expand_types(model, projection.types, "entity") if projection.types else None
    links = projection.followed(model)
    via = expand_types(model, projection.via, "entity")
    made = project(
        read.graph,
        node_types=nodes,
        link_types=links,
        via_types=via,
        link_weight=lambda kind: model.association_weight(kind, 1.0) if kind in model.links else 1.0,
        connector_weight=lambda kind: model.association_weight(kind, 1.0) if kind in model.entities else 1.0,
        max_connector_members=projection.max_connector_members,
    )
    notes = []
    if made.skipped_connectors:
        notes.append(
            f"{len(made.skipped_connectors)} connector(s) with more than {projection.max_connector_members} "
            "members were left out: they would join everyone to everyone."
        )
    return made.graph, notes
