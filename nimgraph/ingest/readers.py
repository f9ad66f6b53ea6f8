"""Readers: stream a partner file as rows with the line each record starts on."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from nimgraph.ingest.spec import ReadSpec

csv.field_size_limit(16 * 1024 * 1024)


class FileError(ValueError):
    """The file as a whole cannot be read as the spec says; nothing is written."""


@dataclass
class CsvSource:
    path: Path
    read: ReadSpec

    def columns(self) -> list[str]:
        if not self.read.header:
            if not self.read.columns:
                raise FileError(f"{self.path}: the spec says there is no header row, so it must list 'columns'")
            return list(self.read.columns)
        with self._open() as handle, self._decoding():
            header = next(csv.reader(handle, delimiter=self.read.delimiter), None)
        if not header:
            raise FileError(f"{self.path}: the file is empty; expected a header row")
        header = [h.strip() for h in header]
        repeated = [name for name, n in Counter(header).items() if n > 1]
        if repeated:
            raise FileError(f"{self.path}: the header repeats {', '.join(map(repr, repeated))}")
        return header

    def rows(self) -> Iterator[tuple[int, dict[str, str], list[str]]]:
        """(line number, values by column, original fields) for each record."""
        columns = self.columns()
        with self._open() as handle, self._decoding():
            reader = csv.reader(handle, delimiter=self.read.delimiter)
            if self.read.header:
                next(reader, None)
            start = reader.line_num + 1
            for fields in reader:
                if fields:
                    yield start, self._values(columns, fields), fields
                start = reader.line_num + 1

    @staticmethod
    def _values(columns: list[str], fields: list[str]) -> dict[str, str]:
        values = dict(zip(columns, fields, strict=False))
        if len(fields) != len(columns):
            values["\0width"] = f"{len(fields)} fields where the header has {len(columns)}"
        return values

    @contextmanager
    def _decoding(self) -> Iterator[None]:
        try:
            yield
        except UnicodeDecodeError as err:
            raise FileError(
                f"{self.path}: bytes at offset {err.start} of a read block are not {self.read.encoding}; "
                "set read.encoding in the spec (e.g. cp1252 or latin-1) and run again"
            ) from None

    def _open(self):
        try:
            return self.path.open(encoding=self.read.encoding, newline="")
        except OSError as err:
            raise FileError(f"{self.path}: cannot open: {err.strerror}") from None


def count_rows(path: Path) -> int:
    """Lines after the header: a quick upper bound on records, for a progress bar."""
    with path.open("rb") as handle:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    return max(lines - 1, 0)
