"""The one shape every graph-wide question answers in: a table with its columns defined, as JSON or CSV.

The same answer goes to the API, the command line and the workbench, so a number means the same
wherever an analyst reads it. Each column says what it counts beside it.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from nimgraph.labels import label
from nimgraph.ontology import Model

__all__ = ["Answer", "Column", "Ranked", "cut_with_ties", "entity_cells", "top_with_ties"]


@dataclass(frozen=True)
class Column:
    name: str
    definition: str


@dataclass
class Answer:
    question: str  # rank, groups, screening, places, search
    parameters: dict[str, Any]
    columns: list[Column]
    rows: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    engine: str = "networkx"
    projection: dict[str, int] = field(default_factory=lambda: {"nodes": 0, "links": 0})
    truncated: bool = False
    # The entities the rows name and the links among them, for drawing; not part of the JSON.
    graph: nx.MultiDiGraph | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "parameters": self.parameters,
            "engine": self.engine,
            "projection": self.projection,
            "columns": [{"name": c.name, "definition": c.definition} for c in self.columns],
            "rows": self.rows,
            "notes": self.notes,
            "truncated": self.truncated,
        }

    def shown(self) -> set[str]:
        """The ids of every entity the answer names: its drawing's, those its rows refer to, and
        those its scope named (the answer confirms they are there)."""
        found = set(self.graph.nodes) if self.graph is not None else set()
        scope = self.parameters.get("scope") or {}
        found |= {*scope.get("within", ()), *scope.get("around", ()), scope.get("area"), scope.get("problem")} - {None}

        def walk(value: Any) -> None:
            if isinstance(value, dict):
                for key, item in value.items():
                    if key in ("id", "relative_id", "problem") and isinstance(item, str):
                        found.add(item)
                    else:
                        walk(item)
            elif isinstance(value, list):
                for item in value:
                    walk(item)

        walk(self.rows)
        return found

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str)

    def to_csv(self) -> str:
        """One line per row (per member, for groups), lists joined by ``; ``; definitions are in the JSON.

        >>> a = Answer("rank", {}, [Column("rank", "r"), Column("label", "l")], [{"rank": 1, "label": "=A"}])
        >>> a.to_csv().splitlines()
        ['rank,label', "1,'=A"]
        """
        out = io.StringIO()
        names = [c.name for c in self.columns]
        writer = csv.DictWriter(out, fieldnames=names, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for line in self.lines():
            writer.writerow({k: _inert(line.get(k)) for k in names})
        return out.getvalue()

    def to_xlsx(self) -> bytes:
        """A workbook: the answer's lines, its columns' definitions, and its notes."""
        from nimgraph.exports.tables import workbook

        names = [c.name for c in self.columns]
        lines = [{k: line.get(k) for k in names} for line in self.lines()]
        definitions = [{"column": c.name, "definition": c.definition} for c in self.columns]
        return workbook({self.question: lines, "columns": definitions}, notes=self.notes)

    def lines(self) -> list[dict[str, Any]]:
        """The rows as a table shows them: a group's members one per line, lists and maps as text."""
        flat = []
        for row in self.rows:
            members = row.get("members")
            base = {k: v for k, v in row.items() if k != "members"}
            for line in [{**base, **m} for m in members] if isinstance(members, list) and members else [base]:
                flat.append({k: _text(v) for k, v in line.items()})
        return flat


