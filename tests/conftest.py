"""Shared fixtures: the ontology, a real embedded store, and one demo partnership run per session."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from nimgraph.config import Settings
from nimgraph.demo import DemoResult, find_problem, run_demo
from nimgraph.ontology import Model, default_model
from nimgraph.store.embedded import EmbeddedStore

# One id key for the tests' stores, so that the same data gets the same ids in the embedded store
# and in Neo4j, and answers can be compared across them (a deployment sets NIMGRAPH_ID_KEY so too).
TEST_ID_KEY = "tests-id-key-Vq3x9LrT0bNw2PzKc8YhJm5s"


@dataclass
class Demo:
    store: EmbeddedStore
    model: Model
    planted: dict
    result: DemoResult
    work_dir: Path


def dev_settings(**values) -> Settings:
    """Settings in development mode (the dev-* keys, generated secrets); production is the default.

    The audit anchor goes beside the access database, not into the working directory.
    """
    if "access_db" in values:
        values.setdefault("audit_anchor", Path(values["access_db"]).parent / "audit-anchor.log")
    return Settings(env="development", **values)


@pytest.fixture
def cli_development(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """In-process CLI runs in development mode, with the access database and anchor in tmp_path."""
    from nimgraph.config import get_settings

    monkeypatch.setenv("NIMGRAPH_ENV", "development")
    monkeypatch.setenv("NIMGRAPH_ACCESS_DB", str(tmp_path / "access.db"))
    monkeypatch.setenv("NIMGRAPH_AUDIT_ANCHOR", str(tmp_path / "audit-anchor.log"))
    get_settings.cache_clear()
    yield tmp_path / "access.db"
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def model() -> Model:
    return default_model()


@pytest.fixture
def embedded_store(tmp_path: Path, model: Model):
    opened = EmbeddedStore(tmp_path / "graph.db", model, id_key=TEST_ID_KEY)
    yield opened
    opened.close()


def neo4j_settings() -> dict[str, str]:
    """The throwaway server scripts/test.sh started for this worker, or a skip (a failure when Neo4j
    is required).

    Under pytest-xdist each worker has a server of its own, named by the worker (``_GW0``, ``_GW1``):
    the store tests empty the one database a Community server has, so two workers cannot share one.
    A single server (``NIMGRAPH_TEST_NEO4J_URI``, as ``scripts/neo4j.sh env`` prints) serves a run
    without workers, or with one.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    suffix = f"_{worker.upper()}" if worker else ""
    if os.environ.get(f"NIMGRAPH_TEST_NEO4J_URI{suffix}"):
        names = {key: f"NIMGRAPH_TEST_NEO4J_{key.upper()}{suffix}" for key in ("uri", "user", "password")}
    elif os.environ.get("NIMGRAPH_TEST_NEO4J_URI") and int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
        pytest.fail(
            f"NIMGRAPH_TEST_NEO4J_URI names one Neo4j, and {os.environ['PYTEST_XDIST_WORKER_COUNT']} workers "
            f"would empty it under each other: run scripts/test.sh (a server a worker), or pytest -n 0"
        )
    else:
        names = {key: f"NIMGRAPH_TEST_NEO4J_{key.upper()}" for key in ("uri", "user", "password")}
    uri = os.environ.get(names["uri"])
    if not uri:
        message = "no Neo4j for tests: run scripts/test.sh, or scripts/neo4j.sh start and eval its env"
        if os.environ.get("NIMGRAPH_REQUIRE_NEO4J") == "1":
            pytest.fail(message + "; NIMGRAPH_REQUIRE_NEO4J=1 makes this a failure")
        pytest.skip(message)
    return {
        "uri": uri,
        "user": os.environ.get(names["user"], "neo4j"),
        "password": os.environ.get(names["password"], ""),
    }


@pytest.fixture(scope="session")
def neo4j_session_store(model: Model):
    from nimgraph.store.neo4j import Neo4jStore
    from nimgraph.store.schema import apply_schema

    settings = neo4j_settings()
    opened = Neo4jStore(
        settings["uri"], model, user=settings["user"], password=settings["password"], id_key=TEST_ID_KEY
    )
    apply_schema(opened.driver, model)
    yield opened
    opened.close()


