"""The bulk first load into Neo4j (nimgraph neo4j load --bulk) against real servers: the graph it
imports is the one an incremental ingest of the same files makes, a re-ingest changes nothing, bad
rows are rejected as in an ingest, and the writer's CSV survives neo4j-admin with awkward values.

A server of the test's own is started with scripts/neo4j.sh (its `admin` runs neo4j-admin from the
same Maven artifacts), so it needs Java and Maven, as the store tests' server does; the incremental
ingests go into the server scripts/test.sh started for this worker.
"""

from __future__ import annotations

import csv
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from neo4j import GraphDatabase

from nimgraph.demo import PLAN
from nimgraph.demo.generate import write_dataset
from nimgraph.exports.neo4j_bulk import BulkGraph, StoredEntity, StoredLink, write_import_files
from nimgraph.ingest.engine import ingest_files, open_sources
from nimgraph.ingest.spec import load_spec
from nimgraph.mappings import mapping_path
from nimgraph.ontology import Core
from nimgraph.store.neo4j import Neo4jStore
from tests.conftest import TEST_ID_KEY, clear_neo4j, neo4j_settings

ROOT = Path(__file__).resolve().parent.parent
NEO4J_SH = ROOT / "scripts" / "neo4j.sh"
PASSWORD = "bulk-test-password-Xq81"
BATCH = 300  # small batches, so that records and entities span several, as in a large load
BAD_ROW = 7  # the council ASB file's row whose date is blanked: it must be rejected


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A throwaway Neo4j of this test's own, started by neo4j-admin's `server start` through the CLI."""

    def __init__(self, state: Path) -> None:
        self.state, self.port = state, _free_port()
        self.uri = f"bolt://127.0.0.1:{self.port}"

    def env(self, work: Path) -> dict[str, str]:
        return {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "NIMGRAPH_STORE": self.uri,
            "NIMGRAPH_NEO4J_PASSWORD": PASSWORD,
            "NIMGRAPH_NEO4J_PORT": str(self.port),
            "NIMGRAPH_NEO4J_STATE": str(self.state),
            "NIMGRAPH_NEO4J_ADMIN": f"{NEO4J_SH} admin",
            "NIMGRAPH_ID_KEY": TEST_ID_KEY,
            "NIMGRAPH_ENV": "development",
            "NIMGRAPH_WORK_DIR": str(work),
            "NIMGRAPH_ACCESS_DB": str(work / "access.db"),
            "NIMGRAPH_AUDIT_ANCHOR": str(work / "audit-anchor.log"),
        }

    def stop(self) -> None:
        subprocess.run([str(NEO4J_SH), "stop"], env={**os.environ, "NIMGRAPH_NEO4J_STATE": str(self.state)})


def _needs_java() -> None:
    neo4j_settings()  # skips (or fails, when Neo4j is required) without the tests' server
    if not shutil.which("java") or not shutil.which("mvn"):
        pytest.fail("Java and Maven are needed for scripts/neo4j.sh")


def load_cli(env: dict[str, str], *groups: tuple[str, Path]) -> subprocess.CompletedProcess:
    args = [a for spec, path in groups for a in ("--bulk", spec, str(path))]
    return subprocess.run(
        [sys.executable, "-m", "nimgraph.cli", "neo4j", "load", *args, "--batch-size", str(BATCH), "--wait", "240"],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=900,
    )


def plan_groups(data: Path) -> list[tuple[str, Path]]:
    return [(str(mapping_path(mapping)), data / filename) for mapping, filename in PLAN]


@pytest.fixture(scope="module")
def partner_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("bulk-data")
    write_dataset(data, seed=2026, incidents=400)
    path = data / "council_asb.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    column = rows[0].index("Date Reported")
    rows[BAD_ROW - 1][column] = ""  # line numbers count the header as line 1
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return data


@pytest.fixture(scope="module")
def bulk_loaded(partner_files: Path, tmp_path_factory: pytest.TempPathFactory):
    _needs_java()
    work = tmp_path_factory.mktemp("bulk-work")
    server = Server(work / "neo4j-state")
    try:
        done = load_cli(server.env(work), *plan_groups(partner_files))
        assert done.returncode == 0, done.stdout + done.stderr
        driver = GraphDatabase.driver(server.uri, auth=("neo4j", PASSWORD))
        yield server, driver, work, done
        driver.close()
    finally:
        server.stop()


def dump(driver, *, exact_seq: bool = True) -> dict:
    """Every node and relationship with its labels or type, properties and their Cypher types.

    A record's ``run`` is a random id per ingest run (one a file): it stands as the record's file.
    Without ``exact_seq``, ``seq`` stands as the record's place in the write order, and the
    sequence's counter is left out: a re-ingest writes every record again, later in the sequence.
    """
    nodes, _, _ = driver.execute_query(
        "MATCH (n) RETURN labels(n) AS labels, properties(n) AS props, [k IN keys(n) | [k, valueType(n[k])]] AS types"
    )
    rels, _, _ = driver.execute_query(
        "MATCH (a)-[r]->(b) RETURN type(r) AS type, coalesce(a.id, a.key) AS start, b.id AS end, "
        "properties(r) AS props, [k IN keys(r) | [k, valueType(r[k])]] AS types"
    )
    records = sorted((n["props"]["seq"], n["props"]["key"]) for n in nodes if "seq" in n["props"])
    rank = {key: i for i, (_, key) in enumerate(records)}
    shown = []
    for n in nodes:
        props = dict(n["props"])
        if "run" in props:
            props["run"] = f"run of {props['file']}"
            if not exact_seq:
                props["seq"] = rank[props["key"]]
        if not exact_seq and props.get("name") == "write_sequence":
            continue
        shown.append(repr((sorted(n["labels"]), sorted(props.items()), sorted(map(tuple, n["types"])))))
    shown += [
        repr((r["type"], r["start"], r["end"], sorted(r["props"].items()), sorted(map(tuple, r["types"]))))
        for r in rels
    ]
    return {"count": (len(nodes), len(rels)), "items": sorted(shown)}


def incremental(store: Neo4jStore, model, data: Path, rejects: Path) -> list:
    reports = []
    for spec_path, path in plan_groups(data):
        spec = load_spec(spec_path, model)
        reports += ingest_files(
            store, model, spec, open_sources(spec, model, [path]), rejects_dir=rejects, batch_size=BATCH
        )
    return reports


def test_bulk_load_equals_an_incremental_ingest_into_an_empty_neo4j(bulk_loaded, neo4j_store, partner_files, model):
    _, driver, _, _ = bulk_loaded
    clear_neo4j(neo4j_store)
    incremental(neo4j_store, model, partner_files, partner_files / "rejects-incremental")
    bulk, ingested = dump(driver), dump(neo4j_store.driver)
    assert bulk["count"] == ingested["count"]
    assert bulk["count"][0] > 1000
    missing, extra = set(ingested["items"]) - set(bulk["items"]), set(bulk["items"]) - set(ingested["items"])
    assert not missing and not extra, (sorted(missing)[:3], sorted(extra)[:3])
    schema, _, _ = driver.execute_query("SHOW CONSTRAINTS YIELD name RETURN collect(name) AS names")
    wanted, _, _ = neo4j_store.driver.execute_query("SHOW CONSTRAINTS YIELD name RETURN collect(name) AS names")
    assert sorted(schema[0]["names"]) == sorted(wanted[0]["names"]) and wanted[0]["names"]


def test_an_incremental_ingest_after_the_bulk_load_changes_nothing(bulk_loaded, partner_files, model):
    server, driver, work, _ = bulk_loaded
    before = dump(driver, exact_seq=False)
    store = Neo4jStore(server.uri, model, password=PASSWORD, id_key=TEST_ID_KEY)
    try:
        reports = incremental(store, model, partner_files, work / "rejects-again")
    finally:
        store.close()
    assert sum(r.rows_loaded for r in reports) > 1000
    for report in reports:
        e = report.entities
        assert (e.created, e.merged, e.updated) == (0, 0, 0), report.summary()
        assert e.unchanged == report.entities_written
    assert dump(driver, exact_seq=False) == before


def test_a_bad_row_goes_to_the_rejects_file_and_the_good_rows_load(bulk_loaded):
    _, driver, work, done = bulk_loaded
    rejects = work / "rejects" / "council_asb.rejects.csv"
    with rejects.open(encoding="utf-8", newline="") as handle:
        listed = list(csv.DictReader(handle))
    reasons = {int(row["row"]): row["reason"] for row in listed}  # the demo plants a few bad rows of its own
    assert "date" in reasons[BAD_ROW].lower()
    assert f"council_asb.csv row {BAD_ROW}:" in done.stdout
    rows, _, _ = driver.execute_query(
        "MATCH (r:Record {source: 'council-asb'}) RETURN count(r) AS n, collect(r.row) AS lines"
    )
    assert not set(reasons) & set(rows[0]["lines"])
    assert rows[0]["n"] > 10 and BAD_ROW + 1 in rows[0]["lines"]


def test_the_load_refuses_a_running_or_non_empty_database_and_a_missing_neo4j_admin(
    bulk_loaded, partner_files, tmp_path
):
    server, _, _, _ = bulk_loaded
    groups = plan_groups(partner_files)[:1]
    env = server.env(tmp_path)
    done = load_cli(env, *groups)  # the bulk-loaded server is running and holds the graph
    assert done.returncode == 2
    assert "is not empty" in done.stderr and "nimgraph ingest" in done.stderr
    missing = load_cli({**env, "NIMGRAPH_NEO4J_ADMIN": str(tmp_path / "no-such-neo4j-admin")}, *groups)
    assert missing.returncode == 2 and "neo4j-admin not found" in missing.stderr
    assert "NIMGRAPH_NEO4J_ADMIN" in missing.stderr


def test_the_writers_csv_survives_neo4j_admin(model, tmp_path):
    """Commas, quotes, newlines, arrays, Unicode, empty strings and typed numbers, through the real import."""
    _needs_java()
    person, street = model.entity_type(Core.PERSON).name, "Street"
    awkward = {
        "name": 'Dana "D" O\'Neil, of "Flat 2",\nBlock B',
        "notes": "ünïcödé — 東京 🙂\r\nline two",
        "empty": "",
        "tags": ["a,b", 'c"d', "e\nf", "ü"],
        "count": 42,
        "score": 0.1,
        "flag": False,
    }
    graph = BulkGraph()
    graph.entities["p1"] = StoredEntity(person, dict(awkward), ["src,1", 'src"2'])
    graph.entities["s1"] = StoredEntity(street, {"name": "Back Lane"}, ["src,1"])
    graph.links["k1"] = StoredLink(Core.LIVES_AT, "p1", "s1", {"note": 'x,"y"\nz'})
    graph.records["src,1\x1fr1"] = {"source": "src,1", "record_id": "r1", "file": "a.csv", "row": 2, "seq": 1}
    graph.assertions[("src,1\x1fr1", "p1")] = ("p1", '{"name": "a, \\"b\\""}')
    graph.assertions[("src,1\x1fr1", "k1")] = ("p1", None)
    files = write_import_files(graph, model, tmp_path / "csv")
    assert files.multiline
    server = Server(tmp_path / "state")
    env = server.env(tmp_path)
    try:
        imported = subprocess.run(
            [str(NEO4J_SH), "admin", "database", "import", "full", "neo4j", *files.arguments()],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert imported.returncode == 0, imported.stdout[-3000:] + imported.stderr[-3000:]
        subprocess.run([str(NEO4J_SH), "admin", "server", "start"], env=env, check=True, timeout=300)
        with GraphDatabase.driver(server.uri, auth=("neo4j", PASSWORD)) as driver:
            (row,), _, _ = driver.execute_query(
                "MATCH (p:Entity {id: 'p1'})-[k]->(s:Entity {id: 's1'}) "
                "RETURN labels(p) AS labels, properties(p) AS p, type(k) AS type, properties(k) AS k"
            )
            (said,), _, _ = driver.execute_query(
                "MATCH (r:Record)-[a:ASSERTS]->(:Entity {id: 'p1'}) RETURN r.key AS key, r.row AS row, "
                "collect([a.item, a.props]) AS assertions"
            )
    finally:
        server.stop()
    assert sorted(row["labels"]) == sorted(["Entity", person])
    assert row["p"] == {"id": "p1", "type": person, "sources": ["src,1", 'src"2'], **awkward}
    assert row["type"] == model.link_type(Core.LIVES_AT).relationship and row["k"] == {"id": "k1", "note": 'x,"y"\nz'}
    assert said["key"] == "src,1\x1fr1" and said["row"] == 2
    assert sorted(said["assertions"], key=str) == sorted([["p1", '{"name": "a, \\"b\\""}'], ["k1", None]], key=str)
