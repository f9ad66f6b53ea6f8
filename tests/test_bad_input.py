"""The bad-input corpus: files nobody should send, each with the outcome an analyst should get.

Every case is a set of files (and often its own spec) with one expected outcome, checked through the
command line as a user runs it (in process, so the corpus stays fast):

- ``file``: the files are refused before anything is written (exit 2), with a clear message;
- ``spec``: the spec is refused, the message naming its line (exit 2), nothing written;
- ``rows``: rows load, are rejected, unmatched or warned as stated, each with its reason, the good
  rows always loading; the exit code is 0, or 1 when ``--strict`` has something to fail on.

Nothing may crash, and nothing valid may be lost. Cases marked ``api`` run again as API ingest jobs
(tests/test_bad_input_api.py). A case with ``bug`` is a known defect, expected to fail until fixed.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import re
import sqlite3
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import openpyxl
import pytest

from nimgraph.cli import main
from nimgraph.ingest.engine import ingest_file
from nimgraph.ingest.spec import load_spec
from nimgraph.store.embedded import EmbeddedStore

SPEC = """\
source: {name: corpus}
grading: {default: 1BP, column: Grade}
record_id: Ref
entities:
  report:
    type: ASBIncident
    keys: [Ref]
    properties:
      reference: Ref
      date: {column: Date, format: "%d/%m/%Y"}
      category: Kind
  place:
    type: Street
    keys: [Street]
    optional: true
    properties: {name: Street, latitude: Lat}
links:
  - {type: occurredAt, from: report, to: place}
"""
STATED = SPEC.replace("record_id: Ref", "record_id: Ref\ndate_order: day_first")  # its dates confirmed
HEADER = "Ref,Date,Kind,Street,Lat,Grade"
GOOD = "G1,01/03/2026,Noise,Elm Street,53.1,"
GOOD2 = GOOD.replace("G1", "G2")

Files = tuple[tuple[str, bytes], ...]


@dataclass(frozen=True)
class Case:
    name: str
    files: Files  # the data files given to the command, in order
    expect: str  # "file", "spec" or "rows"
    match: str = ""  # a pattern: the refusal, or every reject reason
    loaded: int = 0
    rejected: int = 0
    unmatched: int = 0
    warned: int = 0
    spec: str = SPEC
    beside: Files = ()  # files the spec reads itself (lookups): beside it, not given to the command
    args: tuple[str, ...] = ()  # --strict, --dry-run
    exit: int = 0
    said: str = ""  # a pattern the command's output holds
    links: dict[str, int] = field(default_factory=dict)  # link type -> links stored
    records: dict[str, int] = field(default_factory=dict)  # link type -> records behind its links
    stored: dict[str, str] = field(default_factory=dict)  # property -> a value some loaded entity holds
    listed_as: str = ""  # a pattern the rejected row's listing holds, as "column=value|column=value"
    api: bool = False  # run as an API ingest job too
    bug: str = ""  # a known defect: the case states the right outcome and fails until it is fixed


def rows(*lines: str, header: str = HEADER, newline: str = "\n") -> bytes:
    return (newline.join([header, *lines]) + newline).encode("utf-8")


def data(body: bytes, suffix: str = ".csv") -> Files:
    return ((f"data{suffix}", body),)


def with_read(read: str, spec: str = SPEC) -> str:
    return spec.replace("entities:", f"{read}\nentities:")


def case(name: str, body: bytes, expect: str, match: str = "", *, suffix: str = ".csv", read: str = "", **kw) -> Case:
    spec = with_read(read, kw.pop("spec", SPEC)) if read else kw.pop("spec", SPEC)
    return Case(name, data(body, suffix), expect, match, spec=spec, **kw)


def one_bad(name: str, line: str, match: str, **kw) -> Case:
    """A good row, the bad one, another good row: two load, one is rejected for ``match``."""
    return case(name, rows(GOOD, line, GOOD2), "rows", match, loaded=2, rejected=1, **kw)


def fine(name: str, line: str, loaded: int = 2, **kw) -> Case:
    """Odd but valid: everything loads."""
    return case(name, rows(GOOD, line), "rows", loaded=loaded, **kw)


def spec_error(name: str, change: tuple[str, str] | str, match: str, spec: str = SPEC, **kw) -> Case:
    """The spec with one mistake: refused, with the line that holds it."""
    text = spec.replace(*change) if isinstance(change, tuple) else change
    assert text != spec, f"{name}: the change did not apply"
    return Case(name, data(rows(GOOD)), "spec", rf"spec\.yaml:\d+: .*{match}", spec=text, **kw)


def workbook(*sheet_rows: list[object]) -> bytes:
    book = openpyxl.Workbook()
    for values in sheet_rows:
        book.active.append(values)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def sheetless() -> bytes:
    """A workbook whose list of sheets is empty, as some export tools write when a report has no data."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(workbook(["Ref"]))) as given, zipfile.ZipFile(out, "w") as written:
        for item in given.infolist():
            body = given.read(item)
            if item.filename == "xl/workbook.xml":
                body = re.sub(rb"<sheets>.*</sheets>", b"<sheets/>", body, flags=re.S)
            written.writestr(item, body)
    return out.getvalue()


SHARED_STRINGS = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


def bombed(book: bytes, letters: int = 17 * 1024 * 1024) -> bytes:
    """``book`` with a shared string of ``letters`` letters, which openpyxl would read whole: a zip bomb that packs
    into a few KB and unpacks to more than 16 MB, a thousand times over."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(book)) as given, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in given.infolist():
            body = given.read(item)
            if item.filename == "[Content_Types].xml":
                part = f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SHARED_STRINGS}"/>'
                body = body.replace(b"</Types>", part.encode() + b"</Types>")
            bomb.writestr(item, body)
        sst = '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>{}</t></si></sst>'
        bomb.writestr("xl/sharedStrings.xml", sst.format("a" * letters))
    return out.getvalue()


def jsonl(*records: object) -> bytes:
    return "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in records).encode()


def record(ref: str = "J1", date: str = "01/03/2026", **more: object) -> dict:
    return {"Ref": ref, "Date": date, "Kind": "Noise", "Street": "Elm", "Lat": "", "Grade": "", **more}


# ------------------------------------------------------------------------------------------ the spec of other shapes
LOOKUP_SPEC = """\
source: {name: corpus-calls}
grading: {default: 1AC}
record_id: Call
date_order: day_first
lookups:
  owner: {file: owners.csv, key: Number, value: Nominal}
  district:
    file: districts.txt
    key: Outward
    value: District
    read: {header: false, columns: [Outward, District]}
entities:
  call:
    type: Call
    keys: [Call]
    properties: {reference: Call, date: {column: When}, category: {literal: call}}
  caller:
    type: Person
    id: {lookup: {table: owner, column: From}}
    optional: true
    reference_only: true
  place:
    type: Neighbourhood
    keys: [{lookup: {table: district, column: Postcode, pattern: '^(\\S+)\\s'}}]
    properties: {name: {lookup: {table: district, column: Postcode, pattern: '^(\\S+)\\s'}}}
links:
  - {type: callerIn, from: caller, to: call}
  - {type: occurredAt, from: call, to: place}
"""
CALLS = "Call,When,From,Postcode"
OWNERS = b"Number,Nominal\n07700900001,N1\n07700900002,N2\n07700900003,N3\n07700900003,N4\n"
DISTRICTS = b"NW5\tKentish Town\nNW1\tCamden\n"
LOOKUPS: Files = (("owners.csv", OWNERS), ("districts.txt", DISTRICTS))


def call_case(name: str, *lines: str, spec: str = LOOKUP_SPEC, beside: Files = LOOKUPS, **kw) -> Case:
    body = rows("C0,20/01/2026,07700900001,NW5 9WR", *lines, header=CALLS)
    return Case(name, data(body), kw.pop("expect", "rows"), kw.pop("match", ""), spec=spec, beside=beside, **kw)


NEO4J_SPEC = """\
source: {name: corpus-graph}
grading: {default: 2BC}
neo4j_import:
  labels: {Person: Person, Crime: CrimeIncident}
  relationships: {SUSPECT: suspectIn, KNOWS: knows, PARENT_OF: parentOf, VICTIM: victimIn}
  renames: {dob: dateOfBirth}
  files:
    "crimes*.csv":
      properties:
        date: {column: reported, format: "%d/%m/%Y", date_order: day_first}
        crimeType: {column: type, map: {VAP: violent-crime, BUR: burglary}}
        category: {literal: crime}
    people.csv:
      properties:
        name: {template: "{first} {last}"}
    "victims*.csv": {reversed: true}