def clear_neo4j(store) -> None:
    with store.driver.session(database=store.database) as session:
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()


@pytest.fixture
def neo4j_store(neo4j_session_store):
    """The test server's store, emptied before the test."""
    clear_neo4j(neo4j_session_store)
    return neo4j_session_store


@pytest.fixture(params=["embedded", "neo4j"])
def store(request: pytest.FixtureRequest):
    """Each test that takes ``store`` runs once on each store: the parity suite."""
    return request.getfixturevalue(f"{request.param}_store")


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory, model: Model):
    """The demo partnership, generated, ingested through the ready mappings and profiled."""
    work_dir = tmp_path_factory.mktemp("demo")
    store = EmbeddedStore(work_dir / "graph.db", model, id_key=TEST_ID_KEY)
    result = run_demo(store, model, work_dir, say=lambda _: None)
    planted = json.loads((work_dir / "data" / "planted.json").read_text())
    yield Demo(store=store, model=model, planted=planted, result=result, work_dir=work_dir)
    store.close()


def demo_in_neo4j(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, model: Model, link: bool = True
) -> Demo:
    """The demo partnership loaded into the test Neo4j (emptied first), for a module's parity fixture.

    ``link=False`` leaves record linkage out, for a module that reads no proposals and compares
    nothing with the session's embedded demo (which has them)."""
    store = request.getfixturevalue("neo4j_session_store")
    clear_neo4j(store)
    work_dir = tmp_path_factory.mktemp("demo-neo4j")
    result = run_demo(store, model, work_dir, say=lambda _: None, link=link)
    planted = json.loads((work_dir / "data" / "planted.json").read_text())
    return Demo(store=store, model=model, planted=planted, result=result, work_dir=work_dir)


def demo_on(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, model: Model, link: bool = True
) -> Demo:
    """The demo on the store a fixture is parametrised with: "embedded" (the session's) or "neo4j"."""
    if request.param == "embedded":
        return request.getfixturevalue("demo")
    return demo_in_neo4j(request, tmp_path_factory, model, link=link)


def person_id(demo: Demo, nominal: str) -> str:
    """The entity id of the person with this nominal number, found through the store."""
    found = [e for e in demo.store.find("Person", nominal) if e.properties.get("nominalId") == nominal]
    assert len(found) == 1, f"expected one person with nominal {nominal}, found {len(found)}"
    return found[0].id


def personal_urls(demo: Demo) -> list[str]:
    """One read of each personal-data route, about the demo's planted people and problem."""
    vulnerable = person_id(demo, demo.planted["vulnerable"])
    network = [person_id(demo, n) for n in demo.planted["network"][:3]]
    problem = find_problem(demo.store, demo.planted["problem"])
    return [
        f"/entities/{vulnerable}",
        f"/entities/{vulnerable}/associations",
        f"/entities/{vulnerable}/network",
        f"/paths?from={network[0]}&to={network[1]}",
        f"/paths/network?ids={network[0]}&ids={network[1]}&ids={network[2]}",
        f"/profiles/subject/{vulnerable}",
        f"/profiles/problem/{problem}",
        f"/problems/{problem}/links",
        "/search?type=Person",
        "/problems",
        f"/rankings?measure=betweenness&around={vulnerable}",
        "/groups?method=components",
        "/screenings?indicator=criminal_associates",
        "/places?event_types=Event",
        "/charts",
    ]  # the assessments' refusals, purposes, audit and clearance: tests/test_api_assessments.py


CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        message = "Chromium is not installed: apt-get install chromium (scripts/test.sh does this as root)"
        if os.environ.get("NIMGRAPH_REQUIRE_BROWSER") == "1":
            pytest.fail(message + "; NIMGRAPH_REQUIRE_BROWSER=1 makes this a failure")
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def browser(chromium: str):
    """One headless Chromium per test module, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
