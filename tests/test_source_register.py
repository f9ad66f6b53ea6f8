"""The source register: what a spec says of its information source, kept by the store and shown by products."""

from __future__ import annotations

import sqlite3

import pytest
from rdflib import Literal

from nimgraph import rdf
from nimgraph.access.roles import Clearance
from nimgraph.access.view import ClearedView
from nimgraph.ingest.engine import ingest_file
from nimgraph.ingest.spec import load_spec
from nimgraph.ontology import NIM
from nimgraph.products.problem import build_problem_profile
from nimgraph.products.render import to_html
from nimgraph.products.subject import build_subject_profile
from nimgraph.store.embedded import EmbeddedStore
from nimgraph.validation import validate_graph
from tests.test_products import _planted
from tests.test_provenance_lifecycle import ORIGINAL, SPEC, ingest
from tests.test_store_parity import chain_batch


def test_register_merges_and_is_idempotent(store):
    assert store.sources() == {}
    store.register_source("council-asb", {"agency": "Northwick Borough Council"})
    store.register_source("council-asb", {"agency": "Northwick Borough Council"})
    store.register_source("council-asb", {"dataset": "ASB case system", "agency": ""})  # empty: keeps the agency
    store.register_source("fire", {"agency": "Northshire Fire and Rescue Service"})
    assert store.sources() == {
        "council-asb": {"agency": "Northwick Borough Council", "dataset": "ASB case system"},
        "fire": {"agency": "Northshire Fire and Rescue Service"},
    }
    store.register_source("fire", {"agency": "Northshire FRS"})
    assert store.sources()["fire"] == {"agency": "Northshire FRS"}


@pytest.mark.parametrize("properties", [{"colour": "red"}, {"name": "other"}])
def test_only_the_ontology_s_source_properties_are_registered(store, properties):
    with pytest.raises(ValueError, match="not a property of an information source"):
        store.register_source("fire", properties)
    with pytest.raises(ValueError, match="needs a name"):
        store.register_source("", {"agency": "Fire"})
    assert store.sources() == {}


def test_an_ingest_registers_its_spec_s_agency(store, model, tmp_path):
    ingest(store, model, tmp_path, ORIGINAL)  # the spec names no agency: only its default grade is recorded
    loaded_by = {"custodian": "the command line"}  # ingest_file's default: the operator, not an API key
    assert store.sources() == {"council-asb": {"defaultGrade": "1BP", **loaded_by}}
    spec = tmp_path / "with-agency.yaml"
    spec.write_text(SPEC.replace("{name: SOURCE}", "{name: council-asb, agency: Northwick Borough Council}"))
    ingest_file(store, model, load_spec(spec, model), tmp_path / "asb.csv", rejects_dir=tmp_path)
    assert store.sources() == {
        "council-asb": {"agency": "Northwick Borough Council", "defaultGrade": "1BP", **loaded_by}
    }
    assert store.retract("council-asb")["records"] == 3
    assert "council-asb" in store.sources()  # the register describes the source, not its records


def test_an_embedded_file_from_before_the_register_gains_it(tmp_path, model):
    path = tmp_path / "old.db"
    EmbeddedStore(path, model).close()
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE information_source")
    reopened = EmbeddedStore(path, model)
    try:
        assert reopened.sources() == {}
        reopened.register_source("fire", {"agency": "Fire"})
        assert reopened.sources() == {"fire": {"agency": "Fire"}}
    finally:
        reopened.close()


def test_the_source_table_shows_the_agency_of_cited_sources_only(store, model):
    store.upsert(_planted())  # every record is from "csp"
    store.register_source("csp", {"agency": "Northwick Community Safety Partnership"})
    store.register_source("housing", {"agency": "Northwick Homes"})  # cites nothing here
    profile = build_problem_profile(store, model, "prb", link_problems=False)
    assert [(s["source"], s["agency"]) for s in profile.sources] == [("csp", "Northwick Community Safety Partnership")]
    html = to_html(profile)
    assert "<th>Agency</th>" in html and "Northwick Community Safety Partnership" in html
    assert "Northwick Homes" not in html


def test_a_source_without_a_recorded_agency_says_so(store, model):
    store.upsert(_planted())
    profile = build_problem_profile(store, model, "prb", link_problems=False)
    assert [s["agency"] for s in profile.sources] == [None]
    assert "not recorded" in to_html(profile)


def test_every_demo_profile_names_each_source_s_agency(demo):
    subject = build_subject_profile(demo.store, demo.model, demo.result.subject_id)
    problem = build_problem_profile(demo.store, demo.model, demo.result.problem_id)
    for profile in (subject, problem):
        assert profile.sources and all(s["agency"] for s in profile.sources), profile.sources


def test_a_cleared_view_s_product_shows_agencies_of_what_the_caller_sees(demo):
    view = ClearedView(demo.store, demo.model, Clearance(handling=frozenset({"P"}), pseudonymised=False))
    profile = build_problem_profile(view, demo.model, demo.result.problem_id)
    assert {r["handling"] for r in profile.footnotes} == {"P"}
    assert profile.sources and all(s["agency"] for s in profile.sources), profile.sources


def test_the_rdf_export_gives_each_exported_source_its_agency(store, model):
    store.upsert(chain_batch())  # every record is from "test"
    store.register_source("test", {"agency": "Northshire Police"})
    store.register_source("housing", {"agency": "Northwick Homes"})  # no record of it is exported
    graph = rdf.to_rdf(store.subgraph(list(model.links)), model, sources=store.sources())
    assert set(graph.objects(rdf.SOURCE["test"], NIM.agency)) == {Literal("Northshire Police")}
    assert not set(graph.subjects(NIM.agency, Literal("Northwick Homes")))
    assert validate_graph(graph, model).conforms
