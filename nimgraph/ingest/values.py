"""Values in a mapping spec: where a value comes from, and how it is converted.

A value is read from a column, a literal, a template, a join of columns, one part of a split
column, or a lookup through another file; optionally transformed (``strip_prefix``, ``map``); then
converted to the datatype the ontology gives its property, with the spec's date formats, two-digit
year pivot and decimal separator.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import regex

from nimgraph.identity import NORMALISERS, IdentityError
from nimgraph.ingest.coordinates import CoordinateError, dms_to_decimal, grid_to_wgs84
from nimgraph.ingest.dates import DateError, DateRead, Order, read_date


def fold(text: str) -> str:
    """Text as keys are compared: spacing collapsed, case folded.

    >>> fold("  Elm   STREET ")
    'elm street'
    """
    return " ".join(text.split()).casefold()


class ConversionError(ValueError):
    """A row's value cannot be read or converted; the message is the reject reason."""


# A spec's regular expressions (lookup patterns, filters) run through the regex package, not re: it gives up on a value
# after PATTERN_SECONDS (re would backtrack for as long as a catastrophic pattern takes, holding the GIL, so an API job
# would freeze the server) and lets other threads run while it matches. A value longer than PATTERN_TEXT is not searched
# (its row is rejected: searching part of it could match where the whole does not), and a pattern whose counted repeats
# spell out more than PATTERN_SIZE items is refused at spec load (regex compiles them out: (x{3000}){3000} would take
# gigabytes).
PATTERN_SECONDS = 0.05
PATTERN_TEXT = 10_000
PATTERN_SIZE = 10_000


def compile_pattern(text: str, flags: int = 0) -> regex.Pattern[str]:
    """``text`` as a regular expression of Python's ``re`` syntax, compiled by ``regex`` for ``search``.

    Raises ValueError, saying why, for a pattern ``re`` refuses, one nested too deeply, or one too big once its
    repeats are counted out (see PATTERN_SIZE).

    >>> compile_pattern("^([A-Z]+)[0-9]").search("NW5 9WR").group(1)
    'NW'
    >>> compile_pattern("(a")
    Traceback (most recent call last):
    ...
    ValueError: missing ), unterminated subpattern at position 0
    >>> compile_pattern("(?:x{200}){200}")
    Traceback (most recent call last):
    ...
    ValueError: its repeats spell out 40,000 items, more than 10,000; use smaller counts
    """
    from re import _parser  # type: ignore[attr-defined]  # re's own parser: the tree a pattern compiles from

    try:
        re.compile(text, flags)  # re's syntax and messages, as a spec's patterns have always had
        size = _size(_parser.parse(text, flags))
    except re.error as err:
        raise ValueError(str(err)) from None
    except RecursionError:
        raise ValueError("it is nested too deeply") from None
    if size > PATTERN_SIZE:
        raise ValueError(f"its repeats spell out {size:,} items, more than {PATTERN_SIZE:,}; use smaller counts")
    try:
        return regex.compile(text, flags)
    except (regex.error, RecursionError) as err:
        raise ValueError(str(err) or "it is nested too deeply") from None


def _size(items: Any) -> int:
    """The items of a parsed pattern (re._parser's tree) with each counted repeat spelled out."""
    from re import _constants  # type: ignore[attr-defined]

    repeats = (_constants.MAX_REPEAT, _constants.MIN_REPEAT, getattr(_constants, "POSSESSIVE_REPEAT", None))
    total = 0
    for op, av in items:
        if op in repeats:
            low, high, inner = av
            total += max(low if high == _constants.MAXREPEAT else high, 1) * _size(inner)
        else:
            total += 1 + sum(_size(inner) for inner in _inner(av))
    return total


def _inner(av: Any) -> Any:
    """The sub-patterns in a parsed item's arguments: a group's, a branch's alternatives, an assertion's."""
    from re import _parser  # type: ignore[attr-defined]

    for part in av if isinstance(av, (tuple, list)) else (av,):
        if isinstance(part, _parser.SubPattern):
            yield part
        elif isinstance(part, list):
            yield from _inner(part)


