"""Exports of a part of the graph, or all of it, for the analyst's other tools.

What is exported is read through the caller's cleared view (handling codes and pseudonyms apply as
to any product), then written in the format asked for. Every export states the most restrictive
handling code of what it holds, and names the entities it holds, for the audit log.

A selection is one of:

- ``around`` seed entities, with ``hops``;
- ``within``: exactly these entities and the links among them (a saved workbench chart's entities);
- ``problem``: what a problem's scope reaches;
- ``profile``: a subject profile's network (the subject's neighbourhood, as the profile reads it);
- nothing: the whole graph, with the entities that no link reaches.

``link_types`` narrows any of them to links of those types (and their sub-types).
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import networkx as nx

from nimgraph.access.view import ClearedView
from nimgraph.analysis.build import to_networkx
from nimgraph.exports.anx import IconTable, to_anx
from nimgraph.exports.neo4j_bulk import BulkGraph, write_import_files
from nimgraph.exports.networks import to_gexf, to_graphml
from nimgraph.grading import most_restrictive
from nimgraph.ontology import Core, Model
from nimgraph.products.common import NotVisible, ProductError, members_of, resolved_clusters
from nimgraph.products.scope import Scope, expand_types, read_scope
from nimgraph.products.subject import PROFILE_HOPS, read_subject_network
from nimgraph.records import Entity, Subgraph
from nimgraph.store.base import GraphReader, SourceRegister

__all__ = ["GRAPH_FORMATS", "Export", "GraphFormat", "Selection", "check_exportable", "export_graph", "selected_graph"]

WHOLE_GRAPH_PAGE = 5_000


@dataclass(frozen=True)
class GraphFormat:
    name: str
    suffix: str
    media_type: str
    description: str


GRAPH_FORMATS: dict[str, GraphFormat] = {
    f.name: f
    for f in (
        GraphFormat("anx", ".anx", "application/xml", "i2 Analyst's Notebook chart (ANX XML)"),
        GraphFormat("graphml", ".graphml", "application/graphml+xml", "GraphML, for Gephi, yEd and Cytoscape"),
        GraphFormat("gexf", ".gexf", "application/gexf+xml", "GEXF with time intervals, for Gephi's timeline"),
        GraphFormat("neo4j-csv", ".zip", "application/zip", "Neo4j bulk-import CSV files (neo4j-admin), zipped"),
    )
}


@dataclass(frozen=True)
class Selection:
    """What to export: one of around, within, problem and profile; none is the whole graph."""

    around: tuple[str, ...] = ()
    hops: int = 2
    within: tuple[str, ...] = ()
    problem: str | None = None
    profile: str | None = None
    link_types: tuple[str, ...] = ()
    max_entities: int = 20_000

    def __post_init__(self) -> None:
        given = [name for name in ("around", "within", "problem", "profile") if getattr(self, name)]
        if len(given) > 1:
            raise ProductError(f"export one selection at a time; got {' and '.join(given)}")

    @property
    def whole_graph(self) -> bool:
        return not (self.around or self.within or self.problem or self.profile)

    def describe(self) -> str:
        if self.profile:
            return "a subject profile's network"
        if self.within:
            return f"the {len(self.within)} entities of a chart"
        if self.around:
            return f"within {self.hops} links of {len(self.around)} entit{'y' if len(self.around) == 1 else 'ies'}"
        if self.problem:
            return "what a problem's scope reaches"
        return "the whole graph"


@dataclass
class Export:
    content: bytes
    format: GraphFormat
    handling: str
    entities: int
    links: int
    description: str
    shown: set[str]  # the entities it holds: whom the audit log names

    @property
    def filename(self) -> str:
        return f"nimgraph-export{self.format.suffix}"


def _every_entity(reader: GraphReader, found: Subgraph) -> None:
    """Add the entities no link reaches, a page at a time (a whole-graph export holds them too)."""
    offset = 0
    while True:
        page = reader.find(limit=WHOLE_GRAPH_PAGE, offset=offset)
        for entity in page:
            found.entities.setdefault(entity.id, entity)
        if len(page) < WHOLE_GRAPH_PAGE:
            return
        offset += WHOLE_GRAPH_PAGE


def _scope(selection: Selection) -> Scope:
    return Scope(
        within=selection.within,
        around=selection.around,
        hops=selection.hops,
        problem=selection.problem,
        max_entities=selection.max_entities,
    )


def _subject(reader: GraphReader, model: Model, person_id: str) -> Entity:
    """The profile's subject: a person the caller may see, or NotVisible, as for any id it may not."""
    subject = reader.get(person_id)
    if subject is None or not model.is_a(subject.type, Core.PERSON):
        raise NotVisible(person_id)
    return subject


