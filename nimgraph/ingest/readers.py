"""Readers: stream a partner file as rows of text, each with the number an analyst would look for.

Every reader yields ``(number, values by column, original fields)``: the CSV line where a record
starts, the spreadsheet row, the JSON Lines line, or the record's position in a JSON array or a
Parquet file. Values are text, as a partner would have typed them; the mapping converts them.
Reading is streamed or chunked, so memory stays flat as files grow (except a plain JSON array,
which is parsed whole: use JSON Lines for big files). Parquet goes through pyarrow and pandas a
batch at a time; xlsx through openpyxl's read-only mode (pandas' own engine, without loading the
sheet whole). A CSV's encoding is its byte-order mark's, else UTF-8 if every byte decodes as UTF-8,
else charset-normalizer's guess from the lines that are not ASCII, checked against the whole file.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import itertools
import json
import math
import re
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol
from xml.etree.ElementTree import ParseError

from charset_normalizer import from_bytes
from defusedxml import DefusedXmlException

from nimgraph.ingest.read_spec import AUTO, ReadSpec
from nimgraph.printable import printable

csv.field_size_limit(16 * 1024 * 1024)

Row = tuple[int, dict[str, str], list[str]]
_CHUNK = 1 << 20
MAX_NESTING = 64  # JSON records are flat or nearly; deeper nesting only exhausts the parser's stack
WIDTH = "\0width"  # set in a row's values when its field count differs from the header's


class FileError(ValueError):
    """The file as a whole cannot be read as the spec says; nothing is written."""


class Source(Protocol):
    path: Path

    def columns(self) -> list[str]: ...
    def rows(self) -> Iterator[Row]: ...
    def count(self) -> int: ...
    def describe(self) -> str: ...
    def header_hint(self) -> str: ...


@dataclass(frozen=True)
class Format:
    """A format a spec may name in ``read.format``: its reader, and the suffixes that imply it."""

    name: str
    reader: Callable[[Path, ReadSpec], Source]
    suffixes: tuple[str, ...]
    header_row: bool = False  # read.header_row applies: a header below a title (CSV and xlsx)


def known_formats() -> str:
    """The formats and their suffixes, as a message lists them: ``csv (.csv, .txt, .tsv), xlsx (.xlsx), ...``."""
    return ", ".join(f"{f.name} ({', '.join(f.suffixes)})" for f in FORMATS.values())


def file_format(path: Path, read: ReadSpec) -> Format:
    """The format ``path`` is read in: the spec's, else the one its suffix implies; an unknown one is a FileError."""
    if read.format != AUTO:
        if read.format not in FORMATS:
            raise FileError(
                f"{path}: unknown format {printable(read.format)!r}; known formats: {known_formats()}; "
                "set read.format in the spec to one of them"
            )
        return FORMATS[read.format]
    suffix = path.suffix.lower()
    if suffix not in BY_SUFFIX:  # never guessed: a file read as the wrong format loads rows of nonsense
        named = repr(printable(path.suffix)) if path.suffix else "(no suffix)"
        raise FileError(
            f"{path}: unknown format {named}; known formats: {known_formats()}; "
            "set read.format in the spec (e.g. read: {format: csv}) or rename the file to one of those suffixes"
        )
    return BY_SUFFIX[suffix]


def open_source(path: Path, read: ReadSpec) -> Source:
    """The reader for ``path``: the spec's format, or the one its suffix implies."""
    if not path.exists():  # before the format: a mistyped name or a folder is told as such, not as its suffix
        raise FileError(f"{path}: no such file")
    if not path.is_file():
        raise FileError(f"{path}: is a directory (or a device), not a file; name the file to load")
    fmt = file_format(path, read)
    if read.header_row != 1 and not fmt.header_row:
        raise FileError(f"{path}: read.header_row is for CSV and xlsx files; this one is read as {fmt.name}")
    return fmt.reader(path, read)


