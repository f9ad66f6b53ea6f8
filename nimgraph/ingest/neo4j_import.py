"""Neo4j's bulk-import CSV format as a built-in reader: an existing Neo4j export loads with a few lines of spec.

Node files have a header such as ``personId:ID(Person),name,dob:date,:LABEL``; relationship files
``:START_ID(Person),:END_ID(Phone),:TYPE,since:int``. The spec's ``neo4j_import`` table maps labels
and relationship types onto ontology types and may rename columns; ``neo4j_import.files`` gives,
per file name or glob, values in the syntax of any spec (formats, templates, maps ...), renames
and a reversed direction. Every other column must already be an ontology property:
:func:`check_header` lists every problem of a file's header before anything is written.

Rows are checked as any spec's are (see :class:`~nimgraph.ingest.mapper.RowMapper`, which this
mapper extends): a node's properties meet the shapes, code lists and datatypes of its type, and a
relationship's ends are of the types its link's domain and range name.

A node's id comes from its id space and its ``:ID`` value, so a relationship file finds the same
entity from ``:START_ID``/``:END_ID``. Load node files before the relationship files that use them:
a relationship whose end is in neither the node files of this run nor the store is rejected.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase

from nimgraph.ids import IdKey
from nimgraph.ingest.mapper import Row, RowError, RowMapper
from nimgraph.ingest.spec import (
    NEO4J_DATE_FORMATS,
    EntitySpec,
    LinkSpec,
    MappingSpec,
    Neo4jImportFile,
    Neo4jImportSpec,
    SpecError,
)
from nimgraph.ingest.values import ConversionError, ValueSpec
from nimgraph.ontology import Model
from nimgraph.records import Entity, Link
from nimgraph.store.base import GraphStore
from nimgraph.validation import article

_FIELD = re.compile(r"^(?P<name>[^:]*)(?::(?P<kind>[A-Za-z_]+(?:\[\])?)(?:\((?P<space>[^)]*)\))?)?$")
_ROLES = {"ID": "id", "LABEL": "label", "START_ID": "start", "END_ID": "end", "TYPE": "type", "IGNORE": "ignore"}
_NEO4J_TYPES = {"int", "long", "float", "double", "boolean", "byte", "short", "char", "string", "date", "datetime",
                "localdatetime", "time", "localtime", "point", "duration"}  # fmt: skip


@dataclass(frozen=True)
class Column:
    header: str  # as the file writes it: ``dob:date``
    role: str  # id, label, start, end, type, property, ignore; input: read only by a file's values
    name: str = ""  # the header without its ``:type`` suffix: ``dob``
    space: str = ""  # the id space of :ID / :START_ID / :END_ID
    property: str = ""  # the ontology property a property column fills
    array: bool = False


@dataclass(frozen=True)
class Header:
    """A file's columns and how its rows are read: the values of its properties and its direction."""

    file: str
    columns: tuple[Column, ...]
    values: dict[str, ValueSpec]  # ontology property -> its value: a column, or the spec's value for this file
    reversed: bool = False  # a relationship file whose :START_ID is the link's target

    @property
    def nodes(self) -> bool:
        return any(c.role == "id" for c in self.columns)

    def column(self, role: str) -> Column | None:
        return next((c for c in self.columns if c.role == role), None)

    def row(self, values: dict[str, str]) -> dict[str, str]:
        """The row's values by header and by name without the ``:type`` suffix, as a spec's values name them.

        >>> Header("p.csv", (Column("dob:date", "property", "dob"),), {}).row({"dob:date": "1985-04-02"})
        {'dob:date': '1985-04-02', 'dob': '1985-04-02'}
        """
        named = dict(values)
        for column in self.columns:
            if column.name and column.name != column.header:
                named.setdefault(column.name, values.get(column.header, ""))
        return named


def entries_for(table: Neo4jImportSpec, file: str) -> list[Neo4jImportFile]:
    """The ``files`` entries whose name or glob matches ``file``, in the order the spec gives them."""
    return [entry for entry in table.files if fnmatchcase(file, entry.pattern)]


