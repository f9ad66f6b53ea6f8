"""How a spec says to read its files (``read:``): the options the readers take.

Apart from the spec module because the readers need these options and the spec needs the readers (a lookup
table is a file it reads, and ``read.format`` is checked against the readers' registry): both import this.
"""

from __future__ import annotations

from dataclasses import dataclass

AUTO = "auto"  # read.format's default: the format the file's suffix implies


@dataclass(frozen=True)
class ReadSpec:
    format: str = AUTO  # a name in readers.FORMATS; auto: from the file's suffix
    delimiter: str = "auto"  # auto: sniffed from the start of the file
    encoding: str = "auto"  # auto: a byte-order mark, else UTF-8 if the whole file is, else charset-normalizer's guess
    header: bool = True
    header_row: int = 1  # CSV and xlsx: the row (line) of the header, counted from 1; rows above it are skipped
    columns: tuple[str, ...] = ()  # the column names of a file without a header row
    sheet: str | None = None  # xlsx: the sheet to read (default: the first)
    records: str | None = None  # JSON: the key that holds the array of records