def _checked_header(path: Path, header: list[Any], row: int, below: Iterable[tuple[int, list[Any]]]) -> list[str]:
    """The header's names, or a FileError that says which row to set as ``read.header_row`` when one fits.

    ``below`` gives the rows under the header, numbered, read only when the header looks wrong.
    """
    names = [str(h if h is not None else "").strip() for h in header]
    if not any(names):
        found = _fuller_row(below)
        fix = f"; if row {found} is the header, set read: {{header_row: {found}}}" if found else ""
        if row == 1:
            where = f" before row {found}{fix}" if found else "; expected a header row"
            raise FileError(f"{path}: the file is empty{where}")
        raise FileError(f"{path}: row {row} (read.header_row) is empty{fix or ' or past the end of the file'}")
    repeated = [name for name, n in Counter(names).items() if n > 1]
    if repeated:
        hint = _title_hint(row, names, below)
        raise FileError(f"{path}: {hint or 'the header repeats ' + ', '.join(map(repr, repeated))}")
    return names


def _fuller_row(rows: Iterable[tuple[int, list[Any]]], than: int = 1) -> int | None:
    """The number of the first row with more than ``than`` values (and two or more): the header, when a title
    or blank rows sit above it. Asked only when the spec's columns are missing, so a near miss costs a hint."""
    wanted = max(2, than + 1)
    return next((number for number, cells in rows if sum(1 for c in cells if _text(c).strip()) >= wanted), None)


def _title_hint(row: int, header: list[Any], below: Iterable[tuple[int, list[Any]]]) -> str:
    """When the header row holds a value or a few, like a report's title, and a fuller row follows: set
    read.header_row. A title with a comma in it is two values of a CSV row.

    >>> print(_title_hint(1, ["ASB", None], [(2, [None, None]), (3, ["Ref", "Date"]), (4, ["A1", "1/3"])]))
    row 1 holds one value ('ASB'), like a title above the header; if row 3 is the header, set read: {header_row: 3}
    >>> print(_title_hint(1, ["ASB cases", "March 2026", ""], [(2, ["Ref", "Date", "Kind", "Place"])]))
    ... # doctest: +ELLIPSIS
    row 1 holds 2 values ('ASB cases', 'March 2026'), like a title ...; if row 2 is the header, set ...
    >>> _title_hint(1, ["Ref", "Date"], [])
    ''
    """
    filled = [text for text in (_text(h).strip() for h in header) if text]
    found = _fuller_row(below, than=len(filled)) if 1 <= len(filled) <= 3 else None
    if found is None:
        return ""
    held = (
        f"one value ({filled[0]!r})" if len(filled) == 1 else f"{len(filled)} values ({', '.join(map(repr, filled))})"
    )
    return (
        f"row {row} holds {held}, like a title above the header; "
        f"if row {found} is the header, set read: {{header_row: {found}}}"
    )


_LOOK_BELOW = 50  # rows under a header that looks like a title, searched for the real one


