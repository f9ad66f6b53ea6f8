"""The bad-input corpus: files nobody should send, each with the outcome an analyst should get.

Every case is a file (and sometimes a change to the spec) with one expected outcome: the whole
file refused with a clear FileError, the spec refused with its line, or rows loaded and rejected
with a reason, the good rows always loading. Nothing may crash, and nothing valid may be lost.
"""

from __future__ import annotations

import codecs
import csv
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from nimgraph.ingest.engine import ingest_file
from nimgraph.ingest.readers import FileError
from nimgraph.ingest.spec import SpecError, load_spec
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
HEADER = "Ref,Date,Kind,Street,Lat,Grade"
GOOD = "G1,01/03/2026,Noise,Elm Street,53.1,"


@dataclass(frozen=True)
class Case:
    name: str
    body: bytes  # the file; GOOD rows around a bad one show that good rows still load
    expect: str  # "file", "spec" or "rows"
    match: str = ""  # regex for the error, or for the reject reason
    loaded: int = 0
    rejected: int = 0
    suffix: str = ".csv"
    read: str = ""  # a read: section for the spec


def rows(*lines: str, header: str = HEADER, newline: str = "\n") -> bytes:
    return (newline.join([header, *lines]) + newline).encode("utf-8")


def one_bad(name: str, line: str, match: str) -> Case:
    """A good row, the bad one, another good row: two load, one is rejected for ``match``."""
    return Case(name, rows(GOOD, line, GOOD.replace("G1", "G2")), "rows", match, loaded=2, rejected=1)


def fine(name: str, line: str, loaded: int = 2) -> Case:
    """Odd but valid: everything loads."""
    return Case(name, rows(GOOD, line), "rows", loaded=loaded)


CASES = [
    # --- the file as a whole
    Case("empty file", b"", "file", "the file is empty"),
    Case("only blank lines", b"\n\n\n", "file", "the file is empty"),
    Case("header of empty names", b",,,\n1,2,3,4\n", "file", "the file is empty"),
    Case("duplicated header", rows(GOOD, header=HEADER + ",Kind"), "file", "the header repeats 'Kind'"),
    Case("header lacks a column", rows("G1,01/03/2026", header="Ref,Date"), "spec", "unknown column 'Kind'"),
    Case(
        "header in another case", rows(GOOD, header=HEADER.lower()), "spec", "unknown column 'Ref'.*the file has: ref"
    ),
    Case(
        "wrong encoding, set explicitly",
        "Ref,Date,Kind,Street,Lat,Grade\nG1,01/03/2026,Caf\xe9,Elm,,\n".encode("cp1252"),
        "file",
        "not utf-8; set read.encoding",
        read="read: {encoding: utf-8}",
    ),
    Case("unknown encoding", rows(GOOD), "file", "unknown encoding 'utf-9'", read="read: {encoding: utf-9}"),
    Case("binary garbage", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20, "spec", "unknown column"),
    Case("xlsx that is a CSV", rows(GOOD), "file", "not a readable xlsx workbook", suffix=".xlsx"),
    Case("parquet that is a CSV", rows(GOOD), "file", "not a readable Parquet file", suffix=".parquet"),
    Case("JSON that is not JSON", b"{'Ref': 'G1'", "file", "not valid JSON", suffix=".json"),
    Case("JSON object, not array", b'{"Ref": "G1"}', "file", "expected an array of objects", suffix=".json"),
    Case("JSON empty array", b"[]", "file", "no JSON objects found", suffix=".json"),
    # --- encodings and line endings that must simply work
    Case("UTF-8 with BOM", codecs.BOM_UTF8 + rows(GOOD), "rows", loaded=1),
    Case("UTF-16 from Excel", (HEADER + "\r\n" + GOOD + "\r\n").encode("utf-16"), "rows", loaded=1),
    Case(
        "Windows-1252 detected", (HEADER + "\n" + GOOD.replace("Elm", "Café") + "\n").encode("cp1252"), "rows", loaded=1
    ),
    Case("CRLF line endings", rows(GOOD, newline="\r\n"), "rows", loaded=1),
    Case("old Mac CR line endings", rows(GOOD, GOOD.replace("G1", "G2"), newline="\r"), "rows", loaded=2),
    Case("semicolons", rows(GOOD.replace(",", ";"), header=HEADER.replace(",", ";")), "rows", loaded=1),
    Case("tabs", rows(GOOD.replace(",", "\t"), header=HEADER.replace(",", "\t")), "rows", loaded=1),
    Case("blank lines between rows", rows(GOOD, "", "", GOOD.replace("G1", "G2")), "rows", loaded=2),
    Case("header with spaces around names", rows(GOOD, header=" Ref , Date,Kind ,Street,Lat,Grade"), "rows", loaded=1),
    # --- dates
    one_bad("31 February", "B1,31/02/2026,Noise,Elm,,", r"'31/02/2026' is not a date in the format '%d/%m/%Y'"),
    one_bad("year 1800", "B1,01/03/1800,Noise,Elm,,", r"outside the accepted years 1900-2100"),
    one_bad("year 2200", "B1,01/03/2200,Noise,Elm,,", r"outside the accepted years 1900-2100"),
    one_bad("two-digit year for %Y", "B1,01/03/26,Noise,Elm,,", r"'01/03/26' is not a date"),
    one_bad("ISO date for a day-first format", "B1,2026-03-01,Noise,Elm,,", r"is not a date"),
    one_bad("date with a time", "B1,01/03/2026 10:00,Noise,Elm,,", r"is not a date"),
    one_bad("missing date", "B1,,Noise,Elm,,", r"^an ASB incident needs a date; got ''$"),
    one_bad("date of spaces", "B1,   ,Noise,Elm,,", r"needs a date"),
    one_bad("month 13", "B1,01/13/2026,Noise,Elm,,", r"is not a date"),
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
    one_bad("too few fields", "B1,01/03/2026", r"2 fields where the header has 6"),
    one_bad("too many fields", "B1,01/03/2026,Noise,Elm,,,extra", r"7 fields where the header has 6"),
    one_bad("ten thousand fields", "B1," + ",".join(["x"] * 10_000), r"10001 fields where the header has 6"),
    fine("quoted field with a newline", '"B1",01/03/2026,"Noise\nat night",Elm,,'),
    fine("quoted field with commas and quotes", 'B1,01/03/2026,"Noise, ""loud""",Elm,,'),
    fine("NUL byte inside a field", "B1,01/03/2026,No\x00ise,Elm,,"),
    fine("no street: optional place left out", "B1,01/03/2026,Noise,,,"),
    # --- values that look like attacks: stored as text, never executed
    fine("SQL injection", '"\'; DROP TABLE entity; --",01/03/2026,Noise,Elm,,'),
    fine("Cypher injection", 'B1,01/03/2026,"}) DETACH DELETE n //",Elm,,'),
    fine("spreadsheet formula", 'B1,01/03/2026,=HYPERLINK("http://x"),Elm,,'),
    fine("script tag", "B1,01/03/2026,Noise,<script>alert(1)</script>,,"),
    fine("JSON in a field", 'B1,01/03/2026,"{""$set"": 1}",Elm,,'),
    fine("path traversal", "../../etc/passwd,01/03/2026,Noise,Elm,,"),
    fine("emoji", "B1,01/03/2026,Noise 📢,Elm 🌳,,"),
    # --- huge fields
    fine("a 1 MB field", "B1,01/03/2026," + "N" * 1_000_000 + ",Elm,,"),
    Case(
        "a 17 MB field",
        rows(GOOD, "B1,01/03/2026," + "N" * 17_000_000 + ",Elm,,", GOOD.replace("G1", "G2")),
        "rows",
        r"unreadable as CSV: field larger than field limit",
        loaded=2,
        rejected=1,
    ),
]


