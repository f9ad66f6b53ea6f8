"""Neo4j schema from the ontology Model: the store's own labels, uniqueness constraints on keys, indexes on
filtered properties.

Schema statements cannot take parameters, so their labels are written into the text; every label
comes from the Model (or the store's own Entity and Record labels) and is checked to be a plain name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import neo4j

from nimgraph.ontology import Core, Model, snake_case

ENTITY_LABEL = "Entity"  # on every node: the label MERGE uses, with a uniqueness constraint on id
RECORD_LABEL = Core.RECORD  # provenance: one node per source record
META_LABEL = "NimgraphMeta"  # the store's own settings, as nimgraph/queries/read_meta.cypher names them
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class SchemaItem:
    kind: str  # "constraint" or "index"
    name: str
    statement: str


def _checked(label: str) -> str:
    if not _NAME.match(label):
        raise ValueError(f"{label!r} is not a plain label name")
    return label


def schema_items(model: Model) -> list[SchemaItem]:
    """Every constraint and index the store relies on, in the order they are created."""
    items = [
        SchemaItem(
            "constraint",
            "entity_id",
            f"CREATE CONSTRAINT entity_id IF NOT EXISTS FOR (n:{ENTITY_LABEL}) REQUIRE n.id IS UNIQUE",
        ),
        SchemaItem(
            "constraint",
            "record_key",
            f"CREATE CONSTRAINT record_key IF NOT EXISTS FOR (r:{RECORD_LABEL}) REQUIRE r.key IS UNIQUE",
        ),
        SchemaItem(  # the store's own settings (its id key): one node per name, whoever writes first
            "constraint",
            "meta_name",
            f"CREATE CONSTRAINT meta_name IF NOT EXISTS FOR (m:{META_LABEL}) REQUIRE m.name IS UNIQUE",
        ),
    ]
    source = _checked(model.entity_type(Core.INFORMATION_SOURCE).name)
    items.append(  # the source register: one node per information source, by name
        SchemaItem(
            "constraint",
            "information_source_name",
            f"CREATE CONSTRAINT information_source_name IF NOT EXISTS FOR (s:{source}) REQUIRE s.name IS UNIQUE",
        )
    )
    for name in sorted(n for n, t in model.entities.items() if t.mappable):  # the rest are never Entity nodes
        label = _checked(model.entity_type(name).name)
        constraint = f"{snake_case(label)}_id"
        items.append(
            SchemaItem(
                "constraint",
                constraint,
                f"CREATE CONSTRAINT {constraint} IF NOT EXISTS FOR (n:{label}) REQUIRE n.id IS UNIQUE",
            )
        )
    items += [
        SchemaItem(
            "index", "entity_type", f"CREATE INDEX entity_type IF NOT EXISTS FOR (n:{ENTITY_LABEL}) ON (n.type)"
        ),
        SchemaItem(  # retracting a source finds its records by source
            "index", "record_source", f"CREATE INDEX record_source IF NOT EXISTS FOR (r:{RECORD_LABEL}) ON (r.source)"
        ),
    ]
    return items


def apply_schema(driver: neo4j.Driver, model: Model, database: str = "neo4j") -> list[SchemaItem]:
    """Create what is missing, idempotently; returns what this call created."""

    def existing() -> set[str]:
        constraints, _, _ = driver.execute_query("SHOW CONSTRAINTS YIELD name", database_=database)
        indexes, _, _ = driver.execute_query("SHOW INDEXES YIELD name", database_=database)
        return {r["name"] for r in [*constraints, *indexes]}

    before = existing()
    wanted = schema_items(model)
    for item in wanted:
        if item.name not in before:
            driver.execute_query(item.statement, database_=database)
    driver.execute_query("CALL db.awaitIndexes(300)", database_=database)
    return [item for item in wanted if item.name not in before]