def _text(value: Any) -> str:
    """A cell as a partner would have typed it."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp (a time cell, dt.time, is text below)
        return _text(value.to_pydatetime())
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _values(columns: list[str], fields: list[str]) -> dict[str, str]:
    values = dict(zip(columns, fields, strict=False))
    if len(fields) != len(columns):
        values[WIDTH] = f"{len(fields)} fields where the header has {len(columns)}"
    return values


# ---------------------------------------------------------------------------------------- CSV
_BOMS = (  # UTF-32's little-endian mark begins with UTF-16's, so it is tried first
    (codecs.BOM_UTF32_LE, "utf-32", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "utf-16"),
)
# What UK partner systems write, most likely first: chosen whenever charset-normalizer finds one a plausible
# reading, since on a few accented words its best guess is often another (cp1250 reads £ as Ł; cp1257, è as č).
_WESTERN = ("cp1252", "iso8859_15", "mac_roman", "cp850", "latin_1")
_SAMPLE = 256 * 1024  # bytes of non-ASCII lines handed to charset-normalizer
_NON_ASCII_LINE = re.compile(rb"[^\r\n]*[\x80-\xff][^\r\n]*")


@dataclass(frozen=True)
class Encoding:
    codec: str  # the name Python decodes with
    how: str  # what the summary says: "utf-8", "utf-8 with byte-order mark", "cp1252 (detected)"


def detect_encoding(path: Path) -> Encoding:
    """A byte-order mark decides; else UTF-8 if every byte decodes as UTF-8; else charset-normalizer's guess
    from the lines that are not ASCII, kept only if the whole file decodes in it. Streamed: memory stays flat."""
    marked = _byte_order_mark(path) or _utf16_without_mark(path)
    if marked is not None:
        return marked
    sample = _non_utf8_sample(path)
    if sample is None:
        return Encoding("utf-8", "utf-8")
    guess = guess_encoding(sample)
    if guess and _decodes_as(path, guess):
        return Encoding(guess, f"{_name(guess)} (detected)")
    if _decodes_as(path, "cp1252"):
        return Encoding("cp1252", "cp1252 (assumed: no encoding detected fits the whole file)")
    return Encoding("latin-1", "latin-1 (assumed: no encoding detected fits the whole file)")


def _byte_order_mark(path: Path) -> Encoding | None:
    try:
        with path.open("rb") as handle:
            start = handle.read(4)
    except OSError as err:
        raise FileError(f"{path}: cannot open: {err.strerror}") from None
    for bom, codec, name in _BOMS:
        if start.startswith(bom):
            return Encoding(codec, f"{name} with byte-order mark")
    return None


def _utf16_without_mark(path: Path) -> Encoding | None:
    """UTF-16 written without its mark, told by the zero bytes of its ASCII characters: every other byte.

    Zero bytes are valid UTF-8, so such a file would otherwise read as UTF-8 with NULs between the letters.
    """
    with path.open("rb") as handle:
        start = handle.read(4096)
    pairs = len(start) // 2
    if pairs < 2:
        return None
    even, odd = start[0 : 2 * pairs : 2].count(0), start[1 : 2 * pairs : 2].count(0)
    for zeros, others, codec in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if zeros >= pairs * 0.4 and others <= pairs * 0.05:
            return Encoding(codec, f"{codec} (detected, without a byte-order mark)")
    return None


def guess_encoding(sample: bytes) -> str | None:
    """A Western European code page that charset-normalizer finds plausible for ``sample``, else its best guess.

    >>> guess_encoding("Fine of £20 for Café noise".encode("cp1252"))  # charset-normalizer alone says cp1250
    'cp1252'
    >>> guess_encoding("Zażółć gęślą jaźń. Łódź, Kraków, Gdańsk i Wrocław to miasta w Polsce.".encode("cp1250"))
    'cp1250'
    """
    matches = list(from_bytes(sample))
    if not matches:
        return None
    plausible = {codec for match in matches for codec in match.could_be_from_charset}
    return next((codec for codec in _WESTERN if codec in plausible), matches[0].encoding)


def _name(codec: str) -> str:
    """A codec's name as people write it: ``latin_1`` is latin-1."""
    return codec.replace("_", "-")


def _non_utf8_sample(path: Path) -> bytes | None:
    """None if the whole file is UTF-8; else its lines with non-ASCII bytes, from the block where UTF-8
    first fails, up to _SAMPLE bytes: the bytes that tell one encoding from another."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    sample, failed, block = bytearray(), False, b""
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            if not failed:
                try:
                    decoder.decode(block)
                    continue
                except UnicodeDecodeError:
                    failed = True
            for line in _NON_ASCII_LINE.findall(block):
                sample += line + b"\n"
            if len(sample) >= _SAMPLE:
                break
    if not failed:
        try:
            decoder.decode(b"", final=True)
            return None
        except UnicodeDecodeError:  # the file ends inside a UTF-8 sequence
            sample += b"\n".join(_NON_ASCII_LINE.findall(block))
    return bytes(sample[:_SAMPLE])


def _decodes_as(path: Path, encoding: str) -> bool:
    """Whether the whole file decodes, read a block at a time so memory stays flat."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(_CHUNK), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


