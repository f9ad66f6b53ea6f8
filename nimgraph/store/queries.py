"""Named Cypher queries from ``queries/*.cypher``, each with a header naming its parameters.

Query text is only ever read from these files; values travel as ``$parameters``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType

QUERIES_DIR = Path(__file__).resolve().parent.parent.parent / "queries"
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


def parse_query(path: Path) -> Query:
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
    if header["name"] != path.stem:
        raise QueryFileError(f"{path}: header names it {header['name']!r}; the file is {path.stem!r}")
    parameters = frozenset(p.strip() for p in header["parameters"].split(",") if p.strip())
    return Query(header["name"], header["description"], parameters, "\n".join(body))


@cache
def load_queries(directory: Path = QUERIES_DIR) -> MappingProxyType:
    """Every query in the folder, by name."""
    return MappingProxyType({p.stem: parse_query(p) for p in sorted(directory.glob("*.cypher"))})


def query(name: str) -> Query:
    try:
        return load_queries()[name]
    except KeyError:
        raise QueryFileError(f"no query named {name!r} in {QUERIES_DIR}") from None
