"""Settings, compose file and docs agree: every name a user can set is the same everywhere."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from nimgraph.config import Settings

ROOT = Path(__file__).resolve().parent.parent
SETTING_NAMES = {f"NIMGRAPH_{name.upper()}" for name in Settings.model_fields}


def test_env_example_lists_every_setting():
    text = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^(NIMGRAPH_[A-Z0-9_]+)=", text, flags=re.M))
    assert listed == SETTING_NAMES


def test_compose_uses_only_real_setting_names():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    api_env = set(compose["services"]["api"]["environment"])
    assert api_env <= SETTING_NAMES
    assert compose["services"]["neo4j"]["image"].startswith("neo4j:5.26")
    assert compose["services"]["api"]["environment"]["NIMGRAPH_STORE"].startswith("neo4j://")
    assert "healthcheck" in compose["services"]["neo4j"]


def test_readme_documents_every_cli_command_and_setting():
    from nimgraph.cli import parser

    readme = (ROOT / "README.md").read_text()
    commands = parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name in commands:
        assert f"nimgraph {name}" in readme, name
    for setting in SETTING_NAMES:
        assert setting in readme, setting


def test_the_image_installs_the_built_wheel_not_the_source():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"pip wheel .*--wheel-dir /dist", dockerfile)
    assert re.search(r"pip install .*/dist/\*\.whl", dockerfile)
    assert "-e ." not in dockerfile and "COPY ontology" not in dockerfile and "COPY queries" not in dockerfile
