"""Neo4j bulk-import CSV: the graph as nimgraph's Neo4j store holds it, in the files that
``neo4j-admin database import full`` reads.

The files make the same nodes, labels, relationship types, property names and property types as
``nimgraph.store.neo4j`` writes: every entity a node labelled ``Entity`` and its ontology type's
label, with ``id``, ``type`` and ``sources``; every link a relationship of the type the Model
derives from its name, with ``id``; every source record one ``Record`` node (``key``, ``source``,
``record_id``, ``file``, ``row``, ``date``, ``grade``, ``handling``, ``run``, ``seq``) with an
``ASSERTS {item, props}`` relationship to each thing it asserts (a link's on its source entity);
the source register's nodes; and the store's own ``NimgraphMeta`` settings (its id key, the write
sequence). Labels and relationship types come from the Model only.

Entry points:

- :class:`BulkGraph`: what is written, as plain data. Fill it from partner files with
  ``nimgraph.ingest.bulk.FirstLoad`` (``nimgraph neo4j load --bulk``: what an incremental ingest
  into an empty Neo4j would leave), or from a subgraph read through the caller's cleared view
  with :meth:`BulkGraph.from_subgraph` (an export of what that caller may see).
- :func:`write_import_files` ``(graph, model, folder)``: node and relationship CSV files with
  typed headers (``id:ID(Entity)``, ``:LABEL``, ``:START_ID(Record)``, ``:END_ID(Entity)``,
  ``:TYPE``, ``row:long``, ``sources:string[]``...), one file per label or relationship type
  (more where one property's values differ in type); returns :class:`ImportFiles`, whose
  :meth:`ImportFiles.arguments` are the matching ``neo4j-admin database import full`` options.

Every value is quoted as RFC 4180 says (a quote doubled), so commas, quotes, newlines and any
Unicode survive; a missing value is an empty, unquoted field (no property), an empty string a
quoted one. Array elements are separated by U+001E, which no array element may hold. Dates stay ISO text,
as the store keeps them.
"""

from __future__ import annotations

import datetime
import json
import math
from array import array
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nimgraph.ontology import Core, Model
from nimgraph.private_files import open_private
from nimgraph.records import Subgraph
from nimgraph.store.neo4j import ENTITY_LABEL, META_LABEL, record_key

ARRAY_DELIMITER = "\x1e"  # between array elements and labels; no array element may hold it
_RECORD_FIELDS = ("source", "record_id", "file", "row", "date", "grade", "handling")


@dataclass(slots=True)
class StoredEntity:
    """An entity node's own: its ontology type, its partner properties, the sources that assert it."""

    type: str
    properties: dict[str, Any] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)


