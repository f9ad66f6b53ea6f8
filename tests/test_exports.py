"""Exports for i2, Gephi and other tools: valid files, round trips, and the caller's clearance.

A small planted graph (both stores) checks what each format carries: a confirmed, an unconfirmed
and a tentative link, an inferred one, a C-handled person and a P-handled one. The demo (embedded)
checks the API and the command line: key, purpose, audit, and what a partner or a researcher gets.
"""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET

import networkx as nx
import pytest
import xmlschema
from conftest import dev_settings, person_id
from fastapi.testclient import TestClient

from api.main import create_app
from nimgraph.access.audit import AuditLog
from nimgraph.access.pseudonyms import Pseudonyms
from nimgraph.access.roles import Role, clearance_for
from nimgraph.access.view import ClearedView
from nimgraph.cli import main
from nimgraph.demo import find_problem
from nimgraph.exports.anx import SCHEMA, IconTable, read_anx
from nimgraph.exports.neo4j_bulk import BulkGraph
from nimgraph.exports.networks import to_gexf, to_graphml
from nimgraph.ontology import Core
from nimgraph.products.common import ProductError
from nimgraph.products.exporting import Selection, export_graph, selected_graph, selected_subgraph
from nimgraph.records import Assertion, Batch, Entity, Link

ANX_SCHEMA = xmlschema.XMLSchema(SCHEMA.read_text(encoding="utf-8"))


def record(record_id: str, grade: str, date: str | None = "2025-03-01") -> Assertion:
    return Assertion("Northshire Police", record_id, "x.csv", 2, date, grade, grade[-1])


def planted() -> Batch:
    """ann -knows(1A)-> bob; bob -usesVehicle(2C)-> car; ann -livesAt(3D, C)-> flat; cat possiblySameAs ann."""
    people = [
        Entity("ann", "Person", {"name": "Ann Hale", "dateOfBirth": "1990-02-03"}, [record("n-ann", "1AP")]),
        Entity("bob", "Person", {"name": "Bob Gray"}, [record("n-bob", "2BP", "2024-01-05")]),
        Entity("cat", "Person", {"name": "Cath Hale"}, [record("n-cat", "1BC")]),  # C only: a partner never sees her
    ]
    things = [
        Entity("car", "Vehicle", {"registration": "AB12CDE"}, [record("v-car", "2BP")]),
        Entity("flat", "Address", {"name": "1 Elm Court"}, [record("a-flat", "1AP", None)]),
    ]
    links = [
        Link("k1", "knows", "ann", "bob", {}, [record("l-knows", "1AP", "2024-06-01")]),
        Link("k2", "usesVehicle", "bob", "car", {}, [record("l-car", "2CP", "2025-01-01")]),
        Link("k3", "livesAt", "ann", "flat", {}, [record("l-home", "3DC", "2025-02-01")]),
        Link("k4", "possiblySameAs", "ann", "cat", {"probability": 0.97}, [record("m-1", "1AC")]),
    ]
    return Batch(entities=people + things, links=links)


@pytest.fixture
def planted_store(store):
    store.upsert(planted())
    return store


def test_an_anx_chart_is_valid_and_round_trips_to_the_same_entities_and_links(planted_store, model):
    made = export_graph(planted_store, model, Selection(), "anx")
    ANX_SCHEMA.validate(made.content.decode("utf-8"))
    chart = read_anx(made.content)
    graph, _ = selected_graph(planted_store, model, Selection())
    assert set(chart.entities) == set(graph.nodes) == {"ann", "bob", "cat", "car", "flat"}
    icons = IconTable.load()
    for node, data in graph.nodes(data=True):
        entity = chart.entities[node]
        assert entity.label == data["label"] and entity.attributes["nimgraph type"] == data["type"]
        assert entity.icon == icons.icon_for(model, data["type"])
    assert chart.entities["car"].icon == "Car" and chart.entities["ann"].attributes["date of birth"] == "1990-02-03"
    assert chart.entities["bob"].date == "2024-01-05T00:00:00"
    links = {link.attributes["nimgraph id"]: link for link in chart.links}
    assert set(links) == {key for _s, _t, key in graph.edges(keys=True)}
    assert {k: (links[k].end1, links[k].end2) for k in links} == {k: (s, t) for s, t, k in graph.edges(keys=True)}
    assert {k: links[k].strength for k in links} == {
        "k1": "Confirmed",
        "k2": "Unconfirmed",
        "k3": "Tentative",
        "k4": "Tentative",
    }
    assert links["k4"].link_type == "Inferred" and {links[k].link_type for k in ("k1", "k2", "k3")} == {"Link"}
    assert links["k1"].arrow == "ArrowNone" and links["k2"].arrow == "ArrowOnHead"  # knows is symmetric
    assert links["k2"].date == "2025-01-01T00:00:00" and "l-car" in (links["k2"].source_reference or "")
    assert chart.handling == made.handling == "C"


