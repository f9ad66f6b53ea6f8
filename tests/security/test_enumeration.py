"""Attacks on what a restricted caller can infer: search oracles, listing order and computed ids.

Each test is the attack a hostile reviewer ran against the API, replayed: if the attacker could
tell a hidden value from one that does not exist, or line pseudonyms up with real ids, it fails.
The demo's police nominals and intelligence log are handled C; partner viewers are cleared for P.
"""

from __future__ import annotations

import hashlib

import pytest
from conftest import dev_settings, person_id
from fastapi.testclient import TestClient

from api.main import create_app
from nimgraph.ids import unkeyed_id
from nimgraph.ingest.spec import load_spec
from nimgraph.mappings import mapping_path

PARTNER, RESEARCHER, ANALYST = "dev-partner", "dev-researcher", "dev-analyst"


@pytest.fixture(scope="module")
def client(demo, tmp_path_factory):
    work = tmp_path_factory.mktemp("enumeration")
    settings = dev_settings(store="unused", work_dir=demo.work_dir, access_db=work / "access.db")
    with TestClient(create_app(settings, store=demo.store, model=demo.model)) as test_client:
        yield test_client


def _ask(client, key: str, url: str, **params):
    response = client.get(url, params=params, headers={"X-API-Key": key, "X-Purpose": "enumeration test"})
    return response.status_code, response.json()


def _c_only(demo, type_name: str):
    """Entities that only C records support: what a partner viewer must not learn exists."""
    return [e for e in demo.store.find(type_name, limit=100_000) if {a.handling for a in e.provenance} == {"C"}]


def test_a_partner_cannot_tell_a_hidden_phone_number_from_a_missing_one(client, demo):
    hidden = [e.properties["phoneNumber"] for e in _c_only(demo, "Phone") if e.properties.get("phoneNumber")]
    assert len(hidden) >= 3, "the demo should hold phone numbers only C records name"
    for number in hidden[:5]:
        for probe in (number, number[:-1], number[:-3]):  # whole, and the prefixes a digit-by-digit walk tries
            for limit in (1, 50):
                found = _ask(client, PARTNER, "/search", q=probe, limit=limit)
                absent = _ask(client, PARTNER, "/search", q="7" * len(probe) + "x", limit=limit)
                assert found == absent, (probe, found)
    # the same search as an analyst does find them: the comparison above could have failed
    assert _ask(client, ANALYST, "/search", q=hidden[0])[1]["items"]


def test_a_researcher_cannot_walk_nominal_numbers(client, demo):
    nominal = demo.planted["vulnerable"]
    person = demo.store.get(person_id(demo, nominal))
    probes = [nominal[:n] for n in range(2, len(nominal) + 1)] + [person.properties["name"], person.id]
    for probe in probes:
        for type_name in ("Person", "Phone", "Address"):  # what identifies a person never matches text
            found = _ask(client, RESEARCHER, "/search", q=probe, type=type_name)
            absent = _ask(client, RESEARCHER, "/search", q="Q" * len(probe), type=type_name)
            assert found == absent, (probe, type_name, found)
        anything = _ask(client, RESEARCHER, "/search", q=probe, limit=500)[1]["items"]
        assert not [e for e in anything if e["id"].startswith("psn-") or e["type"] == "Person"], probe
    assert _ask(client, ANALYST, "/search", q=nominal)[1]["items"]


def test_a_partner_learns_nothing_about_restricted_records_on_a_person_it_can_see(client, demo):
    mixed = [e for e in demo.store.find("Person", limit=5000) if {a.handling for a in e.provenance} == {"P", "C"}]
    assert mixed
    status, body = _ask(client, PARTNER, f"/entities/{mixed[0].id}")
    _, listing = _ask(client, PARTNER, "/search", type="Street", limit=1)  # nothing restricted about streets
    assert status == 200 and len(body["provenance"]) < len(mixed[0].provenance)
    assert set(body) == {"id", "type", "label", "properties", "provenance", "clearance"}
    assert body["clearance"] == listing["clearance"]  # the same fixed notice, whatever the entity