"""
PEOPLE = b"id:ID(Person),first,last,dob:date,:LABEL\np1,Ann,Ames,1985-04-02,Person\np2,Bob,Bell,,Person\n"
CRIMES = b"id:ID(Crime),reported,type,:LABEL\nc1,03/04/2025,VAP,Crime\n"
NODES: Files = (("people.csv", PEOPLE), ("crimes.csv", CRIMES))


def graph(name: str, *files: tuple[str, str], spec: str = NEO4J_SPEC, nodes: Files = NODES, **kw) -> Case:
    """Node files and ``files`` given to one command; ``loaded`` and the rest count over every file."""
    given = (*nodes, *((n, t.encode()) for n, t in files))
    return Case(name, given, kw.pop("expect", "rows"), kw.pop("match", ""), spec=spec, **kw)


NODE_ROWS = 3  # the rows of NODES: two people and a crime
NHS_PERSON = """\
  person:
    type: Person
    keys: [{column: NHS, normalise: nhs_number}]
    namespace: nhs-number
    optional: true
    properties: {nhsNumber: {column: NHS, normalise: nhs_number}}
"""
KNOWS_SPEC = """\
source: {name: corpus-knows}
grading: {default: 2BC}
record_id: Ref
entities:
  one: {type: Person, keys: [One], properties: {name: One}}
  other: {type: Person, keys: [Other], properties: {name: Other}}
links:
  - {type: knows, from: one, to: other}