@dataclass
class CsvSource:
    path: Path
    read: ReadSpec
    encoding: str = field(init=False, default="")
    delimiter: str = field(init=False, default="")
    encoding_read: str = field(init=False, default="")  # how the encoding was found, for describe()

    def __post_init__(self) -> None:
        found = self._encoding()
        self.encoding, self.encoding_read = found.codec, found.how
        self.delimiter = self.read.delimiter if self.read.delimiter != "auto" else self._detect_delimiter()

    def describe(self) -> str:
        header = f", header at row {self.read.header_row}" if self.read.header_row != 1 else ""
        return f"CSV, {self.encoding_read}, delimiter {self.delimiter!r}{header}"

    def _encoding(self) -> Encoding:
        if self.read.encoding == "auto":
            return detect_encoding(self.path)
        try:
            utf8 = codecs.lookup(self.read.encoding).name == "utf-8"
        except LookupError:
            return Encoding(self.read.encoding, self.read.encoding)  # refused, with its name, when the file opens
        marked = _byte_order_mark(self.path)
        if utf8 and marked is not None and marked.codec == "utf-8-sig":  # else the mark sticks to the first name
            return Encoding("utf-8-sig", f"{self.read.encoding} with byte-order mark (as read.encoding says)")
        return Encoding(self.read.encoding, f"{self.read.encoding} (as read.encoding says)")

    def _detect_delimiter(self) -> str:
        with self._open() as handle, self._decoding():
            self._skip_preamble(handle)
            sample = handle.read(64 * 1024)
        try:
            return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
        except csv.Error:
            return ","

    def _skip_preamble(self, handle: Any) -> int:
        """Skip the lines above read.header_row (a title, notes, blank lines); how many were there."""
        skipped = 0
        while skipped < self.read.header_row - 1 and handle.readline():
            skipped += 1
        return skipped

    @contextmanager
    def _header(self) -> Iterator[tuple[list[str], Iterator[tuple[int, list[str]]]]]:
        """The header row's fields, and the numbered rows below it (read only if asked)."""
        with self._open() as handle, self._decoding():
            skipped = self._skip_preamble(handle)
            reader = csv.reader(handle, delimiter=self.delimiter)
            header = next(reader, None) or []
            yield header, ((skipped + reader.line_num, fields) for fields in itertools.islice(reader, _LOOK_BELOW))

    def columns(self) -> list[str]:
        if not self.read.header:
            if not self.read.columns:
                raise FileError(f"{self.path}: the spec says there is no header row, so it must list 'columns'")
            return list(self.read.columns)
        with self._header() as (header, below):
            return _checked_header(self.path, header, self.read.header_row, below)

    def header_hint(self) -> str:
        """What to set when the header row holds one value, like a title above the header; else ''."""
        if not self.read.header:
            return ""
        with self._header() as (header, below):
            return _title_hint(self.read.header_row, header, below)

    def rows(self) -> Iterator[Row]:
        """(line number, values by column, original fields) for each record."""
        columns = self.columns()
        with self._open() as handle, self._decoding():
            skipped = self._skip_preamble(handle)
            reader = csv.reader(handle, delimiter=self.delimiter)
            if self.read.header:
                next(reader, None)
            start = reader.line_num + 1
            while True:
                try:
                    fields = next(reader)
                except StopIteration:
                    return
                except csv.Error as err:  # one record is unreadable (e.g. a field over 16 MB): reject it alone
                    yield skipped + start, {WIDTH: f"unreadable as CSV: {err}"}, []
                    start = reader.line_num + 1
                    continue
                if fields:
                    yield skipped + start, _values(columns, fields), fields
                start = reader.line_num + 1

    def count(self) -> int:
        return max(count_rows(self.path) + (0 if self.read.header else 1) - (self.read.header_row - 1), 0)

    @contextmanager
    def _decoding(self) -> Iterator[None]:
        try:
            yield
        except UnicodeDecodeError as err:
            raise FileError(
                f"{self.path}: bytes at offset {err.start} of a read block are not {self.encoding}; "
                "set read.encoding in the spec (e.g. cp1252 or latin-1), or leave it out to detect it, and run again"
            ) from None
        except UnicodeError as err:  # a codec that is no file encoding (punycode, idna) fails in its own words
            raise FileError(
                f"{self.path}: cannot be read as {self.encoding} ({printable(err)}); set read.encoding to a file "
                "encoding such as utf-8 or cp1252, or leave it out to detect it"
            ) from None
        except csv.Error as err:
            raise FileError(f"{self.path}: not readable as CSV: {err}") from None

    def _open(self) -> Any:
        try:
            return self.path.open(encoding=self.encoding, newline="")
        except OSError as err:
            raise FileError(f"{self.path}: cannot open: {err.strerror}") from None
        except LookupError:
            raise FileError(f"{self.path}: unknown encoding {self.encoding!r} in read.encoding") from None