def test_the_anx_schema_refuses_a_chart_that_breaks_the_format(planted_store, model):
    text = export_graph(planted_store, model, Selection(), "anx").content.decode("utf-8")
    root = ET.fromstring(text)
    link = next(root.iter("Link"))
    link.set("End2Id", "nobody")  # a link to an entity the chart does not hold
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        ANX_SCHEMA.validate(ET.tostring(root, encoding="unicode"))
    style = next(ET.fromstring(text).iter("LinkStyle"))
    assert style.get("Strength") in {"Confirmed", "Unconfirmed", "Tentative"}


def test_a_users_icon_table_changes_the_icons_and_a_broken_one_is_refused(planted_store, model, tmp_path):
    table = tmp_path / "icons.yaml"
    table.write_text("default: Unknown\nentities:\n  Person: Man\n  Vehicle: Van\n  Vehical: Van\n")
    icons = IconTable.load(table)
    chart = read_anx(export_graph(planted_store, model, Selection(), "anx", icons=icons).content)
    assert chart.entities["ann"].icon == "Man" and chart.entities["car"].icon == "Van"
    assert chart.entities["flat"].icon == "Unknown"
    assert icons.unknown_types(model) == ["Vehical"]
    table.write_text("- Person\n")
    with pytest.raises(ValueError, match="'entities'"):
        IconTable.load(table)


def test_graphml_and_gexf_carry_types_grades_provenance_and_time(planted_store, model):
    graph, _ = selected_graph(planted_store, model, Selection())
    graphml = nx.read_graphml(io.BytesIO(to_graphml(graph, model)), force_multigraph=True)
    assert set(graphml.nodes) == set(graph.nodes)
    assert graphml.nodes["ann"]["type"] == Core.PERSON and graphml.nodes["ann"]["records"] == 1
    assert graphml.nodes["cat"]["handling"] == "C" and graphml.nodes["bob"]["handling"] == "P"
    edges = {d.get("id", k): d for _s, _t, k, d in graphml.edges(keys=True, data=True)}
    assert edges["k4"]["inferred"] is True and edges["k1"]["strength"] == "Confirmed"
    assert edges["k2"]["first_recorded"] == "2025-01-01"
    gexf_bytes = to_gexf(graph, model)
    root = ET.fromstring(gexf_bytes)
    graph_element = next(e for e in root.iter() if e.tag.endswith("graph"))
    assert graph_element.get("mode") == "dynamic" and graph_element.get("timeformat") == "date"
    gexf = nx.read_gexf(io.BytesIO(gexf_bytes))
    assert gexf.nodes["bob"]["start"] == "2024-01-05"
    # ann's first record is 2025-03-01, but her link to bob is dated 2024-06-01: she is there from then
    assert gexf.nodes["ann"]["start"] == "2024-06-01"
    assert "start" not in gexf.nodes["flat"]  # undated: there from the beginning
    starts = {d["id"]: d.get("start") for _s, _t, d in gexf.edges(data=True)}
    assert starts["k2"] == "2025-01-01" and starts["k1"] == "2024-06-01"


def test_an_export_is_read_through_the_callers_cleared_view(planted_store, model, tmp_path):
    partner = ClearedView(planted_store, model, clearance_for(Role.PARTNER_VIEWER), None)
    made = export_graph(partner, model, Selection(around=("bob",), hops=3), "anx")
    chart = read_anx(made.content)
    # cat has only C records, and ann's home is known only from a C record: the partner reaches neither
    assert set(chart.entities) == {"ann", "bob", "car"}
    assert {link.attributes["nimgraph id"] for link in chart.links} == {"k1", "k2"}
    assert made.handling == "P" and b"l-home" not in made.content and b"m-1" not in made.content
    pseudonyms = Pseudonyms(tmp_path / "access.db", "a-pseudonym-key-for-tests-0123456789")
    try:
        researcher = ClearedView(planted_store, model, clearance_for(Role.RESEARCHER), pseudonyms)
        someone = researcher.find(Core.PERSON, limit=1)[0].id
        around_bob = Selection(around=(someone,), hops=3)
        for format_name in ("anx", "graphml", "gexf"):
            content = export_graph(researcher, model, around_bob, format_name).content
            assert b"Ann Hale" not in content and b"Bob Gray" not in content and b"1990-02-03" not in content
            assert b'"ann"' not in content and b"psn-" in content
    finally:
        pseudonyms.close()


