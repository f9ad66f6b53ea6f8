"""Readers: stream a partner file as rows of text, each with the number an analyst would look for.

Every reader yields ``(number, values by column, original fields)``: the CSV line where a record
starts, the spreadsheet row, the JSON Lines line, or the record's position in a JSON array or a
Parquet file. Values are text, as a partner would have typed them; the mapping converts them.
Reading is streamed or chunked, so memory stays flat as files grow (except a plain JSON array,
which is parsed whole: use JSON Lines for big files). Parquet goes through pyarrow and pandas a
batch at a time; xlsx through openpyxl's read-only mode (pandas' own engine, without loading the
sheet whole).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import json
import math
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException

from nimgraph.ingest.spec import ReadSpec

csv.field_size_limit(16 * 1024 * 1024)

Row = tuple[int, dict[str, str], list[str]]
FORMATS = ("csv", "xlsx", "json", "jsonl", "parquet")
_BY_SUFFIX = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
}
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


def open_source(path: Path, read: ReadSpec) -> Source:
    """The reader for ``path``: the spec's format, or the one its suffix implies."""
    fmt = read.format
    if fmt == "auto":
        fmt = _BY_SUFFIX.get(path.suffix.lower(), "csv")
    if fmt not in FORMATS:
        raise FileError(f"{path}: unknown format {fmt!r}; use one of: {', '.join(FORMATS)}")
    if not path.exists():
        raise FileError(f"{path}: no such file")
    if not path.is_file():
        raise FileError(f"{path}: is a directory (or a device), not a file; name the file to load")
    return {"csv": CsvSource, "xlsx": ExcelSource, "json": JsonSource, "jsonl": JsonLinesSource}.get(
        fmt, ParquetSource
    )(path, read)


def _checked_header(path: Path, header: list[Any]) -> list[str]:
    if not header or not any(str(h or "").strip() for h in header):
        raise FileError(f"{path}: the file is empty; expected a header row")
    names = [str(h if h is not None else "").strip() for h in header]
    repeated = [name for name, n in Counter(names).items() if n > 1]
    if repeated:
        raise FileError(f"{path}: the header repeats {', '.join(map(repr, repeated))}")
    return names


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
    if hasattr(value, "isoformat"):  # pandas Timestamp
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
@dataclass
class CsvSource:
    path: Path
    read: ReadSpec
    encoding: str = field(init=False, default="")
    delimiter: str = field(init=False, default="")

    def __post_init__(self) -> None:
        self.encoding = self.read.encoding if self.read.encoding != "auto" else self._detect_encoding()
        self.delimiter = self.read.delimiter if self.read.delimiter != "auto" else self._detect_delimiter()

    def describe(self) -> str:
        return f"CSV, {self.encoding}, delimiter {self.delimiter!r}"

    def _detect_encoding(self) -> str:
        """UTF-16 if it starts with its byte order mark (Excel's "Unicode text"); UTF-8 if every byte
        decodes as UTF-8; else Windows-1252, as old partner systems write."""
        with self.path.open("rb") as handle:
            start = handle.read(4)
        if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        for encoding in ("utf-8", "cp1252"):
            if self._decodes_as(encoding):
                return "utf-8-sig" if encoding == "utf-8" else encoding
        return "latin-1"  # decodes any byte; cp1252 leaves five undefined

    def _decodes_as(self, encoding: str) -> bool:
        """Whether the whole file decodes, read a block at a time so memory stays flat."""
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with self.path.open("rb") as handle:
                for block in iter(lambda: handle.read(_CHUNK), b""):
                    decoder.decode(block)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
        return True

    def _detect_delimiter(self) -> str:
        with self._open() as handle, self._decoding():
            sample = handle.read(64 * 1024)
        try:
            return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
        except csv.Error:
            return ","

    def columns(self) -> list[str]:
        if not self.read.header:
            if not self.read.columns:
                raise FileError(f"{self.path}: the spec says there is no header row, so it must list 'columns'")
            return list(self.read.columns)
        with self._open() as handle, self._decoding():
            header = next(csv.reader(handle, delimiter=self.delimiter), None)
        return _checked_header(self.path, header or [])

    def rows(self) -> Iterator[Row]:
        """(line number, values by column, original fields) for each record."""
        columns = self.columns()
        with self._open() as handle, self._decoding():
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
                    yield start, {WIDTH: f"unreadable as CSV: {err}"}, []
                    start = reader.line_num + 1
                    continue
                if fields:
                    yield start, _values(columns, fields), fields
                start = reader.line_num + 1

    def count(self) -> int:
        return count_rows(self.path) + (0 if self.read.header else 1)

    @contextmanager
    def _decoding(self) -> Iterator[None]:
        try:
            yield
        except UnicodeDecodeError as err:
            raise FileError(
                f"{self.path}: bytes at offset {err.start} of a read block are not {self.encoding}; "
                "set read.encoding in the spec (e.g. cp1252 or latin-1), or leave it out to detect it, and run again"
            ) from None
        except csv.Error as err:
            raise FileError(f"{self.path}: not readable as CSV: {err}") from None

    def _open(self):
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


