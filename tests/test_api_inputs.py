"""Bad input gets a 4xx problem+json that says what to change, never a 500; and the schema fuzzer agrees."""

from __future__ import annotations

import sqlite3

import pytest
import schemathesis
from conftest import TEST_ID_KEY, dev_settings, person_id
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from api.main import create_app
from api.routes import resolution as resolution_routes
from nimgraph.store.embedded import EmbeddedStore

HEADERS = {"X-API-Key": "dev-admin", "X-Purpose": "input tests"}


@pytest.fixture(scope="module")
def app(demo, tmp_path_factory):
    work = tmp_path_factory.mktemp("inputs")
    config = dev_settings(store="unused", work_dir=work, access_db=work / "access.db", max_upload_bytes=50_000)
    return create_app(config, store=demo.store, model=demo.model)


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app, headers=HEADERS) as test_client:
        yield test_client


def _cases(demo) -> list[tuple[str, int, str]]:
    person = person_id(demo, demo.planted["vulnerable"])
    return [
        ("/entities/not%20an%20id", 422, "entity_id: String should match pattern"),
        ("/entities/Person-%27%3B%20MATCH%20(n)%20DETACH%20DELETE%20n", 422, "String should match pattern"),
        ("/entities/Person-0000", 404, "no entity with id 'Person-0000'"),
        ("/search?type=Persn", 400, "Did you mean 'Person'"),
        ("/search?where=postcode", 400, "write a property filter as name:value"),
        ("/search?where=flavour:red", 400, "'flavour' is not a property in the ontology"),
        ("/search?limit=100000", 422, "limit: Input should be less than or equal to 500"),
        (f"/entities/{person}/associations?hops=9", 422, "hops: Input should be less than or equal to 4"),
        (f"/entities/{person}/network?hops=0", 422, "hops: Input should be greater than or equal to 1"),
        (f"/entities/{person}/associations?link_types=knowz", 400, "unknown link type 'knowz'"),
        (f"/entities/{person}/associations?min_grade=9Z", 400, "'9Z' is not a minimum grade"),
        (f"/entities/{person}/associations?since=2026-13-01", 422, "since: Input should be a valid date"),
        (f"/entities/{person}/associations?since=2026-06-01&until=2026-01-01", 400, "is after until"),
        (f"/paths?from={person}&to=nope", 404, "no entity with id 'nope'"),  # ids or exact labels
        (f"/paths?from={person}&to=%00", 422, "to: String should match pattern"),
        (f"/paths?from={person}&to={person}&max_hops=99", 422, "max_hops: Input should be less than or equal to 8"),
        (f"/paths/network?ids={person}", 422, "ids: List should have at least 2 items"),
        ("/profiles/subject/Street-0000", 404, "no entity with id 'Street-0000'"),
        ("/ontology/classes/Persn", 404, "Did you mean 'Person'"),
        ("/ingest/jobs/../../etc", 404, ""),
        ("/ingest/jobs/not-a-job", 422, "job_id: String should match pattern"),
        ("/ingest/jobs/" + "0" * 32, 404, "no ingest job"),
        ("/exports/jobs/not-a-job", 422, "job_id: String should match pattern"),
        ("/exports/jobs/" + "0" * 32 + "/file", 404, "no export job"),
        ("/exports/pdf?around=" + person, 422, "format_name: Input should be"),
    ]


def test_bad_input_is_a_clear_4xx(client, demo):
    for url, status, phrase in _cases(demo):
        response = client.get(url)
        assert response.status_code == status, (url, response.text[:300])
        assert response.headers["content-type"].startswith("application/"), url
        if phrase:
            assert phrase in response.json()["detail"], (url, response.json()["detail"])


def test_oversized_and_unsupported_uploads_are_refused(client):
    spec = ("spec.yaml", b"source: {name: x}\n", "application/yaml")
    big = client.post("/ingest/jobs", files={"spec": spec, "file": ("big.csv", b"a,b\n" * 20_000_000, "text/csv")})
    assert big.status_code == 413 and "limit" in big.json()["detail"]
    # without a Content-Length up front, the limit applies while the file is saved
    chunked = client.post("/ingest/jobs", files={"spec": spec, "file": ("big.csv", b"a,b\n" * 20_000, "text/csv")})
    assert chunked.status_code == 413 and "50,000-byte limit" in chunked.json()["detail"]
    exe = client.post("/ingest/jobs", files={"spec": spec, "file": ("tool.exe", b"MZ", "application/octet-stream")})
    assert exe.status_code == 415 and ".csv" in exe.json()["detail"]
    not_yaml = client.post(
        "/ingest/jobs", files={"spec": ("s.yaml", b"{{{", "text/yaml"), "file": ("a.csv", b"a\n1\n")}
    )
    assert not_yaml.status_code == 422 and "not valid YAML" in not_yaml.json()["detail"]


@pytest.mark.parametrize("key", ["dev-admin", "dev-analyst", "dev-researcher", "dev-partner"])
def test_the_schema_fuzzer_finds_no_server_error(demo, tmp_path, key):
    """schemathesis generates requests for every operation from the OpenAPI schema, under each role.

    Driven by hypothesis directly: schemathesis's pytest plugin does not run under pytest 9. Each
    role gets its own app: schemathesis runs the app's lifespan, which closes the audit log after.
    """
    config = dev_settings(store="unused", work_dir=tmp_path, access_db=tmp_path / "access.db", max_upload_bytes=50_000)
    # a copy of the demo: the fuzzer writes records the session's other tests must not see
    copy = tmp_path / "graph.db"
    with sqlite3.connect(demo.store.path) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    store = EmbeddedStore(copy, demo.model, id_key=TEST_ID_KEY)
    app = create_app(config, store=store, model=demo.model)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    headers = {**HEADERS, "X-API-Key": key}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def no_server_error(case):
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        no_server_error()
    # a linkage run the fuzzer started goes on in the background: it ends before the store closes
    assert resolution_routes._RUNNING.acquire(timeout=300)
    resolution_routes._RUNNING.release()
    app.state.export_jobs.shutdown()  # and so does an export job: it stops at its next step
    store.close()