def count_rows(path: Path) -> int:
    """Lines after the header: a quick upper bound on records, for a progress bar."""
    with path.open("rb") as handle:
        lines = 0
        for block in iter(lambda: handle.read(_CHUNK), b""):
            lines += block.count(b"\n") or block.count(b"\r")  # old Mac files end lines with \r alone
    return max(lines - 1, 0)


# ---------------------------------------------------------------------------------------- Excel
# openpyxl parses through defusedxml (a dependency for this), which refuses entity declarations:
# an xlsx never needs them, and they carry XML bombs (billion laughs) and external entities (XXE).
_XML_ERRORS = (DefusedXmlException, ParseError)


# A workbook's parts (and a Parquet file's row groups) unpack to a few times their packed size; a zip bomb's
# to hundreds or thousands of times (133 KB unpacking to a 54 MB sharedStrings.xml held the server for a minute
# and 520 MB). Checked in the zip's directory,
# before openpyxl unpacks anything; zipfile stops a part at the size the directory gives it, so the check holds.
XLSX_MAX_RATIO = 100  # a part unpacking to more than this many times its packed size ...
XLSX_RATIO_FROM = 16 * 1024 * 1024  # ... and to more than this many bytes is refused
XLSX_MAX_TOTAL = 2 * 1024 * 1024 * 1024  # bytes, every part together
XLSX_MAX_PARTS = 10_000


def _check_unpacked_size(path: Path) -> None:
    """Refuse (FileError) a workbook whose parts would unpack to far more than they pack into, or that has absurdly
    many parts, before any is unpacked."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as err:
        raise FileError(f"{path}: {_unreadable_xlsx(err)}") from None
    if len(parts) > XLSX_MAX_PARTS:
        raise FileError(f"{path}: refused: {len(parts):,} parts in one workbook; a real one has dozens")
    for part in parts:
        if part.file_size > XLSX_RATIO_FROM and part.file_size > XLSX_MAX_RATIO * part.compress_size:
            raise FileError(
                f"{path}: refused: its part {printable(part.filename)!r} would unpack from {part.compress_size:,} "
                f"to {part.file_size:,} bytes, far more than a real workbook's parts (a zip bomb)"
            )
    total = sum(part.file_size for part in parts)
    if total > XLSX_MAX_TOTAL:
        raise FileError(f"{path}: refused: its parts would unpack to {total:,} bytes, more than {XLSX_MAX_TOTAL:,}")


def _unreadable_xlsx(err: BaseException) -> str:
    """Why a workbook cannot be read, from openpyxl's error or the XML error beneath it."""
    cause = err.__cause__ or err.__context__ or err
    if isinstance(err, DefusedXmlException) or isinstance(cause, DefusedXmlException):
        return "not a readable xlsx workbook: its XML declares entities or a DTD, which a workbook never does; refused"
    if isinstance(err, ParseError) or isinstance(cause, ParseError):
        return "not a readable xlsx workbook: its XML is malformed; save it again from the spreadsheet program"
    return f"not a readable xlsx workbook ({type(err).__name__}); save it again as .xlsx"


def _has_values(sheet: Any) -> bool:
    """Whether a worksheet has a value in its first rows (an empty sheet, as Excel once added, has none)."""
    rows = sheet.iter_rows(values_only=True, max_row=_LOOK_BELOW)
    return any(_text(cell).strip() for cells in rows for cell in cells)


def _listed(names: list[str]) -> str:
    """Names as a sentence lists them.

    >>> _listed(["'A'"]), _listed(["'A'", "'B'"]), _listed(["'A'", "'B'", "'C'"])
    ("'A'", "'A' and 'B'", "'A', 'B' and 'C'")
    """
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


_TOTALS = re.compile(r"(grand |sub-?)?totals?:?", re.IGNORECASE)  # the first value of a report's totals row