def unmatched_entries(spec: MappingSpec, files: list[str]) -> list[str]:
    """Warnings for each ``neo4j_import.files`` entry that matches none of ``files`` (names, not paths)."""
    table = spec.neo4j_import
    if table is None:
        return []
    return [
        f"{spec.path}:{entry.line}: neo4j_import.files {entry.pattern!r} matches none of {', '.join(files)}"
        for entry in table.files
        if not any(fnmatchcase(file, entry.pattern) for file in files)
    ]


def check_header(spec: MappingSpec, model: Model, columns: list[str], file: str) -> list[str]:
    """Every problem in a file's header and in what the spec says about the file; empty when it can load.

    >>> from pathlib import Path
    >>> from nimgraph.ontology import default_model
    >>> table = Neo4jImportSpec(labels={"Person": "Person"}, relationships={}, renames={})
    >>> spec = MappingSpec(Path("old.yaml"), "old", "", None, None, None, None, None, {}, neo4j_import=table)
    >>> for problem in check_header(spec, default_model(), ["id:ID(Person)", "name", "shoe:size", "hat"], "p.csv"):
    ...     print(problem.split(";")[0])
    p.csv: column 'shoe:size' has an unknown Neo4j type 'size'
    p.csv has a property column 'hat' that is not an ontology property
    """
    return _read_header(spec, model, columns, file)[1]


def parse_header(spec: MappingSpec, model: Model, columns: list[str], file: str) -> Header:
    """The header's columns and values, checked; raises SpecError listing every problem (see check_header)."""
    header, problems = _read_header(spec, model, columns, file)
    if problems:
        raise SpecError("\n".join(problems))
    return header


def _read_header(spec: MappingSpec, model: Model, columns: list[str], file: str) -> tuple[Header, list[str]]:
    table = spec.neo4j_import
    assert table is not None
    entries = entries_for(table, file)
    renames = {k: v for entry in (table, *entries) for k, v in entry.renames.items()}  # the file's own win
    given = {name: value for entry in entries for name, value in entry.properties.items()}
    read = {c for value in given.values() for c in value.columns}
    parsed, problems = [], []
    for text in columns:
        name, kind, space = _split(text)
        if kind in _ROLES:
            parsed.append(Column(text, _ROLES[kind], name, space=space))
        elif kind and kind.rstrip("[]").lower() not in _NEO4J_TYPES:
            problems.append(f"{file}: column {text!r} has an unknown Neo4j type {kind!r}")
        elif renames.get(name, name) in model.properties:
            parsed.append(Column(text, "property", name, property=renames.get(name, name), array=kind.endswith("[]")))
        elif name in read or text in read:
            parsed.append(Column(text, "input", name))
        else:
            problems.append(
                f"{file} has a property column {name!r} that is not an ontology property; rename it under "
                f"neo4j_import.renames (e.g. {name}: description) or mark it {name}:IGNORE"
            )
    header = Header(file, tuple(parsed), {}, reversed=any(entry.reversed for entry in entries))
    problems += _roles(header)
    problems += _references(spec, header.file, entries, columns)
    values = {}
    for column in header.columns:
        if column.role != "property" or column.property in given:
            continue
        if column.property in values:
            both = f"{values[column.property].describe()} and {column.header!r}"
            problems.append(f"{file}: columns {both} both fill {column.property}; rename one, or mark it :IGNORE")
        values[column.property] = _column_value(column, model.property_def(column.property).datatype)
    return replace(header, values={**values, **given}), problems


def _roles(header: Header) -> list[str]:
    """Problems with the :ID, :START_ID, :END_ID, :TYPE and :LABEL columns."""
    roles = [c.role for c in header.columns]
    problems = [
        f"{header.file} has {roles.count(role)} :{kind} columns; a Neo4j import file has at most one"
        for kind, role in _ROLES.items()
        if role != "ignore" and roles.count(role) > 1
    ]
    ends = [f":{kind}" for kind in ("START_ID", "END_ID", "TYPE") if _ROLES[kind] not in roles]
    if "id" in roles and len(ends) < 3:
        problems.append(f"{header.file} has both an :ID column (a node file) and relationship columns; split it")
    elif "id" not in roles and ends:
        problems.append(
            f"{header.file}: a Neo4j import file needs an :ID column (a node file) or :START_ID, :END_ID and :TYPE "
            f"(a relationship file); it has no {', '.join(ends) if len(ends) < 3 else ':ID'}"
        )
    if header.reversed and "id" in roles:
        problems.append(f"{header.file} is a node file; reversed: true goes with relationship files")
    return problems