def selected_graph(reader: GraphReader, model: Model, selection: Selection) -> tuple[nx.MultiDiGraph, list[str]]:
    """The selection's graph, with provenance, records an analyst resolved as one contracted; and notes.

    Raises NotVisible with the id when an entity the selection names is not there for the caller.
    """
    follow = expand_types(model, selection.link_types, "link") if selection.link_types else None
    if selection.profile:
        subject = _subject(reader, model, selection.profile)
        network = read_subject_network(reader, model, subject.id, max_entities=selection.max_entities)
        graph = network.ego
        if follow is not None:
            graph = graph.edge_subgraph([e for e in graph.edges(keys=True) if graph.edges[e]["type"] in follow]).copy()
            graph.add_node(subject.id, **network.ego.nodes[subject.id])
        notes = ["The network stops at the profile's cap, nearest first."] if network.truncated else []
        return graph, notes
    read = read_scope(reader, model, _scope(selection), follow)
    graph = read.graph
    if not (selection.within or selection.around or selection.problem) and follow is None:
        alone = Subgraph()
        _every_entity(reader, alone)
        unlinked = Subgraph(entities={i: e for i, e in alone.entities.items() if i not in read.subgraph.entities})
        graph = nx.compose(graph, to_networkx(unlinked, model)) if unlinked.entities else graph
    return graph, read.notes


def selected_subgraph(reader: GraphReader, model: Model, selection: Selection) -> Subgraph:
    """The selection's entities and links as records give them (nothing contracted): what a
    Neo4j import recreates, each record as a Record node."""
    follow = expand_types(model, selection.link_types, "link") if selection.link_types else None
    if selection.profile:
        subject = _subject(reader, model, selection.profile)
        members = members_of(resolved_clusters(reader, [subject.id]), subject.id)
        return reader.neighbourhood(members, hops=PROFILE_HOPS, link_types=follow, max_entities=selection.max_entities)
    found = read_scope(reader, model, _scope(selection), follow).subgraph
    if not (selection.within or selection.around or selection.problem) and follow is None:
        _every_entity(reader, found)
    return found


def _importable(reader: GraphReader, subgraph: Subgraph) -> BulkGraph:
    """What a Neo4j import of the subgraph holds, with nothing of the store beyond what the caller sees.

    - Rows in the order of the ids the caller is shown: in the store's order, a pseudonymised
      export would list people by their real ids.
    - Each record's ``seq`` is its rank among the exported records, not the store's write counter,
      whose gaps would count the records written in between that the caller may not see. The rank
      follows the writes for a caller who sees real record ids, and the shown reference otherwise
      (in write order, references would fall back into the sources' own numbering).
    - The store's own settings (its id key) never, and the source register only for the sources of
      the records the export holds.
    """
    ordered = Subgraph(
        entities=dict(sorted(subgraph.entities.items())),
        links=dict(sorted(subgraph.links.items())),
        truncated=subgraph.truncated,
    )
    cited = {a.source for item in [*ordered.entities.values(), *ordered.links.values()] for a in item.provenance}
    register = reader.sources() if isinstance(reader, SourceRegister) else {}  # a ClearedView is one
    graph = BulkGraph.from_subgraph(ordered, sources={k: v for k, v in register.items() if k in cited})
    pseudonymised = isinstance(reader, ClearedView) and reader.clearance.pseudonymised
    order = sorted(graph.records, key=lambda k: (k,) if pseudonymised else (graph.records[k].get("seq", 0), k))
    rank = {key: number for number, key in enumerate(order, start=1)}
    graph.records = {key: {**graph.records[key], "seq": rank[key]} for key in sorted(graph.records)}
    graph.assertions = dict(sorted(graph.assertions.items()))
    return graph