@dataclass(slots=True)
class StoredLink:
    """A link: its ontology link type (by name), its ends' ids and its properties."""

    type: str
    source: str
    target: str
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass
class BulkGraph:
    """The graph as nimgraph's Neo4j store holds it.

    ``records`` maps a Record's key (``record_key``) to its node's properties; ``assertions``
    maps (record key, item id) to (the entity it hangs on, what the record says of the item as
    JSON, or None when not known); ``sources`` is the source register (name -> properties) and
    ``meta`` the store's own settings (name -> value).
    """

    entities: dict[str, StoredEntity] = field(default_factory=dict)
    links: dict[str, StoredLink] = field(default_factory=dict)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    assertions: dict[tuple[str, str], tuple[str, str | None]] = field(default_factory=dict)
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_subgraph(
        cls,
        subgraph: Subgraph,
        *,
        sources: Mapping[str, Mapping[str, Any]] | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> BulkGraph:
        """A subgraph read out of a store (through the reader's cleared view) with its provenance.

        Each entity's ``sources`` are the sorted sources of its records; a record's ``seq`` is its
        assertions' ``written``; ``run`` is not known to a read, so it is left out. Links whose
        ends the subgraph lacks are left out, as the import could not make them.
        """
        graph = cls(sources={k: dict(v) for k, v in (sources or {}).items()}, meta=dict(meta or {}))
        for entity in subgraph.entities.values():
            said = sorted({a.source for a in entity.provenance})
            graph.entities[entity.id] = StoredEntity(entity.type, _present(entity.properties), said)
        for link in subgraph.links.values():
            if link.source in graph.entities and link.target in graph.entities:
                graph.links[link.id] = StoredLink(link.type, link.source, link.target, _present(link.properties))
        for item_id, anchor, provenance in (
            *((e.id, e.id, e.provenance) for e in subgraph.entities.values()),
            *((k.id, k.source, k.provenance) for k in subgraph.links.values() if k.id in graph.links),
        ):
            for a in provenance:
                key = record_key(a)
                record = graph.records.setdefault(key, _present(a.as_dict()))
                if a.written is not None:
                    record["seq"] = max(record.get("seq", a.written), a.written)
                said = None if a.properties is None else json.dumps(a.properties, default=str)
                graph.assertions[(key, item_id)] = (anchor, said)
        return graph


@dataclass
class ImportFiles:
    """The CSV files written for one import, and how to give them to neo4j-admin."""

    folder: Path
    nodes: list[Path] = field(default_factory=list)
    relationships: list[Path] = field(default_factory=list)
    multiline: bool = False  # some value holds a line break: neo4j-admin must read fields across lines
    node_count: int = 0
    relationship_count: int = 0

    def arguments(self) -> list[str]:
        """``neo4j-admin database import full`` options for these files (the database name follows them)."""
        return [
            "--id-type=string",
            f"--array-delimiter=U+{ord(ARRAY_DELIMITER):04X}",
            f"--report-file={self.folder / 'import.report'}",
            *(["--multiline-fields=true"] if self.multiline else []),
            *(f"--nodes={path}" for path in self.nodes),
            *(f"--relationships={path}" for path in self.relationships),
        ]


def write_import_files(graph: BulkGraph, model: Model, folder: Path | str) -> ImportFiles:
    """Write ``graph`` as neo4j-admin node and relationship CSV files into ``folder`` (made if missing;
    CSV files already there are removed first, so that none from another import is read)."""
    folder = Path(folder).resolve()  # neo4j-admin may run elsewhere
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.csv"):
        stale.unlink()
    files = ImportFiles(folder=folder)
    record_label = model.entity_type(Core.RECORD).name
    source_label = model.entity_type(Core.INFORMATION_SOURCE).name
    asserts = model.link_type(Core.ASSERTS).relationship
    node_kinds: list[tuple[str, str, Callable[[], Iterator[_Row]]]] = [
        ("id", ENTITY_LABEL, lambda: _entity_rows(graph, model)),
        ("key", record_label, lambda: ((k, (record_label,), r) for k, r in graph.records.items())),
        ("name", source_label, lambda: ((n, (source_label,), s) for n, s in graph.sources.items())),
        ("name", META_LABEL, lambda: ((n, (META_LABEL,), {"value": v}) for n, v in graph.meta.items())),
    ]
    for id_property, space, rows in node_kinds:
        _write(files, "nodes", rows, [f"{id_property}:ID({space})", ":LABEL"], id_property)

    def links() -> Iterator[_Row]:
        for link_id, k in graph.links.items():
            yield (k.source, k.target), model.link_type(k.type).relationship, {"id": link_id, **k.properties}

    def said() -> Iterator[_Row]:
        for (key, item), (anchor, props) in graph.assertions.items():
            yield (key, anchor), asserts, {"item": item, "props": props}

    for start, rows in ((ENTITY_LABEL, links), (record_label, said)):
        _write(files, "relationships", rows, [f":START_ID({start})", f":END_ID({ENTITY_LABEL})", ":TYPE"])
    return files


_Row = tuple[Any, Any, dict[str, Any]]  # (node id, or (start, end); labels, or type; properties)


def _entity_rows(graph: BulkGraph, model: Model) -> Iterator[_Row]:
    labels = {name: (ENTITY_LABEL, model.entity_type(name).name) for name in model.entities}
    for entity_id, e in graph.entities.items():
        yield entity_id, labels[e.type], {"type": e.type, "sources": e.sources, **e.properties}


@dataclass
class _Group:
    """The rows of one file: one label set or relationship type, each property of one type."""

    name: str
    types: dict[str, str] = field(default_factory=dict)
    count: int = 0

    def fits(self, typed: dict[str, str]) -> bool:
        return all(self.types.get(k, t) == t for k, t in typed.items())


def _write(
    files: ImportFiles, prefix: str, rows: Callable[[], Iterator[_Row]], fixed: list[str], id_property: str = ""
) -> None:
    """Two passes over ``rows``: the files and their columns' types, then the rows into them (a node's
    ``id_property`` is its ID column's, not a column of its own)."""
    groups: list[_Group] = []
    by_kind: dict[Any, list[int]] = {}
    chosen = array("I")
    for _, kind, properties in rows():
        typed = {k: neo4j_type(v, k) for k, v in properties.items() if v is not None and k != id_property}
        candidates = by_kind.setdefault(kind, [])
        index = next((i for i in candidates if groups[i].fits(typed)), None)
        if index is None:
            name = kind if isinstance(kind, str) else "-".join(kind)
            index = len(groups)
            groups.append(_Group(name if not candidates else f"{name}-{len(candidates) + 1}"))
            candidates.append(index)
        groups[index].types.update(typed)
        groups[index].count += 1
        chosen.append(index)
    into = files.nodes if prefix == "nodes" else files.relationships
    columns = [sorted(g.types) for g in groups]
    paths = [files.folder / f"{prefix}-{len(into) + i + 1:03d}-{_safe(g.name)}.csv" for i, g in enumerate(groups)]
    handles = [open_private(path, "w", encoding="utf-8", newline="") for path in paths]
    try:
        for handle, group, names in zip(handles, groups, columns, strict=True):
            handle.write(",".join([*fixed, *(f"{c}:{group.types[c]}" for c in names)]) + "\n")
        for index, (ident, kind, properties) in zip(chosen, rows(), strict=True):
            own = [_field(ident), _field(list(kind))] if prefix == "nodes" else [*map(_field, ident), _field(kind)]
            line = ",".join([*own, *(_field(properties.get(c)) for c in columns[index])])
            if "\n" in line or "\r" in line:
                files.multiline = True
            handles[index].write(line + "\n")
    finally:
        for handle in handles:
            handle.close()
    into.extend(paths)
    counted = sum(g.count for g in groups)
    if prefix == "nodes":
        files.node_count += counted
    else:
        files.relationship_count += counted


def neo4j_type(value: Any, name: str = "value") -> str:
    """The import type of a property value, as the driver would store it.

    >>> neo4j_type("Ann"), neo4j_type(3), neo4j_type(2.5), neo4j_type(True), neo4j_type(["a", "b"])
    ('string', 'long', 'double', 'boolean', 'string[]')
    """
    if isinstance(value, list | tuple):
        kinds = {neo4j_type(v, name) for v in value}
        if len(kinds) != 1 or next(iter(kinds)).endswith("[]"):
            raise ValueError(f"{name}: Neo4j stores only non-empty lists of one type; got {value!r}")
        return f"{kinds.pop()}[]"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, datetime.datetime):
        return "datetime" if value.tzinfo else "localdatetime"
    if isinstance(value, datetime.date):
        return "date"
    raise ValueError(f"{name}: Neo4j cannot store {type(value).__name__} values ({value!r})")


def _field(value: Any) -> str:
    """One CSV field: text quoted (a quote doubled), a missing value empty.

    >>> print(_field('say "hi", then'), _field(""), _field(None), _field(7), _field(["a", "b"]).split("\\x1e"))
    "say ""hi"", then" ""  7 ['"a', 'b"']
    """
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return _element(value)
    text = ARRAY_DELIMITER.join(map(_array_element, value)) if isinstance(value, list | tuple) else _element(value)
    return '"' + text.replace('"', '""') + '"'


def _array_element(value: Any) -> str:
    text = _element(value)
    if ARRAY_DELIMITER in text:
        raise ValueError(f"an array element holds U+001E, the import's array delimiter: {text!r}")
    return text


def _element(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _present(properties: Mapping[str, Any]) -> dict[str, Any]:
    """Neo4j keeps no nulls: a property set to null is not there."""
    return {k: v for k, v in properties.items() if v is not None}


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


__all__ = [
    "ARRAY_DELIMITER",
    "BulkGraph",
    "ImportFiles",
    "StoredEntity",
    "StoredLink",
    "neo4j_type",
    "write_import_files",
]
