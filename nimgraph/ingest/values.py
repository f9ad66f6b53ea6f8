"""Values in a mapping spec: where a value comes from, and how it is converted.

A value is read from a column, a literal or a template, optionally transformed (``strip_prefix``,
``map``), then converted to the datatype the ontology gives its property.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any


class ConversionError(ValueError):
    """A row's value cannot be read or converted; the message is the reject reason."""


@dataclass(frozen=True)
class ValueSpec:
    column: str | None = None
    literal: str | None = None
    template: str | None = None
    formats: tuple[str, ...] = ()
    strip_prefix: str | None = None
    mapping: dict[str, str] = field(default_factory=dict, hash=False)
    line: int | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns this value reads."""
        if self.column is not None:
            return (self.column,)
        if self.template is not None:
            return tuple(name for _, name, _, _ in string.Formatter().parse(self.template) if name)
        return ()

    def raw(self, row: dict[str, str]) -> str:
        """The value as text before conversion; empty when the row has nothing."""
        if self.literal is not None:
            text = self.literal
        elif self.column is not None:
            text = row.get(self.column) or ""
        else:
            parts = {c: (row.get(c) or "").strip() for c in self.columns}
            text = self.template.format(**parts) if any(parts.values()) else ""  # type: ignore[union-attr]
        text = " ".join(text.split())
        if self.strip_prefix and text.lower().startswith(self.strip_prefix.lower()):
            text = text[len(self.strip_prefix) :].strip()
        if self.mapping and text:
            text = self.mapping.get(text, text)
        return text

    def describe(self) -> str:
        if self.column is not None:
            return repr(self.column)
        if self.template is not None:
            return f"template {self.template!r}"
        return f"literal {self.literal!r}"


def convert(text: str, datatype: str, formats: tuple[str, ...] = ()) -> Any:
    """Convert ``text`` to ``datatype`` (string, date, datetime, number, integer, boolean).

    >>> convert("05/03/2026", "date", ("%d/%m/%Y",))
    '2026-03-05'
    >>> convert("2026-03", "date", ("%Y-%m",))
    '2026-03-01'
    >>> convert("-2.2431", "number")
    -2.2431
    >>> convert("abc", "number")
    Traceback (most recent call last):
    ...
    nimgraph.ingest.values.ConversionError: 'abc' is not a number
    """
    if datatype in ("date", "datetime"):
        return _convert_date(text, datatype, formats)
    if datatype == "number":
        try:
            number = float(text.replace(",", ""))
        except ValueError:
            raise ConversionError(f"{text!r} is not a number") from None
        if number != number or number in (float("inf"), float("-inf")):
            raise ConversionError(f"{text!r} is not a finite number")
        return number
    if datatype == "integer":
        try:
            return int(text.replace(",", ""))
        except ValueError:
            raise ConversionError(f"{text!r} is not a whole number") from None
    if datatype == "boolean":
        lowered = text.lower()
        if lowered in ("true", "yes", "y", "1"):
            return True
        if lowered in ("false", "no", "n", "0"):
            return False
        raise ConversionError(f"{text!r} is not yes or no")
    return text


@lru_cache(maxsize=65536)  # partner files repeat the same dates many times over
def _convert_date(text: str, datatype: str, formats: tuple[str, ...]) -> str:
    for fmt in formats:
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        if not date(1900, 1, 1) <= parsed.date() <= date(2100, 12, 31):
            raise ConversionError(f"{text!r} is outside the accepted years 1900-2100")
        return parsed.date().isoformat() if datatype == "date" else parsed.isoformat()
    shown = " or ".join(repr(f) for f in formats)
    raise ConversionError(f"{text!r} is not a date in the format {shown}")
