"""Readers: the same records in every format and dialect load as the same entities."""

from __future__ import annotations

import codecs
import datetime as dt
import json
import zipfile
from pathlib import Path

import pytest

from nimgraph.ingest.engine import ingest_file, open_sources
from nimgraph.ingest.readers import BY_SUFFIX, FORMATS, FileError, known_formats, open_source
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
    with pytest.raises(SpecError, match=r"spec.yaml:\d+: read.encoding 'klingon' is not an encoding Python knows"):
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


# ---------------------------------------------------------------------------------------- the format registry
KNOWN = "known formats: csv (.csv, .txt, .tsv), xlsx (.xlsx), json (.json), jsonl (.jsonl, .ndjson), parquet (.parquet)"


@pytest.mark.parametrize("name", ["asb.dat", "asb"])
def test_a_file_of_an_unknown_suffix_is_an_error_naming_the_known_formats_and_the_fix(tmp_path, name):
    """Not read as CSV (nor as anything) on a guess: a file read as the wrong format loads rows of nonsense."""
    data = tmp_path / name
    data.write_text(csv_text())
    shown = "'.dat'" if name.endswith(".dat") else "(no suffix)"
    with pytest.raises(FileError) as raised:
        open_source(data, ReadSpec())
    assert str(raised.value) == (
        f"{data}: unknown format {shown}; {KNOWN}; "
        "set read.format in the spec (e.g. read: {format: csv}) or rename the file to one of those suffixes"
    )


def test_a_spec_s_read_format_opens_a_file_of_any_suffix(embedded_store, model, tmp_path):
    data = tmp_path / "asb.dat"
    data.write_text(csv_text())
    _, loaded = load(embedded_store, model, tmp_path, data, "read: {format: csv}")
    assert loaded == EXPECTED


def test_an_unknown_read_format_in_a_spec_is_an_error_naming_the_known_ones(model, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.replace("READ", "read: {format: dbase}"))
    data = tmp_path / "asb.csv"
    data.write_text(csv_text())
    with pytest.raises(SpecError) as raised:
        load_spec(spec, model)
    listed = KNOWN.removeprefix("known formats: ")
    assert str(raised.value) == f"{spec}:4: unknown format 'dbase' in read.format; known formats: auto, {listed}"
    with pytest.raises(FileError, match=r"unknown format 'dbase'; known formats: csv .*set read.format in the spec"):
        open_source(data, ReadSpec(format="dbase"))  # a ReadSpec built in code, not loaded


def test_every_registered_format_and_suffix_opens_its_own_reader(tmp_path):
    assert set(FORMATS) == {"csv", "xlsx", "json", "jsonl", "parquet"}
    assert known_formats() in KNOWN
    for suffix, fmt in BY_SUFFIX.items():
        path = tmp_path / f"asb{suffix}"
        path.touch()
        assert type(open_source(path, ReadSpec())) is fmt.reader
        assert type(open_source(path, ReadSpec(format=fmt.name))) is fmt.reader


# ---------------------------------------------------------------------------------------- encodings
NOTES = "Ref,Note\nA1,Fine of £20\nA2,Café noise\n"


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (NOTES.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + NOTES.encode("utf-8"), "utf-8 with byte-order mark"),
        (NOTES.encode("utf-16"), "utf-16 with byte-order mark"),  # Excel's "Unicode text"
        (codecs.BOM_UTF16_BE + NOTES.encode("utf-16-be"), "utf-16 with byte-order mark"),
        (NOTES.encode("cp1252"), "cp1252 (detected)"),  # charset-normalizer alone says cp1250, reading £ as Ł
        (NOTES.encode("latin-1"), "cp1252 (detected)"),  # Latin-1 and cp1252 agree on every printable byte
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-le", "utf-16-be", "cp1252", "latin-1"],
)
def test_the_encoding_is_detected_and_described_as_found(tmp_path, data, said):
    (tmp_path / "notes.csv").write_bytes(data)
    source = open_source(tmp_path / "notes.csv", ReadSpec())
    assert source.describe() == f"CSV, {said}, delimiter ','"
    assert [values["Note"] for _, values, _ in source.rows()] == ["Fine of £20", "Café noise"]
    assert source.columns() == ["Ref", "Note"]  # no byte-order mark stuck to the first name


def test_ascii_is_utf_8(tmp_path):
    (tmp_path / "notes.csv").write_bytes(b"Ref,Note\nA1,plain\n")
    assert open_source(tmp_path / "notes.csv", ReadSpec()).describe() == "CSV, utf-8, delimiter ','"