"""


# ------------------------------------------------------------------------------------------ the corpus
CASES = [
    # --- the file as a whole
    case("empty file", b"", "file", "the file is empty", api=True),
    case("only blank lines", b"\n\n\n", "file", "the file is empty"),
    case("header of empty names", b",,,\n1,2,3,4\n", "file", "the file is empty"),
    case("duplicated header", rows(GOOD, header=HEADER + ",Kind"), "file", "the header repeats 'Kind'", api=True),
    case(
        "header lacks a column",
        rows("G1,01/03/2026", header="Ref,Date"),
        "spec",
        r"spec\.yaml:\d+: unknown column 'Kind'",
        api=True,
    ),
    case(
        "header in another case", rows(GOOD, header=HEADER.lower()), "spec", "unknown column 'Ref'.*the file has: ref"
    ),
    case(
        "wrong encoding, set explicitly",
        "Ref,Date,Kind,Street,Lat,Grade\nG1,01/03/2026,Caf\xe9,Elm,,\n".encode("cp1252"),
        "file",
        "not utf-8; set read.encoding",
        read="read: {encoding: utf-8}",
        api=True,
    ),
    case(
        "unknown encoding",
        rows(GOOD),
        "spec",
        r"spec.yaml:\d+: read.encoding 'utf-9' is not an encoding Python knows",
        read="read: {encoding: utf-9}",
    ),
    case(
        "a codec that is no file encoding",
        rows(GOOD),
        "file",
        r"cannot be read as punycode .*set read.encoding to a file encoding",
        read="read: {encoding: punycode}",
        api=True,
    ),
    case("binary garbage", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20, "spec", "unknown column", api=True),
    case("xlsx that is a CSV", rows(GOOD), "file", "not a readable xlsx workbook", suffix=".xlsx", api=True),
    case("parquet that is a CSV", rows(GOOD), "file", "not a readable Parquet file", suffix=".parquet"),
    case("JSON that is not JSON", b"{'Ref': 'G1'", "file", "not valid JSON", suffix=".json", api=True),
    case("JSON object, not array", b'{"Ref": "G1"}', "file", "expected an array of objects", suffix=".json"),
    case("JSON empty array", b"[]", "file", "no JSON objects found", suffix=".json"),
    # --- encodings: detected, and said
    case("UTF-8 with BOM", codecs.BOM_UTF8 + rows(GOOD), "rows", loaded=1, said="utf-8 with byte-order mark", api=True),
    case(
        "UTF-8 without BOM is not called utf-8-sig",
        rows(GOOD.replace("Noise", "Café noise")),
        "rows",
        loaded=1,
        said=r"read as CSV, utf-8, delimiter",
        stored={"category": "Café noise"},
    ),
    case(
        "UTF-16 from Excel",
        (HEADER + "\r\n" + GOOD + "\r\n").encode("utf-16"),
        "rows",
        loaded=1,
        said="utf-16",
        api=True,
    ),
    case(
        "UTF-16 without a byte-order mark",
        (HEADER + "\r\n" + GOOD + "\r\n").encode("utf-16-le"),
        "rows",
        loaded=1,
        said=r"utf-16-le \(detected",
        api=True,
    ),
    case(
        "Windows-1252 with £ and é",
        (HEADER + "\n" + GOOD.replace("Noise", "£50 Café") + "\n").encode("cp1252"),
        "rows",
        loaded=1,
        said=r"cp1252 \(detected\)",
        stored={"category": "£50 Café"},
        api=True,
    ),
    case(
        "Latin-1 reads as its superset, Windows-1252",
        (HEADER + "\n" + GOOD.replace("Noise", "£5") + "\n").encode("latin-1"),
        "rows",
        loaded=1,
        said="cp1252",
        stored={"category": "£5"},
    ),
    case(
        "a byte undefined in Windows-1252 is read in the encoding detected, and said",
        rows(GOOD).replace(b"Noise", b"No\x81se"),
        "rows",
        loaded=1,
        said=r"read as CSV, cp\d+ \(detected\)",
    ),
    case(
        "ASCII set, accents sent",
        (HEADER + "\n" + GOOD.replace("Noise", "Café") + "\n").encode(),
        "file",
        "not ascii; set read.encoding",
        read="read: {encoding: ascii}",
    ),
    case("CRLF line endings", rows(GOOD, newline="\r\n"), "rows", loaded=1),
    case("old Mac CR line endings", rows(GOOD, GOOD2, newline="\r"), "rows", loaded=2, api=True),
    case(
        "semicolons",
        rows(GOOD.replace(",", ";"), header=HEADER.replace(",", ";")),
        "rows",
        loaded=1,
        said="delimiter ';'",
    ),
    case("tabs", rows(GOOD.replace(",", "\t"), header=HEADER.replace(",", "\t")), "rows", loaded=1),
    case(
        "pipes", rows(GOOD.replace(",", "|"), header=HEADER.replace(",", "|")), "rows", loaded=1, said=r"delimiter '\|'"
    ),
    case("blank lines between rows", rows(GOOD, "", "", GOOD2), "rows", loaded=2),
    case("header with spaces around names", rows(GOOD, header=" Ref , Date,Kind ,Street,Lat,Grade"), "rows", loaded=1),
    # --- title rows above the header
    case(
        "a title row above the header is named, with the fix",
        b"ASB cases March 2026\n\n" + rows(GOOD),
        "spec",
        r"row 1 holds one value \('ASB cases March 2026'\), like a title above the header; if row 3 is the header, "
        r"set read: \{header_row: 3\}",
        api=True,
    ),
    case(
        "a title with a comma above the header: refused with what was read",
        b"ASB cases, March 2026\n" + rows(GOOD),
        "spec",
        r"unknown column 'Ref' in data\.csv; the file has: ASB cases, March 2026",
    ),
    case(
        "header_row skips the title and blank row",
        b"ASB cases, March 2026\n\n" + rows(GOOD, "B1,,Noise,Elm,,"),
        "rows",
        r"^an ASB incident needs a date",
        loaded=1,
        rejected=1,
        read="read: {header_row: 3}",
        said=r"data\.csv row 5: an ASB incident",
        api=True,
    ),  # the file's own line numbers
    case(
        "header_row past the end",
        rows(GOOD),
        "file",
        r"row 9 \(read.header_row\) is empty",
        read="read: {header_row: 9}",
    ),
    case(
        "header_row on a JSON Lines file",
        jsonl(record()),
        "file",
        "read.header_row is for CSV and xlsx files",
        suffix=".jsonl",
        read="read: {header_row: 2}",
    ),
    case(
        "xlsx with a title row and header_row",
        workbook(["Vehicle fires 2025"], [], HEADER.split(","), ["X1", "01/03/2026", "Noise", "Elm", None, None]),
        "rows",
        loaded=1,
        suffix=".xlsx",
        read="read: {header_row: 3}",
        said="header at row 3",
        api=True,
    ),
    case(
        "xlsx with a title row and no header_row",
        workbook(["Vehicle fires 2025"], [], HEADER.split(","), ["X1", "01/03/2026", "Noise", "Elm", None, None]),
        "spec",
        r"if row 3 is the header",
        suffix=".xlsx",
    ),
    case(
        "xlsx time cells read as text",
        workbook(
            [*HEADER.split(","), "At"],
            ["X1", "01/03/2026", "Noise", "Elm", None, None, dt.time(14, 30)],
        ),
        "rows",
        loaded=1,
        suffix=".xlsx",
        spec=SPEC.replace("category: Kind", "category: At"),
        stored={"category": "14:30:00"},
    ),
    case(
        "xlsx date cells arrive as ISO text",
        workbook(HEADER.split(","), ["X1", dt.datetime(2026, 3, 4), "Noise", "Elm", None, None]),
        "rows",
        loaded=1,
        suffix=".xlsx",
        spec=SPEC.replace('format: "%d/%m/%Y"', 'format: "%Y-%m-%d"'),
        stored={"date": "2026-03-04"},
    ),
    case(
        "an xlsx totals row is rejected as such",
        workbook(HEADER.split(","), ["X1", "01/03/2026", "Noise", "Elm", None, None], ["Total", None, 1]),
        "rows",
        r"^a totals row \('Total'\), not a record$",
        loaded=1,
        rejected=1,
        suffix=".xlsx",
    ),
    case(
        "an xlsx totals row left out by a filter",
        workbook(HEADER.split(","), ["X1", "01/03/2026", "Noise", "Elm", None, None], ["Total", None, 1]),
        "rows",
        loaded=1,
        suffix=".xlsx",
        spec=SPEC.replace("entities:", "filter:\n  - {column: Ref, not_equals: Total}\nentities:"),
        said=r"1 left out by the spec's filters",
    ),
    # --- dates
    one_bad("31 February", "B1,31/02/2026,Noise,Elm,,", r"'31/02/2026' is not a date in the format '%d/%m/%Y'"),
    one_bad("year 1800", "B1,01/03/1800,Noise,Elm,,", r"outside the accepted years 1900-2100"),
    one_bad("year 2200", "B1,01/03/2200,Noise,Elm,,", r"outside the accepted years 1900-2100"),
    one_bad("two-digit year for %Y", "B1,01/03/26,Noise,Elm,,", r"'01/03/26' is not a date"),
    one_bad("ISO date for a day-first format", "B1,2026-03-01,Noise,Elm,,", r"is not a date"),
    one_bad("date with a time", "B1,01/03/2026 10:00,Noise,Elm,,", r"is not a date"),
    one_bad("missing date", "B1,,Noise,Elm,,", r"^an ASB incident needs a date; got ''$", api=True),
    one_bad("date of spaces", "B1,   ,Noise,Elm,,", r"needs a date"),
    one_bad(
        "month-first in a day-first column, with the fix",
        "B1,01/13/2026,Noise,Elm,,",
        r"'01/13/2026' is not a day-first date \('%d/%m/%Y'\); it reads month-first as 2026-01-13: if this "
        r"column is month-first, set date_order: month_first on it",
        api=True,
    ),
    one_bad(
        "month-first in a stated day-first column",
        "B1,01/20/2026,Noise,Elm,,",
        r"is not a day-first date .* set date_order: month_first",
        spec=SPEC.replace('format: "%d/%m/%Y"', 'format: "%d/%m/%Y", date_order: day_first'),
    ),
    one_bad("day 32", "B1,32/01/2026,Noise,Elm,,", r"is not a date in the format"),
    case(
        "ambiguous dates, no order stated: counted and said",
        rows(GOOD, "B2,03/04/2026,Noise,Elm,,"),
        "rows",
        loaded=2,
        said=r"date \('Date'\): 2 value\(s\) fit both day-first and month-first and were read day-first "
        r"\(from the first format with a day and a month\); set date_order",
        api=True,
    ),
    case(
        "ambiguous dates, no order stated, --strict fails",
        rows(GOOD, "B2,03/04/2026,Noise,Elm,,"),
        "rows",
        loaded=2,
        args=("--strict",),
        exit=1,
        said=r"--strict: data\.csv: 2 ambiguous date\(s\) read in an order the spec does not state",
    ),
    case(
        "ambiguous dates in a stated order pass --strict",
        rows(GOOD, "B2,03/04/2026,Noise,Elm,,"),
        "rows",
        loaded=2,
        args=("--strict",),
        said=r"were read day-first \(as the spec states\)",
        spec=STATED,
    ),
    case(
        "a month-first file stated so reads month first",
        rows("B1,03/04/2026,Noise,Elm,,", "B2,01/20/2026,Noise,,,"),
        "rows",
        loaded=2,
        stored={"date": "2026-03-04"},
        spec=SPEC.replace('format: "%d/%m/%Y"', "date_order: month_first"),
    ),
    case(
        "date_order without a format tries the common formats",
        rows("B1,31-01-26,Noise,,,", "B2,31.01.2026,Noise,,,", "B3,31 Jan 2026,Noise,,,", "B4,2026-01-31,Noise,,,"),
        "rows",
        loaded=4,
        stored={"date": "2026-01-31"},
        spec=SPEC.replace('format: "%d/%m/%Y"', "date_order: day_first"),
    ),
    spec_error(
        "a format in the other order than date_order",
        ('format: "%d/%m/%Y"', 'format: "%m/%d/%Y", date_order: day_first'),
        "reads the month first, but date_order is day_first",
    ),
    spec_error(
        "date_order of another word",
        ('format: "%d/%m/%Y"', "date_order: dmy"),
        "date_order is day_first or month_first; got 'dmy'",
    ),
    spec_error(
        "a date with neither format nor order",
        ('{column: Date, format: "%d/%m/%Y"}', "Date"),
        "a date needs 'format'",
        api=True,
    ),
    case(
        "a two-digit year with a pivot",
        rows("B1,01/03/45,Noise,,,"),
        "rows",
        loaded=1,
        stored={"date": "1945-03-01"},
        spec=SPEC.replace('format: "%d/%m/%Y"', 'format: "%d/%m/%y", pivot: 30'),
    ),
    # --- ids
    one_bad("missing record id", ",01/03/2026,Noise,Elm,,", r"the record id 'Ref' is empty"),
    one_bad("record id of spaces", "   ,01/03/2026,Noise,Elm,,", r"the record id 'Ref' is empty"),
    fine("leading zeros kept", "0001,01/03/2026,Noise,Elm,,"),
    fine("a 500-character id", "X" * 500 + ",01/03/2026,Noise,Elm,,"),
    fine("invisible characters in an id", "B\u200b1\u202e,01/03/2026,Noise,Elm,,"),
    # --- numbers
    one_bad("latitude in words", "B1,01/03/2026,Noise,Elm,north,", r"'north' is not a number"),
    one_bad("latitude out of range", "B1,01/03/2026,Noise,Elm,123.0,", r"latitude 123.0 is outside -90.0 to 90.0"),
    one_bad("latitude NaN", "B1,01/03/2026,Noise,Elm,NaN,", r"'NaN' is not a finite number"),
    one_bad("latitude infinity", "B1,01/03/2026,Noise,Elm,inf,", r"'inf' is not a finite number"),
    one_bad("latitude overflow", "B1,01/03/2026,Noise,Elm,1e400,", r"is not a finite number"),
    one_bad("decimal comma without the option", 'B1,01/03/2026,Noise,Elm,"53,1",', r"531.0 is outside"),
    # --- grades
    one_bad("grade out of the scheme", "B1,01/03/2026,Noise,Elm,,4ZP", r"Grade: '4ZP' is not a 3x5x2 grade"),
    fine("grade in lower case", "B1,01/03/2026,Noise,Elm,,2bc"),
    # --- shape of rows
    one_bad("too few fields", "B1,01/03/2026", r"2 fields where the header has 6", api=True),
    one_bad("too many fields", "B1,01/03/2026,Noise,Elm,,,extra", r"7 fields where the header has 6"),
    one_bad("ten thousand fields", "B1," + ",".join(["x"] * 10_000), r"10001 fields where the header has 6"),
    fine("quoted field with a newline", '"B1",01/03/2026,"Noise\nat night",Elm,,'),
    fine("quoted field with commas and quotes", 'B1,01/03/2026,"Noise, ""loud""",Elm,,'),
    fine("NUL byte inside a field", "B1,01/03/2026,No\x00ise,Elm,,"),
    fine("no street: optional place left out", "B1,01/03/2026,Noise,,,"),
    case(
        "--dry-run checks every row and writes nothing",
        rows(GOOD, "B1,,Noise,,,"),
        "rows",
        "needs a date",
        loaded=1,
        rejected=1,
        args=("--dry-run",),
        said=r"dry run, nothing written",
    ),
    case(
        "--strict fails on a rejected row",
        rows(GOOD, "B1,,Noise,,,"),
        "rows",
        "needs a date",
        loaded=1,
        rejected=1,
        args=("--strict",),
        exit=1,
        said=r"--strict: data\.csv: 1 row\(s\) rejected",
    ),
    # --- values that look like attacks: stored as text, never executed
    fine("SQL injection", '"\'; DROP TABLE entity; --",01/03/2026,Noise,Elm,,', api=True),
    fine("Cypher injection", 'B1,01/03/2026,"}) DETACH DELETE n //",Elm,,', api=True),
    fine("spreadsheet formula", 'B1,01/03/2026,=HYPERLINK("http://x"),Elm,,'),
    fine("script tag", "B1,01/03/2026,Noise,<script>alert(1)</script>,,"),
    fine("JSON in a field", 'B1,01/03/2026,"{""$set"": 1}",Elm,,'),
    fine("path traversal", "../../etc/passwd,01/03/2026,Noise,Elm,,"),
    fine("emoji", "B1,01/03/2026,Noise 📢,Elm 🌳,,"),
    fine("terminal escape in a value", "B1,01/03/2026,\x1b[31mNoise,Elm,,"),
    # --- huge fields
    fine("a 1 MB field", "B1,01/03/2026," + "N" * 1_000_000 + ",Elm,,"),
    case(
        "a 17 MB field",
        rows(GOOD, "B1,01/03/2026," + "N" * 17_000_000 + ",Elm,,", GOOD2),
        "rows",
        r"unreadable as CSV: field larger than field limit",
        loaded=2,
        rejected=1,
    ),
    # --- JSON Lines breakage: each line stands alone
    case(
        "a JSON Lines line cut off",
        jsonl(record("J1"), '{"Ref": "J2", "Date": "01/0', record("J3")),
        "rows",
        "^not valid JSON",
        loaded=2,
        rejected=1,
        suffix=".jsonl",
        api=True,
    ),
    case(
        "a JSON Lines line in single quotes",
        jsonl(record("J1"), "{'Ref': 'J2'}"),
        "rows",
        "^not valid JSON",
        loaded=1,
        rejected=1,
        suffix=".jsonl",
    ),
    case(
        "a JSON Lines line that is an array",
        jsonl(record("J1"), [record("J2")]),
        "rows",
        "not a JSON object",
        loaded=1,
        rejected=1,
        suffix=".jsonl",
        api=True,
    ),
    case(
        "a JSON Lines line nested too deep",
        jsonl(record("J1"), '{"Ref": "J2", "Kind": ' + "[" * 100 + "]" * 100 + "}"),
        "rows",
        "nested more than 64 levels deep",
        loaded=1,
        rejected=1,
        suffix=".jsonl",
    ),
    case(
        "a JSON Lines field that appears only in later lines",
        jsonl(
            {"Ref": "J1", "Date": "01/03/2026"}, {"Ref": "J2", "Date": "02/03/2026", "Kind": "Noise", "Street": "Elm"}
        ),
        "rows",
        loaded=2,
        suffix=".jsonl",
        spec=SPEC.replace("grading: {default: 1BP, column: Grade}", "grading: {default: 1BP}").replace(
            "properties: {name: Street, latitude: Lat}", "properties: {name: Street}"
        ),
        api=True,
    ),
    case(
        "JSON Lines nested objects arrive as JSON text",
        jsonl(record("J1", Kind={"code": "N", "text": "Noise"})),
        "rows",
        loaded=1,
        suffix=".jsonl",
        stored={"category": '{"code": "N", "text": "Noise"}'},
    ),
    case(
        "JSON Lines numbers, booleans and nulls arrive as text",
        jsonl(record("J1", Kind=True, Street=None, Lat=51.5)),
        "rows",
        loaded=1,
        suffix=".jsonl",
        stored={"category": "true"},
    ),
    case(
        "JSON Lines blank lines are no records",
        jsonl(record("J1"), "", "  ", record("J2")),
        "rows",
        loaded=2,
        suffix=".jsonl",
    ),
    case(
        "JSON Lines with no valid line",
        jsonl("{nope", "[1, 2]"),
        "file",
        "no JSON objects found; line 1: not valid",
        suffix=".jsonl",
    ),
    case(
        "JSON Lines not in UTF-8",
        jsonl(record("J1", Kind="Café")).decode().encode("cp1252"),
        "file",
        "JSON Lines must be UTF-8",
        suffix=".jsonl",
    ),
    case(
        "a rejected JSON Lines row is listed under its own columns",
        jsonl(record("J1"), {"Kind": "Noise", "Date": "31/02/2026", "Ref": "J2", "Street": "", "Lat": "", "Grade": ""}),
        "rows",
        r"^date \('Date'\): '31/02/2026'",
        loaded=1,
        rejected=1,
        suffix=".jsonl",
        listed_as=r"\bRef=J2\|Date=31/02",
    ),
    case(
        "an invalid JSON line is listed as it was",
        jsonl(record("J1"), '{"Ref": "J2", "Date"'),
        "rows",
        "^not valid JSON",
        loaded=1,
        rejected=1,
        suffix=".jsonl",
        listed_as=r'=\{"Ref": "J2", "Date"',
    ),
    # --- lookups: every reference that finds nothing is told
    call_case(
        "a lookup with no match for an optional entity loads without it, listed",
        "C1,21/01/2026,07700900999,NW5 1AA",
        loaded=2,
        unmatched=1,
        said=r"1 loaded row\(s\) had a reference that found nothing \(1 by lookup 'owner'\)",
        links={"callerIn": 1, "occurredAt": 2},
        api=True,
    ),
    call_case(
        "a lookup with no match for an optional entity, --strict fails",
        "C1,21/01/2026,07700900999,NW5 1AA",
        loaded=2,
        unmatched=1,
        args=("--strict",),
        exit=1,
        said=r"--strict: data\.csv: 1 row\(s\) with a reference that found nothing",
    ),
    call_case(
        "a lookup with no match for a required entity rejects the row",
        "C1,21/01/2026,07700900001,E1 6AN",
        match=r"^a Neighbourhood \('place'\) needs a match: no match for 'E1' in lookup 'district'$",
        loaded=1,
        rejected=1,
        api=True,
    ),
    call_case(
        "a lookup with no match for a property loads without it",
        "C1,21/01/2026,07700900001,E1 6AN",
        spec=LOOKUP_SPEC.replace(
            "keys: [{lookup: {table: district, column: Postcode, pattern: '^(\\S+)\\s'}}]", "keys: [Postcode]"
        ),
        loaded=2,
        unmatched=1,
        said=r"no match for 'E1' in lookup 'district'; loaded without its name",
    ),
    call_case(
        "a lookup key with two values is never guessed",
        "C1,21/01/2026,07700900003,NW5 9WR",
        match=r"'07700900003' has two or more values in lookup 'owner'; which is meant\?",
        loaded=1,
        rejected=1,
        api=True,
    ),
    call_case(
        "a lookup key is compared with case and spacing folded",
        "C1,21/01/2026,07700900002,  nw5   9WR",
        loaded=2,
        links={"occurredAt": 2},
    ),
    call_case(
        "a lookup key taken by a pattern that does not match",
        "C1,21/01/2026,07700900002,NW59WR",
        match=r"needs a match: no match for 'NW59WR' in lookup 'district'",
        loaded=1,
        rejected=1,
    ),
    call_case(
        "a lookup key taken by a split",
        "C1,21/01/2026,07700900002,NW5-9WR",
        spec=LOOKUP_SPEC.replace("pattern: '^(\\S+)\\s'", "split: '-', index: 0"),
        match=r"no match for 'NW5 9WR' in lookup 'district'",
        loaded=1,
        rejected=1,
    ),  # the first row has no '-'
    call_case(
        "a lookup key taken by the last part of a split",
        "C1,21/01/2026,07700900002,9WR NW5",
        spec=LOOKUP_SPEC.replace("pattern: '^(\\S+)\\s'", "split: ' ', index: -1"),
        match=r"no match for '9WR' in lookup 'district'",
        loaded=1,
        rejected=1,
    ),
    call_case(
        "a headerless lookup without its columns",
        spec=LOOKUP_SPEC.replace("read: {header: false, columns: [Outward, District]}", "read: {header: false}"),
        expect="spec",
        match=r"spec\.yaml:\d+: .*(columns|header)",
        api=True,
    ),
    call_case(
        "a lookup file that is not there",
        beside=(("owners.csv", OWNERS),),
        expect="spec",
        match=r"spec\.yaml:\d+: lookup 'district'",
        api=True,
    ),
    call_case(
        "a lookup naming a column its file lacks",
        spec=LOOKUP_SPEC.replace("value: Nominal", "value: Nominee"),
        expect="spec",
        match=r"spec\.yaml:\d+: lookup 'owner': owners.csv has no column 'Nominee'",
    ),
    call_case(
        "a lookup table that is not defined",
        spec=LOOKUP_SPEC.replace("{table: owner,", "{table: owners,"),
        expect="spec",
        match=r"spec\.yaml:\d+: lookup table 'owners' is not defined under 'lookups' "
        r"\(defined: owner, district\)",
    ),
    call_case(
        "a lookup without its value",
        spec=LOOKUP_SPEC.replace(", value: Nominal", ""),
        expect="spec",
        match=r"spec\.yaml:\d+: lookup 'owner' needs file, key and value",
    ),
    call_case(
        "a lookup pattern that is no regular expression",
        spec=LOOKUP_SPEC.replace("'^(\\S+)\\s'", "'^(\\S+'", 1),
        expect="spec",
        match=r"spec\.yaml:\d+: lookup pattern .* is not a regular expression",
    ),
    call_case(
        "a lookup pattern with two groups",
        spec=LOOKUP_SPEC.replace("'^(\\S+)\\s'", "'^(\\S)(\\S+)\\s'", 1),
        expect="spec",
        match=r"spec\.yaml:\d+: a lookup pattern has at most one group",
    ),
    call_case(
        "a lookup key by pattern and split at once",
        spec=LOOKUP_SPEC.replace("pattern: '^(\\S+)\\s'", "pattern: '^(\\S+)\\s', split: ' '", 1),
        expect="spec",
        match=r"spec\.yaml:\d+: a lookup key is taken by pattern or by split, not both",
    ),
    call_case(
        "a lookup index without a split",
        spec=LOOKUP_SPEC.replace("pattern: '^(\\S+)\\s'", "pattern: '^(\\S+)\\s', index: 1", 1),
        expect="spec",
        match=r"spec\.yaml:\d+: a lookup's index goes with split",
    ),
    call_case(
        "a lookup with an unknown option",
        spec=LOOKUP_SPEC.replace("{table: owner, column: From}", "{table: owner, column: From, fuzzy: true}"),
        expect="spec",
        match=r"spec\.yaml:\d+: lookup takes",
    ),
    call_case(
        "a lookup file path that leads nowhere",
        spec=LOOKUP_SPEC.replace("file: owners.csv", "file: ../nowhere/owners.csv"),
        expect="spec",
        match=r"spec\.yaml:\d+: lookup 'owner': .*owners\.csv: no such file",
    ),
    # --- NHS numbers: the format rejects, the check digit warns
    *[
        case(
            name,
            rows(GOOD + ",", f"N1,01/03/2026,Noise,Elm,,,{nhs}", header=HEADER + ",NHS"),
            expect,
            match,
            loaded=loaded,
            rejected=rejected,
            warned=warned,
            spec=STATED.replace("  place:", NHS_PERSON + "  place:").replace(
                "links:", "links:\n  - {type: reporterIn, from: person, to: report}"
            ),
            **kw,
        )
        for name, nhs, expect, match, loaded, rejected, warned, kw in [
            (
                "an NHS number that passes its check digit",
                "943 476 5919",
                "rows",
                "",
                2,
                0,
                0,
                {"stored": {"nhsNumber": "9434765919"}, "api": True},
            ),
            ("an NHS number with dashes", "943-476-5919", "rows", "", 2, 0, 0, {}),
            (
                "an NHS number of nine digits",
                "943 476 591",
                "rows",
                r"NHS number '943 476 591' does not have 10 digits",
                1,
                1,
                0,
                {"api": True},
            ),
            ("an NHS number with a letter", "943 476 591X", "rows", r"does not have 10 digits", 1, 1, 0, {}),
            (
                "an NHS number failing its check digit loads with a warning",
                "943 476 5918",
                "rows",
                "",
                2,
                0,
                1,
                {"said": r"1 row\(s\) loaded with a warning \(check digit\); see .*warnings", "api": True},
            ),
            ("an NHS number whose check digit would be 10 warns", "123 456 7890", "rows", "", 2, 0, 1, {}),
            (
                "a failed check digit does not fail --strict",
                "943 476 5918",
                "rows",
                "",
                2,
                0,
                1,
                {"args": ("--strict",)},
            ),
        ]
    ],
    case(
        "a failed check digit rejects with check_digit: strict",
        rows(GOOD + ",", "N1,01/03/2026,Noise,Elm,,,9434765918", header=HEADER + ",NHS"),
        "rows",
        r"NHS number '9434765918' fails its check digit$",
        loaded=1,
        rejected=1,
        spec=SPEC.replace(
            "  place:",
            NHS_PERSON.replace("normalise: nhs_number}", "normalise: nhs_number, check_digit: strict}") + "  place:",
        ),
    ),
    spec_error(
        "check_digit on a value that is no NHS number",
        ("category: Kind", "category: {column: Kind, check_digit: strict}"),
        "check_digit is 'warn' or 'strict', and goes with normalise: nhs_number",
    ),
    # --- symmetric links: once per pair, whichever way a record lists them
    case(
        "a symmetric link listed both ways is one link with two records",
        rows("K1,Ann,Bob", "K2,Bob,Ann", header="Ref,One,Other"),
        "rows",
        loaded=2,
        spec=KNOWS_SPEC,
        links={"knows": 1},
        records={"knows": 2},
        api=True,
    ),
    case(
        "a symmetric link listed twice the same way is one link",
        rows("K1,Ann,Bob", "K2,Ann,Bob", header="Ref,One,Other"),
        "rows",
        loaded=2,
        spec=KNOWS_SPEC,
        links={"knows": 1},
        records={"knows": 2},
    ),
    case(
        "a directional link keeps both directions",
        rows("K1,Ann,Bob", "K2,Bob,Ann", header="Ref,One,Other"),
        "rows",
        loaded=2,
        spec=KNOWS_SPEC.replace("type: knows", "type: parentOf"),
        links={"parentOf": 2},
    ),
    case(
        "a family link of each side's own word is one link of one kind",
        rows("K1,Ann,Bob,mother", "K2,Bob,Ann,son", header="Ref,One,Other,Kind"),
        "rows",
        loaded=2,
        links={"familyOf": 1},
        records={"familyOf": 2},
        spec=KNOWS_SPEC.replace(
            "{type: knows, from: one, to: other}",
            "{type: familyOf, from: one, to: other, properties: {relationKind: Kind}}",
        ),
    ),
    case(
        "a family relation kind that is none",
        rows("K1,Ann,Bob,neighbour", "K2,Bob,Cat,sister", header="Ref,One,Other,Kind"),
        "rows",
        r"relation kind 'neighbour' is not in the family relation kinds",
        loaded=1,
        rejected=1,
        spec=KNOWS_SPEC.replace(
            "{type: knows, from: one, to: other}",
            "{type: familyOf, from: one, to: other, properties: {relationKind: Kind}}",
        ),
    ),
    # --- Neo4j bulk-import files: checked as any spec's rows
    graph(
        "bulk import: the nodes and a relationship load",
        ("suspects.csv", ":START_ID(Person),:END_ID(Crime),:TYPE\np1,c1,SUSPECT\n"),
        loaded=NODE_ROWS + 1,
        links={"suspectIn": 1},
        api=True,
    ),
    graph(
        "bulk import: a crime with no date",
        ("crimes_2.csv", "id:ID(Crime),reported,type,:LABEL\nc2,,VAP,Crime\n"),
        match=r"^a Crime incident needs a date; got ''$",
        loaded=NODE_ROWS,
        rejected=1,
        api=True,
    ),
    graph(
        "bulk import: a crime type that is no code",
        ("crimes_2.csv", "id:ID(Crime),reported,type,:LABEL\nc2,04/04/2025,XYZ,Crime\n"),
        match=r"crime type 'XYZ' is not in the police.uk crime types",
        loaded=NODE_ROWS,
        rejected=1,
    ),
    graph(
        "bulk import: a link breaking its range",
        ("knows.csv", ":START_ID(Person),:END_ID(Crime),:TYPE\np1,c1,KNOWS\n"),
        match=r"knows goes to a Person, but its target, :END_ID\(Crime\) 'c1', is a "
        r"CrimeIncident$",
        loaded=NODE_ROWS,
        rejected=1,
        api=True,
    ),
    graph(
        "bulk import: a link breaking its domain",
        ("suspects.csv", ":START_ID(Crime),:END_ID(Crime),:TYPE\nc1,c1,SUSPECT\n"),
        match=r"suspectIn goes from a Person, but its source, :START_ID\(Crime\) 'c1'",
        loaded=NODE_ROWS,
        rejected=1,
    ),
    graph(
        "bulk import: a reversed file reads the other way",
        ("victims.csv", ":START_ID(Crime),:END_ID(Person),:TYPE\nc1,p2,VICTIM\n"),
        loaded=NODE_ROWS + 1,
        links={"victimIn": 1},
    ),
    graph(
        "bulk import: a reversed file's broken row says it was read reversed",
        ("victims.csv", ":START_ID(Person),:END_ID(Crime),:TYPE\np2,c1,VICTIM\n"),
        loaded=NODE_ROWS,
        rejected=1,
        match=r"victimIn goes from a Person, but its source, :END_ID\(Crime\) 'c1', is a CrimeIncident "
        r"\(the file is read reversed\)$",
    ),
    graph(
        "bulk import: a relationship to a node in no file",
        ("suspects.csv", ":START_ID(Person),:END_ID(Crime),:TYPE\np1,c9,SUSPECT\n"),
        match=r"end node 'c9' in id space Crime is not in the node files loaded before, "
        r"nor the store",
        loaded=NODE_ROWS,
        rejected=1,
    ),
    graph(
        "bulk import: a relationship type not mapped",
        ("suspects.csv", ":START_ID(Person),:END_ID(Crime),:TYPE\np1,c1,ARRESTED\n"),
        match=r"relationship type 'ARRESTED' is not mapped; add it under "
        r"neo4j_import.relationships",
        loaded=NODE_ROWS,
        rejected=1,
    ),
    graph(
        "bulk import: a label not mapped",
        ("more_people.csv", "id:ID(Person),name,:LABEL\np3,Cat Cole,Alien\n"),
        match=r"no label of Alien is mapped; add it under neo4j_import.labels",
        loaded=NODE_ROWS,
        rejected=1,
    ),
    graph(
        "bulk import: a node without its id",
        ("more_people.csv", "id:ID(Person),name,:LABEL\n,Cat Cole,Person\n"),
        match=r"the node id 'id:ID\(Person\)' is empty",
        loaded=NODE_ROWS,
        rejected=1,
    ),
    graph(
        "bulk import: a symmetric pair listed both ways",
        ("knows.csv", ":START_ID(Person),:END_ID(Person),:TYPE\np1,p2,KNOWS\np2,p1,KNOWS\n"),
        loaded=NODE_ROWS + 2,
        links={"knows": 1},
        records={"knows": 2},
        api=True,
    ),
    graph(
        "bulk import: the name template",
        loaded=NODE_ROWS,
        stored={"name": "Ann Ames", "dateOfBirth": "1985-04-02"},
        said="people.csv: 2 of 2 rows loaded",
    ),
    graph(
        "bulk import: an ISO date column given a UK date",
        nodes=(("people.csv", PEOPLE + b"p3,Cat,Cole,02/04/1985,Person\n"), ("crimes.csv", CRIMES)),
        match=r"dateOfBirth \('dob:date'\): '02/04/1985' is not a date in the format '%Y-%m-%d'",
        loaded=NODE_ROWS,
        rejected=1,
    ),
    graph(
        "bulk import: unknown columns in two files are reported at once",
        ("a.csv", "id:ID(Person),shoe,:LABEL\np5,9,Person\n"),
        ("b.csv", "id:ID(Person),hat,:LABEL\np6,cap,Person\n"),
        expect="file",
        match=r"(?s)2 problems to fix first.*a\.csv has a property column 'shoe'.*b\.csv has a "
        r"property column 'hat'",
        api=True,
    ),
    graph(
        "bulk import: an unknown column stops --dry-run before the first file",
        ("z.csv", "id:ID(Person),shoe,:LABEL\np5,9,Person\n"),
        expect="file",
        args=("--dry-run",),
        match=r"nothing was loaded: .*z\.csv has a property column 'shoe'",
    ),
    graph(
        "bulk import: a column type Neo4j does not have",
        ("a.csv", "id:ID(Person),dob:text,:LABEL\n"),
        expect="file",
        match=r"a\.csv: column 'dob:text' has an unknown Neo4j type 'text'",
    ),
    graph(
        "bulk import: a file that is neither nodes nor relationships",
        ("a.csv", "name,:LABEL\nx,Person\n"),
        expect="file",
        match=r"a\.csv: a Neo4j import file needs an :ID column",
    ),
    graph(
        "bulk import: a file that is both",
        ("a.csv", "id:ID(Person),:START_ID(Person),:END_ID(Person),:TYPE\n"),
        expect="file",
        match=r"a\.csv has both an :ID column \(a node file\) and relationship columns",
    ),
    graph(
        "bulk import: two columns fill one property",
        ("more.csv", "id:ID(Person),dob:date,dateOfBirth:date,:LABEL\np3,,,Person\n"),
        expect="file",
        match=r"more\.csv: columns .* both fill dateOfBirth",
    ),
    graph(
        "bulk import: reversed on a node file",
        spec=NEO4J_SPEC.replace('"victims*.csv": {reversed: true}', '"people*.csv": {reversed: true}'),
        expect="file",
        match=r"nothing was loaded: .*people\.csv is a node file; reversed: true "
        r"goes with relationship files",
    ),
    graph(
        "bulk import: a file's value reads a column it lacks",
        spec=NEO4J_SPEC.replace("{column: reported,", "{column: reported_on,"),
        expect="file",
        match=r"spec\.yaml:\d+: date reads column 'reported_on', which crimes\.csv lacks",
    ),
    graph(
        "bulk import: renames of one file apply to that file only",
        ("more_people.csv", "id:ID(Person),name,born,:LABEL\np3,Cat Cole,1990-01-01,Person\n"),
        ("others.csv", "id:ID(Person),name,born,:LABEL\np4,Dan Dee,1991-01-01,Person\n"),
        spec=NEO4J_SPEC + "    more_people.csv: {renames: {born: dateOfBirth}}\n",
        expect="file",
        match=r"nothing was loaded: .*others\.csv has a property column 'born'",
    ),
    # --- spec mistakes: each names its line
    spec_error(
        "an unknown entity type, with a suggestion",
        ("type: ASBIncident", "type: ASBIncidnt"),
        "ASBIncidnt.*Did you mean 'ASBIncident'",
        api=True,
    ),
    spec_error("an unknown property", ("category: Kind", "categry: Kind"), "has no property 'categry'", api=True),
    spec_error("an unknown link type", ("type: occurredAt", "type: occuredAt"), "occuredAt"),
    spec_error("a link from an alias that is not defined", ("from: report", "from: reprt"), "reprt"),
    spec_error(
        "a link whose ends break its domain and range",
        ("from: report, to: place", "from: place, to: report"),
        "occurredAt",
    ),
    spec_error(
        "a value with two sources",
        ("category: Kind", "category: {column: Kind, literal: Noise}"),
        "a value needs exactly one of",
    ),
    spec_error(
        "an unknown value option",
        ("category: Kind", "category: {column: Kind, upper: true}"),
        "unknown value option\\(s\\): upper",
    ),
    spec_error(
        "an unknown normaliser",
        ("keys: [Street]", "keys: [{column: Street, normalise: street}]"),
        "normalise 'street' is not one of",
    ),
    spec_error(
        "a grid reference without its part",
        ("latitude: Lat", "latitude: {grid: [Lat, Lat]}"),
        "grid takes \\[easting column, northing column\\] and part",
    ),
    spec_error(
        "a pivot that is no two-digit year",
        ('format: "%d/%m/%Y"', 'format: "%d/%m/%y", pivot: 1930'),
        "pivot is a two-digit year from 0 to 99",
    ),
    spec_error(
        "a decimal separator of another kind",
        ("latitude: Lat", "latitude: {column: Lat, decimal: ';'}"),
        "decimal is '.' or ','",
    ),
    spec_error(
        "whole without join or template",
        ("category: Kind", "category: {column: Kind, whole: true}"),
        "whole: true goes with join or template",
    ),
    spec_error(
        "a join of no columns", ("category: Kind", "category: {join: Kind}"), "join takes a list of column names"
    ),
    spec_error(
        "a split index that is no number",
        ("category: Kind", "category: {split: Kind, index: first}"),
        "index is a whole number",
    ),
    spec_error(
        "a filter without its test",
        ("entities:", "filter:\n  - {column: Kind}\nentities:"),
        "a filter is \\{column: ..., one of",
    ),
    spec_error(
        "an entity with both id and keys",
        ("keys: [Street]", "keys: [Street]\n    id: Street"),
        "has both 'id' and 'keys'",
    ),
    spec_error("an entity without keys", ("    keys: [Street]\n", ""), "needs 'keys'"),
    spec_error("a type nimgraph makes itself", ("type: Street", "type: Record"), "created by nimgraph itself"),
    spec_error("a default grade out of the scheme", ("default: 1BP", "default: 9ZZ"), "9ZZ"),
    spec_error("a spec without its source", ("source: {name: corpus}\n", ""), "source"),
    spec_error("a YAML syntax error", ("keys: [Ref]", "keys: [Ref"), "not valid YAML"),
    spec_error(
        "a key given twice is refused, not the first one dropped",
        ("category: Kind", "category: Kind\n      category: Street"),
        "'category' is given twice in one mapping; keep one",
    ),
    case(
        "a grading column the file lacks names its spec line",
        rows("G1,01/03/2026,Noise,Elm,53.1", header="Ref,Date,Kind,Street,Lat"),
        "spec",
        r"spec\.yaml:2: unknown column 'Grade'",
    ),
    Case(
        "two files, the second lacking a column: nothing of either is written",
        (("one.csv", rows(GOOD)), ("two.csv", rows("G3,01/03/2026,Noise,Elm,", header="Ref,Date,Kind,Street,Lat"))),
        "file",
        r"nothing was loaded: .*unknown column 'Grade' in two\.csv",
        api=True,
    ),
    spec_error(
        "a link type picked by a column, mapped to no link",
        (
            "- {type: occurredAt, from: report, to: place}",
            "- {type_from: {column: Kind, map: {Noise: occuredAt}}, from: report, to: place}",
        ),
        "occuredAt",
    ),
    # --- hostile specs and files, as a security review sent them through the API
    case(
        "a filter pattern that backtracks for ever rejects its row and does not hold the server",
        rows(GOOD, "G3,01/03/2026," + "a" * 24 + "!,Elm Street,53.1,", GOOD2),
        "rows",
        r"^the filter pattern '\^\(a\|a\)\+\$' took too long on this value; simplify it$",
        loaded=2,
        rejected=1,
        spec=SPEC.replace("entities:", "filter:\n  - {column: Kind, not_matches: '^(a|a)+$'}\nentities:"),
        api=True,
    ),
    call_case(
        "a lookup pattern that backtracks for ever rejects its row",
        "C1,21/01/2026,07700900002," + "a" * 24 + "!",
        spec=LOOKUP_SPEC.replace("'^(\\S+)\\s'", "'^((?:\\S|\\S)+)\\s'"),
        match=r"^the lookup pattern .* took too long on this value; simplify it$",
        loaded=1,
        rejected=1,
        api=True,
    ),
    spec_error(
        "a pattern whose repeats count out to millions",
        ("entities:", "filter:\n  - {column: Kind, matches: '(?:x{3000}){3000}'}\nentities:"),
        "is not a regular expression: its repeats spell out 9,000,000 items, more than 10,000",
    ),
    case(
        "an xlsx whose shared strings unpack a thousand times over (a zip bomb)",
        bombed(workbook(HEADER.split(","), GOOD.split(","))),
        "file",
        r"refused: its part 'xl/sharedStrings.xml' would unpack from [\d,]+ to [\d,]+ bytes.*\(a zip bomb\)",
        suffix=".xlsx",
        api=True,
    ),
    spec_error(
        "a template field with a format spec",
        ("category: Kind", "category: {template: '{Kind:>300000000}'}"),
        r"field \{Kind:>300000000\} has a format or conversion; a template's fields are column names only",
        api=True,
    ),
    spec_error(
        "a template field with a conversion",
        ("category: Kind", "category: {template: '{Kind!r}'}"),
        r"field \{Kind!r\} has a format or conversion",
    ),
    spec_error(
        "a template field by position",
        ("category: Kind", "category: {template: '{0} {}'}"),
        r"field \{0\} names no column; put a column's name in the braces",
    ),
    spec_error(
        "a template with a lone brace",
        ("category: Kind", "category: {template: 'x{Kind'}"),
        r"expected '\}' before end of string; a brace that is not a field's is written twice",
    ),
    spec_error(
        "a template that names no column",
        ("category: Kind", "category: {template: 'noise'}"),
        "names no column in braces; for fixed text use literal",
    ),
    case(
        "a template reads a nested JSON field by its path",
        jsonl(record("J1", place={"street": {"name": "Elm Court"}})),
        "rows",
        loaded=1,
        suffix=".jsonl",
        spec=SPEC.replace("category: Kind", "category: {template: '{Kind} in {place.street.name}'}"),
        stored={"category": "Noise in Elm Court"},
    ),
    call_case(
        "a lookup file name with a NUL byte",
        spec=LOOKUP_SPEC.replace("file: owners.csv", 'file: "owners\\0.csv"'),
        expect="spec",
        match=r"spec\.yaml:6: lookup 'owner': file is the name of a file beside the spec",
        api=True,
    ),
    call_case(
        "lookups as a list",
        spec=re.sub(r"lookups:\n(  .*\n)+", "lookups: [1]\n", LOOKUP_SPEC),
        expect="spec",
        match=r"spec\.yaml:5: lookups map a name to a file",
    ),
    call_case(
        "a lookup's read as a list",
        spec=LOOKUP_SPEC.replace("read: {header: false, columns: [Outward, District]}", "read: [1]"),
        expect="spec",
        match=r"spec\.yaml:\d+: read is a mapping of read options",
    ),
    spec_error(
        "links as a mapping",
        ("links:\n  - {type: occurredAt, from: report, to: place}", "links: {a: 1}"),
        "links is a list",
    ),
    spec_error(
        "a link that is a number", ("- {type: occurredAt, from: report, to: place}", "- 1"), "a link is a mapping"
    ),
    spec_error("grading as a list", ("grading: {default: 1BP, column: Grade}", "grading: [1]"), "grading is a mapping"),
    spec_error(
        "properties as a list",
        ("properties: {name: Street, latitude: Lat}", "properties: [1]"),
        "properties map a property of Street to a value",
    ),
    spec_error("entities as a list", SPEC.split("entities:")[0] + "entities: [1]\n", "entities is a mapping", api=True),
    spec_error("an entity that is a number", ("entities:", "entities:\n  other: 1"), "entity 'other' is a mapping"),
    spec_error("source as text", ("source: {name: corpus}", "source: corpus"), "source is a mapping", api=True),
    spec_error("a filter that is a mapping", ("entities:", "filter: {column: Kind}\nentities:"), "filter is a list"),
    spec_error("read as a list", ("entities:", "read: [csv]\nentities:"), "read is a mapping of read options"),
    spec_error(
        "read.columns as a number",
        ("entities:", "read: {header: false, columns: 6}\nentities:"),
        "read.columns is a list",
    ),
    spec_error("a map as a list", ("category: Kind", "category: {column: Kind, map: [1]}"), "map is a mapping"),
    spec_error(
        "a normaliser as a list",
        ("category: Kind", "category: {column: Kind, normalise: [phone]}"),
        r"normalise \['phone'\] is not one of",
    ),
    spec_error(
        "a strip_prefix as a list",
        ("category: Kind", "category: {column: Kind, strip_prefix: [x]}"),
        "strip_prefix is the text",
    ),
    spec_error(
        "a number of 5,000 digits",
        ("latitude: Lat", "latitude: " + "9" * 5000),
        "not valid YAML: the number '9{40}...' has 5,000 characters, too long to read",
        api=True,
    ),
    spec_error(
        "a YAML date that is no date",
        ("category: Kind", "category: {literal: 2026-02-31}"),
        "not valid YAML: '2026-02-31' cannot be read as a timestamp: day is out of range for month",
    ),
]

