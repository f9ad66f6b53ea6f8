"""Mapping specs: YAML that says how a partner file's columns become entities and links.

A spec is checked against the ontology Model when it is loaded, so that a mistake stops the run
before anything is written, with the spec line that caused it. See docs/mapping.md.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import regex
import yaml

from nimgraph.grading import Grade, GradeError, parse_grade
from nimgraph.identity import NORMALISERS, IdentityError
from nimgraph.ingest.dates import ORDERS, Order, default_formats, order_of
from nimgraph.ingest.read_spec import AUTO, ReadSpec
from nimgraph.ingest.readers import FORMATS, FileError, known_formats, open_source
from nimgraph.ingest.values import (
    AMBIGUOUS,
    EMPTY,
    LookupKey,
    ValueSpec,
    compile_pattern,
    fold,
    search,
    template_fields,
)
from nimgraph.ontology import Model, UnknownTypeError
from nimgraph.printable import printable
from nimgraph.validation import article


class SpecError(ValueError):
    """A mistake in a mapping spec, located by file and line."""


# A mapping spec is a few levels deep and a few hundred nodes; anything far beyond is an attack on the
# loader (PyYAML builds nested nodes recursively) or an alias bomb that expands as it is walked.
MAX_DEPTH = 32
MAX_NODES = 100_000


class _Located(dict):
    """A YAML mapping that remembers the line of each key."""

    line: int = 0
    key_lines: dict[str, int]


class _LineLoader(yaml.SafeLoader):
    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """As SafeLoader's, with a value Python cannot build (a whole number of 5,000 digits, 31 February) a
        YAML error at its line rather than a ValueError from deep inside the loader."""
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError, OverflowError) as err:
            written = printable(node.value) if isinstance(node, yaml.ScalarNode) else node.tag
            shown = repr(written if len(written) <= 40 else f"{written[:40]}...")
            if node.tag == "tag:yaml.org,2002:int":
                problem = f"the number {shown} has {len(written):,} characters, too long to read"
            else:
                problem = f"{shown} cannot be read as a {node.tag.rsplit(':', 1)[-1]}: {printable(err)}"
            raise yaml.constructor.ConstructorError(problem=problem, problem_mark=node.start_mark) from None


def _construct_located(loader: _LineLoader, node: yaml.MappingNode) -> _Located:
    seen: set[str] = set()
    for key, _ in node.value:  # PyYAML keeps the last of two equal keys: the first would vanish in silence
        if str(key.value) in seen:
            raise yaml.constructor.ConstructorError(
                problem=f"{printable(key.value)!r} is given twice in one mapping; keep one", problem_mark=key.start_mark
            )
        seen.add(str(key.value))
    mapping = _Located(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {str(k.value): k.start_mark.line + 1 for k, _ in node.value}
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_located)


@dataclass(frozen=True)
class EntitySpec:
    alias: str
    type: str
    keys: tuple[ValueSpec, ...]
    properties: dict[str, ValueSpec]
    namespace: str
    optional: bool
    reference_only: bool  # the row names the entity; another file describes it and meets its constraints
    line: int
    id_value: ValueSpec | None = None  # an id column: the partner's own id, used as is instead of hashed keys


@dataclass(frozen=True)
class LinkSpec:
    source: str
    target: str
    type: str | None
    type_column: str | None
    type_map: dict[str, str]
    properties: dict[str, ValueSpec]
    line: int
    reversed_for: frozenset[str] = frozenset()  # type_from values whose rows name the ends the other way round


# Dates and date-times as Neo4j writes them: a Neo4j import's dates need no format.
NEO4J_DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True)
class Neo4jImportFile:
    """What a Neo4j import spec says about the files whose names match ``pattern`` (a name or a glob)."""

    pattern: str
    properties: dict[str, ValueSpec]  # ontology property -> its value, in the syntax of any spec
    renames: dict[str, str]  # column -> ontology property, in these files only
    reversed: bool  # a relationship file whose :START_ID is the link's target
    line: int


@dataclass(frozen=True)
class Neo4jImportSpec:
    """How a Neo4j bulk-import export maps onto the ontology: labels, relationship types, properties."""

    labels: dict[str, str]  # Neo4j label (or id space) -> entity type
    relationships: dict[str, str]  # Neo4j relationship type -> link type
    renames: dict[str, str]  # column -> ontology property in every file (others must be ontology names)
    files: tuple[Neo4jImportFile, ...] = ()  # per file: values, renames and direction


@dataclass(frozen=True)
class MappingSpec:
    path: Path
    source: str
    agency: str
    default_grade: Grade
    grade_column: str | None
    record_id: ValueSpec | None
    record_date: ValueSpec | None
    read: ReadSpec
    entities: dict[str, EntitySpec]
    links: tuple[LinkSpec, ...] = field(default=())
    filters: tuple[RowFilter, ...] = field(default=())
    neo4j_import: Neo4jImportSpec | None = None
    grade_line: int = 0  # the spec line of grading.column

    def columns_used(self) -> dict[str, int]:
        """Every column the spec reads, with the spec line that reads it first."""
        used: dict[str, int] = {}
        values = [v for v in (self.record_id, self.record_date) if v]
        for entity in self.entities.values():
            values += [*entity.keys, *entity.properties.values(), *([entity.id_value] if entity.id_value else [])]
        for link in self.links:
            values += list(link.properties.values())
            if link.type_column:
                used.setdefault(link.type_column, link.line)
        for value in values:
            for column in value.columns:
                used.setdefault(column, value.line or 0)
        if self.grade_column:
            used.setdefault(self.grade_column, self.grade_line)
        for row_filter in self.filters:
            used.setdefault(row_filter.column, row_filter.line)
        return used


_VALUE_SOURCES = ("column", "literal", "template", "join", "first_of", "split", "lookup", "grid")
_VALUE_OPTIONS = (
    "format",
    "pivot",
    "decimal",
    "separator",
    "index",
    "strip_prefix",
    "map",
    "normalise",
    "part",
    "whole",
    "date_order",
    "check_digit",
    "unmapped",
)
_FILTER_TESTS = ("equals", "not_equals", "in", "not_in", "matches", "not_matches")


@dataclass(frozen=True)
class RowFilter:
    """Keep a row only if a column passes a test; a row that fails is skipped, not rejected."""

    column: str
    test: str
    values: tuple[str, ...]
    line: int
    pattern: regex.Pattern[str] | None = None  # matches, not_matches: searched in the value as written

    def keeps(self, row: dict[str, str]) -> bool:
        """Whether the row passes; raises ConversionError when a pattern takes too long on it (see values.search)."""
        if self.pattern is not None:
            found = search(self.pattern, row.get(self.column) or "", "filter pattern") is not None
            return found if self.test == "matches" else not found
        value = fold(row.get(self.column) or "")
        matches = value in self.values
        return matches if self.test in ("equals", "in") else not matches

    def describe(self) -> str:
        return f"{self.column} {self.test.replace('_', ' ')} {', '.join(map(repr, self.values))}"


class _Reader:
    """Builds spec objects from located YAML, raising SpecError with the line."""

    def __init__(self, path: Path, model: Model, confine_to: Path | None = None) -> None:
        self.path = path
        self.model = model
        self.confine_to = confine_to.resolve() if confine_to is not None else None
        self.lookups: dict[str, dict[str, str]] = {}
        self.lookup_normalisers: dict[str, str | None] = {}  # a table's keys, and the values sought in it, alike
        self.date_order: Order | None = None  # the spec's top-level date_order, for date values that state none

    def lookup_tables(self, raw: Any, line: int = 0) -> None:
        """Load each lookup file into a key -> value table (e.g. phone number -> person reference)."""
        if not isinstance(raw or {}, dict):
            raise self.fail(
                line, "lookups map a name to a file, e.g. lookups: {owner: {file: ..., key: ..., value: ...}}"
            )
        for name, table in (raw or {}).items():
            line = getattr(table, "line", getattr(raw, "line", 0))
            if not isinstance(table, dict) or not {"file", "key", "value"} <= set(table) <= _LOOKUP_TABLE_OPTIONS:
                raise self.fail(
                    line,
                    f"lookup {name!r} needs file, key and value (and optionally read, normalise and duplicates), "
                    "nothing else",
                )
            if not isinstance(table["file"], str) or "\0" in table["file"] or not table["file"].strip():
                raise self.fail(line, f"lookup {name!r}: file is the name of a file beside the spec")
            duplicates = str(table.get("duplicates", "refuse"))
            key_column, value_column = str(table["key"]), str(table["value"])
            if duplicates not in ("refuse", "first", "last"):
                raise self.fail(line, f"lookup {name!r}: duplicates is refuse, first or last; got {duplicates!r}")
            normalise = table.get("normalise")
            if normalise is not None and (not isinstance(normalise, str) or normalise not in NORMALISERS):
                raise self.fail(
                    line, f"lookup {name!r}: normalise {normalise!r} is not one of: {', '.join(NORMALISERS)}"
                )
            path = (self.path.parent / str(table["file"])).resolve()
            if self.confine_to is not None and not path.is_relative_to(self.confine_to):
                raise self.fail(line, f"lookup {name!r}: an uploaded spec may only read files uploaded with it")
            try:
                source = open_source(path, self.read_spec(table.get("read") or {}, line))
                columns = source.columns()
                for column in (key_column, value_column):
                    if column not in columns:
                        headerless = "" if (table.get("read") or {}).get("header") is False else (
                            "; if the file has no header row, set read: {header: false, columns: [...]} in the lookup"
                        )  # fmt: skip
                        raise self.fail(
                            line,
                            f"lookup {name!r}: {path.name} has no column {column!r}; "
                            f"it has: {', '.join(map(repr, columns[:12]))}{headerless}",
                        )
                self.lookups[str(name)] = _lookup_table(source.rows(), key_column, value_column, normalise, duplicates)
                self.lookup_normalisers[str(name)] = normalise
            except (FileError, ValueError) as err:  # ValueError: too many rows
                raise self.fail(line, f"lookup {name!r}: {err}") from None

    def filters(self, raw: Any, line: int = 0) -> tuple[RowFilter, ...]:
        found = []
        if not isinstance(raw or [], list):
            raise self.fail(line, "filter is a list of tests, e.g. filter: [{column: Status, not_equals: deleted}]")
        if len(raw or []) > MAX_FILTERS:
            raise self.fail(line, f"at most {MAX_FILTERS} filters; this spec has {len(raw)}")
        for item in raw or []:
            line = getattr(item, "line", 0)
            tests = [t for t in _FILTER_TESTS if t in item] if isinstance(item, dict) else []
            if not isinstance(item, dict) or "column" not in item or len(tests) != 1:
                raise self.fail(line, f"a filter is {{column: ..., one of {', '.join(_FILTER_TESTS)}: ...}}")
            wanted = item[tests[0]]
            values = wanted if isinstance(wanted, list) else [wanted]
            pattern = None
            if tests[0] in ("matches", "not_matches"):
                try:
                    pattern = compile_pattern(str(wanted), re.IGNORECASE)
                except ValueError as err:
                    raise self.fail(line, f"{tests[0]} {wanted!r} is not a regular expression: {err}") from None
            found.append(
                RowFilter(
                    column=str(item["column"]),
                    test=tests[0],
                    values=tuple(fold(str(v)) for v in values),
                    line=line,
                    pattern=pattern,
                )
            )
        return tuple(found)

    def source_name(self, source: _Located) -> str:
        """The source's name: plain letters, digits, spaces, dots, dashes and underscores, so that two names
        that look alike are alike (a Cyrillic es for a c, a zero-width space or a trailing space would not show)."""
        name = self.section(source, "name")
        line = source.key_lines.get("name", source.line)
        if not isinstance(name, str) or not SOURCE_NAME.fullmatch(name) or "  " in name:
            raise self.fail(
                line,
                f"source.name {printable(name)!r} must be 1 to 100 of A-Z, a-z, 0-9, '.', '_', '-' and single "
                "spaces, starting with a letter or digit and not ending in a space",
            )
        return name

    def flag(self, raw: Any, key: str, default: bool) -> bool:
        """A yes-or-no option: YAML's true or false, never a word that merely reads as one ("false" is text)."""
        value = raw.get(key, default)
        if not isinstance(value, bool):
            line = getattr(raw, "key_lines", {}).get(key, getattr(raw, "line", 0))
            raise self.fail(line, f"{key} is true or false (without quotes); got {value!r}")
        return value

    def fail(self, line: int | None, message: str) -> SpecError:
        return SpecError(f"{self.path}:{line or '?'}: {message}")

    def part(self, parent: _Located, key: str, kind: type, example: str, required: bool = False) -> Any:
        """``parent[key]``, a mapping (``kind`` dict) or a list; empty if it is not given and not ``required``."""
        value = self.section(parent, key, required)
        if value is None and not required:
            return _Located() if kind is dict else []
        if not isinstance(value, kind):
            shape = "a mapping" if kind is dict else "a list"
            raise self.fail(parent.key_lines.get(key, parent.line), f"{key} is {shape}, e.g. {example}")
        return value

    def section(self, parent: _Located, key: str, required: bool = True) -> Any:
        if key not in parent:
            if required:
                raise self.fail(parent.line, f"missing '{key}'")
            return None
        return parent[key]

    def value(self, raw: Any, line: int, formats_needed: bool = False) -> ValueSpec:
        if isinstance(raw, str):
            raw = {"column": raw}
        if not isinstance(raw, dict):
            raise self.fail(line, f"a value must be a column name or a mapping, got {raw!r}")
        line = getattr(raw, "line", 0) or line
        sources = [k for k in _VALUE_SOURCES if k in raw]
        if len(sources) != 1:
            raise self.fail(line, f"a value needs exactly one of {', '.join(map(repr, _VALUE_SOURCES))}")
        unknown = set(raw) - {*_VALUE_SOURCES, *_VALUE_OPTIONS}
        if unknown:
            raise self.fail(line, f"unknown value option(s): {', '.join(sorted(map(str, unknown)))}")
        formats = raw.get("format") or ()
        formats = (formats,) if isinstance(formats, str) else tuple(str(f) for f in formats)
        date_order = self.order(raw.get("date_order"), line) or (self.date_order if formats_needed else None)
        if formats_needed and not formats:
            if date_order is None:
                raise self.fail(
                    line,
                    "a date needs 'format' (e.g. format: '%d/%m/%Y', a list is allowed) "
                    "or date_order: day_first or month_first",
                )
            formats = default_formats(date_order)
        for fmt in formats:
            if date_order and order_of(fmt) not in (None, date_order):
                raise self.fail(line, f"format {fmt!r} reads the {'month' if date_order == 'day_first' else 'day'} "
                                f"first, but date_order is {date_order}")  # fmt: skip
        check_digit = str(raw.get("check_digit", "warn"))
        if check_digit not in ("warn", "strict") or ("check_digit" in raw and raw.get("normalise") != "nhs_number"):
            raise self.fail(line, "check_digit is 'warn' or 'strict', and goes with normalise: nhs_number")
        join = raw.get("join") or ()
        if "join" in raw and (not isinstance(join, list) or not join or not all(isinstance(c, str) for c in join)):
            raise self.fail(
                line,
                "join takes a list of column names, e.g. join: [Forename, Surname]; a part cannot be a value of "
                "its own (to clean a part, map the whole value, or give the parts as separate properties)",
            )
        first_of = raw.get("first_of") or ()
        if "first_of" in raw and (
            not isinstance(first_of, list) or len(first_of) < 2 or not all(isinstance(c, str) for c in first_of)
        ):
            raise self.fail(
                line, "first_of takes a list of two or more column names, e.g. first_of: [NHS No, Traced NHS]"
            )
        if isinstance(raw.get("strip_prefix"), (list, dict)):
            raise self.fail(line, "strip_prefix is the text to take off the front of a value, e.g. strip_prefix: REF-")
        if not isinstance(raw.get("map") or {}, dict):
            raise self.fail(line, "map is a mapping of values to what they become, e.g. map: {M: male, F: female}")
        unmapped = raw.get("unmapped")
        if unmapped is not None and (unmapped not in ("keep", "reject") or "map" not in raw):
            raise self.fail(line, "unmapped is keep or reject, and goes with map")
        lookup_table, lookup_column, lookup_key = None, None, LookupKey()
        if "lookup" in raw:
            lookup = raw["lookup"]
            if not isinstance(lookup, dict) or not {"table", "column"} <= set(lookup) <= _LOOKUP_OPTIONS:
                raise self.fail(
                    line,
                    "lookup takes {table: <a name under 'lookups'>, column: <this file's column>} and optionally "
                    "pattern: <a regular expression> or split: <a separator> with index: <a part number>",
                )
            if not isinstance(lookup["table"], str) or lookup["table"] not in self.lookups:
                known = ", ".join(self.lookups) or "none"
                raise self.fail(
                    line, f"lookup table {lookup['table']!r} is not defined under 'lookups' (defined: {known})"
                )
            lookup_table, lookup_column = self.lookups[lookup["table"]], str(lookup["column"])
            lookup_key = self.lookup_key(lookup, line)
        normalise = raw.get("normalise")
        if normalise is not None and (not isinstance(normalise, str) or normalise not in NORMALISERS):
            raise self.fail(line, f"normalise {normalise!r} is not one of: {', '.join(NORMALISERS)}")
        if "template" in raw:
            try:
                fields = [name for _, name in template_fields(str(raw["template"])) if name is not None]
            except ValueError as err:
                raise self.fail(line, f"template {raw['template']!r}: {err}") from None
            if not fields:
                raise self.fail(
                    line, f"template {raw['template']!r} names no column in braces; for fixed text use literal"
                )
            if len(fields) > MAX_PARTS:
                raise self.fail(line, f"a template names at most {MAX_PARTS} columns; this one names {len(fields)}")
        if len(join) > MAX_PARTS or len(first_of) > MAX_PARTS:
            raise self.fail(line, f"join and first_of take at most {MAX_PARTS} columns")
        if ("split" in raw or "join" in raw) and raw.get("separator") == "":
            raise self.fail(line, "separator is at least one character; join's default is a space, split's a comma")
        grid = raw.get("grid") or ()
        if "grid" in raw and (
            not isinstance(grid, list) or len(grid) != 2 or raw.get("part") not in ("latitude", "longitude")
        ):
            raise self.fail(line, "grid takes [easting column, northing column] and part: latitude or longitude")
        whole = raw.get("whole", False)
        if not isinstance(whole, bool) or (whole and not ("join" in raw or "template" in raw)):
            raise self.fail(line, "whole: true goes with join or template (empty unless every column has a value)")
        pivot = raw.get("pivot")
        if pivot is not None and (not isinstance(pivot, int) or not 0 <= pivot <= 99):
            raise self.fail(line, f"pivot is a two-digit year from 0 to 99; got {pivot!r}")
        decimal = str(raw.get("decimal", "."))
        if decimal not in (".", ","):
            raise self.fail(line, f"decimal is '.' or ','; got {decimal!r}")
        try:
            index = int(raw.get("index", 0))
        except (TypeError, ValueError):
            raise self.fail(line, f"index is a whole number; got {raw.get('index')!r}") from None
        return ValueSpec(
            column=_str_or_none(raw.get("column")),
            literal=_str_or_none(raw.get("literal")),
            template=_str_or_none(raw.get("template")),
            join=tuple(str(c) for c in join),
            split=_str_or_none(raw.get("split")),
            lookup=lookup_table,
            lookup_column=lookup_column,
            lookup_name=str(raw["lookup"]["table"]) if "lookup" in raw else "",
            lookup_normalise=self.lookup_normalisers.get(str(raw["lookup"]["table"])) if "lookup" in raw else None,
            lookup_key=lookup_key,
            grid=tuple(str(c) for c in grid),
            part=str(raw.get("part", "")),
            separator=str(raw.get("separator", "," if "split" in raw else " ")),
            index=index,
            formats=formats,
            pivot=pivot,
            decimal=decimal,
            strip_prefix=_str_or_none(raw.get("strip_prefix")),
            mapping={str(k): str(v) for k, v in (raw.get("map") or {}).items()},
            unmapped=unmapped,
            first_of=tuple(first_of),
            whole=whole,
            normalise=normalise,
            date_order=date_order,
            check_digit=check_digit,
            line=line,
        )

    def order(self, raw: Any, line: int) -> Order | None:
        if raw is None:
            return None
        if raw not in ORDERS:
            raise self.fail(line, f"date_order is day_first or month_first; got {raw!r}")
        return raw

    def lookup_key(self, lookup: dict, line: int) -> LookupKey:
        if "pattern" in lookup and "split" in lookup:
            raise self.fail(line, "a lookup key is taken by pattern or by split, not both")
        if "index" in lookup and "split" not in lookup:
            raise self.fail(line, "a lookup's index goes with split")
        if "pattern" in lookup:
            try:
                pattern = compile_pattern(str(lookup["pattern"]))
            except ValueError as err:
                problem = f"lookup pattern {lookup['pattern']!r} is not a regular expression: {err}"
                raise self.fail(line, problem) from None
            if pattern.groups > 1:
                raise self.fail(line, "a lookup pattern has at most one group: the part of the value to look up")
            return LookupKey(pattern=pattern)
        if "split" in lookup:
            try:
                index = int(lookup.get("index", 0))
            except (TypeError, ValueError):
                raise self.fail(line, f"a lookup's index is a whole number; got {lookup.get('index')!r}") from None
            if not str(lookup["split"]):
                raise self.fail(line, "a lookup's split is at least one character")
            return LookupKey(separator=str(lookup["split"]), index=index)
        return LookupKey()

    def properties(self, raw: _Located | None, type_name: str, allowed: dict, line: int = 0) -> dict[str, ValueSpec]:
        if not isinstance(raw or {}, dict):
            raise self.fail(line, f"properties map a property of {type_name} to a value, e.g. {{name: Name}}")
        specs = {}
        for name, value in (raw or {}).items():
            line = raw.key_lines.get(name, raw.line)  # type: ignore[union-attr]
            if name not in allowed:
                raise self.fail(line, f"{type_name} has no property {name!r}; it has: {', '.join(sorted(allowed))}")
            specs[name] = self.value(value, line, formats_needed=allowed[name].datatype in ("date", "datetime"))
        return specs

    def entity(self, alias: str, raw: _Located, line: int = 0) -> EntitySpec:
        if not isinstance(raw, dict):
            raise self.fail(line, f"entity {alias!r} is a mapping: {{type: ..., keys: [...], properties: {{...}}}}")
        type_name = str(self.section(raw, "type"))
        try:
            entity_type = self.model.entity_type(type_name)
        except UnknownTypeError as err:
            raise self.fail(raw.key_lines.get("type"), str(err)) from None
        if not entity_type.mappable:
            raise self.fail(
                raw.key_lines.get("type"), f"{type_name} is created by nimgraph itself; a mapping cannot create one"
            )
        id_value = self.value(raw["id"], raw.key_lines["id"]) if "id" in raw else None
        keys = raw.get("keys")
        if id_value is not None and keys:
            raise self.fail(raw.key_lines.get("id"), f"entity '{alias}' has both 'id' and 'keys'; keep one")
        if id_value is None and (not isinstance(keys, list) or not keys):
            raise self.fail(
                raw.key_lines.get("keys", raw.line),
                f"entity '{alias}' needs 'keys' (a non-empty list) or an 'id' column",
            )
        return EntitySpec(
            alias=alias,
            type=type_name,
            id_value=id_value,
            keys=tuple(self.value(k, raw.key_lines["keys"]) for k in keys or ()),
            properties=self.properties(
                raw.get("properties"),
                type_name,
                self.model.properties_for(type_name),
                raw.key_lines.get("properties", raw.line),
            ),
            namespace=str(raw.get("namespace") or type_name),
            optional=self.flag(raw, "optional", False),
            reference_only=self.flag(raw, "reference_only", False),
            line=raw.line,
        )

    def link(self, raw: _Located, entities: dict[str, EntitySpec], line: int = 0) -> LinkSpec:
        if not isinstance(raw, dict):
            raise self.fail(line, "a link is a mapping: {type: ..., from: <an entity>, to: <an entity>}")
        ends = {}
        for end in ("from", "to"):
            alias = self.section(raw, end)
            if alias not in entities:
                raise self.fail(
                    raw.key_lines.get(end),
                    f"link {end} '{alias}' is not an entity of this spec; defined: {', '.join(entities)}",
                )
            ends[end] = entities[alias]
        type_name, type_column, type_map = raw.get("type"), None, {}
        reversed_for: set[str] = set()
        if "type_from" in raw:
            chooser = raw["type_from"]
            if not isinstance(chooser, dict) or not isinstance(chooser.get("map"), dict) or "column" not in chooser:
                raise self.fail(raw.line, "type_from is {column: ..., map: {value: link type, ...}}")
            type_column = str(chooser["column"])
            for value, chosen in chooser["map"].items():
                if isinstance(chosen, dict):
                    if set(chosen) - {"type", "reversed"} or "type" not in chosen:
                        raise self.fail(
                            raw.line, f"type_from's {value!r} takes a link type or {{type: ..., reversed: true}}"
                        )
                    if chosen.get("reversed"):
                        reversed_for.add(str(value))
                    chosen = chosen["type"]
                type_map[str(value)] = str(chosen)
            names = sorted(set(type_map.values()))
        elif type_name:
            names = [str(type_name)]
        else:
            raise self.fail(raw.line, "a link needs 'type' or 'type_from: {column: ..., map: {...}}'")
        for name in names:
            backwards = any(type_map.get(v) == name for v in reversed_for)
            if backwards:
                self.check_link_type(name, ends["to"], ends["from"], raw.line)
            if not backwards or any(type_map[v] == name for v in set(type_map) - reversed_for):
                self.check_link_type(name, ends["from"], ends["to"], raw.line)
        return LinkSpec(
            source=ends["from"].alias,
            target=ends["to"].alias,
            type=str(type_name) if type_name else None,
            type_column=type_column,
            type_map=type_map,
            properties=self.properties(
                raw.get("properties"), "a link", self.model.properties, raw.key_lines.get("properties", raw.line)
            ),
            line=raw.line,
            reversed_for=frozenset(reversed_for),
        )

    def neo4j_import(self, raw: Any, line: int) -> Neo4jImportSpec:
        line = getattr(raw, "line", line)
        if not isinstance(raw, dict) or not isinstance(raw.get("labels"), dict) or not raw["labels"]:
            raise self.fail(
                line, "neo4j_import needs 'labels' (Neo4j label: ontology type), and usually 'relationships'"
            )
        unknown = set(raw) - {"labels", "relationships", "renames", "properties", "files"}
        if unknown:
            raise self.fail(line, f"unknown neo4j_import option(s): {', '.join(sorted(map(str, unknown)))}")
        if "renames" in raw and "properties" in raw:
            raise self.fail(line, "neo4j_import.properties is the older name for renames; keep one of them")
        labels, relationships = {}, {}
        for label, type_name in raw["labels"].items():
            where = getattr(raw["labels"], "key_lines", {}).get(label, line)
            try:
                entity = self.model.entity_type(str(type_name))
            except UnknownTypeError as err:
                raise self.fail(where, str(err)) from None
            if not entity.mappable:
                raise self.fail(where, f"{type_name} is created by nimgraph itself; a mapping cannot create one")
            labels[str(label)] = str(type_name)
        table = raw.get("relationships") or {}
        if not isinstance(table, dict):
            raise self.fail(line, "neo4j_import.relationships maps a relationship type to a link, e.g. {KNOWS: knows}")
        for rel, link_name in table.items():
            where = getattr(table, "key_lines", {}).get(rel, line)
            try:
                link = self.model.link_type(str(link_name))
            except UnknownTypeError as err:
                raise self.fail(where, str(err)) from None
            if not link.mappable or link.inferred:
                raise self.fail(
                    where, f"{link_name!r} links are created by nimgraph itself; a mapping cannot create one"
                )
            relationships[str(rel)] = str(link_name)
        files = raw.get("files") or {}
        if not isinstance(files, dict):
            raise self.fail(
                line, "neo4j_import.files maps a file name or glob to its settings, e.g. 'crimes*.csv': {...}"
            )
        too_long = [p for p in files if len(str(p)) > 200]
        if len(files) > MAX_FILE_ENTRIES or too_long:
            raise self.fail(line, f"neo4j_import.files takes at most {MAX_FILE_ENTRIES} names or globs, each of at "
                            "most 200 characters")  # fmt: skip
        return Neo4jImportSpec(
            labels=labels,
            relationships=relationships,
            renames=self.neo4j_renames(raw.get("renames", raw.get("properties")), line),
            files=tuple(
                self.neo4j_file(str(pattern), entry, getattr(files, "key_lines", {}).get(pattern, line))
                for pattern, entry in files.items()
            ),
        )

    def neo4j_renames(self, raw: Any, line: int) -> dict[str, str]:
        """Column -> ontology property, each checked against the ontology."""
        if not isinstance(raw or {}, dict):
            raise self.fail(line, "renames map a column to an ontology property, e.g. {dob: dateOfBirth}")
        renames = {}
        for name, target in (raw or {}).items():
            try:
                self.model.property_def(str(target))
            except UnknownTypeError as err:
                raise self.fail(raw.key_lines.get(name, line), str(err)) from None
            renames[str(name)] = str(target)
        return renames

    def neo4j_file(self, pattern: str, raw: Any, line: int) -> Neo4jImportFile:
        """One entry of neo4j_import.files: values by property (dates default to Neo4j's ISO), renames, direction."""
        raw = _Located() if raw is None else raw
        if not isinstance(raw, dict) or set(raw) - {"properties", "renames", "reversed"}:
            raise self.fail(line, f"neo4j_import.files {pattern!r} takes properties, renames and reversed")
        if not isinstance(raw.get("reversed", False), bool):
            raise self.fail(line, f"neo4j_import.files {pattern!r}: reversed is true or false")
        values = raw.get("properties") or _Located()
        if not isinstance(values, dict):
            raise self.fail(line, f"neo4j_import.files {pattern!r}: properties map an ontology property to a value")
        properties = {}
        for name, value in values.items():
            where = getattr(values, "key_lines", {}).get(name, line)
            try:
                dated = self.model.property_def(str(name)).datatype in ("date", "datetime")
            except UnknownTypeError as err:
                raise self.fail(where, str(err)) from None
            value = {"column": value} if isinstance(value, str) else value
            if dated and isinstance(value, dict) and not {"format", "date_order"} & set(value):
                value = {**value, "format": list(NEO4J_DATE_FORMATS)}
            properties[str(name)] = self.value(value, where, formats_needed=dated)
        return Neo4jImportFile(
            pattern=pattern,
            properties=properties,
            renames=self.neo4j_renames(raw.get("renames"), getattr(raw, "line", 0) or line),
            reversed=self.flag(raw, "reversed", False),
            line=line,
        )

    def read_spec(self, raw: Any, line: int = 0) -> ReadSpec:
        if not isinstance(raw, dict):
            raise self.fail(line, "read is a mapping of read options, e.g. read: {header_row: 3, sheet: Data}")
        line = getattr(raw, "line", 0) or line
        unknown = set(raw) - {"format", "delimiter", "encoding", "header", "header_row", "columns", "sheet", "records"}
        if unknown:
            raise self.fail(line, f"unknown read option(s): {', '.join(sorted(map(str, unknown)))}")
        fmt = str(raw.get("format", AUTO)).lower()
        if fmt != AUTO and fmt not in FORMATS:
            raise self.fail(
                line, f"unknown format {printable(fmt)!r} in read.format; known formats: {AUTO}, {known_formats()}"
            )
        delimiter = str(raw.get("delimiter", "auto"))
        delimiter = {"tab": "\t", "\\t": "\t"}.get(delimiter, delimiter)
        if delimiter != "auto" and len(delimiter) != 1:
            raise self.fail(line, f"read.delimiter must be one character, 'tab' or 'auto'; got {delimiter!r}")
        if not isinstance(raw.get("columns") or [], list):
            raise self.fail(line, "read.columns is a list of the file's column names in order, e.g. [Ref, Date]")
        columns = tuple(str(c) for c in raw.get("columns") or ())
        header = self.flag(raw, "header", True)
        if not header and not columns:
            raise self.fail(line, "a file without a header row needs read.columns: the name of each column in order")
        header_row = raw.get("header_row", 1)
        if isinstance(header_row, bool) or not isinstance(header_row, int) or header_row < 1:
            raise self.fail(line, f"read.header_row is the header's row number, counted from 1; got {header_row!r}")
        if header_row != 1 and (not header or (fmt != AUTO and not FORMATS[fmt].header_row)):
            raise self.fail(line, "read.header_row goes with a header row in a CSV or xlsx file")
        encoding = str(raw.get("encoding", "auto"))
        if encoding != "auto":
            try:
                text_codec = codecs.lookup(encoding)._is_text_encoding
            except LookupError:
                raise self.fail(line, f"read.encoding {encoding!r} is not an encoding Python knows") from None
            if not text_codec:
                raise self.fail(line, f"read.encoding {encoding!r} is not a text encoding (e.g. utf-8, cp1252)")
        return ReadSpec(
            format=fmt,
            delimiter=delimiter,
            encoding=encoding,
            header=header,
            header_row=header_row,
            columns=columns,
            sheet=_str_or_none(raw.get("sheet")),
            records=_str_or_none(raw.get("records")),
        )

    def check_link_type(self, name: str, source: EntitySpec, target: EntitySpec, line: int) -> None:
        try:
            link = self.model.link_type(name)
        except UnknownTypeError as err:
            raise self.fail(line, str(err)) from None
        if not link.mappable or link.inferred:
            raise self.fail(line, f"{name!r} links are created by nimgraph itself; a mapping cannot create one")
        for end, spec, wanted in (("from", source, link.domain), ("to", target, link.range)):
            if wanted and not self.model.is_a(spec.type, wanted):
                raise self.fail(
                    line, f"link {name!r} goes {end} {article(wanted)}, but '{spec.alias}' is {article(spec.type)}"
                )