def test_a_mac_file_is_told_from_windows_by_the_bytes_windows_lacks(tmp_path):
    (tmp_path / "notes.csv").write_bytes("Ref,Note\nA1,Café crème brûlée\n".encode("mac_roman"))  # è: 0x8F
    source = open_source(tmp_path / "notes.csv", ReadSpec())
    assert "mac-roman (detected)" in source.describe()
    assert next(source.rows())[1]["Note"] == "Café crème brûlée"


def test_an_encoding_other_than_western_is_detected_from_its_text(tmp_path):
    polish = "Ref,Note\nA1,Zażółć gęślą jaźń. Łódź i Wrocław to miasta w Polsce; prosimy o kontakt.\n"
    (tmp_path / "notes.csv").write_bytes(polish.encode("cp1250"))
    source = open_source(tmp_path / "notes.csv", ReadSpec(delimiter=","))
    assert "cp1250 (detected)" in source.describe()
    assert next(source.rows())[1]["Note"].startswith("Zażółć gęślą jaźń. Łódź")


def test_bytes_far_into_a_big_file_decide_its_encoding(tmp_path):
    data = tmp_path / "notes.csv"
    with data.open("wb") as handle:  # 3 MB of ASCII, then one cp1252 line: past the first blocks read
        handle.write(b"Ref,Note\n" + b"A0,plain\n" * 350_000 + "A1,Café £5\n".encode("cp1252"))
    source = open_source(data, ReadSpec())
    assert "cp1252 (detected)" in source.describe()
    assert list(source.rows())[-1][1] == {"Ref": "A1", "Note": "Café £5"}


def test_a_guess_is_kept_only_if_the_whole_file_decodes_in_it(tmp_path):
    (tmp_path / "notes.csv").write_bytes("Ref,Note\nA1,Caf\xe9 \x81\n".encode("latin-1"))  # 0x81: not cp1252
    source = open_source(tmp_path / "notes.csv", ReadSpec())
    assert "latin-1 (assumed: no encoding detected fits the whole file)" in source.describe()
    assert next(source.rows())[1]["Note"] == "Café \x81"


def test_the_spec_s_encoding_wins_and_is_said_to(tmp_path):
    (tmp_path / "notes.csv").write_bytes(NOTES.encode("cp1252"))
    source = open_source(tmp_path / "notes.csv", ReadSpec(encoding="latin-1"))
    assert source.describe() == "CSV, latin-1 (as read.encoding says), delimiter ','"
    (tmp_path / "notes.csv").write_bytes(codecs.BOM_UTF8 + NOTES.encode("utf-8"))
    source = open_source(tmp_path / "notes.csv", ReadSpec(encoding="utf-8"))
    assert source.columns() == ["Ref", "Note"]  # the mark is not part of the first column's name
    assert "utf-8 with byte-order mark (as read.encoding says)" in source.describe()


