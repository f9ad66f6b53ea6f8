"""What only the Neo4j store has: schema from the Model, connection errors, the demo on Neo4j."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import clear_neo4j, neo4j_settings

from nimgraph.demo import find_problem, run_demo, screen_for_vulnerable
from nimgraph.products.problem import build_problem_profile
from nimgraph.products.subject import build_subject_profile
from nimgraph.store import StoreConfigError, StoreUnavailableError
from nimgraph.store.neo4j import Neo4jStore
from nimgraph.store.schema import apply_schema, schema_items


def test_schema_has_a_constraint_per_type_and_applying_it_again_creates_nothing(neo4j_store, model):
    records, _, _ = neo4j_store.driver.execute_query("SHOW CONSTRAINTS YIELD name, labelsOrTypes, properties")
    constrained = {r["labelsOrTypes"][0] for r in records if r["properties"] == ["id"]}
    mappable = {name for name, t in model.entities.items() if t.mappable}
    assert mappable <= constrained
    assert not {name for name in model.entities if name not in mappable} & constrained  # never Entity nodes
    assert apply_schema(neo4j_store.driver, model) == []


def test_neo4j_init_reports_what_it_created(neo4j_store, model, tmp_path):
    settings = neo4j_settings()
    neo4j_store.driver.execute_query("DROP CONSTRAINT street_id IF EXISTS")
    env = {"NIMGRAPH_NEO4J_USER": settings["user"], "NIMGRAPH_NEO4J_PASSWORD": settings["password"]}
    command = [sys.executable, "-m", "nimgraph.cli", "--store", settings["uri"], "neo4j", "init"]
    first = subprocess.run(command, capture_output=True, text=True, env={**_env(), **env}, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "created constraint street_id" in first.stdout
    assert f"1 created; {len(schema_items(model)) - 1} already present" in first.stdout
    second = subprocess.run(command, capture_output=True, text=True, env={**_env(), **env}, cwd=tmp_path)
    assert second.stdout.startswith("0 created")


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("NIMGRAPH_")}


def test_wrong_credentials_name_the_uri_but_never_the_password(model):
    settings = neo4j_settings()
    with pytest.raises(StoreConfigError) as caught:
        Neo4jStore(settings["uri"], model, user=settings["user"], password="not-the-password-123")
    message = str(caught.value)
    assert settings["uri"] in message and "NIMGRAPH_NEO4J_PASSWORD" in message
    assert "not-the-password-123" not in message


def test_unreachable_server_is_a_clear_error_with_a_nonzero_exit(model, tmp_path):
    with pytest.raises(StoreUnavailableError, match=r"cannot reach Neo4j at bolt://127\.0\.0\.1:9"):
        Neo4jStore("bolt://127.0.0.1:9", model, password="x")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "nimgraph.cli",
            "--store",
            "neo4j://127.0.0.1:9",
            "profile",
            "subject",
            "P",
            "--purpose",
            "t",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**_env(), "NIMGRAPH_NEO4J_PASSWORD": "s3cret-pw", "NIMGRAPH_ENV": "development"},
    )
    assert result.returncode == 2
    assert "cannot reach Neo4j at neo4j://127.0.0.1:9" in result.stderr and "s3cret-pw" not in result.stderr


@pytest.fixture(scope="module")
def neo4j_demo(neo4j_session_store, model, tmp_path_factory):
    clear_neo4j(neo4j_session_store)
    work = tmp_path_factory.mktemp("neo4j-demo")
    run_demo(neo4j_session_store, model, work, say=lambda _: None)
    return neo4j_session_store


def _comparable(product: dict) -> dict:
    return {k: v for k, v in product.items() if k != "generated_at"}


def test_the_demo_on_neo4j_gives_the_same_counts_and_profiles(neo4j_demo, demo, model):
    assert neo4j_demo.counts() == demo.store.counts()
    subject = screen_for_vulnerable(neo4j_demo, model)[0]
    assert subject == screen_for_vulnerable(demo.store, model)[0]
    on_neo4j = build_subject_profile(neo4j_demo, model, subject).to_dict()
    embedded = build_subject_profile(demo.store, model, subject).to_dict()
    assert _comparable(on_neo4j) == _comparable(embedded)
    problem = find_problem(neo4j_demo, demo.planted["problem"])
    on_neo4j = build_problem_profile(neo4j_demo, model, problem).to_dict()
    embedded = build_problem_profile(demo.store, model, problem).to_dict()
    assert _comparable(on_neo4j) == _comparable(embedded)


def test_rerunning_the_demo_on_neo4j_changes_no_counts(neo4j_demo, model, tmp_path):
    before = neo4j_demo.counts()
    run_demo(neo4j_demo, model, tmp_path, say=lambda _: None)
    assert neo4j_demo.counts() == before


def test_a_record_written_before_records_kept_their_run_is_not_taken_for_a_new_one(neo4j_store):
    from nimgraph.records import Assertion, Batch, Entity

    said = Assertion("test", "case-1", "t.csv", 2, None, "1AP", "P")
    street = Entity("street", "Street", {"name": "Elm Street"}, [said])
    neo4j_store.upsert(Batch(entities=[street]))
    neo4j_store.driver.execute_query(
        "MATCH (r:Record {record_id: $id}) REMOVE r.run, r.seq", id="case-1", database_=neo4j_store.database
    )
    neo4j_store.upsert(Batch(entities=[street]))
    assert [a.record_id for a in neo4j_store.get("street").provenance] == ["case-1"]
