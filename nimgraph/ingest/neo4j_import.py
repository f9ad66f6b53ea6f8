"""Neo4j's bulk-import CSV format as a built-in reader: an existing Neo4j export loads with a few lines of spec.

Node files have a header such as ``personId:ID(Person),name,dob:date,:LABEL``; relationship files
``:START_ID(Person),:END_ID(Phone),:TYPE,since:int``. The spec's ``neo4j_import`` table maps labels
and relationship types onto ontology types, and may rename properties; every other column must
already be an ontology property, so a mistake stops the run when the header is read.

A node's id comes from its id space and its ``:ID`` value, so a relationship file finds the same
entity from ``:START_ID``/``:END_ID``. Load node files before the relationship files that use them:
a relationship whose end is in neither the node files of this run nor the store is rejected.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from nimgraph.ids import IdKey, link_id
from nimgraph.ingest.mapper import Row, RowError, RowMapper
from nimgraph.ingest.spec import MappingSpec, SpecError
from nimgraph.ingest.values import ConversionError, convert
from nimgraph.ontology import Model
from nimgraph.records import Entity, Link

_FIELD = re.compile(r"^(?P<name>[^:]*)(?::(?P<kind>[A-Za-z_]+(?:\[\])?)(?:\((?P<space>[^)]*)\))?)?$")
_NEO4J_TYPES = {"int", "long", "float", "double", "boolean", "byte", "short", "char", "string", "date", "datetime",
                "localdatetime", "time", "localtime", "point", "duration"}  # fmt: skip
_ISO_DATES = ("%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True)
class Column:
    header: str
    role: str  # id, label, start, end, type, property, ignore
    space: str = ""  # the id space of :ID / :START_ID / :END_ID
    property: str = ""  # the ontology property a property column fills
    array: bool = False


def parse_header(spec: MappingSpec, model: Model, columns: list[str], file: str) -> list[Column]:
    """The header's columns, checked against the spec's tables and the ontology."""
    assert spec.neo4j_import is not None
    parsed = []
    for header in columns:
        match = _FIELD.match(header)
        kind = (match.group("kind") or "") if match else ""
        name, space = (match.group("name"), match.group("space") or "") if match else (header, "")
        role = {"ID": "id", "LABEL": "label", "START_ID": "start", "END_ID": "end", "TYPE": "type", "IGNORE": "ignore"}
        if kind in role:
            parsed.append(Column(header, role[kind], space=space))
            continue
        if kind and kind.rstrip("[]").lower() not in _NEO4J_TYPES:
            raise SpecError(f"{file}: column {header!r} has an unknown Neo4j type {kind!r}")
        target = spec.neo4j_import.properties.get(name, name)
        if target not in model.properties:
            raise SpecError(
                f"{spec.path}: {file} has a property column {name!r} that is not an ontology property; "
                f"map it under neo4j_import.properties (e.g. {name}: description) or mark it :IGNORE"
            )
        parsed.append(Column(header, "property", property=target, array=kind.endswith("[]")))
    roles = {c.role for c in parsed}
    if "id" not in roles and not {"start", "end", "type"} <= roles:
        raise SpecError(f"{file}: a Neo4j import file needs an :ID column (nodes) or :START_ID, :END_ID and :TYPE")
    return parsed


class Neo4jImportMapper:
    """Maps rows of a Neo4j bulk-import node or relationship file to entities or links."""

    def __init__(
        self,
        spec: MappingSpec,
        model: Model,
        columns: list[Column],
        known_ids: set[str],
        exists: Callable[[str], bool],
        ids: IdKey,
    ) -> None:
        assert spec.neo4j_import is not None
        self.spec, self.model, self.columns = spec, model, columns
        self.table = spec.neo4j_import
        self.known_ids, self.exists = known_ids, exists
        self.ids = ids
        self.assertions = RowMapper(spec, model, ids)  # record, grade and date, as for any file
        self.nodes = any(c.role == "id" for c in columns)

    def node_id(self, space: str, raw: str) -> str:
        return self.ids.entity_id(self.table.labels.get(space, "Node"), f"neo4j-import:{space}", [raw])

    def map(self, row: Row) -> tuple[list[Entity], list[Link]]:
        try:
            return self._node(row) if self.nodes else self._relationship(row)
        except ConversionError as err:
            raise RowError(str(err)) from None

    def _properties(self, row: Row, datatype_of: Callable[[str], str]) -> dict:
        properties = {}
        for column in self.columns:
            text = " ".join((row.values.get(column.header) or "").split())
            if column.role != "property" or not text:
                continue
            if column.array:  # Neo4j arrays are ;-separated; the ontology's properties hold one value
                text = text.split(";")[0].strip()
            datatype = datatype_of(column.property)
            formats = _ISO_DATES if datatype in ("date", "datetime") else ()
            try:
                properties[column.property] = convert(text, datatype, formats)
            except ConversionError as err:
                raise RowError(f"{column.property} ({column.header!r}): {err}") from None
        return properties

    def _node(self, row: Row) -> tuple[list[Entity], list[Link]]:
        id_column = next(c for c in self.columns if c.role == "id")
        raw_id = (row.values.get(id_column.header) or "").strip()
        if not raw_id:
            raise RowError(f"the node id {id_column.header!r} is empty")
        label_column = next((c for c in self.columns if c.role == "label"), None)
        labels = [x.strip() for x in (row.values.get(label_column.header, "") if label_column else "").split(";")]
        labels = [x for x in labels if x] or ([id_column.space] if id_column.space else [])
        mapped = [self.table.labels[x] for x in labels if x in self.table.labels]
        if not mapped:
            raise RowError(f"no label of {', '.join(labels) or '(none)'} is mapped; add it under neo4j_import.labels")
        type_name = mapped[0]
        allowed = self.model.properties_for(type_name)
        properties = self._properties(row, lambda name: allowed[name].datatype if name in allowed else "string")
        wrong = sorted(set(properties) - set(allowed))
        if wrong:
            raise RowError(f"a {type_name} cannot have {', '.join(wrong)}")
        entity_id = self.node_id(id_column.space, raw_id)
        self.known_ids.add(entity_id)
        assertion = self.assertions.assertion(row)
        return [Entity(id=entity_id, type=type_name, properties=properties, provenance=[assertion])], []

    def _relationship(self, row: Row) -> tuple[list[Entity], list[Link]]:
        ends = {}
        for role in ("start", "end"):
            column = next(c for c in self.columns if c.role == role)
            raw = (row.values.get(column.header) or "").strip()
            if not raw:
                raise RowError(f"the {role} node {column.header!r} is empty")
            node = self.node_id(column.space, raw)
            if node not in self.known_ids:
                if not self.exists(node):
                    where = f" in id space {column.space}" if column.space else ""
                    raise RowError(f"{role} node {raw!r}{where} is not in the node files loaded before, nor the store")
                self.known_ids.add(node)
            ends[role] = node
        type_column = next(c for c in self.columns if c.role == "type")
        rel = (row.values.get(type_column.header) or "").strip()
        link_type = self.table.relationships.get(rel)
        if link_type is None:
            raise RowError(f"relationship type {rel!r} is not mapped; add it under neo4j_import.relationships")
        properties = self._properties(row, lambda name: self.model.property_def(name).datatype)
        return [], [
            Link(
                id=link_id(link_type, ends["start"], ends["end"]),
                type=link_type,
                source=ends["start"],
                target=ends["end"],
                properties=properties,
                provenance=[self.assertions.assertion(row)],
            )
        ]