# Also as API jobs (tests/test_bad_input_api.py), beside those marked api above: a share of each kind.
ALSO_THROUGH_THE_API = {
    "JSON object, not array",
    "semicolons",
    "a byte undefined in Windows-1252 is read in the encoding detected, and said",
    "xlsx with a title row and no header_row",
    "xlsx time cells read as text",
    "header_row on a JSON Lines file",
    "31 February",
    "a month-first file stated so reads month first",
    "date_order without a format tries the common formats",
    "a format in the other order than date_order",
    "a two-digit year with a pivot",
    "missing record id",
    "latitude out of range",
    "grade out of the scheme",
    "a JSON Lines line in single quotes",
    "JSON Lines nested objects arrive as JSON text",
    "JSON Lines not in UTF-8",
    "a rejected JSON Lines row is listed under its own columns",
    "an invalid JSON line is listed as it was",
    "a lookup with no match for a property loads without it",
    "a lookup key is compared with case and spacing folded",
    "a lookup key taken by a split",
    "a lookup naming a column its file lacks",
    "a lookup pattern that is no regular expression",
    "an NHS number with dashes",
    "a failed check digit rejects with check_digit: strict",
    "a directional link keeps both directions",
    "a family link of each side's own word is one link of one kind",
    "bulk import: a link breaking its domain",
    "bulk import: a reversed file reads the other way",
    "bulk import: a relationship to a node in no file",
    "bulk import: a file's value reads a column it lacks",
    "bulk import: renames of one file apply to that file only",
    "an unknown link type",
    "a value with two sources",
    "a YAML syntax error",
}
# --- the second review: look-alike source names, floods from small specs, codecs, empty workbooks
CASES += [
    spec_error(
        "a source name with a Cyrillic letter passes for another",
        ("{name: corpus}", "{name: \u0441orpus}"),
        r"source.name .* must be 1 to 100 of A-Z",
        api=True,
    ),
    spec_error("a source name ending in a space", ("{name: corpus}", "{name: 'corpus '}"), r"source.name 'corpus '"),
    spec_error("a source name with a zero-width space", ("{name: corpus}", '{name: "cor\\u200bpus"}'), r"source.name"),
    spec_error("a source name that is a list", ("{name: corpus}", "{name: [a]}"), r"source.name \"\['a'\]\" must be"),
    spec_error("an empty source name", ("{name: corpus}", "{name: ''}"), r"source.name ''"),
    spec_error(
        "a template naming 51 columns",
        ("category: Kind", "description: {template: '" + "{Kind}" * 51 + "'}"),
        r"a template names at most 50 columns; this one names 51",
    ),
    spec_error(
        "fifty-one filters",
        ("record_id: Ref", "record_id: Ref\nfilter:\n" + "  - {column: Kind, not_equals: x}\n" * 51),
        r"at most 50 filters; this spec has 51",
    ),
    spec_error(
        "a split on nothing", ("category: Kind", "category: {split: Kind, separator: ''}"), r"separator is at least one"
    ),
    case(
        "a template that would make a value of millions of characters",
        rows("B1,01/03/2026," + "x" * 1_100_000 + ",Elm,,", GOOD),
        "rows",
        r"would make a value of 2,200,000 characters; at most 2,000,000",
        loaded=1,
        rejected=1,
        spec=SPEC.replace(
            "      category: Kind", "      category: Kind\n      description: {template: '{Kind}{Kind}'}"
        ),
    ),
    case(
        "a workbook with no worksheet",
        sheetless(),
        "file",
        r"the workbook has no worksheet",
        suffix=".xlsx",
        api=True,
    ),
]
CASES = [replace(c, api=True) if c.name in ALSO_THROUGH_THE_API else c for c in CASES]
assert {c.name for c in CASES} >= ALSO_THROUGH_THE_API


