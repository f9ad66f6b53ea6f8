"""Keyed ids on each store: made with the store, never mixed, and migrated from unkeyed stores."""

from __future__ import annotations

import pytest
from conftest import clear_neo4j, neo4j_settings

from nimgraph.demo.generate import write_dataset
from nimgraph.ids import IdKey, unkeyed_id
from nimgraph.ingest.engine import ingest_file
from nimgraph.ingest.spec import load_spec
from nimgraph.mappings import mapping_path
from nimgraph.store.embedded import EmbeddedStore
from nimgraph.store.errors import StoreConfigError

SECRET = "a-test-id-key-Vq3x9LrT0bNw2PzKc8YhJm"


class Unkeyed(IdKey):
    """What ingest wrote before ids were keyed: the unkeyed hash itself."""

    def keyed(self, unkeyed: str) -> str:
        return unkeyed


@pytest.fixture(scope="module")
def partner_files(tmp_path_factory):
    directory = tmp_path_factory.mktemp("partners")
    write_dataset(directory, seed=11, incidents=300)
    return directory


def _open(kind: str, tmp_path, model, id_key: str = ""):
    if kind == "embedded":
        return EmbeddedStore(tmp_path / "graph.db", model, id_key=id_key)
    from nimgraph.store.neo4j import Neo4jStore

    found = neo4j_settings()
    return Neo4jStore(found["uri"], model, user=found["user"], password=found["password"], id_key=id_key)


def _load(store, model, files, tmp_path, ids=None) -> None:
    for name, spec_name in (
        ("police_nominals_restricted.csv", "police_nominals"),
        ("intel_reports.csv", "intel_reports"),
        ("council_asb.csv", "council_asb"),
    ):
        spec = load_spec(mapping_path(spec_name), model)
        ingest_file(store, model, spec, files / name, rejects_dir=tmp_path / "rejects", ids=ids)


def _snapshot(store) -> tuple[dict, dict]:
    everything = store.subgraph(list(store.model.links))
    return (
        {i: (e.type, e.properties, sorted(a.record_id for a in e.provenance)) for i, e in everything.entities.items()},
        {
            i: (k.type, k.source, k.target, sorted(a.record_id for a in k.provenance))
            for i, k in everything.links.items()
        },
    )


@pytest.mark.parametrize("kind", ["embedded", "neo4j"])
def test_an_unkeyed_store_is_refused_then_migrated_to_exactly_what_a_keyed_ingest_makes(
    kind, partner_files, tmp_path, model, request
):
    if kind == "neo4j":
        clear_neo4j(request.getfixturevalue("neo4j_session_store"))
    legacy = _open(kind, tmp_path, model, id_key=SECRET)
    try:
        _load(legacy, model, partner_files, tmp_path, ids=Unkeyed("unused"))
        before, _ = _snapshot(legacy)
        assert any(
            i == unkeyed_id(e[0], "northshire-nominal", [e[1]["nominalId"]])
            for i, e in before.items()
            if e[1].get("nominalId")
        )
        with pytest.raises(StoreConfigError, match="nimgraph migrate-ids"):
            legacy.id_key()
        assert legacy.migrate_ids() == len(before)
        assert legacy.migrate_ids() == 0  # once only: a second run must not key the keyed ids again
        migrated = _snapshot(legacy)
        _load(legacy, model, partner_files, tmp_path)  # re-ingesting after the migration adds nothing
        assert _snapshot(legacy) == migrated
    finally:
        legacy.close()
    if kind == "neo4j":
        clear_neo4j(request.getfixturevalue("neo4j_session_store"))
        fresh = _open(kind, tmp_path, model, id_key=SECRET)
    else:
        fresh = _open(kind, tmp_path / "fresh", model, id_key=SECRET)
    try:
        _load(fresh, model, partner_files, tmp_path)
        assert _snapshot(fresh) == migrated
        assert set(migrated[0]).isdisjoint(before)
    finally:
        fresh.close()


def test_a_store_keeps_its_own_key_and_refuses_another(tmp_path, model, partner_files):
    first = EmbeddedStore(tmp_path / "graph.db", model)
    _load(first, model, partner_files, tmp_path)
    ids = set(_snapshot(first)[0])
    first.close()
    reopened = EmbeddedStore(tmp_path / "graph.db", model)  # the key it made is the key it keeps
    _load(reopened, model, partner_files, tmp_path)
    assert set(_snapshot(reopened)[0]) == ids
    reopened.close()
    with pytest.raises(StoreConfigError, match="another id key"):
        EmbeddedStore(tmp_path / "graph.db", model, id_key=SECRET).id_key()
    other = EmbeddedStore(tmp_path / "other.db", model)
    _load(other, model, partner_files, tmp_path)
    assert set(_snapshot(other)[0]).isdisjoint(ids)  # two stores, two keys: ids cannot be lined up
    other.close()


def test_a_store_made_under_a_configured_key_needs_it(tmp_path, model, partner_files):
    store = EmbeddedStore(tmp_path / "graph.db", model, id_key=SECRET)
    _load(store, model, partner_files, tmp_path)
    store.close()
    with pytest.raises(StoreConfigError, match="NIMGRAPH_ID_KEY, which is not set"):
        EmbeddedStore(tmp_path / "graph.db", model).id_key()
