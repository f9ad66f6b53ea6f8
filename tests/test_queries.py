"""Every named query declares exactly the parameters it uses, and no query text is built from values."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from nimgraph.store.queries import QUERIES_DIR, load_queries, parse_query

QUERIES = sorted(QUERIES_DIR.glob("*.cypher"))
PACKAGE = Path(__file__).resolve().parent.parent / "nimgraph"


@pytest.mark.parametrize("path", QUERIES, ids=[p.stem for p in QUERIES])
def test_header_names_every_parameter_the_query_uses(path):
    parsed = parse_query(path)
    assert parsed.description
    assert parsed.parameters == parsed.used_parameters(), path.name


def test_there_are_queries_and_the_store_uses_each_one():
    source = (PACKAGE / "store" / "neo4j.py").read_text()
    assert QUERIES
    for name in load_queries():
        assert f'"{name}"' in source, f"queries/{name}.cypher is not used by the Neo4j store"


def _cypher_calls(tree: ast.AST):
    for node in ast.walk(tree):
        is_method = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        if is_method and node.func.attr in {"run", "execute_query"} and node.args:
            yield node


def test_no_query_text_is_assembled_in_the_store():
    """Query text passed to the driver is a named query's text or a fixed literal, never a built string."""
    for path in sorted((PACKAGE / "store").glob("*.py")):
        for call in _cypher_calls(ast.parse(path.read_text())):
            text = call.args[0]
            fixed = isinstance(text, ast.Constant) or (
                isinstance(text, ast.Attribute) and text.attr in {"text", "statement"}
            )
            assert fixed, f"{path.name}:{call.lineno}: query text is built, not read from queries/"


def test_schema_statements_take_labels_only_from_the_model(model):
    from nimgraph.store.schema import schema_items

    statements = " ".join(item.statement for item in schema_items(model))
    for name, entity_type in model.entities.items():
        assert (f"(n:{name})" in statements) == entity_type.mappable  # records and products are never Entity nodes
    assert all(item.statement.startswith(("CREATE CONSTRAINT", "CREATE INDEX")) for item in schema_items(model))
