"""Shared fixtures: the ontology, a real embedded store, and one demo partnership run per session."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from nimgraph.demo import DemoResult, run_demo
from nimgraph.ontology import Model, default_model
from nimgraph.store.embedded import EmbeddedStore


@dataclass
class Demo:
    store: EmbeddedStore
    model: Model
    planted: dict
    result: DemoResult
    work_dir: Path


@pytest.fixture(scope="session")
def model() -> Model:
    return default_model()


@pytest.fixture
def store(tmp_path: Path, model: Model):
    opened = EmbeddedStore(tmp_path / "graph.db", model)
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory, model: Model):
    """The demo partnership, generated, ingested through the ready mappings and profiled."""
    work_dir = tmp_path_factory.mktemp("demo")
    store = EmbeddedStore(work_dir / "graph.db", model)
    result = run_demo(store, model, work_dir, say=lambda _: None)
    planted = json.loads((work_dir / "data" / "planted.json").read_text())
    yield Demo(store=store, model=model, planted=planted, result=result, work_dir=work_dir)
    store.close()


def person_id(demo: Demo, nominal: str) -> str:
    """The entity id of the person with this nominal number, found through the store."""
    found = [e for e in demo.store.find("Person", nominal) if e.properties.get("nominalId") == nominal]
    assert len(found) == 1, f"expected one person with nominal {nominal}, found {len(found)}"
    return found[0].id


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