def _unreadable_xlsx(err: BaseException) -> str:
    """Why a workbook cannot be read, from openpyxl's error or the XML error beneath it."""
    cause = err.__cause__ or err.__context__ or err
    if isinstance(err, DefusedXmlException) or isinstance(cause, DefusedXmlException):
        return "not a readable xlsx workbook: its XML declares entities or a DTD, which a workbook never does; refused"
    if isinstance(err, ParseError) or isinstance(cause, ParseError):
        return "not a readable xlsx workbook: its XML is malformed; save it again from the spreadsheet program"
    return f"not a readable xlsx workbook ({type(err).__name__}); save it again as .xlsx"


@dataclass
class ExcelSource:
    """The first sheet (or ``read.sheet``) of an xlsx workbook, streamed in read-only mode."""

    path: Path
    read: ReadSpec

    def describe(self) -> str:
        return f"Excel, sheet {self.read.sheet or 'first'}"

    @contextmanager
    def _sheet(self) -> Iterator[Any]:
        import openpyxl
        from openpyxl.utils.exceptions import InvalidFileException

        try:
            book = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError, *_XML_ERRORS) as err:
            raise FileError(f"{self.path}: {_unreadable_xlsx(err)}") from None
        try:
            if self.read.sheet and self.read.sheet not in book.sheetnames:
                raise FileError(f"{self.path}: no sheet {self.read.sheet!r}; it has: {', '.join(book.sheetnames)}")
            yield book[self.read.sheet] if self.read.sheet else book.worksheets[0]
        except (zipfile.BadZipFile, EOFError, zlib.error, *_XML_ERRORS) as err:  # read-only mode parses sheets late
            raise FileError(f"{self.path}: {_unreadable_xlsx(err)}") from None
        finally:
            book.close()

    def columns(self) -> list[str]:
        if not self.read.header:
            return list(self.read.columns)
        with self._sheet() as sheet:
            header = next(sheet.iter_rows(values_only=True, max_row=1), ())
        return _checked_header(self.path, list(header))

    def rows(self) -> Iterator[Row]:
        columns = self.columns()
        with self._sheet() as sheet:
            first = 2 if self.read.header else 1
            for number, cells in enumerate(sheet.iter_rows(values_only=True, min_row=first), start=first):
                fields = [_text(c) for c in cells]
                while fields and fields[-1] == "" and len(fields) > len(columns):
                    fields.pop()  # trailing empty cells beyond the header are formatting, not data
                if any(fields):
                    yield number, _values(columns, fields + [""] * (len(columns) - len(fields))), fields

    def count(self) -> int:
        with self._sheet() as sheet:
            return max((sheet.max_row or 1) - (1 if self.read.header else 0), 0)


# ---------------------------------------------------------------------------------------- JSON
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

    def _records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        with self.path.open(encoding="utf-8-sig") as handle, _utf8(self.path, "JSON Lines"):
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = _parsed(line)
                except json.JSONDecodeError as err:
                    yield number, {WIDTH: f"not valid JSON: {err.msg} at column {err.colno}"}
                    continue
                except _TooDeep:
                    yield number, {WIDTH: f"nested more than {MAX_NESTING} levels deep"}
                    continue
                yield number, record if isinstance(record, dict) else {WIDTH: "not a JSON object"}

    def columns(self) -> list[str]:
        seen: dict[str, None] = {}  # every key of every object: a key may first appear late in the file
        first_problem = ""
        for number, record in self._records():
            seen.update(dict.fromkeys(k for k in record if k != WIDTH))
            if WIDTH in record and not first_problem:
                first_problem = f"; line {number}: {record[WIDTH]}"
        if not seen:
            raise FileError(f"{self.path}: no JSON objects found{first_problem}")
        return list(seen)

    def rows(self) -> Iterator[Row]:
        for number, record in self._records():
            values = {k: _text(v) for k, v in record.items()}
            yield number, values, [values.get(k, "") for k in values]

    def count(self) -> int:
        return count_rows(self.path) + 1


@dataclass
class JsonSource:
    """A JSON array of objects (or ``{"<read.records>": [...]}``), parsed whole."""

    path: Path
    read: ReadSpec

    def describe(self) -> str:
        return "JSON"

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

    def columns(self) -> list[str]:
        seen: dict[str, None] = {}
        for record in self._records:
            if isinstance(record, dict):
                seen.update(dict.fromkeys(record))
        if not seen:
            raise FileError(f"{self.path}: no JSON objects found")
        return list(seen)

    def rows(self) -> Iterator[Row]:
        for number, record in enumerate(self._records, start=1):
            if not isinstance(record, dict):
                yield number, {WIDTH: "not a JSON object"}, [_text(record)]
                continue
            values = {k: _text(v) for k, v in record.items()}
            yield number, values, list(values.values())

    def count(self) -> int:
        return len(self._records)


# ---------------------------------------------------------------------------------------- Parquet
@dataclass
class ParquetSource:
    """A Parquet file, read a row group batch at a time through pandas and pyarrow."""

    path: Path
    read: ReadSpec
    batch_size: int = 10_000

    def describe(self) -> str:
        return "Parquet"

    def _file(self) -> Any:
        import pyarrow.parquet as pq

        try:
            return pq.ParquetFile(self.path)
        except Exception as err:  # pyarrow raises its own types for every kind of bad file
            raise FileError(f"{self.path}: not a readable Parquet file ({type(err).__name__})") from None

    def columns(self) -> list[str]:
        return _checked_header(self.path, list(self._file().schema_arrow.names))

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