def test_a_hidden_entity_answers_as_a_missing_one(client, demo):
    hidden = _c_only(demo, "Person")[0].id
    missing = hidden.split("-")[0] + "-" + "0" * 20
    for key in (PARTNER, RESEARCHER):
        status, body = _ask(client, key, f"/entities/{hidden}")
        status_missing, body_missing = _ask(client, key, f"/entities/{missing}")
        assert status == status_missing == 404
        assert body["detail"].replace(hidden, "ID") == body_missing["detail"].replace(missing, "ID")


def test_a_null_byte_is_not_a_wildcard(client):
    status, body = _ask(client, PARTNER, "/search", q="\x00")
    assert status == 422 and "q" in body["detail"]


def test_pseudonymised_listings_follow_pseudonyms_not_real_ids(client, demo):
    pseudonyms = client.app.state.access.pseudonyms
    _, page = _ask(client, RESEARCHER, "/search", type="Person", limit=500)
    listed = [e["id"] for e in page["items"]]
    assert len(listed) == 500 and all(i.startswith("psn-") for i in listed)
    assert listed == sorted(listed)
    # in real-id order the same people would come out in another order: the listing does not leak it
    everyone = sorted(e.id for e in demo.store.find("Person", limit=100_000))
    assert [pseudonyms.of(i) for i in everyone[:500]] != listed
    # pages continue in pseudonym order, and only visible matches count towards offsets
    _, second = _ask(client, RESEARCHER, "/search", type="Person", limit=500, offset=500)
    assert second["items"] and second["items"][0]["id"] > listed[-1]


def test_nobody_can_compute_a_persons_id(client, demo):
    nominal = demo.planted["vulnerable"]
    real = person_id(demo, nominal)
    shipped = load_spec(mapping_path("police_nominals"), demo.model)  # the namespaces anyone can read
    namespaces = {e.namespace for e in shipped.entities.values() if e.type == "Person"}
    assert namespaces
    computable = {unkeyed_id("Person", namespace, [nominal]) for namespace in namespaces | {"Person"}}
    computable.add("Person-" + hashlib.sha256(nominal.encode()).hexdigest()[:20])
    assert real not in computable
    for candidate in computable:
        assert _ask(client, ANALYST, f"/entities/{candidate}")[0] == 404
    # the id is the same hash keyed under the store's secret
    assert {demo.store.id_key().keyed(c) for c in computable} & {real}


def test_pseudonyms_are_keyed(client, demo, tmp_path):
    pseudonyms = client.app.state.access.pseudonyms
    _, page = _ask(client, RESEARCHER, "/search", type="Person", limit=1)
    shown = page["items"][0]["id"]
    real = next(e.id for e in demo.store.find("Person", limit=100_000) if pseudonyms.of(e.id) == shown)
    unkeyed = {hashlib.sha256(real.encode()).hexdigest()[:20], hashlib.sha256(f"id:{real}".encode()).hexdigest()[:20]}
    assert shown.removeprefix("psn-") not in unkeyed
    other = dev_settings(store="unused", work_dir=tmp_path, access_db=tmp_path / "access.db")
    with TestClient(create_app(other, store=demo.store, model=demo.model)) as elsewhere:
        again = elsewhere.app.state.access.pseudonyms.of(real)
    assert again != shown  # another deployment's secret gives another pseudonym