def _split(header: str) -> tuple[str, str, str]:
    """A header's name, type and id space.

    >>> _split("personId:ID(Person)"), _split("aliases:string[]"), _split("name")
    (('personId', 'ID', 'Person'), ('aliases', 'string[]', ''), ('name', '', ''))
    """
    match = _FIELD.match(header)
    return (match["name"], match["kind"] or "", match["space"] or "") if match else (header, "", "")


def _references(spec: MappingSpec, file: str, entries: list[Neo4jImportFile], columns: list[str]) -> list[str]:
    """The columns the spec reads from this file that it does not have."""
    have = {*columns, *(_split(c)[0] for c in columns)}
    where = f"; {file} has: {', '.join(columns)}"
    problems = []
    for entry in entries:
        for name, value in entry.properties.items():
            problems += [
                f"{spec.path}:{value.line or entry.line}: {name} reads column {c!r}, which {file} lacks{where}"
                for c in value.columns
                if c not in have
            ]
        problems += [
            f"{spec.path}:{entry.line}: {entry.pattern!r} renames column {c!r}, which {file} lacks{where}"
            for c in entry.renames
            if c not in have
        ]
    used = {c: v.line for v in (spec.record_id, spec.record_date) if v for c in v.columns}
    used |= {f.column: f.line for f in spec.filters} | ({spec.grade_column: None} if spec.grade_column else {})
    missing = [(c, line) for c, line in used.items() if c not in have]
    problems += [f"{spec.path}:{line or '?'}: unknown column {c!r} in {file}{where}" for c, line in missing]
    return problems


def _column_value(column: Column, datatype: str) -> ValueSpec:
    """How a property column is read: ISO dates, as Neo4j writes them; an array keeps its first value."""
    formats = NEO4J_DATE_FORMATS if datatype in ("date", "datetime") else ()
    if column.array:  # Neo4j arrays are ;-separated; the ontology's properties hold one value
        return ValueSpec(split=column.header, separator=";", index=0, formats=formats)
    return ValueSpec(column=column.header, formats=formats)


def stored_types(store: GraphStore | None) -> Callable[[str], str | None]:
    """The type of a stored entity by id, or None (always None in a dry run, which has no store)."""

    def stored_type(entity_id: str) -> str | None:
        entity = store.get(entity_id) if store is not None else None
        return entity.type if entity is not None else None

    return stored_type


class RunNodes(dict[str, str]):
    """The nodes a run's node files defined (id -> type), and where each node that was rejected is (id -> row),
    so that a relationship to it says which row to fix."""

    def __init__(self) -> None:
        super().__init__()
        self.rejected: dict[str, str] = {}