def search(pattern: regex.Pattern[str], text: str, what: str) -> regex.Match[str] | None:
    """``pattern`` searched in ``text``, other threads running meanwhile.

    A search that takes longer than PATTERN_SECONDS, or a text longer than PATTERN_TEXT, raises ConversionError
    (``what`` names the pattern's role): the row is rejected, and the run goes on.

    >>> search(compile_pattern("^(a|a)+$"), "a" * 40 + "!", "lookup pattern")
    Traceback (most recent call last):
    ...
    nimgraph.ingest.values.ConversionError: the lookup pattern '^(a|a)+$' took too long on this value; simplify it
    """
    if len(text) > PATTERN_TEXT:
        raise ConversionError(f"the value is {len(text):,} characters long, more than the {PATTERN_TEXT:,} a {what} "
                              "is searched in")  # fmt: skip
    try:
        return pattern.search(text, timeout=PATTERN_SECONDS, concurrent=True)
    except TimeoutError:
        raise ConversionError(f"the {what} {pattern.pattern!r} took too long on this value; simplify it") from None


def template_fields(template: str) -> tuple[tuple[str, str | None], ...]:
    """A template's pieces: each literal text and the column named after it (None after the last).

    A field is a column name and nothing else: ``{Ref:>10}``, ``{Ref!r}``, ``{0}`` and ``{}`` raise ValueError, and
    a dot is part of the name (JSON fields nested in others are columns named by their path).

    >>> template_fields("{Ref}-{location.street.name}!")
    (('', 'Ref'), ('-', 'location.street.name'), ('!', None))
    >>> template_fields("{Ref:>300}")
    Traceback (most recent call last):
    ...
    ValueError: field {Ref:>300} has a format or conversion; a template's fields are column names only, e.g. {Ref}
    """
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as err:
        raise ValueError(f"{err}; a brace that is not a field's is written twice, {{{{ or }}}}") from None
    pieces: list[tuple[str, str | None]] = []
    for literal, name, spec, conversion in parsed:
        if name is None:
            pieces.append((literal, None))
            continue
        if not name or name.isdigit():
            raise ValueError(f"field {{{name}}} names no column; put a column's name in the braces, e.g. {{Ref}}")
        if spec or conversion:
            written = f"{{{name}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}}"
            only = f"a template's fields are column names only, e.g. {{{name}}}"
            raise ValueError(f"field {written} has a format or conversion; {only}")
        pieces.append((literal, name))
    return tuple(pieces)


MAX_VALUE = 2_000_000  # characters in a joined or templated value: past any real field, short of a flood
AMBIGUOUS = "\0ambiguous"  # in a lookup table: a key its file gives more than one value for
EMPTY = "\0empty"  # in a lookup table: a key its file gives no value


class Unmatched(ConversionError):
    """A lookup found nothing for a row's value: the reference leads nowhere."""

    def __init__(self, key: str, table: str, message: str = "") -> None:
        super().__init__(message or f"no match for {key!r} in lookup {table!r}")
        self.key, self.table = key, table


@dataclass(frozen=True)
class LookupKey:
    """Which part of a row's value a lookup table is searched with: all of it, a regex's match, or a split part."""

    pattern: regex.Pattern[str] | None = None  # the first group if it has one, else the whole match (see search)
    separator: str | None = None
    index: int = 0

    def of(self, text: str) -> str:
        """The key in ``text``; empty when the pattern does not match or there is no such part.

        >>> LookupKey(pattern=compile_pattern(r"^(\\S+)\\s")).of("NW5 9WR")
        'NW5'
        >>> LookupKey(separator=" ", index=-1).of("NW5 9WR")
        '9WR'
        """
        if self.pattern is not None:
            found = search(self.pattern, text, "lookup pattern")
            return "" if found is None else (found.group(1) if self.pattern.groups else found.group(0))
        if self.separator is not None:
            parts = text.split(self.separator)
            return parts[self.index].strip() if -len(parts) <= self.index < len(parts) else ""
        return text