def _text(value: Any) -> Any:
    if isinstance(value, list):
        return "; ".join(str(v.get("label", v.get("id"))) if isinstance(v, dict) else str(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items())
    return value


def _inert(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value  # a spreadsheet would run it as a formula
    return value


def entity_cells(graph: nx.MultiDiGraph, model: Model, node: str) -> dict[str, str]:
    """The id, type and label of a node, for a row.

    >>> from nimgraph.ontology import default_model
    >>> g = nx.MultiDiGraph(); g.add_node("Phone-3b94c1d2e5f60718", type="Phone", properties={})
    >>> entity_cells(g, default_model(), "Phone-3b94c1d2e5f60718")["label"]
    'Phone 3b94c1d2'
    """
    data = graph.nodes[node] if node in graph else {}
    kind = data.get("type", "")
    return {
        "id": node,
        "type": kind,
        "label": data.get("label") or label(model, kind, node, data.get("properties", {})),
    }


MAX_TIED = 200  # rows listed beyond ``top`` because they tie with the last of them


@dataclass
class Ranked:
    rows: list[tuple[int, str, Any]]  # (rank, node, value)
    tied_not_listed: int = 0  # further nodes tied with the last row, left out

    def notes(self, top: int) -> list[str]:
        notes = []
        if len(self.rows) > top:
            notes.append(f"{len(self.rows) - top} more shown: they tie with the last of the top {top}.")
        if self.tied_not_listed:
            notes.append(f"{self.tied_not_listed} more tie with the last row and are not listed.")
        return notes


def top_with_ties(values: dict[str, Any], top: int, label: Callable[[str], str]) -> Ranked:
    """(rank, node, value), highest first: the ``top`` best, and those tied with the last of them.

    Ranks are competition ranks (1, 2, 2, 4); ties are ordered by ``label``, then id. Only the
    nodes that can be listed are labelled: labelling a 100k-node network is not free. Ties beyond
    ``top`` are listed up to ``MAX_TIED``, and not at all when the tied value is zero (nothing to
    rank by); the rest are counted.

    >>> top_with_ties({"a": 3, "b": 2, "c": 2, "d": 1}, 2, str.upper).rows
    [(1, 'a', 3), (2, 'b', 2), (2, 'c', 2)]
    >>> found = top_with_ties({"a": 1, "b": 0, "c": 0, "d": 0}, 2, str.upper)
    >>> found.rows, found.tied_not_listed
    ([(1, 'a', 1), (2, 'b', 0)], 2)
    """
    if not values or top <= 0:
        return Ranked([])
    cutoff = sorted(values.values(), reverse=True)[min(top, len(values)) - 1]
    contenders = [n for n, v in values.items() if v >= cutoff]
    ranked = sorted(contenders, key=lambda n: (-values[n], label(n), n))
    rows: list[tuple[int, str, Any]] = []
    tied_not_listed = 0
    for position, node in enumerate(ranked):
        if position >= top and (not cutoff or position >= top + MAX_TIED):
            tied_not_listed += 1
            continue
        rank = rows[-1][0] if rows and values[node] == rows[-1][2] else position + 1
        rows.append((rank, node, values[node]))
    return Ranked(rows, tied_not_listed)


def cut_with_ties(rows: list[dict], top: int, key, label: str = "label") -> tuple[list[dict], list[str]]:
    """The first ``top`` rows (already in order, best first, by ``key``) and those tied with the
    last of them, ties in label order, so which rows show never depends on ids; and notes.

    >>> rows = [{"n": 3, "label": "z"}, {"n": 2, "label": "y"}, {"n": 2, "label": "x"}, {"n": 1, "label": "w"}]
    >>> [r["label"] for r in cut_with_ties(rows, 2, key=lambda r: r["n"])[0]]
    ['z', 'x', 'y']
    """
    ordered = sorted(rows, key=lambda r: (_negated(key(r)), str(r.get(label, "")), str(r.get("id", ""))))
    if len(ordered) <= top:
        return ordered, []
    last = key(ordered[top - 1])
    kept = [r for i, r in enumerate(ordered) if i < top or (key(r) == last and i < top + MAX_TIED)]
    notes = [f"The first {top} of {len(ordered)} rows are shown, most at risk first"]
    if len(kept) > top:
        notes[0] += f", with {len(kept) - top} more tied with the last"
    notes[0] += "."
    return kept, notes


def _negated(value):
    if isinstance(value, tuple):
        return tuple(-v for v in value)
    return -value
