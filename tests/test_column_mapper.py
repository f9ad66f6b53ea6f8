"""The column-wise mapper gives exactly what the row mapper gives: entities, links, notes and rejects.

Hypothesis draws specs across every value, entity and link feature (templates, joins, first_of,
split, lookups with misses, empty and two-valued keys, maps with unmapped keep/reject/count,
normalisers, NHS check digits, date orders and ambiguous dates, code lists, constraints, optional
and reference-only entities, partner ids, link types from a column with reversed entries, link
properties that apply to some types only, grade columns, record ids and dates, filters) and rows
from pools of good and bad values, and compares the two mappers row by row. The demo's partner
files through every shipped mapping are compared too: real shapes, no drawn ones.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nimgraph.demo import PLAN
from nimgraph.ids import IdKey
from nimgraph.ingest.columns import Chunk, ColumnMapper
from nimgraph.ingest.engine import _Batcher
from nimgraph.ingest.mapper import Row, RowError, RowMapper
from nimgraph.ingest.readers import WIDTH, open_source
from nimgraph.ingest.spec import load_spec
from nimgraph.ingest.values import ConversionError
from nimgraph.mappings import mapping_path

KEY = IdKey("column-mapper-parity")

# Each column's good values, then its bad ones. Rows draw good values four times in five: a row
# that fails early takes no part in the later steps, and those need rows that reach them.
GOOD_AND_BAD = {
    "Ref": (["R1", "R2", " r1 "], ["", "R 3", "x" * 250, "bad\x07id"]),
    "Name1": (["Ann", "Bob", "ann "], ["", "  "]),
    "Name2": (["Hale", "Gray", "hale"], [""]),
    "DOB": (["03/04/1990", "31/01/1990", "1990-02-03"], ["01/31/1990", "", "not a date", "03/04/55"]),
    "NHS": (["", "943 476 5919"], ["9434765918", "12345"]),
    "Phone": (["07700 900123", "+44 7700 900123", "07700900777"], ["", "call me", "07700900999", "07700900888"]),
    "Relation": (["Son", "Father", "Sister", "son "], ["Friend", "Cousin", ""]),
    "RelName": (["Cat", "Dan"], [""]),
    "Postcode": (["NW5 9WR", "nw59wr"], ["", "NW5", "ZZ 1"]),
    "Lat": (["51.5", "-10"], ["95", "", "abc"]),
    "Grade": (["", "1AP", "3DC"], ["9ZZ", "2bp"]),
    "Crime": (["Drugs", "Burglary", "Vehicle crime"], ["", "On or near Drugs", "01", "1", "shoplifting"]),
    "Month": (["2026-01", "2026-02"], ["", "Jan", "2026-13"]),
    "Status": (["ok", "OK "], ["deleted", ""]),
    "Age": (["30", "0"], ["200", "", "x", "1,000"]),
}
POOLS = {name: good + bad for name, (good, bad) in GOOD_AND_BAD.items()}
OWNERS = "Number,Owner\n07700 900123,Ann Hale\n07700900999,\n07700900888,Xan\n07700900888,Yul\n"


@st.composite
def specs(draw) -> dict:
    """A mapping spec, as the YAML a partner would write, drawing each feature on or off."""
    spec: dict = {"source": {"name": "drawn"}, "grading": {"default": draw(st.sampled_from(["1AP", "2BC"]))}}
    if draw(st.booleans()):
        spec["grading"]["column"] = "Grade"
    order = draw(st.sampled_from([None, "day_first", "month_first"]))
    if order:
        spec["date_order"] = order
    spec["lookups"] = {
        "owner": {"file": "owners.csv", "key": "Number", "value": "Owner"}
        | draw(st.sampled_from([{}, {"duplicates": "first"}, {"normalise": "phone"}]))
    }
    spec["record_id"] = draw(
        st.sampled_from([None, "Ref", {"template": "{Ref}-{Crime}"}, {"column": "Ref", "map": {"R1": "one"}}])
    )
    spec["record_date"] = draw(st.sampled_from([None, {"column": "Month", "format": "%Y-%m"}, {"column": "DOB"}]))
    if spec["record_date"] == {"column": "DOB"} and not order:
        spec["record_date"] = {"column": "DOB", "format": ["%d/%m/%Y", "%Y-%m-%d"]}
    spec = {k: v for k, v in spec.items() if v is not None}
    filters = draw(
        st.sampled_from(
            [
                [],
                [{"column": "Status", "not_equals": "deleted"}],
                [{"column": "Status", "matches": "^ok"}],
                [{"column": "Status", "in": ["ok", ""]}, {"column": "Crime", "not_matches": "^on or"}],
            ]
        )
    )
    if filters:
        spec["filter"] = filters

    person_keys = draw(st.sampled_from([
        {"keys": ["Name1", "DOB"]},
        {"keys": [{"join": ["Name1", "Name2"], "whole": draw(st.booleans())}]},
        {"keys": [{"first_of": ["Name2", "Name1"]}], "namespace": "people"},
        {"id": {"column": "Ref"}},
        {"keys": [{"lookup": {"table": "owner", "column": "Phone"}}]},
    ]))  # fmt: skip
    dob: dict = {"column": "DOB"}
    if order is None:
        dob["format"] = draw(st.sampled_from(["%d/%m/%Y", ["%d/%m/%Y", "%m/%d/%Y"], ["%d/%m/%y", "%Y-%m-%d"]]))
        if draw(st.booleans()):
            dob["pivot"] = 30
    elif draw(st.booleans()):
        dob["date_order"] = "month_first"
    person = {"type": "Person", **person_keys, "optional": draw(st.booleans())}
    person["properties"] = draw(st.dictionaries(st.sampled_from(["name", "dateOfBirth", "nhsNumber", "age", "owner"]),
                                                st.just(None), max_size=5))  # fmt: skip
    values = {
        "name": draw(
            st.sampled_from(
                [
                    {"template": "{Name1} {Name2}", "whole": draw(st.booleans())},
                    {"join": ["Name1", "Name2"], "separator": ", "},
                    {"split": "Name1", "separator": "n", "index": -1},
                ]
            )
        ),
        "dateOfBirth": dob,
        "nhsNumber": {
            "column": "NHS",
            "normalise": "nhs_number",
            "check_digit": draw(st.sampled_from(["warn", "strict"])),
        },
        "age": {"column": "Age", "decimal": draw(st.sampled_from([".", ","]))},
        "owner": {"lookup": {"table": "owner", "column": "Phone"}},
    }
    person["properties"] = {name: values[name] for name in person["properties"]}
    entities: dict = {"person": person}
    if draw(st.booleans()):
        phone: dict = {"type": "Phone", "keys": [{"column": "Phone", "normalise": "phone"}], "namespace": "phone"}
        phone["optional"] = draw(st.booleans())
        if draw(st.booleans()):
            phone["properties"] = {"name": {"lookup": {"table": "owner", "column": "Phone"}}}
        entities["phone"] = phone
    crime: dict = {"type": "CrimeIncident", "keys": ["Crime"], "optional": draw(st.booleans())}
    crime["reference_only"] = draw(st.booleans())
    category: dict = {"column": "Crime", "map": {"Drugs": "Drug offences", "01": "Coded one"}}
    category["unmapped"] = draw(st.sampled_from([None, "keep", "reject"]))
    if draw(st.booleans()):
        category["strip_prefix"] = "On or near "
    crime["properties"] = {
        "date": {"column": "Month", "format": "%Y-%m"},
        "category": {k: v for k, v in category.items() if v is not None},
    }
    if draw(st.booleans()):
        crime["properties"]["crimeType"] = "Crime"  # a code list: Drugs is one, shoplifting is not
    entities["crime"] = crime
    if draw(st.booleans()):
        entities["home"] = {
            "type": "Address",
            "keys": [{"column": "Postcode", "normalise": draw(st.sampled_from(["postcode", None])) or None}],
            "optional": draw(st.booleans()),
            "properties": {
                "postcode": "Postcode",
                "latitude": "Lat",
                "name": {"split": "Postcode", "separator": " ", "index": draw(st.sampled_from([0, -1, 3]))},
            },
        }
        entities["home"]["keys"] = [{k: v for k, v in entities["home"]["keys"][0].items() if v is not None}]
    if draw(st.booleans()):
        entities["relative"] = {"type": "Person", "keys": ["RelName"], "optional": draw(st.booleans())}
    spec["entities"] = entities

    links: list = [draw(st.sampled_from([
        {"type": "victimIn", "from": "person", "to": "crime"},
        {"from": "person", "to": "crime",
         "type_from": {"column": "Relation", "map": {"Son": "victimIn", "Father": "victimIn", "Friend": "offenderIn"}}},
    ]))]  # fmt: skip
    if "phone" in entities:
        links.append({"type": "usesPhone", "from": "person", "to": "phone"})
    if "home" in entities:
        links.append({"type": "livesAt", "from": "person", "to": "home"})
    if "relative" in entities:
        family = {
            "Son": "parentOf",
            "Father": {"type": "parentOf", "reversed": True},
            "Sister": "familyOf",
            "Friend": "knows",
        }
        links.append({"from": "person", "to": "relative", "type_from": {"column": "Relation", "map": family},
                      "properties": {"relationKind": "Relation"}})  # fmt: skip
    spec["links"] = links
    return spec


def _value(good: list[str], bad: list[str]) -> st.SearchStrategy[str]:
    # hypothesis draws the ends of a range more often than the middle: a bad value at both ends of a
    # list would come up in most rows
    return st.integers(0, 99).map(lambda n: bad[n % len(bad)] if n < 20 else good[n % len(good)])


rows_of = st.lists(
    st.fixed_dictionaries({name: _value(good, bad) for name, (good, bad) in GOOD_AND_BAD.items()}),
    min_size=1,
    max_size=40,
)


def _by_rows(spec, model, rows: list[dict[str, str]]) -> list[tuple]:
    """What ingest_file makes of each row with RowMapper: filtered, rejected (why) or loaded (what, notes)."""
    mapper = RowMapper(spec, model, KEY)
    out = []
    for number, values in enumerate(rows, start=2):
        try:
            if spec.filters and not all(f.keeps(values) for f in spec.filters):
                out.append(("filtered",))
                continue
            if WIDTH in values:
                raise RowError(values[WIDTH])
            entities, links = mapper.map(Row(values, number, "drawn.csv"))
            out.append(("loaded", entities, links, mapper.notes))
        except (RowError, ConversionError) as err:
            out.append(("rejected", str(err)))
    return out


def _by_columns(spec, model, rows: list[dict[str, str]], chunk_size: int) -> list[tuple]:
    mapper = ColumnMapper(spec, model, KEY)
    names = sorted({name for row in rows for name in row if name != WIDTH})
    out = []
    for start in range(0, len(rows), chunk_size):
        part = list(enumerate(rows[start : start + chunk_size], start=start + 2))
        chunk = Chunk.of_rows("drawn.csv", part, names)
        chunk.problems = {i: values[WIDTH] for i, (_n, values) in enumerate(part) if WIDTH in values}
        mapped = mapper.map(chunk)
        for i in range(len(part)):
            if i in mapped.filtered:
                out.append(("filtered",))
            elif i in mapped.rejected:
                out.append(("rejected", mapped.rejected[i]))
            else:
                entities, links = mapped.row(i)
                out.append(("loaded", entities, links, mapped.notes.get(i, [])))
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(spec=specs(), rows=rows_of, chunk_size=st.integers(1, 40), wide=st.sets(st.integers(0, 39), max_size=2))
def test_the_column_mapper_gives_what_the_row_mapper_gives(model, spec, rows, chunk_size, wide):
    for i in wide & set(range(len(rows))):  # a row the reader found too wide: rejected, not mapped
        rows[i] = {**rows[i], WIDTH: "row 7 has 13 fields; the header has 12"}
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "owners.csv").write_text(OWNERS, encoding="utf-8")
        path = Path(folder) / "drawn.yaml"
        path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
        loaded = load_spec(path, model)
    expected = _by_rows(loaded, model, rows)
    got = _by_columns(loaded, model, rows, chunk_size)
    for number, (want, have) in enumerate(zip(expected, got, strict=True), start=2):
        assert have == want, f"row {number} of {rows[number - 2]}"


def test_the_drawn_rows_reach_every_outcome(model):
    """The pools are worth drawing from: a fixed spec over them loads, rejects, filters and notes rows."""
    spec = {
        "source": {"name": "fixed"},
        "grading": {"default": "1AP", "column": "Grade"},
        "lookups": {"owner": {"file": "owners.csv", "key": "Number", "value": "Owner"}},
        "filter": [{"column": "Status", "not_equals": "deleted"}],
        "entities": {
            "person": {"type": "Person", "keys": ["Name1", "DOB"], "optional": True,
                       "properties": {"dateOfBirth": {"column": "DOB", "format": ["%d/%m/%Y", "%m/%d/%Y"]},
                                      "owner": {"lookup": {"table": "owner", "column": "Phone"}}}},
            "crime": {"type": "CrimeIncident", "keys": ["Crime"],
                      "properties": {"date": {"column": "Month", "format": "%Y-%m"}, "category": "Crime"}},
        },
        "links": [{"type": "victimIn", "from": "person", "to": "crime"}],
    }  # fmt: skip
    draw = random.Random(7)
    rows = [{name: draw.choice(pool) for name, pool in POOLS.items()} for _ in range(80)]
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "owners.csv").write_text(OWNERS, encoding="utf-8")
        path = Path(folder) / "fixed.yaml"
        path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
        loaded = load_spec(path, model)
    got = _by_columns(loaded, model, rows, 16)
    assert got == _by_rows(loaded, model, rows)
    kinds = {g[0] for g in got}
    noted = {n.kind for g in got if g[0] == "loaded" for n in g[3]}
    assert kinds == {"loaded", "rejected", "filtered"}, kinds
    assert {"ambiguous date", "unmatched"} <= noted, noted


@pytest.mark.parametrize(("mapping", "filename"), PLAN)
def test_every_shipped_mapping_maps_the_demo_files_alike(demo, model, mapping, filename):
    spec = load_spec(mapping_path(mapping), model)
    source = open_source(demo.work_dir / "data" / filename, spec.read)
    rows = [values for _line, values, _fields in source.rows()]
    assert rows
    expected = _by_rows(spec, model, rows)
    got = _by_columns(spec, model, rows, 500)
    assert got == expected
    assert any(outcome[0] == "loaded" for outcome in expected)
    # each item's record keeps what its own row says of the item, however the batch writer merges
    # other rows' into the item: the items repeated across rows (streets, areas, people) are merged here
    items = [item for outcome in got if outcome[0] == "loaded" for item in [*outcome[1], *outcome[2]]]
    assert all(item.provenance[0].properties == item.properties for item in items)
    batcher = _Batcher(10**9, send=lambda batch: None)
    for outcome in got:
        if outcome[0] == "loaded":
            batcher.add(outcome[1], outcome[2])
    said = [
        item.properties  # the reference mapper's own, which no writer merged into
        for outcome in expected
        if outcome[0] == "loaded"
        for item in [*outcome[1], *outcome[2]]
    ]
    assert [item.provenance[0].properties for item in items] == said
