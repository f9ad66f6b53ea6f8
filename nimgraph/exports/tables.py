"""Tables for Excel: a workbook of sheets from any analysis answer or any product's tables.

A product (a subject or problem profile, a tactical assessment, a record page...) is a nested
structure; :func:`tables_of` finds its tables, every list whose items are mappings, and names each
by where it sits (``people.key_individuals``). :func:`workbook` writes named tables as an xlsx
workbook, a sheet each, with a header row; :func:`csv_text` writes one as CSV.

A value a partner typed never runs as a formula: text starting with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return is written with a leading apostrophe, as Excel's own escape.

>>> product = {"subject": {"id": "Person-1"}, "associates": [{"id": "Person-2", "strength": 2.5}],
...            "sections": {"events": [{"id": "E1", "note": "=HYPERLINK(1)"}]}, "tags": ["a", "b"]}
>>> sorted(tables_of(product))
['associates', 'sections.events']
>>> csv_text(tables_of(product)["sections.events"]).splitlines()
['id,note', "E1,'=HYPERLINK(1)"]
>>> from openpyxl import load_workbook
>>> import io
>>> book = load_workbook(io.BytesIO(workbook(tables_of(product))))
>>> book.sheetnames, [c.value for c in book["associates"][2]]
(['associates', 'sections.events'], ['Person-2', 2.5])
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from typing import Any

__all__ = ["XLSX_MEDIA_TYPE", "cell", "csv_text", "product_workbook", "tables_of", "workbook"]

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

MAX_SHEET_NAME = 31  # Excel's limit
_FORBIDDEN = str.maketrans({c: "_" for c in "[]:*?/\\"})


def cell(value: Any) -> Any:
    """A value as a spreadsheet cell: numbers stay numbers; lists and mappings become text; text that
    a spreadsheet would run as a formula is escaped."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, list):
        value = "; ".join(str(v.get("label", v.get("id", v))) if isinstance(v, Mapping) else str(v) for v in value)
    elif isinstance(value, Mapping):
        value = json.dumps(value, default=str, ensure_ascii=False)
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def tables_of(product: Any, prefix: str = "") -> dict[str, list[dict[str, Any]]]:
    """Every list of mappings in ``product``, by its dotted path (a table's own nested tables are cells)."""
    found: dict[str, list[dict[str, Any]]] = {}
    if isinstance(product, Mapping):
        for key, value in product.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
                found[path] = [dict(v) for v in value]
            elif isinstance(value, Mapping):
                found |= tables_of(value, path)
    return found


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    return list(names)


def csv_text(rows: list[dict[str, Any]]) -> str:
    """One table as CSV, a header row first."""
    out = io.StringIO()
    names = _columns(rows)
    writer = csv.DictWriter(out, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: cell(row.get(k)) for k in names})
    return out.getvalue()


def _sheet_name(path: str, taken: set[str]) -> str:
    base = path.translate(_FORBIDDEN)[:MAX_SHEET_NAME] or "table"
    name, number = base, 1
    while name.lower() in taken:
        number += 1
        name = f"{base[: MAX_SHEET_NAME - len(str(number)) - 1]}~{number}"
    taken.add(name.lower())
    return name


def workbook(tables: Mapping[str, list[dict[str, Any]]], notes: list[str] | None = None) -> bytes:
    """The tables as an xlsx workbook, a sheet each (and a Notes sheet when ``notes`` are given)."""
    from openpyxl import Workbook  # only for a workbook: the rest of nimgraph never needs it

    book = Workbook(write_only=True)
    taken: set[str] = set()
    for path, rows in tables.items():
        sheet = book.create_sheet(_sheet_name(path, taken))
        names = _columns(rows)
        sheet.append(names)
        for row in rows:
            sheet.append([cell(row.get(k)) for k in names])
    if notes:
        sheet = book.create_sheet(_sheet_name("Notes", taken))
        for note in notes:
            sheet.append([cell(note)])
    if not tables and not notes:
        book.create_sheet("empty").append(["nothing to show"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def product_workbook(product: Mapping[str, Any], notice: str | None = None) -> bytes:
    """A product's tables as a workbook, a sheet each, and a Notes sheet with its handling code (and the
    clearance notice, for a filtered caller): the file travels without the page that said them.

    >>> from openpyxl import load_workbook
    >>> book = load_workbook(io.BytesIO(product_workbook({"handling": "P", "overdue": [{"id": "Tasking-1"}]})))
    >>> book.sheetnames, book["Notes"]["A1"].value
    (['overdue', 'Notes'], 'Handling: P')
    """
    notes = [f"Handling: {product.get('handling', '')}", *([notice] if notice else [])]
    return workbook(tables_of(product), notes=notes)