# ------------------------------------------------------------------------------------------ running a case
@dataclass
class Outcome:
    """What a run of a case gave, through the CLI or the API."""

    refused: bool
    message: str  # the refusal, or everything the command said
    code: int = 0
    loaded: int = 0
    rejected: int = 0
    unmatched: int = 0
    warned: int = 0
    reasons: list[str] = field(default_factory=list)  # of the rejected rows
    rejects: list[str] = field(default_factory=list)  # the rejected rows as listed: "column=value|..."
    listed: dict[str, int] = field(default_factory=dict)  # rows in the unmatched and warnings listings
    counts: dict = field(default_factory=dict)  # the store's, after the run
    entities: list = field(default_factory=list)
    records: dict[str, int] = field(default_factory=dict)  # link type -> records behind its links


def inspect(outcome: Outcome, store) -> Outcome:
    outcome.counts = store.counts()
    outcome.entities = store.find(None, limit=1000)
    for link_type in outcome.counts["links"]:
        links = store.subgraph([link_type]).links.values()
        outcome.records[link_type] = sum(len({a.record_id for a in link.provenance}) for link in links)
    return outcome


def write_case(case: Case, folder: Path) -> list[Path]:
    (folder / "spec.yaml").write_text(case.spec, encoding="utf-8")
    for name, body in case.beside:
        (folder / name).write_bytes(body)
    given = []
    for name, body in case.files:
        (folder / name).write_bytes(body)
        given.append(folder / name)
    return given