def test_a_size_cap_says_nothing_about_hidden_links(client, demo):
    """The reviewer read hidden offender and victim links off ``truncated`` with max_entities=1,
    then again through the streets of a person's hidden crimes (3 hops, occurredAt)."""
    mixed = [e for e in demo.store.find("Person", limit=5000) if {a.handling for a in e.provenance} == {"P", "C"}]
    crimes = _c_linked_crimes(demo)
    walks = [
        (1, ["offenderIn"]),
        (1, ["victimIn"]),
        (1, ["livesAt"]),
        (1, None),
        (3, ["victimIn", "occurredAt"]),
        (3, ["offenderIn", "occurredAt"]),
    ]
    probed = 0
    for entity_id in [e.id for e in mixed[:6]] + crimes[:3]:
        for hops, link_types in walks:
            params = {"hops": hops, **({"link_types": link_types} if link_types else {})}
            _, whole = _ask(client, PARTNER, f"/entities/{entity_id}/network", max_entities=5000, **params)
            assert not whole["truncated"]
            visible = {n["id"] for n in whole["nodes"]}
            for cap in (1, 2, 3):
                status, capped = _ask(client, PARTNER, f"/entities/{entity_id}/network", max_entities=cap, **params)
                assert status == 200
                shown = {n["id"] for n in capped["nodes"]}
                assert capped["truncated"] == (len(visible) > cap), (entity_id, link_types, hops, cap)
                assert shown <= visible and len(shown) == min(cap, len(visible)), (entity_id, link_types, cap)
                probed += 1
    assert probed >= 150


def _c_linked_crimes(demo) -> list[str]:
    """Crimes the partner can see that C records also link people to."""
    sub = demo.store.subgraph(["victimIn", "offenderIn"])
    linked = {k.target for k in sub.links.values() if any(a.handling == "C" for a in k.provenance)}
    return sorted(i for i in linked if any(a.handling == "P" for a in sub.entities[i].provenance))


def test_whole_graph_sizes_and_row_numbers_are_for_callers_cleared_for_everything(client, demo):
    def health(key):
        return client.get("/health", headers={"X-API-Key": key}).json()

    def landing(key):
        return client.get("/", headers={"X-API-Key": key}).text

    assert set(health(PARTNER)) == {"status"} and set(health(RESEARCHER)) >= {"entities", "links"}
    assert "<h2>The graph</h2>" not in landing(PARTNER) and "<h2>The graph</h2>" in landing(ANALYST)
    # the gaps between a file's row numbers would count the hidden rows between them
    intel = [
        e for e in demo.store.find("IntelligenceReport", limit=1000) if {a.handling for a in e.provenance} == {"P"}
    ]
    assert intel, "the demo should hold intelligence reports handled P"
    for report in intel[:10]:
        partner_rows = [p["row"] for p in _ask(client, PARTNER, f"/entities/{report.id}")[1]["provenance"]]
        analyst_rows = [p["row"] for p in _ask(client, ANALYST, f"/entities/{report.id}")[1]["provenance"]]
        assert partner_rows == [0] * len(partner_rows) and all(analyst_rows)


def test_the_audit_log_never_keeps_a_key_pasted_into_a_link(client):
    client.get("/search", params={"q": "Zak", "api_key": PARTNER}, headers={"X-Purpose": "pasted key"})
    client.get("/search", params={"q": "Zak", "password": "hunter2"}, headers={"X-API-Key": PARTNER, "X-Purpose": "p"})
    client.get("/search", params={"q": "Zak", "pw": "hunter3", "sig": "s3cr3t"}, headers={"X-API-Key": PARTNER})
    client.get("/no-such-route", params={"anything": "dev-admin"})  # no route: no value is kept
    logged = "\n".join(e["path"] for e in client.app.state.access.audit.query(limit=100_000))
    assert "q=Zak" in logged and "/no-such-route?anything=" in logged
    assert [secret for secret in (PARTNER, "dev-admin", "hunter2", "hunter3", "s3cr3t") if secret in logged] == []


def test_a_researcher_cannot_rank_people_by_the_order_of_a_crimes_records(client, demo):
    """Record ids such as {crime}/{nominal}/{role} sort by nominal number; so would their order."""
    crimes = _c_linked_crimes(demo)[:40]
    assert crimes
    for crime in crimes:
        _, shown = _ask(client, RESEARCHER, f"/entities/{crime}")
        references = [(p["source"], p["record_id"]) for p in shown["provenance"]]
        assert all(r.startswith("rec-") for _, r in references) and references == sorted(references), crime