# ---------------------------------------------------------------------------------------- a title above the header
def titled_workbook(path: Path) -> Path:
    """An Excel report: a merged title, a blank row, the header at row 3, records, a blank row and a totals row."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Northwick ASB incidents, March 2026"])
    sheet.merge_cells("A1:C1")
    sheet.append([])
    sheet.append(HEADER)
    sheet.append(["A1", dt.datetime(2026, 3, 1), "Nuisance"])
    sheet.append(["A2", "31/02/2026", "Nuisance"])
    sheet.append(["A3", "2026-03-05", "Café noise"])
    sheet.append([])
    sheet.append(["Total", None, 3])
    book.save(path)
    return path


def test_an_excel_report_with_a_title_row_loads_with_header_row(embedded_store, model, tmp_path):
    data = titled_workbook(tmp_path / "asb.xlsx")
    report, loaded = load(embedded_store, model, tmp_path, data, "read: {header_row: 3}")
    assert loaded == EXPECTED
    rejects = Path(report.rejects_file).read_text(encoding="utf-8").splitlines()
    assert [line.split(",")[0] for line in rejects[1:]] == ["5", "8"]  # the spreadsheet's own row numbers
    assert "a totals row ('Total'), not a record" in rejects[2]
    assert report.read_as == "Excel, sheet first, header at row 3"


def test_without_header_row_a_title_says_which_row_to_set(tmp_path):
    source = open_source(titled_workbook(tmp_path / "asb.xlsx"), ReadSpec())
    assert source.columns() == ["Northwick ASB incidents, March 2026"]  # one name: the column check fails next
    assert source.header_hint() == (
        "row 1 holds one value ('Northwick ASB incidents, March 2026'), like a title above the header; "
        "if row 3 is the header, set read: {header_row: 3}"
    )
    assert open_source(tmp_path / "asb.xlsx", ReadSpec(header_row=3)).header_hint() == ""


# ---------------------------------------------------------------------------------------- records on another sheet
def workbook_with_notes(path: Path, notes: list[list[str]]) -> Path:
    """A workbook whose first sheet is notes about the export, the records on the second, and an empty third."""
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Read me"
    for row in notes:
        book.active.append(row)
    records = book.create_sheet('ASB "cases"')
    for row in [HEADER, *RECORDS]:
        records.append(row)
    book.create_sheet("Sheet3")  # as Excel once added to every workbook: empty, so not suggested
    book.save(path)
    return path


NOTES_TABLE = [["Column", "Meaning"], ["Ref", "The case reference"], ["Date", "When it was reported"]]


def test_records_on_another_sheet_say_to_set_read_sheet(embedded_store, model, tmp_path):
    data = workbook_with_notes(tmp_path / "asb.xlsx", NOTES_TABLE)
    hint = (
        "read the first sheet, 'Read me'; the workbook also has 'ASB \"cases\"': "
        'if the records are there, set read: {sheet: "ASB \\"cases\\""}'
    )
    assert open_source(data, ReadSpec()).header_hint() == hint
    (tmp_path / "spec.yaml").write_text(SPEC.replace("READ", ""))
    with pytest.raises(SpecError) as raised:  # the column check before any write, as the CLI and API run it
        open_sources(load_spec(tmp_path / "spec.yaml", model), model, [data])
    assert str(raised.value).splitlines()[-1].strip() == f"{data}: {hint}"
    assert open_source(data, ReadSpec(sheet="Read me")).header_hint() == ""  # a sheet named: the spec chose it
    _, loaded = load(embedded_store, model, tmp_path, data, "read: {sheet: 'ASB \"cases\"'}")
    assert loaded == EXPECTED


def test_several_other_sheets_are_listed_and_a_title_hint_is_kept(tmp_path):
    import openpyxl

    data = workbook_with_notes(tmp_path / "asb.xlsx", [["About this export"], [], *NOTES_TABLE])
    book = openpyxl.load_workbook(data)
    book.create_sheet("Officers").append(["Id", "Name"])
    book.save(data)
    assert open_source(data, ReadSpec()).header_hint() == (
        "row 1 holds one value ('About this export'), like a title above the header; "
        "if row 3 is the header, set read: {header_row: 3}; "
        "read the first sheet, 'Read me'; the workbook also has 'ASB \"cases\"' and 'Officers': "
        'if the records are on one of those, set read: {sheet: "<name>"}'
    )
    titled = titled_workbook(tmp_path / "titled.xlsx")  # one sheet: the title hint alone, as before
    assert open_source(titled, ReadSpec()).header_hint().endswith("set read: {header_row: 3}")


def test_a_csv_with_preamble_lines_loads_with_header_row_and_keeps_its_line_numbers(embedded_store, model, tmp_path):
    data = tmp_path / "asb.csv"
    preamble = "Northwick ASB incidents\nExported 31/03/2026 by the ASB team\n\n"
    data.write_text(preamble + csv_text(";"))
    report, loaded = load(embedded_store, model, tmp_path, data, "read: {header_row: 4}")
    assert loaded == EXPECTED
    assert Path(report.rejects_file).read_text(encoding="utf-8").splitlines()[1].startswith("6,")  # line 6
    assert report.read_as == "CSV, utf-8, delimiter ';', header at row 4"  # sniffed below the preamble
    data.write_text(preamble + csv_text(","))
    source = open_source(data, ReadSpec())
    assert source.header_hint().endswith("if row 4 is the header, set read: {header_row: 4}")


def test_a_csv_title_padded_with_delimiters_is_a_file_error_that_names_the_header_row(tmp_path):
    data = tmp_path / "asb.csv"
    data.write_text("Northwick ASB incidents,,\n,,\n" + csv_text())
    with pytest.raises(FileError, match=r"row 1 holds one value .* set read: \{header_row: 3\}"):
        open_source(data, ReadSpec()).columns()
    data.write_text(",,\n" + csv_text())
    with pytest.raises(FileError, match=r"the file is empty before row 2; if row 2 is the header"):
        open_source(data, ReadSpec()).columns()
    with pytest.raises(FileError, match=r"row 9 \(read.header_row\) is empty or past the end of the file"):
        open_source(data, ReadSpec(header_row=9)).columns()


@pytest.mark.parametrize(
    ("read", "message"),
    [
        ("read: {header_row: 0}", r"header_row is the header's row number, counted from 1; got 0"),
        ("read: {header_row: 'three'}", r"header_row is the header's row number, counted from 1; got 'three'"),
        ("read: {header_row: 2, header: false, columns: [Ref]}", r"header_row goes with a header row"),
        ("read: {header_row: 2, format: jsonl}", r"header_row goes with a header row in a CSV or xlsx file"),
    ],
)
def test_a_header_row_that_cannot_be_is_a_spec_error(model, tmp_path, read, message):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.replace("READ", read))
    with pytest.raises(SpecError, match=rf"spec.yaml:4: read.{message}"):
        load_spec(spec, model)


def test_a_header_row_for_a_json_file_read_by_its_suffix_is_a_file_error(tmp_path):
    (tmp_path / "asb.jsonl").write_text('{"Ref": "A1"}\n')
    with pytest.raises(FileError, match=r"read.header_row is for CSV and xlsx files; this one is read as jsonl"):
        open_source(tmp_path / "asb.jsonl", ReadSpec(header_row=2))


def test_a_csv_title_with_a_comma_still_says_which_row_is_the_header(tmp_path):
    data = tmp_path / "asb.csv"
    data.write_text("Northwick ASB incidents, March 2026\n\n" + csv_text(","))
    hint = open_source(data, ReadSpec()).header_hint()
    assert hint == (
        "row 1 holds 2 values ('Northwick ASB incidents', 'March 2026'), like a title above the header; "
        "if row 3 is the header, set read: {header_row: 3}"
    )


def test_nested_json_fields_are_columns_named_by_their_path(tmp_path):
    lines = [
        {"id": 1, "location": {"latitude": "52.6", "street": {"name": "Elm Court"}}},
        {"id": 2, "location": None},
        {"id": 3, "location": {"street": {"name": "Oak Row"}}, "outcome": {"category": "Charged"}},
    ]
    data = tmp_path / "feed.jsonl"
    data.write_text("\n".join(json.dumps(line) for line in lines) + '\n{"id": 4, "cut off\n')
    source = open_source(data, ReadSpec())
    assert source.columns() == [
        "id", "location", "location.latitude", "location.street", "location.street.name", "outcome",
        "outcome.category",
    ]  # fmt: skip
    rows = list(source.rows())
    assert [values.get("location.street.name", "") for _, values, _ in rows[:3]] == ["Elm Court", "", "Oak Row"]
    assert rows[2][1]["outcome.category"] == "Charged"
    assert rows[2][2] == ["3", '{"street": {"name": "Oak Row"}}', "", '{"name": "Oak Row"}', "Oak Row",
                          '{"category": "Charged"}', "Charged"]  # fmt: skip
    number, problem, written = rows[3]
    assert number == 4 and written == ['{"id": 4, "cut off']  # listed as written
    assert next(iter(problem.values())) == "not valid JSON: Unterminated string starting at column 11"


# ---------------------------------------------------------------------------------------- zip bombs
def test_a_workbook_that_would_unpack_a_thousand_times_over_is_refused_before_openpyxl_reads_it(tmp_path):
    from test_bad_input import bombed, workbook

    bomb = tmp_path / "bomb.xlsx"
    bomb.write_bytes(bombed(workbook(["Ref", "Date", "Kind"], ["A1", "01/03/2026", "Noise"])))
    assert bomb.stat().st_size < 100_000
    with pytest.raises(FileError, match=r"refused: its part 'xl/sharedStrings\.xml' would unpack from [\d,]+ to "
                       r"17,825,[\d,]+ bytes, far more than a real workbook's parts \(a zip bomb\)"):  # fmt: skip
        open_source(bomb, ReadSpec()).columns()


def test_a_workbook_of_absurdly_many_parts_or_unpacking_too_big_in_all_is_refused(tmp_path, monkeypatch):
    from test_bad_input import workbook

    from nimgraph.ingest import readers

    book = tmp_path / "book.xlsx"
    book.write_bytes(workbook(["Ref", "Date", "Kind"], ["A1", "01/03/2026", "Noise"]))
    assert open_source(book, ReadSpec()).columns() == ["Ref", "Date", "Kind"]  # a real workbook still loads
    many = tmp_path / "many.xlsx"
    with zipfile.ZipFile(book) as given, zipfile.ZipFile(many, "w") as padded:
        for item in given.infolist():
            padded.writestr(item, given.read(item))
        for n in range(readers.XLSX_MAX_PARTS):
            padded.writestr(f"xl/media/pad{n}.bin", b"")
    with pytest.raises(FileError, match=r"refused: 10,00\d parts in one workbook"):
        open_source(many, ReadSpec()).columns()
    monkeypatch.setattr(readers, "XLSX_MAX_TOTAL", 1_000)
    with pytest.raises(FileError, match=r"refused: its parts would unpack to [\d,]+ bytes, more than 1,000"):
        open_source(book, ReadSpec()).columns()