def _neo4j_import_zip(reader: GraphReader, model: Model, subgraph: Subgraph, scratch: Path | None) -> bytes:
    """The subgraph as neo4j-admin CSV files, zipped with a note of the command that imports them.

    The files are written under ``scratch`` (the service's exports folder, which it clears when it
    starts: a killed run leaves no personal data behind), or the system's temporary folder.
    """
    graph = _importable(reader, subgraph)
    if scratch is not None:
        scratch.mkdir(parents=True, exist_ok=True, mode=0o700)
    with tempfile.TemporaryDirectory(prefix="nimgraph-export-", dir=scratch) as folder:
        files = write_import_files(graph, model, folder)
        relative = [a.replace(f"{files.folder}/", "") for a in files.arguments() if not a.startswith("--report-file")]
        command = "neo4j-admin database import full " + " ".join(relative) + " neo4j"
        note = (
            "Neo4j bulk-import files written by nimgraph.\n\n"
            "Stop Neo4j, unzip these files in a folder, and run there (into an empty database):\n\n"
            f"    {command}\n\n"
            "then start Neo4j and run `nimgraph neo4j init` to create the constraints and indexes.\n"
        )
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("IMPORT.txt", note)
            for path in sorted(Path(folder).glob("*.csv")):
                archive.write(path, path.name)
    return out.getvalue()


def handling_of(graph: nx.MultiDiGraph) -> str:
    """The most restrictive handling code of the records behind anything in the graph."""
    items: Iterable[dict] = [*(d for _n, d in graph.nodes(data=True)), *(d for *_e, d in graph.edges(data=True))]
    return most_restrictive({r.get("handling") for d in items for r in d.get("provenance") or [] if r.get("handling")})


def check_exportable(reader: GraphReader, selection: Selection) -> None:
    """ProductError when ``reader`` may not export ``selection``: the whole graph needs a clearance that
    filters nothing.

    A filtered or pseudonymised whole-graph read filters every entity of the store, page by page; a
    selection reads what it names.
    """
    if selection.whole_graph and isinstance(reader, ClearedView) and reader.clearance.filtered:
        raise ProductError(
            "exporting the whole graph needs a key cleared for every handling code without pseudonyms; "
            "export a selection instead: around seeds, within ids, a chart, a problem or a profile"
        )


def export_graph(
    reader: GraphReader,
    model: Model,
    selection: Selection,
    format_name: str,
    *,
    icons: IconTable | None = None,
    say: Callable[[str], None] = lambda _step: None,
    scratch: Path | None = None,
) -> Export:
    """Read the selection through ``reader`` (the caller's cleared view) and write it as ``format_name``."""
    if format_name not in GRAPH_FORMATS:
        raise ProductError(f"unknown export format {format_name!r}; there are: {', '.join(GRAPH_FORMATS)}")
    chosen = GRAPH_FORMATS[format_name]
    check_exportable(reader, selection)
    say(f"reading {selection.describe()}")
    if format_name == "neo4j-csv":
        subgraph = selected_subgraph(reader, model, selection)
        graph = to_networkx(subgraph, model)
    else:
        graph, _notes = selected_graph(reader, model, selection)
    handling = handling_of(graph)
    say(f"writing {graph.number_of_nodes():,} entities and {graph.number_of_edges():,} links as {chosen.description}")
    if format_name == "anx":
        when = datetime.now(UTC)
        text = to_anx(graph, model, handling=handling, icons=icons, description=selection.describe(), exported=when)
        content = text.encode("utf-8")
    elif format_name == "graphml":
        content = to_graphml(graph, model)
    elif format_name == "neo4j-csv":
        content = _neo4j_import_zip(reader, model, subgraph, scratch)
    else:
        content = to_gexf(graph, model)
    return Export(
        content=content,
        format=chosen,
        handling=handling,
        entities=graph.number_of_nodes(),
        links=graph.number_of_edges(),
        description=selection.describe(),
        shown=_held(graph),
    )


def _held(graph: nx.MultiDiGraph) -> set[str]:
    """Every entity the file holds, with the records an analyst resolved into one of its nodes: what
    those records say is in the file too."""
    folded = graph.graph.get("resolved") or {}
    return set(graph.nodes) | {member for member, node in folded.items() if node in graph}