@dataclass
class ExcelSource:
    """The first sheet (or ``read.sheet``) of an xlsx workbook, streamed in read-only mode."""

    path: Path
    read: ReadSpec

    def describe(self) -> str:
        header = f", header at row {self.read.header_row}" if self.read.header_row != 1 else ""
        return f"Excel, sheet {self.read.sheet or 'first'}{header}"

    @contextmanager
    def _book(self) -> Iterator[Any]:
        import openpyxl
        from openpyxl.utils.exceptions import InvalidFileException

        _check_unpacked_size(self.path)
        try:
            book = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError, *_XML_ERRORS) as err:
            raise FileError(f"{self.path}: {_unreadable_xlsx(err)}") from None
        try:
            yield book
        except (zipfile.BadZipFile, EOFError, zlib.error, *_XML_ERRORS) as err:  # read-only mode parses sheets late
            raise FileError(f"{self.path}: {_unreadable_xlsx(err)}") from None
        finally:
            book.close()

    @contextmanager
    def _sheet(self) -> Iterator[Any]:
        with self._book() as book:
            if self.read.sheet and self.read.sheet not in book.sheetnames:
                raise FileError(f"{self.path}: no sheet {self.read.sheet!r}; it has: {', '.join(book.sheetnames)}")
            if not self.read.sheet and not book.worksheets:
                raise FileError(f"{self.path}: the workbook has no worksheet")
            yield book[self.read.sheet] if self.read.sheet else book.worksheets[0]

    @contextmanager
    def _header(self) -> Iterator[tuple[list[Any], Iterator[tuple[int, list[Any]]]]]:
        """The header row's cells without the empty ones at its end (formatting), and the numbered rows below."""
        row = self.read.header_row
        with self._sheet() as sheet:
            header = list(next(sheet.iter_rows(values_only=True, min_row=row, max_row=row), ()))
            while header and not _text(header[-1]).strip():
                header.pop()
            below = sheet.iter_rows(values_only=True, min_row=row + 1, max_row=row + _LOOK_BELOW)
            yield header, ((number, list(cells)) for number, cells in enumerate(below, start=row + 1))

    def columns(self) -> list[str]:
        if not self.read.header:
            return list(self.read.columns)
        with self._header() as (header, below):
            return _checked_header(self.path, header, self.read.header_row, below)

    def header_hint(self) -> str:
        """What to set when the spec's columns are missing: read.header_row when the header row holds a value or
        a few, like a title above the header; read.sheet when none was named and other sheets hold values; else ''."""
        if not self.read.header:
            return ""
        with self._header() as (header, below):
            title = _title_hint(self.read.header_row, header, below)
        return "; ".join(hint for hint in (title, self._sheet_hint()) if hint)

    def _sheet_hint(self) -> str:
        """When no sheet was named, the other sheets with a value in their first rows (a notes sheet often comes
        first, the records after it), and how to name one; else ''."""
        if self.read.sheet:
            return ""
        with self._book() as book:
            first, *rest = book.worksheets
            others = [sheet.title for sheet in rest if _has_values(sheet)]
        if not others:
            return ""
        also = _listed([repr(name) for name in others])
        where = (
            f"if the records are there, set read: {{sheet: {json.dumps(others[0], ensure_ascii=False)}}}"
            if len(others) == 1
            else 'if the records are on one of those, set read: {sheet: "<name>"}'
        )
        return f"read the first sheet, {first.title!r}; the workbook also has {also}: {where}"

    def rows(self) -> Iterator[Row]:
        """(spreadsheet row, values by column, cells as text) for each row with a value; a totals row is refused."""
        columns = self.columns()
        with self._sheet() as sheet:
            first = self.read.header_row + 1 if self.read.header else self.read.header_row
            for number, cells in enumerate(sheet.iter_rows(values_only=True, min_row=first), start=first):
                fields = [_text(c) for c in cells]
                while fields and fields[-1] == "" and len(fields) > len(columns):
                    fields.pop()  # trailing empty cells beyond the header are formatting, not data
                if not any(fields):
                    continue  # a blank row, between records or below them
                values = _values(columns, fields + [""] * (len(columns) - len(fields)))
                label = next(f for f in fields if f).strip()
                if _TOTALS.fullmatch(label):
                    values[WIDTH] = f"a totals row ({label!r}), not a record"
                yield number, values, fields

    def count(self) -> int:
        with self._sheet() as sheet:
            above = self.read.header_row if self.read.header else self.read.header_row - 1
            return max((sheet.max_row or 1) - above, 0)