def test_the_selections_export_what_they_name(demo, model):
    vulnerable = person_id(demo, demo.planted["vulnerable"])
    around = selected_graph(demo.store, model, Selection(around=(vulnerable,), hops=1))[0]
    assert vulnerable in around and all(
        around.has_edge(vulnerable, n) or around.has_edge(n, vulnerable) for n in around if n != vulnerable
    )
    wider = selected_graph(demo.store, model, Selection(around=(vulnerable,), hops=2))[0]
    assert set(around) < set(wider)
    chosen = sorted(around)[:4]
    within = selected_graph(demo.store, model, Selection(within=tuple(chosen)))[0]
    assert set(within) == set(chosen)
    profile = selected_graph(demo.store, model, Selection(profile=vulnerable))[0]
    assert vulnerable in profile and set(around) <= set(profile)
    only = selected_graph(demo.store, model, Selection(around=(vulnerable,), hops=2, link_types=(Core.LIVES_AT,)))[0]
    assert {d["type"] for *_e, d in only.edges(data=True)} <= model.descendants(Core.LIVES_AT)


def _audited(settings, purpose: str) -> list[dict]:
    log = AuditLog.from_settings(settings)
    try:
        return [e for e in log.query(limit=1000) if e["purpose"] == purpose]
    finally:
        log.close()


@pytest.fixture(scope="module")
def served(demo, tmp_path_factory):
    access_db = tmp_path_factory.mktemp("exports") / "access.db"
    settings = dev_settings(store="unused", work_dir=demo.work_dir, access_db=access_db)
    with TestClient(create_app(settings, store=demo.store, model=demo.model)) as client:
        yield client, settings


def test_the_api_exports_with_a_key_a_purpose_and_an_audit_entry(served, demo):
    client, settings = served
    vulnerable = person_id(demo, demo.planted["vulnerable"])
    url = f"/exports/anx?around={vulnerable}&hops=1"
    assert client.get(url).status_code == 401
    assert client.get(url, headers={"X-API-Key": "dev-analyst"}).status_code == 400  # no purpose
    purpose = "Op Larch chart for the briefing"
    response = client.get(url, headers={"X-API-Key": "dev-analyst", "X-Purpose": purpose})
    assert response.status_code == 200 and response.headers["x-handling-code"] in {"P", "C"}
    assert response.headers["content-disposition"] == 'attachment; filename="nimgraph-export.anx"'
    chart = read_anx(response.content)
    assert vulnerable in chart.entities and chart.handling == response.headers["x-handling-code"]
    entries = _audited(settings, purpose)
    assert len(entries) == 1 and entries[0]["path"].startswith("/exports/anx")
    assert vulnerable in entries[0]["items"] and "export:anx" in entries[0]["items"]
    gexf = client.get(url.replace("anx", "gexf"), headers={"X-API-Key": "dev-analyst", "X-Purpose": purpose})
    assert gexf.status_code == 200 and gexf.headers["content-type"].startswith("application/gexf+xml")
    whole = client.get("/exports/graphml", headers={"X-API-Key": "dev-analyst", "X-Purpose": purpose})
    assert whole.status_code == 400 and "nimgraph export graphml" in whole.json()["detail"]


