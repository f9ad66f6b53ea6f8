"""Property-based: for generated files and specs, nothing valid is ever lost, and nothing doubles.

Hypothesis writes files of arbitrary Unicode text (quotes, commas, newlines, NULs, right-to-left
marks...) under generated column names, with a generated spec that maps them onto ontology types,
and with some rows made invalid on purpose. Every valid row must load with its values intact,
every invalid row must be rejected with its line, and a second ingest must change nothing.
"""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nimgraph.ingest.engine import ingest_file
from nimgraph.ingest.spec import load_spec
from nimgraph.ontology import default_model
from nimgraph.store.embedded import EmbeddedStore

# Types with a free-text key property, so that any text is valid for them.
TYPES = {"Person": "name", "Organisation": "name", "Vehicle": "registration", "Phone": "phoneNumber"}
LINK_TO_EVENT = {"Person": "involvedIn", "Organisation": "guardianOf", "Vehicle": "featuredIn", "Phone": "featuredIn"}

text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40).filter(
    lambda s: s.split()  # something besides spaces: an all-space key is not a value
)
column_name = (
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)
    .map(str.strip)
    .filter(bool)
)


@st.composite
def files(draw):
    type_name = draw(st.sampled_from(sorted(TYPES)))
    key, extra = draw(st.lists(column_name, min_size=2, max_size=2, unique=True))
    date_column = draw(column_name.filter(lambda c: c not in (key, extra)))
    rows = draw(
        st.lists(
            st.tuples(text, st.one_of(st.just(""), text), st.booleans(), st.dates()),
            min_size=1,
            max_size=25,
        )
    )
    return type_name, key, extra, date_column, rows


def spec_for(type_name: str, key: str, extra: str, date_column: str) -> str:
    return f"""\
source: {{name: generated}}
grading: {{default: 2BC}}
entities:
  thing:
    type: {type_name}
    keys: ["{key}"]
    properties: {{{TYPES[type_name]}: "{key}", description: "{extra}"}}
  event:
    type: ASBIncident
    keys: ["{key}", "{date_column}"]
    properties: {{date: {{column: "{date_column}", format: "%d/%m/%Y"}}}}
links:
  - {{type: {LINK_TO_EVENT[type_name]}, from: thing, to: event}}
"""


def folded(value: str) -> str:
    return " ".join(value.split())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files())
def test_nothing_valid_is_lost_and_nothing_doubles(generated):
    type_name, key, extra, date_column, rows = generated
    model = default_model()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        (tmp / "spec.yaml").write_text(spec_for(type_name, key, extra, date_column), encoding="utf-8")
        with (tmp / "data.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow([key, extra, date_column])
            for value, note, valid, day in rows:
                writer.writerow([value, note, day.strftime("%d/%m/%Y") if valid else "31/02/2026"])
        store = EmbeddedStore(tmp / "graph.db", model)
        try:
            spec = load_spec(tmp / "spec.yaml", model)
            report = ingest_file(store, model, spec, tmp / "data.csv", rejects_dir=tmp)
            valid = [r for r in rows if r[2] and 1900 <= r[3].year <= 2100]

            assert report.rows_loaded == len(valid)
            assert report.rows_rejected == len(rows) - len(valid)
            things = {e.id: e for e in store.find(type_name, limit=1000)}
            ids = store.id_key()
            expected = {ids.entity_id(type_name, type_name, [value]): folded(value) for value, *_ in valid}
            assert set(things) == set(expected)
            for entity_id, entity in things.items():  # the key text survives, whatever it holds
                keyed = [folded(v) for v, *_ in valid if ids.entity_id(type_name, type_name, [v]) == entity_id]
                assert entity.properties[TYPES[type_name]] in keyed
            events = store.find("ASBIncident", limit=1000)
            assert len(events) == len({(folded(v).casefold(), d) for v, _, _, d in valid})

            before = (store.counts(), sorted(len(e.provenance) for e in things.values()))
            ingest_file(store, model, spec, tmp / "data.csv", rejects_dir=tmp)
            after_things = store.find(type_name, limit=1000)
            assert (store.counts(), sorted(len(e.provenance) for e in after_things)) == before
        finally:
            store.close()
