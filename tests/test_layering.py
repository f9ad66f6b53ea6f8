"""The packages' layering: no import cycles among nimgraph's and the API's modules, and the lower
layers (the store, the settings) never reach up into access control.

The import graph is read from the source with ``ast``, counting every import wherever it stands (a
function-level import only postpones a cycle, it does not remove it), except those under
``if TYPE_CHECKING:``, which never run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("nimgraph", "api")


def module_files() -> dict[str, Path]:
    """Every module of the packages by its dotted name (a package by its own name, for its __init__)."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement under ``node``, at any depth, except the branches of ``if TYPE_CHECKING:``."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:  # the else branch does run
                yield from _imports(other)
            continue
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        yield from _imports(child)


def _imported_module(name: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of ``name`` that is one of our modules (``a.b.C`` names module ``a.b``)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def import_graph() -> nx.DiGraph:
    """Module -> module it imports, for our own modules only."""
    modules = module_files()
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for importer, path in modules.items():
        for statement in _imports(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(statement, ast.Import):
                named = [alias.name for alias in statement.names]
            else:
                if statement.level or not statement.module:
                    raise AssertionError(f"{path}: relative import; the layering test reads absolute ones only")
                # "from a import b" imports module a.b when b is one, else a name of module a
                named = [f"{statement.module}.{alias.name}" for alias in statement.names]
            for name in named:
                imported = _imported_module(name, modules)
                if imported is not None and imported != importer:
                    graph.add_edge(importer, imported)
    return graph


def import_cycles(graph: nx.DiGraph) -> list[list[str]]:
    """Each group of modules that import one another, directly or through others."""
    return sorted(sorted(group) for group in nx.strongly_connected_components(graph) if len(group) > 1)


def test_the_graph_sees_function_level_imports_and_skips_type_checking(tmp_path: Path) -> None:
    """The reader the other tests rely on: a cycle behind a function-level import counts, one behind
    TYPE_CHECKING does not."""
    source = ast.parse(
        "import os\n"
        "if TYPE_CHECKING:\n    from a import hidden\n"
        "def f():\n    from b import inside\n"
        "class C:\n    def g(self):\n        import c.d\n"
    )
    names = [
        alias.name if isinstance(statement, ast.Import) else f"{statement.module}.{alias.name}"
        for statement in _imports(source)
        for alias in statement.names
    ]
    assert names == ["os", "b.inside", "c.d"]
    graph = nx.DiGraph([("x", "y"), ("y", "x"), ("y", "z")])
    assert import_cycles(graph) == [["x", "y"]]


def test_no_import_cycles() -> None:
    cycles = import_cycles(import_graph())
    assert not cycles, "modules that import one another (move what they share into a module both import): " + (
        "; ".join(" <-> ".join(group) for group in cycles)
    )


@pytest.mark.parametrize("lower", ["nimgraph.config", "nimgraph.store"])
def test_lower_layers_do_not_reach_access(lower: str) -> None:
    """The settings and the store know nothing of roles or views: access is built on them, not in them."""
    graph = import_graph()
    layer = [module for module in graph if module == lower or module.startswith(f"{lower}.")]
    reached = set().union(*(nx.descendants(graph, module) for module in layer))
    access = sorted(m for m in reached if m == "nimgraph.access" or m.startswith("nimgraph.access."))
    assert not access, f"{lower} imports access control (directly or through others): {access}"