def test_a_partner_learns_nothing_from_an_export_of_what_it_may_not_see(served, demo):
    client, _settings = served
    partner = {"X-API-Key": "dev-partner", "X-Purpose": "partner export"}
    hidden = demo.planted["vulnerable_associates"]
    hidden_ids = [e.id for e in demo.store.find(Core.PERSON, limit=100_000) if e.properties.get("nominalId") in hidden]
    assert hidden_ids, "the planted people only C records name exist, so the oracle check can fail"
    never = "Person-" + "0" * 20
    refused = {client.get(f"/exports/anx?around={i}", headers=partner).json()["detail"] for i in [never, *hidden_ids]}
    assert all("that you are cleared to see" in r for r in refused)
    assert len({r.replace(i, "ID") for r, i in zip(sorted(refused), sorted([never, *hidden_ids]), strict=False)}) == 1
    problem = find_problem(demo.store, demo.planted["problem"])
    analyst = client.get(f"/exports/anx?problem={problem}", headers={**partner, "X-API-Key": "dev-analyst"})
    c_records = {
        part.split(" (")[0].split(" ")[-1]
        for link in read_anx(analyst.content).links
        for part in (link.source_reference or "").split("; ")
        if part.endswith("C)")
    }
    assert c_records, "the analyst's export holds C records, so the partner check below can fail"
    seen = client.get(f"/exports/anx?problem={problem}", headers=partner)
    assert seen.status_code == 200 and seen.headers["x-handling-code"] == "P"
    assert not [r for r in c_records if r.encode() in seen.content]
    assert not set(hidden_ids) & set(read_anx(seen.content).entities)


def test_the_command_line_exports_as_a_role_and_is_audited(demo, tmp_path, monkeypatch, cli_development):
    monkeypatch.setenv("NIMGRAPH_STORE", str(demo.work_dir / "graph.db"))
    monkeypatch.setenv("NIMGRAPH_WORK_DIR", str(demo.work_dir))
    vulnerable = person_id(demo, demo.planted["vulnerable"])
    output = tmp_path / "chart.anx"
    purpose = "CLI export for the tasking meeting"
    assert main(["export", "anx", "--purpose", purpose, "--around", vulnerable, "--hops", "1", "-o", str(output)]) == 0
    ANX_SCHEMA.validate(output.read_text(encoding="utf-8"))
    assert vulnerable in read_anx(output.read_bytes()).entities
    graphml = tmp_path / "r.graphml"
    problem = find_problem(demo.store, demo.planted["problem"])
    researcher = ["export", "graphml", "--purpose", purpose, "--role", "researcher", "--problem", problem]
    assert main([*researcher, "-o", str(graphml)]) == 0
    assert vulnerable.encode() not in graphml.read_bytes() and b"psn-" in graphml.read_bytes()
    assert main(["export", "gexf", "--purpose", purpose, "--within", "Person-" + "0" * 20]) == 2
    assert main(["export", "gexf", "--purpose", purpose, "--role", "partner_viewer"]) == 2  # whole graph
    from nimgraph.config import get_settings

    settings = get_settings()
    entries = [e for e in _audited(settings, purpose) if e["method"] == "EXPORT"]
    assert len(entries) == 2 and vulnerable in entries[0]["items"]
    refused = [e for e in _audited(settings, purpose) if e["method"] == "EXPORT-REFUSED"]
    assert len(refused) == 2 and refused[0]["items"] == ["Person-" + "0" * 20]
    assert json.dumps([e["path"] for e in entries]).count("handling") == 2


def _column(header: str) -> str:
    """A neo4j-admin header's property name: ``record_id:string`` -> ``record_id``; ``:LABEL`` stays."""
    return header if header.startswith(":") else header.split(":")[0]


def _zipped_csv(content: bytes) -> dict[str, list[list[str]]]:
    import csv
    import zipfile

    archive = zipfile.ZipFile(io.BytesIO(content))
    return {
        name: list(csv.reader(io.StringIO(archive.read(name).decode("utf-8"))))
        for name in archive.namelist()
        if name.endswith(".csv")
    } | {"IMPORT.txt": [[archive.read("IMPORT.txt").decode("utf-8")]]}