SOURCE_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9 ._-]{0,98}[A-Za-z0-9._-])?")
MAX_LOOKUP_ROWS = 2_000_000  # a lookup table is held in memory while a spec runs
MAX_FILTERS = 50  # each may hold a pattern, tried on every row (50 ms at most each): a bound on a row's time
MAX_PARTS = 50  # the columns a template, join or first_of may name: each row's value is built from them
MAX_FILE_ENTRIES = 100  # neo4j_import.files entries, each a glob matched against every file name
_LOOKUP_OPTIONS = {"table", "column", "pattern", "split", "index"}
_LOOKUP_TABLE_OPTIONS = {"file", "key", "value", "read", "normalise", "duplicates"}


def _lookup_table(
    rows: Any, key_column: str, value_column: str, normalise: str | None = None, duplicates: str = "refuse"
) -> dict[str, str]:
    """key -> value from a lookup file. A key given two different values maps to AMBIGUOUS, never to either,
    unless ``duplicates`` says the ``first`` or the ``last`` of them holds; a key with an empty value maps to
    EMPTY (found, but saying nothing).

    With ``normalise``, keys are normalised as identifiers are (a phone number written any way is one key);
    a key the normaliser refuses (an NHS number of 9 digits) can match no row's value, and is left out.
    """
    table: dict[str, str] = {}
    for number, (_, values, _) in enumerate(rows, start=1):
        if number > MAX_LOOKUP_ROWS:
            raise ValueError(f"it has more than {MAX_LOOKUP_ROWS:,} rows; load it as a file of its own and link to it")
        key = fold(values.get(key_column, ""))
        if normalise and key:
            try:
                key = fold(NORMALISERS[normalise](key))
            except IdentityError:
                continue
        value = " ".join(values.get(value_column, "").split()) or EMPTY
        if not key or (value == EMPTY and key in table):
            continue
        known = table.get(key, EMPTY)
        if known in (EMPTY, value) or duplicates == "last":
            table[key] = value
        elif duplicates == "refuse":
            table[key] = AMBIGUOUS
    return table


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _spec_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise SpecError(f"{path}: cannot read the spec: {err.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        kind = "a binary file" if b"\0" in data[:8192] else "not UTF-8 text"
        where = f"byte 0x{data[err.start]:02x} at offset {err.start}"
        raise SpecError(f"{path}: {kind} ({where}); a mapping spec is YAML saved as UTF-8") from None


def _check_shape(text: str, path: Path) -> None:
    """Refuse a spec nested deeper than MAX_DEPTH or whose aliases expand past MAX_NODES, before it is built.

    Read as events (iteratively), so the check itself cannot run out of stack or memory.
    """
    sizes: dict[str, int] = {}  # nodes under each anchor, so an alias counts as what it stands for
    open_nodes: list[list] = [[None, 0]]  # [anchor, nodes so far] of each collection being read
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            open_nodes.append([event.anchor, 1])
            if len(open_nodes) > MAX_DEPTH:
                line = event.start_mark.line + 1
                raise SpecError(f"{path}:{line}: nested more than {MAX_DEPTH} levels deep; a mapping spec needs a few")
            continue
        if isinstance(event, yaml.CollectionEndEvent):
            anchor, nodes = open_nodes.pop()
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor not in sizes:  # a node that holds itself: walking it would never end
                line = event.start_mark.line + 1
                raise SpecError(f"{path}:{line}: *{printable(event.anchor)} is inside the node it names, or undefined")
            anchor, nodes = None, sizes[event.anchor]
        elif isinstance(event, yaml.ScalarEvent):
            anchor, nodes = event.anchor, 1
        else:
            continue
        if anchor:
            sizes[anchor] = nodes
        open_nodes[-1][1] += nodes
        if open_nodes[-1][1] > MAX_NODES:
            line = event.start_mark.line + 1
            raise SpecError(f"{path}:{line}: its aliases expand past {MAX_NODES:,} values; write it out plainly")


def _yaml_line(err: yaml.YAMLError) -> int | str:
    mark = getattr(err, "problem_mark", None)
    return mark.line + 1 if mark is not None else "?"


def _yaml_problem(err: yaml.YAMLError) -> str:
    """PyYAML's explanation without the multi-line snippet of the file it quotes."""
    if isinstance(err, yaml.reader.ReaderError):
        return f"character U+{int(err.character):04X} at offset {err.position} is not allowed in YAML"
    problem = getattr(err, "problem", None) or str(err)
    return printable(" ".join(str(problem).split()))


def load_spec(path: str | Path, model: Model, *, confine_to: Path | None = None) -> MappingSpec:
    """Read and check a mapping spec; raises SpecError naming the line of the first mistake.

    ``confine_to`` keeps the files a spec reads (lookup tables) inside one directory: an uploaded
    spec must not read the server's files.
    """
    path = Path(path)
    text = _spec_text(path)
    try:
        _check_shape(text, path)
        raw = yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as err:
        raise SpecError(f"{path}:{_yaml_line(err)}: not valid YAML: {_yaml_problem(err)}") from None
    reader = _Reader(path, model, confine_to)
    if not isinstance(raw, dict):
        raise reader.fail(1, "a mapping spec is a YAML mapping with 'source', 'entities' and 'links'")
    try:
        return _build(raw, reader)
    except SpecError:
        raise
    except (TypeError, AttributeError, ValueError, KeyError) as err:  # a shape no check above foresaw
        problem = printable(f"{type(err).__name__}: {err}")[:200]
        raise reader.fail(None, f"the spec's shape is not what docs/mapping.md describes ({problem})") from None


def _build(raw: _Located, reader: _Reader) -> MappingSpec:
    source = reader.part(raw, "source", dict, "source: {name: ..., agency: ...}", required=True)
    grading = reader.part(raw, "grading", dict, "grading: {default: 1BP, column: Grade}")
    try:
        default_grade = parse_grade(str(grading.get("default", "")))
    except GradeError as err:
        raise reader.fail(getattr(grading, "line", raw.line), f"grading.default: {err}") from None
    reader.date_order = reader.order(raw.get("date_order"), raw.key_lines.get("date_order", raw.line))
    reader.lookup_tables(raw.get("lookups"), raw.key_lines.get("lookups", raw.line))
    neo4j_import = reader.neo4j_import(raw.get("neo4j_import"), raw.line) if "neo4j_import" in raw else None
    example = "entities: {person: {type: Person, keys: [...]}}"
    entities_raw = reader.part(raw, "entities", dict, example, required=not neo4j_import)
    entities = {
        alias: reader.entity(alias, spec, entities_raw.key_lines.get(str(alias), entities_raw.line))
        for alias, spec in entities_raw.items()
    }
    links_raw = reader.part(raw, "links", list, "links: [{type: ..., from: ..., to: ...}]")
    links_line = raw.key_lines.get("links", raw.line)
    links = tuple(reader.link(link, entities, getattr(link, "line", links_line)) for link in links_raw)
    return MappingSpec(
        path=reader.path,
        source=reader.source_name(source),
        agency=str(source.get("agency", "")),
        default_grade=default_grade,
        grade_column=_str_or_none(grading.get("column")),
        grade_line=getattr(grading, "key_lines", {}).get("column", getattr(grading, "line", 0)),
        record_id=reader.value(raw["record_id"], raw.key_lines["record_id"]) if "record_id" in raw else None,
        record_date=(
            reader.value(raw["record_date"], raw.key_lines["record_date"], formats_needed=True)
            if "record_date" in raw
            else None
        ),
        read=reader.read_spec(raw.get("read") or {}, raw.key_lines.get("read", raw.line)),
        entities=entities,
        links=links,
        filters=reader.filters(raw.get("filter"), raw.key_lines.get("filter", raw.line)),
        neo4j_import=neo4j_import,
    )