# ---------------------------------------------------------------------------------------- JSON
def _flattened(record: dict[str, Any]) -> dict[str, Any]:
    """A JSON object with each nested object's fields also as columns of their own, named by their path.

    The nested object stays too, as JSON text. A key of the object itself wins over a path that spells it.

    >>> flat = _flattened({"id": 1, "location": {"street": {"name": "Elm Court"}, "latitude": "52.6"}, "tags": ["a"]})
    >>> list(flat)
    ['id', 'location', 'tags', 'location.street', 'location.latitude', 'location.street.name']
    >>> flat["location.street.name"], flat["location.street"]
    ('Elm Court', {'name': 'Elm Court'})
    """
    flat = dict(record)
    pending = [(key, value) for key, value in record.items() if isinstance(value, dict)]
    while pending:  # nesting is bounded by MAX_NESTING when the record is parsed
        path, nested = pending.pop(0)
        for key, value in nested.items():
            flat.setdefault(f"{path}.{key}", value)
            if isinstance(value, dict):
                pending.append((f"{path}.{key}", value))
    return flat


class _TooDeep(ValueError):
    pass


@contextmanager
def _utf8(path: Path, kind: str) -> Iterator[None]:
    try:
        yield
    except UnicodeDecodeError as err:
        raise FileError(f"{path}: {kind} must be UTF-8; byte 0x{err.object[err.start]:02x} is not") from None