def test_a_neo4j_import_export_holds_records_as_record_nodes_and_only_what_the_caller_sees(planted_store, model):
    files = _zipped_csv(export_graph(planted_store, model, Selection(), "neo4j-csv").content)
    command = files.pop("IMPORT.txt")[0][0]
    assert "neo4j-admin database import full" in command and "--nodes=" in command and "/tmp" not in command
    headers = {name: rows[0] for name, rows in files.items()}
    assert all(
        any(h.endswith(":ID(Entity)") or ":ID(" in h for h in header) or ":START_ID" in "".join(header)
        for header in headers.values()
    )
    rows = [dict(zip(map(_column, rows[0]), row, strict=True)) for rows in files.values() for row in rows[1:]]
    labels = [r.get(":LABEL", "") for r in rows]
    record_rows = [r for r, label in zip(rows, labels, strict=True) if "Record" in label.split("\x1e")]
    assert {r["record_id"] for r in record_rows} == {
        "n-ann",
        "n-bob",
        "n-cat",
        "v-car",
        "a-flat",
        "l-knows",
        "l-car",
        "l-home",
        "m-1",
    }
    assert not [label for label in labels if "NimgraphMeta" in label]  # never the store's id key
    partner = ClearedView(planted_store, model, clearance_for(Role.PARTNER_VIEWER), None)
    made = export_graph(partner, model, Selection(within=("ann", "bob", "car", "flat")), "neo4j-csv")
    seen = [
        dict(zip(map(_column, r[0]), row, strict=True))
        for name, r in _zipped_csv(made.content).items()
        if name != "IMPORT.txt"
        for row in r[1:]
    ]
    assert made.handling == "P" and {r.get("handling") for r in seen if r.get("handling")} == {"P"}
    assert not {"cat", "n-cat", "m-1", "l-home"} & {r.get("id") or r.get("record_id") for r in seen}


def test_answers_and_products_come_as_workbooks_with_their_tables(served, demo, tmp_path, monkeypatch):
    from openpyxl import load_workbook

    client, _settings = served
    analyst = {"X-API-Key": "dev-analyst", "X-Purpose": "tables for the briefing"}
    ranked = client.get("/rankings?measure=degree&top=5&format=json", headers=analyst).json()
    book = load_workbook(io.BytesIO(client.get("/rankings?measure=degree&top=5&format=xlsx", headers=analyst).content))
    sheet = book[book.sheetnames[0]]
    rows = list(sheet.values)
    assert list(rows[0]) == [c["name"] for c in ranked["columns"]]
    assert [r[list(rows[0]).index("id")] for r in rows[1:]] == [r["id"] for r in ranked["rows"]]
    assert {r[0] for r in list(book["columns"].values)[1:]} == {c["name"] for c in ranked["columns"]}
    vulnerable = person_id(demo, demo.planted["vulnerable"])
    profile = client.get(f"/profiles/subject/{vulnerable}", headers=analyst).json()
    workbook = client.get(f"/profiles/subject/{vulnerable}?format=xlsx", headers=analyst)
    assert workbook.status_code == 200 and workbook.headers["content-type"].startswith("application/vnd.openxml")
    sheets = load_workbook(io.BytesIO(workbook.content))
    from nimgraph.exports.tables import tables_of

    expected = tables_of(profile)
    assert expected, "the profile has tables, so the check can fail"
    assert len(sheets.sheetnames) == len(expected) + 1  # and the notes
    first = next(iter(expected))
    assert len(list(sheets[sheets.sheetnames[0]].values)) == len(expected[first]) + 1
    partner = client.get(f"/profiles/subject/{vulnerable}?format=xlsx", headers={**analyst, "X-API-Key": "dev-partner"})
    assert partner.status_code == 404  # a partner may not see the vulnerable person: no workbook either


def test_the_loops_products_come_as_workbooks_with_their_tables_and_handling(
    served, demo, tmp_path, monkeypatch, cli_development
):
    from openpyxl import load_workbook

    from nimgraph.demo.intervention import intervention_places
    from nimgraph.exports.tables import tables_of

    client, _settings = served
    analyst = {"X-API-Key": "dev-analyst", "X-Purpose": "tables for the tasking meeting"}
    places = intervention_places(demo.store, demo.model, demo.planted["intervention"])
    before, after = demo.planted["intervention"]["before"], demo.planted["intervention"]["after"]
    question = {
        **{area: {"places": ids} for area, ids in places.items()},
        "before": {"since": before[0], "until": before[1]},
        "after": {"since": after[0], "until": after[1]},
        "categories": ["ASBIncident"],
    }
    problem = find_problem(demo.store, demo.planted["problem"])
    asked = {
        "tasking pack": lambda fmt: client.get(f"/tasking-pack?as_of=2026-11-10&format={fmt}", headers=analyst),
        "problem page": lambda fmt: client.get(f"/problems/{problem}/page?format={fmt}", headers=analyst),
        "operational review": lambda fmt: client.post(
            f"/operational-reviews?format={fmt}", json=question, headers=analyst
        ),
    }
    for name, ask in asked.items():
        product = ask("json").json()
        product.pop("clearance")
        expected = tables_of(product)
        assert expected, f"the {name} has tables, so the check can fail"
        made = ask("xlsx")
        assert made.status_code == 200, (name, made.text[:300])
        assert made.headers["x-handling-code"] == product["handling"]
        book = load_workbook(io.BytesIO(made.content))
        assert len(book.sheetnames) == len(expected) + 1, name
        assert book["Notes"]["A1"].value == f"Handling: {product['handling']}"
        first_rows = list(book[book.sheetnames[0]].values)
        assert len(first_rows) == len(next(iter(expected.values()))) + 1, name
    # the command line writes the same workbook
    monkeypatch.setenv("NIMGRAPH_STORE", str(demo.work_dir / "graph.db"))
    monkeypatch.setenv("NIMGRAPH_WORK_DIR", str(demo.work_dir))
    output = tmp_path / "pack.xlsx"
    command = ["tasking-pack", "--as-of", "2026-11-10", "--purpose", "tasking meeting", "--format", "xlsx"]
    assert main(command) == 2  # a workbook needs a file
    assert main([*command, "-o", str(output)]) == 0
    pack = client.get("/tasking-pack?as_of=2026-11-10&recommendations=false", headers=analyst).json()
    assert set(load_workbook(output).sheetnames) == {*(n[:31] for n in tables_of(pack)), "Notes"}


