"""The CLI as a user runs it: a subprocess, its output and its exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from test_ingest import GOOD_AND_BAD, SPEC, write_csv


def nimgraph(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The CLI in development mode (generated audit key) unless ``env`` says otherwise."""
    environment = {**os.environ, "NIMGRAPH_ENV": "development", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "nimgraph.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
    )


def test_ingest_reports_loads_and_rejects_and_is_repeatable(tmp_path):
    (tmp_path / "asb.yaml").write_text(SPEC)
    write_csv(tmp_path / "asb.csv", GOOD_AND_BAD)
    first = nimgraph("--store", "g.db", "ingest", "asb.yaml", "asb.csv", "--rejects-dir", "rejects", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "asb.csv: 3 of 8 rows loaded" in first.stdout and "5 rejected, see rejects/asb.rejects.csv" in first.stdout
    assert "asb.csv" in first.stderr  # the progress bar
    assert "entities: 5 created, 0 merged with another source's, 0 updated, 0 unchanged; 2 link writes" in first.stdout
    second = nimgraph("--store", "g.db", "ingest", "asb.yaml", "asb.csv", "--rejects-dir", "rejects", cwd=tmp_path)
    assert second.stdout == first.stdout.replace("5 created", "0 created").replace("0 unchanged", "5 unchanged")
    strict = nimgraph("--store", "g.db", "ingest", "asb.yaml", "asb.csv", "--strict", cwd=tmp_path)
    assert strict.returncode == 1


def test_spec_error_exits_2_with_the_line(tmp_path):
    (tmp_path / "asb.yaml").write_text(SPEC.replace("type: Street", "type: Stret"))
    write_csv(tmp_path / "asb.csv", GOOD_AND_BAD)
    result = nimgraph("--store", "g.db", "ingest", "asb.yaml", "asb.csv", cwd=tmp_path)
    assert result.returncode == 2
    assert "asb.yaml:17: unknown entity type 'Stret'. Did you mean 'Street'?" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_file_of_an_unknown_format_exits_2_naming_the_known_formats(tmp_path):
    (tmp_path / "asb.yaml").write_text(SPEC)
    write_csv(tmp_path / "asb.dat", GOOD_AND_BAD)
    result = nimgraph("--store", "g.db", "ingest", "asb.yaml", "asb.dat", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "asb.dat: unknown format '.dat'; known formats: csv (.csv, .txt, .tsv), xlsx (.xlsx)," in result.stderr
    assert "set read.format in the spec (e.g. read: {format: csv}) or rename the file" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "g.db").exists()
    listed = nimgraph("ingest", "--help", cwd=tmp_path)
    assert "jsonl (.jsonl, .ndjson), parquet (.parquet)" in " ".join(listed.stdout.split())  # the same registry


def test_store_uri_not_yet_supported_is_a_clear_error(tmp_path):
    result = nimgraph(
        "--store", "neo4j://127.0.0.1:7687", "profile", "subject", "Person-x", "--purpose", "t", cwd=tmp_path
    )
    assert result.returncode == 2 and "neo4j://127.0.0.1:7687" in result.stderr


def test_profile_of_a_missing_entity_says_how_to_find_one(tmp_path):
    result = nimgraph("--store", "g.db", "profile", "subject", "Person-nobody", "--purpose", "t", cwd=tmp_path)
    assert result.returncode == 2
    assert "no entity with id 'Person-nobody'" in result.stderr


def test_dry_run_checks_everything_and_writes_nothing(tmp_path):
    (tmp_path / "asb.yaml").write_text(SPEC)
    write_csv(tmp_path / "asb.csv", GOOD_AND_BAD)
    dry = nimgraph("--store", "g.db", "ingest", "asb.yaml", "asb.csv", "--dry-run", "--strict", cwd=tmp_path)
    assert dry.returncode == 1  # --strict: rows were rejected
    assert "asb.csv (dry run, nothing written): 3 of 8 rows would load" in dry.stdout
    assert "asb.csv row 7: an ASB incident needs a date" in dry.stdout
    assert not (tmp_path / "g.db").exists()


def test_infer_suggests_accepts_and_undoes_on_a_copy_of_the_demo(demo, tmp_path):
    import sqlite3

    from conftest import person_id

    with sqlite3.connect(demo.work_dir / "graph.db") as source, sqlite3.connect(tmp_path / "g.db") as copy:
        source.backup(copy)
    subject = person_id(demo, demo.planted["vulnerable"])
    network = {person_id(demo, n) for n in demo.planted["network"]}
    suggested = nimgraph("--store", "g.db", "infer", "suggest", subject, cwd=tmp_path)
    assert suggested.returncode == 0, suggested.stderr
    rows = [line.split() for line in suggested.stdout.splitlines()]
    assert rows and {row[1] for row in rows} <= network  # the rest of the network, nobody else
    inference, other = rows[0][0], rows[0][1]
    refused = nimgraph("--store", "g.db", "infer", "accept", subject, subject, "--analyst", "a1", cwd=tmp_path)
    assert refused.returncode == 2 and "is not among the top 10 adamic_adar predictions" in refused.stderr
    accepted = nimgraph("--store", "g.db", "infer", "accept", subject, other, "--analyst", "a1", cwd=tmp_path)
    assert accepted.returncode == 0 and f"accepted {inference}" in accepted.stdout
    assert "predictedAssociation" in accepted.stdout and "(handling C)" in accepted.stdout
    undone = nimgraph("--store", "g.db", "infer", "undo", inference, cwd=tmp_path)
    assert undone.returncode == 0 and "undone" in undone.stdout
    again = nimgraph("--store", "g.db", "infer", "undo", inference, cwd=tmp_path)
    assert again.returncode == 1 and "no such accepted inference" in again.stdout


def test_rebuild_properties_runs_once_over_a_store_and_is_audited(tmp_path):
    (tmp_path / "asb.yaml").write_text(SPEC)
    write_csv(tmp_path / "asb.csv", GOOD_AND_BAD)
    assert nimgraph("--store", "g.db", "ingest", "asb.yaml", "asb.csv", cwd=tmp_path).returncode == 0
    rebuilt = nimgraph("--store", "g.db", "rebuild-properties", cwd=tmp_path)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert rebuilt.stdout.strip() == "entities: 0, links: 0, unknown: 0"  # a store written since: nothing to do
    logged = nimgraph("--store", "g.db", "audit", "verify", cwd=tmp_path)
    assert logged.returncode == 0, logged.stderr