def test_the_corpus_is_big_enough():
    assert len(CASES) >= 50
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(case: Case, model, tmp_path: Path):
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(SPEC.replace("entities:", f"{case.read}\nentities:") if case.read else SPEC)
    data = tmp_path / f"data{case.suffix}"
    data.write_bytes(case.body)
    store = EmbeddedStore(tmp_path / "graph.db", model)
    try:
        run = lambda: ingest_file(store, model, load_spec(spec_path, model), data, rejects_dir=tmp_path)  # noqa: E731
        if case.expect == "file":
            with pytest.raises(FileError, match=case.match):
                run()
            assert store.counts() == {"entities": {}, "links": {}}  # nothing written
            return
        if case.expect == "spec":
            with pytest.raises(SpecError, match=case.match):
                run()
            assert store.counts() == {"entities": {}, "links": {}}
            return
        report = run()
        assert (report.rows_loaded, report.rows_rejected) == (case.loaded, case.rejected), report.summary()
        assert len(store.find("ASBIncident", limit=1000)) == case.loaded
        if case.rejected:
            with open(report.rejects_file, newline="", encoding="utf-8") as handle:
                reasons = [row["reason"] for row in csv.DictReader(handle)]
            assert len(reasons) == case.rejected
            assert all(re.search(case.match, r) for r in reasons), reasons
    finally:
        store.close()
    with sqlite3.connect(tmp_path / "graph.db") as db:  # the store's own tables are intact
        assert {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")} >= {
            "entity",
            "link",
            "assertion",
        }


def test_values_that_look_like_attacks_are_kept_verbatim(model, tmp_path):
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(SPEC)
    data = tmp_path / "data.csv"
    hostile = ["'; DROP TABLE entity; --", "}) DETACH DELETE n //", '=HYPERLINK("http://x")']
    data.write_bytes(rows(*[f'"{h.replace(chr(34), chr(34) * 2)}",01/03/2026,Noise,Elm,,' for h in hostile]))
    store = EmbeddedStore(tmp_path / "graph.db", model)
    try:
        ingest_file(store, model, load_spec(spec_path, model), data, rejects_dir=tmp_path)
        assert {e.properties["reference"] for e in store.find("ASBIncident")} == set(hostile)
    finally:
        store.close()
