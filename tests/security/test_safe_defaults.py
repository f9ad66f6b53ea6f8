"""The defaults an attacker would try first: no environment set, weak or reused secrets, CORS '*'."""

from __future__ import annotations

import json
import secrets

import pytest
from conftest import dev_settings
from fastapi.testclient import TestClient

from api.auth import InsecureSettingsError
from api.main import create_app
from nimgraph.access.keys import ApiKeysError
from nimgraph.config import Settings


def _strong(tmp_path, **values) -> dict:
    return {
        "api_keys": {secrets.token_urlsafe(32): {"name": "ops", "role": "admin"}},
        "pseudonym_key": secrets.token_urlsafe(32),
        "audit_key": secrets.token_urlsafe(32),
        "audit_anchor": tmp_path / "anchor.log",
        "access_db": tmp_path / "access.db",
        "store": str(tmp_path / "graph.db"),
        **values,
    }


def test_with_no_environment_the_app_is_in_production_and_the_dev_keys_do_not_work(tmp_path, monkeypatch):
    monkeypatch.delenv("NIMGRAPH_ENV", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    assert Settings().env == "production"
    with pytest.raises(InsecureSettingsError, match="NIMGRAPH_API_KEYS is empty"):
        create_app(Settings(access_db=tmp_path / "a.db"))
    with TestClient(create_app(Settings(**_strong(tmp_path)))) as client:
        refused = client.get("/search", headers={"X-API-Key": "dev-analyst", "X-Purpose": "trying the dev key"})
        assert refused.status_code == 401


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"api_keys": {"changeme": {"name": "ops", "role": "admin"}}}, "a placeholder"),
        ({"api_keys": {"a" * 40: {"name": "ops", "role": "admin"}}}, "low in entropy"),
        ({"api_keys": {"abcd" * 10: {"name": "ops", "role": "admin"}}}, "low in entropy"),
        ({"api_keys": {"dev-analyst-but-long-enough-xyz": {"name": "ops", "role": "admin"}}}, "a development key"),
        ({"pseudonym_key": ""}, "NIMGRAPH_PSEUDONYM_KEY is empty"),
        ({"audit_key": "short"}, "NIMGRAPH_AUDIT_KEY is shorter"),
        ({"id_key": "z" * 30}, "NIMGRAPH_ID_KEY is low in entropy"),
        ({"cors_origins": ["*"]}, "CORS_ORIGINS contains '*'"),
    ],
)
def test_production_refuses_weak_settings_in_one_line(tmp_path, change, reason):
    with pytest.raises(InsecureSettingsError) as refused:
        create_app(Settings(env="production", **_strong(tmp_path, **change)))
    assert reason in str(refused.value) and "\n" not in str(refused.value)


def test_production_refuses_a_secret_used_twice(tmp_path):
    shared = secrets.token_urlsafe(32)
    for change in (
        {"api_keys": {shared: {"name": "ops", "role": "admin"}}, "pseudonym_key": shared},
        {"audit_key": shared, "pseudonym_key": shared},
        {"id_key": shared, "audit_key": shared},
    ):
        with pytest.raises(InsecureSettingsError, match="the same secret is used twice"):
            create_app(Settings(env="production", **_strong(tmp_path, **change)))


def test_development_generates_its_secrets_instead_of_publishing_one(tmp_path):
    first = dev_settings(access_db=tmp_path / "one" / "access.db")
    second = dev_settings(access_db=tmp_path / "two" / "access.db")
    key = first.secret("pseudonym_key")
    assert len(key) >= 32 and key != second.secret("pseudonym_key") and key != "dev-pseudonym-key"
    assert first.secret("pseudonym_key") == key  # kept, so pseudonyms survive a restart
    kept = tmp_path / "one" / "dev-secrets.json"
    assert json.loads(kept.read_text())["pseudonym_key"] == key
    assert kept.stat().st_mode & 0o077 == 0  # readable by its owner only
    with pytest.raises(InsecureSettingsError, match="CORS"):
        create_app(dev_settings(access_db=tmp_path / "a.db", cors_origins=["*"]))


def test_a_key_whose_holder_makes_no_sense_is_refused_naming_its_holder_not_the_key(tmp_path):
    """The settings keep each holder as JSON; access control reads its role, and says what is wrong with it."""
    key = secrets.token_urlsafe(32)
    holders = {key: {"name": "ops", "role": "superuser"}, secrets.token_urlsafe(32): {"role": "analyst"}}
    settings = Settings(env="production", **_strong(tmp_path, api_keys=holders))  # the settings load
    with pytest.raises(ApiKeysError) as refused:
        create_app(settings)
    message = str(refused.value)
    assert message.startswith("NIMGRAPH_API_KEYS is not valid: the key of 'ops': role: Input should be 'analyst',")
    assert "key 2: name: Field required" in message and key not in message
    with pytest.raises(ApiKeysError, match=r"the key of 'ops': handling: Value error, unknown handling codes \['X'\]"):
        create_app(dev_settings(access_db=tmp_path / "a.db", api_keys={key: {"name": "ops", "role": "analyst",
                                                                            "handling": ["X"]}}))  # fmt: skip