@dataclass(frozen=True)
class ValueSpec:
    column: str | None = None
    literal: str | None = None
    template: str | None = None
    join: tuple[str, ...] = ()  # columns joined by ``separator``, empty ones left out
    split: str | None = None  # a column split on ``separator``; ``index`` picks the part
    lookup: dict[str, str] | None = field(default=None, hash=False)  # key -> value, from another file
    lookup_column: str | None = None
    lookup_name: str = ""
    lookup_key: LookupKey = field(default_factory=LookupKey, hash=False)
    lookup_normalise: str | None = None  # the table's normaliser: the value sought is normalised as its keys are
    grid: tuple[str, ...] = ()  # easting and northing columns (British National Grid)
    part: str = ""  # with grid: "latitude" or "longitude"
    separator: str = " "
    index: int = 0
    formats: tuple[str, ...] = ()
    pivot: int | None = None  # two-digit years up to this are 20YY, above it 19YY
    decimal: str = "."
    strip_prefix: str | None = None
    mapping: dict[str, str] = field(default_factory=dict, hash=False)
    unmapped: str | None = None  # a value the map lacks: "keep" it, "reject" the row; None: keep, and count it
    first_of: tuple[str, ...] = ()  # columns tried in order: the first with a value gives it
    whole: bool = False  # join and template: empty unless every column has a value (a date and its time)
    normalise: str | None = None  # a nimgraph.identity normaliser: phone, postcode, email, ...
    date_order: Order | None = None  # as the spec states it; None: the order of the first format (see dates.py)
    check_digit: str = "warn"  # nhs_number: a failed check digit warns ("warn") or rejects the row ("strict")
    line: int | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns this value reads."""
        if self.column is not None:
            return (self.column,)
        if self.template is not None:
            return tuple(name for _, name in self._template if name is not None)
        if self.join:
            return self.join
        if self.first_of:
            return self.first_of
        if self.split is not None:
            return (self.split,)
        if self.lookup_column is not None:
            return (self.lookup_column,)
        return self.grid

    def raw(self, row: dict[str, str]) -> str:
        """The value as text before conversion; empty when the row has nothing."""
        return self.read(row)[0]

    def read(self, row: dict[str, str]) -> tuple[str, str | None]:
        """The value as text before conversion, and the text the map lacked, if it did (see ``unmapped``)."""
        if self.literal is not None:
            text = self.literal
        elif self.column is not None:
            text = row.get(self.column) or ""
        elif self.join:
            parts = [(row.get(c) or "").strip() for c in self.join]
            self._check_size(parts)
            text = "" if self.whole and not all(parts) else self.separator.join(p for p in parts if p)
        elif self.first_of:
            text = next((given for c in self.first_of if (given := (row.get(c) or "").strip())), "")
        elif self.split is not None:
            parts = [p.strip() for p in (row.get(self.split) or "").split(self.separator)]
            text = parts[self.index] if -len(parts) <= self.index < len(parts) else ""
        elif self.grid:
            easting, northing = ((row.get(c) or "").strip() for c in self.grid)
            text = ""
            if easting and northing:
                try:
                    latitude, longitude = grid_to_wgs84(easting, northing)
                except CoordinateError as err:
                    raise ConversionError(str(err)) from None
                text = repr(round(latitude if self.part == "latitude" else longitude, 6))
        elif self.lookup is not None:
            given = " ".join((row.get(self.lookup_column or "") or "").split())
            key = self.lookup_key.of(given) if given else ""
            sought = key
            if key and self.lookup_normalise:
                try:
                    sought = NORMALISERS[self.lookup_normalise](key)
                except IdentityError as err:
                    raise ConversionError(f"{err}, so it cannot be looked up in {self.lookup_name!r}") from None
            text = self.lookup.get(fold(sought), "") if key else ""
            if given and not text:
                raise Unmatched(key or given, self.lookup_name)
            if text == EMPTY:
                raise Unmatched(key, self.lookup_name, f"{key!r} has an empty value in lookup {self.lookup_name!r}")
            if text == AMBIGUOUS:
                raise ConversionError(f"{key!r} has two or more values in lookup {self.lookup_name!r}; which is meant?")
        else:
            parts = {c: (row.get(c) or "").strip() for c in self.columns}
            self._check_size([parts[name] for _, name in self._template if name is not None])
            wanted = all(parts.values()) if self.whole else any(parts.values())
            text = "".join(literal + (parts[name] if name is not None else "") for literal, name in self._template)
            text = text if wanted else ""
        text = " ".join(text.split())
        if self.strip_prefix and text.lower().startswith(self.strip_prefix.lower()):
            text = text[len(self.strip_prefix) :].strip()
        unmapped = None
        if self.mapping and text:
            mapped = self.mapped(text)
            if mapped is None:
                if self.unmapped == "reject":
                    missing = f"{text!r} is not in the map of {self.describe()}"
                    raise ConversionError(f"{missing}; add it, or set unmapped: keep")
                unmapped = text
            else:
                text = mapped
        if self.normalise and text:
            try:
                text = NORMALISERS[self.normalise](text)
            except IdentityError as err:
                raise ConversionError(str(err)) from None
        return text, unmapped

    def _check_size(self, parts: list[str]) -> None:
        """Refuse a joined or templated value past MAX_VALUE before it is made: a template naming one long
        column many times must not take a row's memory many times over."""
        size = sum(map(len, parts))
        if size > MAX_VALUE:
            raise ConversionError(f"{self.describe()} would make a value of {size:,} characters; at most {MAX_VALUE:,}")

    def mapped(self, text: str) -> str | None:
        """What the map gives ``text``: said as it is, or with case and spacing folded, or as the same whole
        number (a spreadsheet turns ``01`` into ``1``); None if the map lacks it.

        >>> ValueSpec(column="Method", mapping={"01": "Knife", "Blunt object": "Blunt"}).mapped("1")
        'Knife'
        >>> ValueSpec(column="Method", mapping={"01": "Knife", "Blunt object": "Blunt"}).mapped("BLUNT  OBJECT")
        'Blunt'
        """
        if text in self.mapping:
            return self.mapping[text]
        return self._folded_map.get(fold(text)) or (self._numbered_map.get(int(text)) if text.isdigit() else None)

    @cached_property
    def _template(self) -> tuple[tuple[str, str | None], ...]:
        return template_fields(self.template or "")

    @cached_property
    def _folded_map(self) -> dict[str, str]:
        return {fold(key): value for key, value in self.mapping.items()}

    @cached_property
    def _numbered_map(self) -> dict[int, str]:
        return {int(key): value for key, value in self.mapping.items() if key.strip().isdigit()}

    def describe(self) -> str:
        if self.column is not None:
            return repr(self.column)
        if self.template is not None:
            return f"template {self.template!r}"
        if self.join:
            return f"join of {', '.join(map(repr, self.join))}"
        if self.first_of:
            return f"first of {', '.join(map(repr, self.first_of))}"
        if self.split is not None:
            return f"part {self.index} of {self.split!r}"
        if self.lookup_column is not None:
            return f"lookup of {self.lookup_column!r}"
        if self.grid:
            return f"{self.part} from grid {', '.join(map(repr, self.grid))}"
        return f"literal {self.literal!r}"

    def convert(self, text: str, datatype: str) -> Any:
        """``text`` as ``datatype``, with this value's formats, year pivot and decimal separator."""
        if self.decimal != "." and datatype in ("number", "integer"):
            text = text.replace(".", "").replace(self.decimal, ".")
        if datatype == "number" and "dms" in self.formats:
            try:
                return dms_to_decimal(text)
            except CoordinateError as err:
                raise ConversionError(str(err)) from None
        return convert(text, datatype, self.formats, self.pivot)

    def read_date(self, text: str, datatype: str) -> DateRead:
        """A date or date-time, with whether it also fits the other order (see nimgraph.ingest.dates)."""
        try:
            return read_date(text, datatype, self.formats, self.pivot)
        except DateError as err:
            raise ConversionError(str(err)) from None


def convert(text: str, datatype: str, formats: tuple[str, ...] = (), pivot: int | None = None) -> Any:
    """Convert ``text`` to ``datatype`` (string, date, datetime, number, integer, boolean).

    Two-digit years (``%y``) follow Python (00-68 are 20YY) unless ``pivot`` says otherwise:
    a date of birth written 05/03/55 is 1955 with pivot 30.

    >>> convert("05/03/2026", "date", ("%d/%m/%Y",))
    '2026-03-05'
    >>> convert("2026-03", "date", ("%Y-%m",))
    '2026-03-01'
    >>> convert("-2.2431", "number")
    -2.2431
    >>> convert("05/03/55", "date", ("%d/%m/%y",), pivot=30)
    '1955-03-05'
    >>> convert("abc", "number")
    Traceback (most recent call last):
    ...
    nimgraph.ingest.values.ConversionError: 'abc' is not a number
    """
    if datatype in ("date", "datetime"):
        try:
            return read_date(text, datatype, formats, pivot).value
        except DateError as err:
            raise ConversionError(str(err)) from None
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