def test_a_neo4j_import_export_neither_counts_hidden_records_nor_orders_by_real_ids(planted_store, model, tmp_path):
    """seq is a rank among the exported records (the store's write counter would count hidden ones in
    its gaps), and a pseudonymised export's rows follow the pseudonyms, not the real ids."""

    def rows(made) -> list[dict[str, str]]:
        return [
            dict(zip(map(_column, r[0]), row, strict=True))
            for name, r in _zipped_csv(made.content).items()
            if name != "IMPORT.txt"
            for row in r[1:]
        ]

    partner = ClearedView(planted_store, model, clearance_for(Role.PARTNER_VIEWER), None)
    everything = Selection(within=("ann", "bob", "car", "flat"))
    seqs = sorted(int(r["seq"]) for r in rows(export_graph(partner, model, everything, "neo4j-csv")) if r.get("seq"))
    records = BulkGraph.from_subgraph(selected_subgraph(partner, model, everything)).records.values()
    stored = sorted(r["seq"] for r in records if "seq" in r)  # the write counter, where the store reads it back
    if stored:
        assert stored[-1] > len(stored), "the store's counter has gaps where C records were written"
    assert seqs == list(range(1, len(records) + 1))
    pseudonyms = Pseudonyms(tmp_path / "access.db", "a-pseudonym-key-for-tests-0123456789")
    try:
        researcher = ClearedView(planted_store, model, clearance_for(Role.RESEARCHER), pseudonyms)
        someone = researcher.find(Core.PERSON, limit=1)[0].id
        made = export_graph(researcher, model, Selection(around=(someone,), hops=3), "neo4j-csv")
        people = [r["id"] for r in rows(made) if r.get(":LABEL", "").endswith("Person")]
        assert len(people) >= 3 and people == sorted(people) and all(p.startswith("psn-") for p in people)
        records = [r for r in rows(made) if r.get("record_id")]
        assert [r["seq"] for r in sorted(records, key=lambda r: r["key"])] == [
            str(n) for n in range(1, len(records) + 1)
        ]
    finally:
        pseudonyms.close()


def test_an_export_names_every_record_resolved_into_what_it_holds(planted_store, model, tmp_path):
    from nimgraph.resolution.proposals import decide

    decide(planted_store, model, "k4", "accept", analyst="DC 1 Tester")  # ann and cat are one person
    made = export_graph(planted_store, model, Selection(within=("ann", "bob")), "graphml")
    graph = nx.read_graphml(io.BytesIO(made.content))
    assert "cat" not in graph and graph.nodes["ann"]["records"] == 2  # cat's record is in ann's node
    assert made.shown == {"ann", "bob", "cat"}


def test_a_filtered_key_exports_a_selection_not_the_whole_graph(planted_store, model):
    partner = ClearedView(planted_store, model, clearance_for(Role.PARTNER_VIEWER), None)
    with pytest.raises(ProductError, match="export a selection"):
        export_graph(partner, model, Selection(), "gexf")
    with pytest.raises(ProductError, match="export a selection"):
        export_graph(partner, model, Selection(link_types=(Core.ASSOCIATED_WITH,)), "gexf")
    assert export_graph(partner, model, Selection(around=("bob",), hops=1), "gexf").entities == 3