class Neo4jImportMapper(RowMapper):
    """Maps rows of a Neo4j bulk-import node or relationship file to entities or links, checked as any row is.

    ``known_ids`` maps the id of each node this run defined to its type (shared by the files of a run,
    and filled here); a relationship's end that is not among them is looked up with ``stored_type``.
    """

    def __init__(
        self,
        spec: MappingSpec,
        model: Model,
        header: Header,
        known_ids: dict[str, str],
        stored_type: Callable[[str], str | None],
        ids: IdKey,
    ) -> None:
        assert spec.neo4j_import is not None
        self.table, self.header = spec.neo4j_import, header
        self.known_ids, self.stored_type = known_ids, stored_type
        self.rejected: dict[str, str] = getattr(known_ids, "rejected", {})
        entities = {}
        if header.nodes:  # one entity spec per type a row can have: its properties, checked as any spec's
            for type_name in dict.fromkeys(self.table.labels.values()):
                allowed = model.properties_for(type_name)
                values = {name: value for name, value in header.values.items() if name in allowed}
                entities[type_name] = EntitySpec(type_name, type_name, (), values, type_name, False, False, 0)
        super().__init__(replace(spec, entities=entities, links=()), model, ids)
        self._link_spec = LinkSpec("source", "target", None, None, {}, header.values, 0)

    def node_id(self, space: str, raw: str) -> str:
        return self.ids.entity_id(self.table.labels.get(space, "Node"), f"neo4j-import:{space}", [raw])

    def map(self, row: Row) -> tuple[list[Entity], list[Link]]:
        self.notes = []  # as RowMapper.map: what this row has to say
        row = Row(self.header.row(row.values), row.number, row.file)
        try:
            return self._node(row) if self.header.nodes else self._relationship(row)
        except ConversionError as err:
            raise RowError(str(err)) from None

    def _node(self, row: Row) -> tuple[list[Entity], list[Link]]:
        id_column = self.header.column("id")
        assert id_column is not None
        raw_id = (row.values.get(id_column.header) or "").strip()
        if not raw_id:
            raise RowError(f"the node id {id_column.header!r} is empty")
        label_column = self.header.column("label")
        labels = [x.strip() for x in (row.values.get(label_column.header, "") if label_column else "").split(";")]
        labels = [x for x in labels if x] or ([id_column.space] if id_column.space else [])
        mapped = [self.table.labels[x] for x in labels if x in self.table.labels]
        if not mapped:
            raise RowError(f"no label of {', '.join(labels) or '(none)'} is mapped; add it under neo4j_import.labels")
        spec = self.spec.entities[mapped[0]]
        node = self.node_id(id_column.space, raw_id)
        try:
            foreign = {name: value for name, value in self.header.values.items() if name not in spec.properties}
            wrong = [name for name, value in foreign.items() if value.raw(row.values)]
            if wrong:
                raise RowError(f"{article(spec.type)} cannot have {', '.join(sorted(wrong))}")
            entity = self._checked(spec, node, row, self.assertion(row))
        except (RowError, ConversionError):
            self.rejected.setdefault(node, f"{row.file} row {row.number}")
            raise
        self.known_ids[entity.id] = entity.type
        return [entity], []

    def _relationship(self, row: Row) -> tuple[list[Entity], list[Link]]:
        type_column = self.header.column("type")
        assert type_column is not None
        rel = " ".join((row.values.get(type_column.header) or "").split())
        link_type = self.table.relationships.get(rel)
        if link_type is None:
            raise RowError(f"relationship type {rel!r} is not mapped; add it under neo4j_import.relationships")
        start, end = self._end("start", row), self._end("end", row)
        source, target = (end, start) if self.header.reversed else (start, end)
        link = self.model.link_type(link_type)
        for which, (entity, column, raw), wanted in (("source", source, link.domain), ("target", target, link.range)):
            if wanted and not self.model.is_a(entity.type, wanted):
                goes = f"{link_type} goes {'from' if which == 'source' else 'to'} {article(wanted)}"
                reading = " (the file is read reversed)" if self.header.reversed else ""
                raise RowError(f"{goes}, but its {which}, {column} {raw!r}, is {article(entity.type)}{reading}")
        # RowMapper._link builds every reader's links: one place for their id and direction (Model.oriented).
        ends = {"source": source[0], "target": target[0]}
        built = self._link(replace(self._link_spec, type=link_type), row, ends, self.assertion(row))
        assert built is not None
        return [], [built]

    def _end(self, role: str, row: Row) -> tuple[Entity, str, str]:
        """A relationship's end as the entity it names (id and type only), with its column and value."""
        column = self.header.column(role)
        assert column is not None
        raw = (row.values.get(column.header) or "").strip()
        if not raw:
            raise RowError(f"the {role} node {column.header!r} is empty")
        node = self.node_id(column.space, raw)
        type_name = self.known_ids.get(node) or self.stored_type(node)
        if type_name is None:
            where = f" in id space {column.space}" if column.space else ""
            if node in self.rejected:
                raise RowError(f"{role} node {raw!r}{where} was rejected ({self.rejected[node]}); fix that row first")
            raise RowError(f"{role} node {raw!r}{where} is not in the node files loaded before, nor the store")
        self.known_ids[node] = type_name
        return Entity(node, type_name), column.header, raw
