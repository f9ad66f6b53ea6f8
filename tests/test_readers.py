"""Readers: the same records in every format and dialect load as the same entities."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from nimgraph.ingest.engine import ingest_file
from nimgraph.ingest.readers import FileError, open_source
from nimgraph.ingest.spec import ReadSpec, SpecError, load_spec

SPEC = """\
source: {name: test-asb}
grading: {default: 1BP}
record_id: Ref
READ
entities:
  report:
    type: ASBIncident
    keys: [Ref]
    properties:
      reference: Ref
      date: {column: Date, format: ["%d/%m/%Y", "%Y-%m-%d"]}
      category: Kind
"""
HEADER = ["Ref", "Date", "Kind"]
RECORDS = [["A1", "01/03/2026", "Nuisance"], ["A2", "31/02/2026", "Nuisance"], ["A3", "2026-03-05", "Café noise"]]
EXPECTED = {"A1": "2026-03-01", "A3": "2026-03-05"}  # A2 is not a date: rejected


def load(store, model, tmp_path: Path, data: Path, read: str = ""):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.replace("READ", read))
    report = ingest_file(store, model, load_spec(spec, model), data, rejects_dir=tmp_path / "rejects")
    loaded = {e.properties["reference"]: e.properties["date"] for e in store.find("ASBIncident")}
    return report, loaded


def csv_text(delimiter: str = ",", newline: str = "\n", header: bool = True) -> str:
    rows = ([HEADER] if header else []) + RECORDS
    return newline.join(delimiter.join(r) for r in rows) + newline


@pytest.mark.parametrize(
    ("delimiter", "newline"),
    [(",", "\n"), (";", "\r\n"), ("\t", "\n"), ("|", "\r")],  # "\r" alone: an old Mac file
    ids=["comma", "semicolon-crlf", "tab", "pipe-mac"],
)
def test_csv_dialects_and_line_endings_are_detected(embedded_store, model, tmp_path, delimiter, newline):
    data = tmp_path / "asb.csv"
    data.write_text(csv_text(delimiter, newline), encoding="utf-8", newline="")
    report, loaded = load(embedded_store, model, tmp_path, data)
    assert loaded == EXPECTED
    assert report.rejects_file and "3," in Path(report.rejects_file).read_text().splitlines()[1]  # line 3
    assert f"delimiter {delimiter!r}" in report.read_as


def test_a_headerless_file_reads_with_the_columns_the_spec_names(embedded_store, model, tmp_path):
    data = tmp_path / "asb.txt"
    data.write_text(csv_text(header=False))
    _, loaded = load(embedded_store, model, tmp_path, data, "read: {header: false, columns: [Ref, Date, Kind]}")
    assert loaded == EXPECTED


def test_a_headerless_file_without_columns_is_a_spec_error(model, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.replace("READ", "read: {header: false}"))
    with pytest.raises(SpecError, match=r"spec.yaml:4: a file without a header row needs read.columns"):
        load_spec(spec, model)


def test_set_delimiter_and_encoding_win_over_detection(embedded_store, model, tmp_path):
    data = tmp_path / "asb.csv"
    data.write_bytes(csv_text(";").encode("cp1252"))
    _, loaded = load(embedded_store, model, tmp_path, data, "read: {delimiter: ';', encoding: cp1252}")
    assert loaded == EXPECTED
    with pytest.raises(FileError, match="unknown encoding 'klingon'"):
        load(embedded_store, model, tmp_path, data, "read: {encoding: klingon}")


def test_excel(embedded_store, model, tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(["A1", dt.datetime(2026, 3, 1), "Nuisance"])  # a real date cell
    sheet.append(["A2", "31/02/2026", "Nuisance"])
    sheet.append([None, None, None])  # an empty row: skipped
    sheet.append(["A3", "2026-03-05", "Café noise"])
    book.save(tmp_path / "asb.xlsx")
    report, loaded = load(embedded_store, model, tmp_path, tmp_path / "asb.xlsx")
    assert loaded == EXPECTED
    assert Path(report.rejects_file).read_text().splitlines()[1].startswith("3,")  # spreadsheet row 3
    assert open_source(tmp_path / "asb.xlsx", ReadSpec()).count() == 4


def test_json_array_and_json_lines(embedded_store, model, tmp_path):
    objects = [dict(zip(HEADER, r, strict=True)) for r in RECORDS]
    (tmp_path / "asb.json").write_text(json.dumps({"cases": objects}))
    _, loaded = load(embedded_store, model, tmp_path, tmp_path / "asb.json", "read: {records: cases}")
    assert loaded == EXPECTED

    lines = [json.dumps(o) for o in objects]
    lines.insert(1, '{"Ref": "A9", "Date": ')  # a truncated line
    (tmp_path / "asb.jsonl").write_text("\n".join(lines) + "\n")
    report, loaded = load(embedded_store, model, tmp_path, tmp_path / "asb.jsonl")
    assert loaded == EXPECTED
    reasons = Path(report.rejects_file).read_text()
    assert "2,not valid JSON" in reasons and "3," in reasons


def test_json_without_an_array_says_where_to_look(embedded_store, model, tmp_path):
    (tmp_path / "asb.json").write_text(json.dumps({"cases": []}))
    with pytest.raises(FileError, match=r"expected an array of objects at the top level; set read\.records"):
        load(embedded_store, model, tmp_path, tmp_path / "asb.json")


def test_parquet_in_batches(embedded_store, model, tmp_path):
    import pandas as pd

    frame = pd.DataFrame(RECORDS * 1, columns=HEADER)
    frame.to_parquet(tmp_path / "asb.parquet")
    _, loaded = load(embedded_store, model, tmp_path, tmp_path / "asb.parquet")
    assert loaded == EXPECTED
    source = open_source(tmp_path / "asb.parquet", ReadSpec())
    source.batch_size = 1  # type: ignore[attr-defined]
    assert [n for n, _, _ in source.rows()] == [1, 2, 3]


def test_a_file_that_is_not_what_it_claims_is_a_clear_error(embedded_store, model, tmp_path):
    fake = tmp_path / "asb.xlsx"
    fake.write_text("Ref,Date\n")
    with pytest.raises(FileError, match="not a readable xlsx workbook"):
        load(embedded_store, model, tmp_path, fake)
    fake = tmp_path / "asb.parquet"
    fake.write_text("Ref,Date\n")
    with pytest.raises(FileError, match="not a readable Parquet file"):
        load(embedded_store, model, tmp_path, fake)