def listed_rows(folder: Path, kind: str) -> list[list[str]]:
    found = []
    for path in sorted(folder.glob(f"*.{kind}.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            found += list(csv.reader(handle))[1:]
    return found


def listed_as(folder: Path, kind: str) -> list[str]:
    """Each listed row as ``column=value|column=value``, by the listing's own header."""
    found = []
    for path in sorted(folder.glob(f"*.{kind}.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            header, *listed = list(csv.reader(handle))
        found += ["|".join(f"{c}={v}" for c, v in zip(header[2:], row[2:], strict=False)) for row in listed]
    return found


def run_cli(case: Case, folder: Path, capsys: pytest.CaptureFixture, model) -> Outcome:
    from test_partner_exports import summaries

    given = write_case(case, folder)
    store_path, out = folder / "g.db", folder / "listed"
    code = main(
        [
            "--store",
            str(store_path),
            "ingest",
            str(folder / "spec.yaml"),
            *map(str, given),
            "--rejects-dir",
            str(out),
            *case.args,
        ]
    )
    said = capsys.readouterr()
    if code == 2:
        refused = Outcome(refused=True, message=said.err, code=code)
        return inspect(refused, EmbeddedStore(store_path, model)) if store_path.exists() else refused
    files = summaries(said.out).values()
    outcome = Outcome(
        refused=False,
        message=said.out + said.err,
        code=code,
        loaded=sum(f.loaded for f in files),
        rejected=sum(f.rejected for f in files),
        unmatched=sum(f.unmatched for f in files),
        warned=sum(f.warned for f in files),
        reasons=[row[1] for row in listed_rows(out, "rejects")],
        rejects=listed_as(out, "rejects"),
        listed={kind: len(listed_rows(out, kind)) for kind in ("unmatched", "warnings")},
    )
    if not store_path.exists():  # a dry run
        return outcome
    store = EmbeddedStore(store_path, model)
    try:
        return inspect(outcome, store)
    finally:
        store.close()


def check(case: Case, outcome: Outcome, *, dry_run: bool = False) -> None:
    """The one outcome the case states."""
    if case.expect in ("file", "spec"):
        assert outcome.refused, outcome.message
        assert re.search(case.match, outcome.message), outcome.message
        assert not outcome.counts or outcome.counts == {"entities": {}, "links": {}}  # nothing written
        return
    assert not outcome.refused, outcome.message
    assert outcome.code == case.exit, outcome.message
    counted = (outcome.loaded, outcome.rejected, outcome.unmatched, outcome.warned)
    assert counted == (case.loaded, case.rejected, case.unmatched, case.warned), outcome.message
    assert len(outcome.reasons) == case.rejected
    assert all(re.search(case.match, reason) for reason in outcome.reasons), outcome.reasons
    assert outcome.listed == {"unmatched": case.unmatched, "warnings": case.warned}, outcome.message
    if case.said:
        assert re.search(case.said, outcome.message), outcome.message
    if case.listed_as:
        assert any(re.search(case.listed_as, row) for row in outcome.rejects), outcome.rejects
    if dry_run:
        return
    assert outcome.counts["entities"], "the good rows load"
    for link_type, n in case.links.items():
        assert outcome.counts["links"].get(link_type, 0) == n, outcome.counts
    for link_type, n in case.records.items():
        assert outcome.records.get(link_type, 0) == n, outcome.records
    for name, value in case.stored.items():
        assert value in {e.properties.get(name) for e in outcome.entities}, (name, value)
    if case.spec == SPEC:  # one report per loaded row
        assert outcome.counts["entities"].get("ASBIncident", 0) == case.loaded


def marked(cases: list[Case]) -> list:
    return [
        pytest.param(c, id=c.name, marks=[pytest.mark.xfail(strict=True, reason=c.bug)] if c.bug else []) for c in cases
    ]


def test_the_corpus_is_big_enough():
    names = [c.name for c in CASES]
    assert len(set(names)) == len(names)
    api = [c for c in CASES if c.api]
    assert len(CASES) >= 100 and len(api) >= 40
    assert {c.expect for c in CASES} == {"file", "spec", "rows"}


@pytest.mark.parametrize("case", marked(CASES))
def test_bad_input_through_the_cli(case: Case, model, tmp_path: Path, capsys, cli_development):
    outcome = run_cli(case, tmp_path, capsys, model)
    check(case, outcome, dry_run="--dry-run" in case.args)
    if (tmp_path / "g.db").exists():
        with sqlite3.connect(tmp_path / "g.db") as db:  # the store's own tables are intact
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert tables >= {"entity", "link", "record", "asserted"}


def test_values_that_look_like_attacks_are_kept_verbatim(model, tmp_path):
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(SPEC)
    data_path = tmp_path / "data.csv"
    hostile = ["'; DROP TABLE entity; --", "}) DETACH DELETE n //", '=HYPERLINK("http://x")']
    data_path.write_bytes(rows(*[f'"{h.replace(chr(34), chr(34) * 2)}",01/03/2026,Noise,Elm,,' for h in hostile]))
    store = EmbeddedStore(tmp_path / "graph.db", model)
    try:
        ingest_file(store, model, load_spec(spec_path, model), data_path, rejects_dir=tmp_path)
        assert {e.properties["reference"] for e in store.find("ASBIncident")} == set(hostile)
    finally:
        store.close()
