"""RDF export: conforms to the shapes, round-trips through Turtle and JSON-LD, on both stores."""

from __future__ import annotations

import pytest
from rdflib import RDF, Graph, Literal

from nimgraph import rdf
from nimgraph.access.audit import AuditLog
from nimgraph.cli import main
from nimgraph.config import get_settings
from nimgraph.ontology import NIM
from nimgraph.validation import validate_graph, violations
from tests.test_store_parity import chain_batch


def _normalised(subgraph):
    entities = {
        e.id: (e.type, e.properties, sorted(a.as_dict().items() for a in e.provenance))
        for e in subgraph.entities.values()
    }
    links = {
        k.id: (k.type, k.source, k.target, k.properties, sorted(a.as_dict().items() for a in k.provenance))
        for k in subgraph.links.values()
    }
    return entities, links


@pytest.mark.parametrize("fmt", ["turtle", "json-ld"])
def test_export_round_trips_entities_links_and_provenance(store, model, fmt):
    store.upsert(chain_batch())
    exported = store.subgraph(list(model.links))
    text = rdf.serialise(rdf.to_rdf(exported, model), fmt)

    parsed = Graph().parse(data=text, format=fmt)
    assert _normalised(rdf.from_rdf(parsed, model)) == _normalised(exported)


def test_export_conforms_to_the_shapes(store, model):
    store.upsert(chain_batch())
    report = validate_graph(rdf.to_rdf(store.subgraph(list(model.links)), model), model)
    assert report.conforms, report.text


def test_the_shapes_catch_what_ingest_would_reject(model):
    """pyshacl over RDF and the generated checks in ingest say the same about the same records."""
    graph = rdf.to_rdf(store_free_subgraph(), model)
    incident = rdf.ITEM["e2"]
    graph.remove((incident, NIM.date, None))  # an ASB incident with no date
    graph.add((rdf.ITEM["p1"], RDF.type, NIM.Problem))
    graph.add((rdf.ITEM["p1"], NIM.title, Literal("Fires")))
    graph.add((rdf.ITEM["p1"], NIM.saraStage, Literal("Triage")))  # not a SARA stage
    graph.add((rdf.ITEM["flat"], NIM.postcode, Literal("NW5")))  # not a postcode

    report = validate_graph(graph, model)
    assert not report.conforms
    assert report.results == 3, report.text
    assert "Result Path: nim:date" in report.text and "Triage" in report.text and "NW5" in report.text
    assert [v.kind for v in violations(model, "ASBIncident", {})] == ["missing"]
    assert [v.kind for v in violations(model, "Problem", {"title": "Fires", "saraStage": "Triage"})] == ["code"]
    assert [v.kind for v in violations(model, "Address", {"postcode": "NW5"})] == ["pattern"]


def store_free_subgraph():
    from nimgraph.records import Subgraph

    batch = chain_batch()
    return Subgraph(entities={e.id: e for e in batch.entities}, links={k.id: k for k in batch.links})


def test_cli_exports_the_demo_neighbourhood_of_a_subject(demo, tmp_path, capsys, cli_development):
    subject = demo.result.subject_id
    out = tmp_path / "subject.ttl"
    store = str(demo.work_dir / "graph.db")
    code = main(
        ["--store", store, "export", "rdf", "--around", subject, "--hops", "2", "-o", str(out), "--purpose", "test"]
    )
    assert code == 0
    graph = Graph().parse(out, format="turtle")
    back = rdf.from_rdf(graph, demo.model)
    expected = demo.store.neighbourhood([subject], hops=2)
    assert set(back.entities) == set(expected.entities) and set(back.links) == set(expected.links)
    assert "handling: C" in capsys.readouterr().err  # the nominal extract is handled under conditions
    log = AuditLog.from_settings(get_settings())  # an export is a disclosure: it is in the audit log
    (entry,) = log.query(limit=10)
    assert (entry["method"], entry["purpose"], entry["role"]) == ("EXPORT", "test", "cli") and subject in entry["items"]
    log.close()
    assert validate_graph(graph, demo.model).conforms


def test_cli_refuses_an_unknown_link_type(demo, capsys, cli_development):
    store = str(demo.work_dir / "graph.db")
    code = main(["--store", store, "export", "rdf", "--subgraph", "livesAtt", "--purpose", "test"])
    assert code == 2
    assert "unknown link type 'livesAtt'. Did you mean 'livesAt'" in capsys.readouterr().err


def test_cli_rdf_export_reads_through_the_roles_cleared_view(demo, tmp_path, capsys, cli_development):
    from nimgraph.demo import find_problem

    store = str(demo.work_dir / "graph.db")
    problem = find_problem(demo.store, demo.planted["problem"])
    wide = ["--store", store, "export", "rdf", "--around", problem, "--hops", "3", "--purpose", "test"]
    assert main([*wide, "-o", str(tmp_path / "analyst.ttl")]) == 0
    assert main([*wide, "--role", "partner_viewer", "-o", str(tmp_path / "partner.ttl")]) == 0
    analyst = rdf.from_rdf(Graph().parse(tmp_path / "analyst.ttl", format="turtle"), demo.model)
    partner = rdf.from_rdf(Graph().parse(tmp_path / "partner.ttl", format="turtle"), demo.model)
    handling = {a.handling for item in [*analyst.entities.values(), *analyst.links.values()] for a in item.provenance}
    assert handling == {"P", "C"}, "the analyst's export holds C records, so the partner check can fail"
    seen = {a.handling for item in [*partner.entities.values(), *partner.links.values()] for a in item.provenance}
    assert seen == {"P"} and set(partner.entities) <= set(analyst.entities)
    records = [
        {a.record_id for i in [*g.entities.values(), *g.links.values()] for a in i.provenance}
        for g in (analyst, partner)
    ]
    assert records[1] < records[0]
    hidden = demo.planted["vulnerable_associates"]
    assert not [e for e in partner.entities.values() if e.properties.get("nominalId") in hidden]