def _parsed(text: str) -> Any:
    """JSON text parsed, refused when nested deeper than MAX_NESTING (the parser and the writer recurse)."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise _TooDeep from None
    if _depth(data) > MAX_NESTING:
        raise _TooDeep
    return data


def _depth(value: Any) -> int:
    """How deeply lists and objects nest in ``value``, walked without recursion.

    >>> _depth({"a": [1, {"b": []}]}), _depth("x")
    (4, 0)
    """
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            pending.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


@dataclass
class JsonLinesSource:
    """One JSON object per line, read a line at a time, so that one bad line rejects only itself."""

    path: Path
    read: ReadSpec

    def describe(self) -> str:
        return "JSON Lines"

    def header_hint(self) -> str:
        return ""

    def _records(self) -> Iterator[tuple[int, dict[str, Any], str]]:
        """(line number, the object or the reason it is none, the line as written)."""
        with self.path.open(encoding="utf-8-sig") as handle, _utf8(self.path, "JSON Lines"):
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                written = line.rstrip("\r\n")
                try:
                    record = _parsed(written)  # without its line end, so an error's column is where it is
                except json.JSONDecodeError as err:
                    problem = f"not valid JSON: {err.msg.removesuffix(' at')} at column {err.colno}"
                    yield number, {WIDTH: problem}, written
                    continue
                except _TooDeep:
                    yield number, {WIDTH: f"nested more than {MAX_NESTING} levels deep"}, written
                    continue
                yield number, _flattened(record) if isinstance(record, dict) else {WIDTH: "not a JSON object"}, written

    @cached_property
    def _columns(self) -> list[str]:
        seen: dict[str, None] = {}  # every key of every object: a key may first appear late in the file
        first_problem = ""
        for number, record, _ in self._records():
            seen.update(dict.fromkeys(k for k in record if k != WIDTH))
            if WIDTH in record and not first_problem:
                first_problem = f"; line {number}: {record[WIDTH]}"
        if not seen:
            raise FileError(f"{self.path}: no JSON objects found{first_problem}")
        return list(seen)

    def columns(self) -> list[str]:
        return list(self._columns)

    def rows(self) -> Iterator[Row]:
        """Each object's values; its fields in the header's order, so that a listed row lines up with the header.

        A line that is not an object is listed as written, in the first column.
        """
        columns = self._columns
        for number, record, written in self._records():
            if WIDTH in record:
                yield number, record, [written]
                continue
            values = {k: _text(v) for k, v in record.items()}
            yield number, values, [values.get(k, "") for k in columns]

    def count(self) -> int:
        return count_rows(self.path) + 1


@dataclass
class JsonSource:
    """A JSON array of objects (or ``{"<read.records>": [...]}``), parsed whole."""

    path: Path
    read: ReadSpec

    def describe(self) -> str:
        return "JSON"

    def header_hint(self) -> str:
        return ""

    @cached_property
    def _records(self) -> list[Any]:  # parsed once: columns(), rows() and count() all need it
        try:
            data = _parsed(self.path.read_text(encoding="utf-8-sig"))
        except json.JSONDecodeError as err:
            raise FileError(f"{self.path}: not valid JSON: {err.msg} at line {err.lineno}") from None
        except UnicodeDecodeError:
            raise FileError(f"{self.path}: JSON must be UTF-8") from None
        except _TooDeep:
            raise FileError(f"{self.path}: nested more than {MAX_NESTING} levels deep; send flat records") from None
        if isinstance(data, dict) and self.read.records:
            data = data.get(self.read.records)
        if not isinstance(data, list):
            where = f"under {self.read.records!r}" if self.read.records else "at the top level"
            raise FileError(f"{self.path}: expected an array of objects {where}; set read.records to its key")
        return data

    @cached_property
    def _columns(self) -> list[str]:
        seen: dict[str, None] = {}
        for record in self._records:
            if isinstance(record, dict):
                seen.update(dict.fromkeys(_flattened(record)))
        if not seen:
            raise FileError(f"{self.path}: no JSON objects found")
        return list(seen)

    def columns(self) -> list[str]:
        return list(self._columns)

    def rows(self) -> Iterator[Row]:
        for number, record in enumerate(self._records, start=1):
            if not isinstance(record, dict):
                yield number, {WIDTH: "not a JSON object"}, [_text(record)]
                continue
            values = {k: _text(v) for k, v in _flattened(record).items()}
            yield number, values, [values.get(k, "") for k in self._columns]

    def count(self) -> int:
        return len(self._records)


# ---------------------------------------------------------------------------------------- Parquet
@dataclass
class ParquetSource:
    """A Parquet file, read a row group batch at a time through pandas and pyarrow."""

    path: Path
    read: ReadSpec
    batch_size: int = 1_000  # rows held at once as Python text: small, since a Parquet file compresses well

    def describe(self) -> str:
        return "Parquet"

    def header_hint(self) -> str:
        return ""

    def _file(self) -> Any:
        import pyarrow.parquet as pq

        try:
            parquet = pq.ParquetFile(self.path)
        except Exception as err:  # pyarrow raises its own types for every kind of bad file
            raise FileError(f"{self.path}: not a readable Parquet file ({type(err).__name__})") from None
        meta = parquet.metadata
        unpacked = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        packed = max(self.path.stat().st_size, 1)
        if unpacked > XLSX_MAX_TOTAL or (unpacked > XLSX_RATIO_FROM and unpacked > XLSX_MAX_RATIO * packed):
            raise FileError(
                f"{self.path}: unpacks to {unpacked:,} bytes from {packed:,}; a file that compresses that well "
                "is refused (a compression bomb); split it, or send CSV"
            )
        return parquet

    def columns(self) -> list[str]:
        return _checked_header(self.path, list(self._file().schema_arrow.names), 1, ())

    def rows(self) -> Iterator[Row]:
        columns = self.columns()
        number = 0
        for batch in self._file().iter_batches(batch_size=self.batch_size):
            frame = batch.to_pandas()
            for record in frame.itertuples(index=False, name=None):
                number += 1
                fields = [_text(v) for v in record]
                yield number, dict(zip(columns, fields, strict=True)), fields

    def count(self) -> int:
        return self._file().metadata.num_rows


# ---------------------------------------------------------------------------------------- the registry
# The one list of formats: open_source picks readers from it, the spec checks read.format against it, the CLI's
# help and the API's upload check list its suffixes. A new reader is added here and nowhere else.
FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("csv", CsvSource, (".csv", ".txt", ".tsv"), header_row=True),
        Format("xlsx", ExcelSource, (".xlsx",), header_row=True),
        Format("json", JsonSource, (".json",)),
        Format("jsonl", JsonLinesSource, (".jsonl", ".ndjson")),
        Format("parquet", ParquetSource, (".parquet",)),
    )
}
BY_SUFFIX: dict[str, Format] = {suffix: f for f in FORMATS.values() for suffix in f.suffixes}
