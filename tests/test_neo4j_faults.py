"""Neo4j going away mid-ingest: a clear error after the driver's retries; a re-run completes exactly.

This test runs its own Neo4j (the launcher scripts/neo4j.sh builds), so it can kill it partway.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest
from conftest import neo4j_settings

from nimgraph.demo.generate import write_dataset
from nimgraph.ingest.engine import ingest_file
from nimgraph.ingest.spec import load_spec
from nimgraph.mappings import mapping_path
from nimgraph.store import StoreUnavailableError
from nimgraph.store.embedded import EmbeddedStore
from nimgraph.store.neo4j import Neo4jStore

LAUNCHER = Path(__file__).resolve().parent.parent / "tools" / "neo4j-launcher" / "target"
PASSWORD = "fault-test-password"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch(data: Path, port: int, log: Path) -> subprocess.Popen:
    classpath = f"{LAUNCHER / 'classes'}:{(LAUNCHER / 'classpath.txt').read_text().strip()}"
    process = subprocess.Popen(
        ["java", "-Xmx512m", "-cp", classpath, "org.nimgraph.launcher.Neo4jLauncher", str(data), str(port), PASSWORD],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if "READY" in log.read_text():
            return process
        if process.poll() is not None:
            pytest.fail(f"Neo4j did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.3)
    process.kill()
    pytest.fail("Neo4j did not start within 120 s")


def count_records(store: Neo4jStore) -> int:
    records, _, _ = store.driver.execute_query("MATCH (:Record)-[a:ASSERTS]->() RETURN count(a) AS n")
    return records[0]["n"]


def test_ingest_survives_neo4j_going_away(tmp_path, model):
    neo4j_settings()  # skip, or fail when Neo4j is required, exactly as the other Neo4j tests
    if not (LAUNCHER / "classpath.txt").exists():
        pytest.fail("the Neo4j launcher is not built: run scripts/neo4j.sh start once")
    write_dataset(tmp_path / "data")
    spec = load_spec(mapping_path("police_nominals"), model)
    data = tmp_path / "data" / "police_nominals_restricted.csv"

    clean = EmbeddedStore(tmp_path / "clean.db", model)
    ingest_file(clean, model, spec, data, rejects_dir=tmp_path / "rejects", batch_size=1000)
    expected, expected_records = clean.counts(), clean._db.execute("SELECT count(*) FROM asserted").fetchone()[0]
    clean.close()

    port, log = free_port(), tmp_path / "neo4j-first.log"
    server = launch(tmp_path / "neo4j-data", port, log)
    uri = f"bolt://127.0.0.1:{port}"
    try:
        store = Neo4jStore(uri, model, password=PASSWORD, retry_seconds=3)
        store.prepare()
        rows_seen = 0

        def kill_partway(n: int) -> None:
            nonlocal rows_seen
            rows_seen += n
            if rows_seen == 1200:
                server.kill()
                server.wait()

        with pytest.raises(
            StoreUnavailableError, match=rf"Neo4j at {uri} stopped answering.*Run the same ingest again"
        ):
            ingest_file(
                store, model, spec, data, rejects_dir=tmp_path / "rejects", batch_size=1000, progress=kill_partway
            )
        store.close()

        log = tmp_path / "neo4j-restarted.log"
        server = launch(tmp_path / "neo4j-data", port, log)
        store = Neo4jStore(uri, model, password=PASSWORD, retry_seconds=3)
        partial = store.counts()
        assert 0 < sum(partial["entities"].values()) < sum(expected["entities"].values())
        ingest_file(store, model, spec, data, rejects_dir=tmp_path / "rejects", batch_size=1000)
        assert store.counts() == expected
        assert count_records(store) == expected_records
        store.close()
    finally:
        server.kill()
        server.wait()
        if os.environ.get("NIMGRAPH_KEEP_FAULT_LOG"):
            print(log.read_text())
