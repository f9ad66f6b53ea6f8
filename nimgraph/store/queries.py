"""Named Cypher queries from ``nimgraph/queries/*.cypher`` (package data), each with a header naming its parameters.

Query text is only ever read from these files; values travel as ``$parameters``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from types import MappingProxyType

QUERIES_DIR: Traversable = files("nimgraph") / "queries"
_HEADER = re.compile(r"^//\s*(name|description|parameters):\s*(.*)$")
_PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


class QueryFileError(ValueError):
    pass


@dataclass(frozen=True)
class Query:
    name: str
    description: str
    parameters: frozenset[str]
    text: str

    def used_parameters(self) -> frozenset[str]:
        """The ``$parameters`` the query text refers to."""
        return frozenset(_PARAMETER.findall(self.text))


def parse_query(path: Traversable) -> Query:
    header: dict[str, str] = {}
    body = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _HEADER.match(line.strip())
        if match and not body:
            header[match.group(1)] = match.group(2).strip()
        elif line.strip():
            body.append(line)
    missing = {"name", "description", "parameters"} - set(header)
    if missing:
        raise QueryFileError(f"{path}: header lacks {', '.join(sorted(missing))}")
    if header["name"] + ".cypher" != path.name:
        raise QueryFileError(f"{path}: header names it {header['name']!r}; the file is {path.name!r}")
    parameters = frozenset(p.strip() for p in header["parameters"].split(",") if p.strip())
    return Query(header["name"], header["description"], parameters, "\n".join(body))


@cache
def load_queries(directory: Traversable = QUERIES_DIR) -> MappingProxyType:
    """Every query in the folder, by name."""
    paths = sorted((p for p in directory.iterdir() if p.name.endswith(".cypher")), key=lambda p: p.name)
    return MappingProxyType({p.name.removesuffix(".cypher"): parse_query(p) for p in paths})


def query(name: str) -> Query:
    try:
        return load_queries()[name]
    except KeyError:
        raise QueryFileError(f"no query named {name!r} in {QUERIES_DIR}") from None
