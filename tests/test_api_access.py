"""Access over the real app on each store: keys, handling codes, pseudonyms and the audit log.

The demo's police nominal extract and intelligence log are handled C; street crime, council ASB,
fire and problem records are P. So a partner viewer (cleared for P) must not see the planted
network's intelligence, and a researcher must never see a name, whichever route they take.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

import pytest
from conftest import Demo, demo_on, dev_settings, person_id, personal_urls
from fastapi.testclient import TestClient

from api.main import create_app
from nimgraph.access.audit import AuditEntry, AuditLog
from nimgraph.demo import find_problem
from nimgraph.labels import entity_label

ANALYST, RESEARCHER, PARTNER, ADMIN = "dev-analyst", "dev-researcher", "dev-partner", "dev-admin"


@dataclass
class Served:
    client: TestClient
    demo: Demo

    def get(self, key: str | None, url: str, purpose: str | None = "access tests", **params):
        headers = {}
        if key:
            headers["X-API-Key"] = key
        if purpose:
            headers["X-Purpose"] = purpose
        return self.client.get(url, headers=headers, params=params or None)


@pytest.fixture(scope="module", params=["embedded", "neo4j"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, model):
    demo = demo_on(request, tmp_path_factory, model, link=False)  # reads no proposals
    access_db = tmp_path_factory.mktemp("access") / "access.db"
    settings = dev_settings(store="unused", work_dir=demo.work_dir, access_db=access_db)
    with TestClient(create_app(settings, store=demo.store, model=demo.model)) as client:
        yield Served(client, demo)


def _records(body) -> list[dict]:
    """Every provenance record anywhere in a JSON body."""
    found = []
    if isinstance(body, dict):
        if {"source", "record_id", "handling"} <= set(body):
            found.append(body)
        for value in body.values():
            found.extend(_records(value))
    elif isinstance(body, list):
        for value in body:
            found.extend(_records(value))
    return found


def test_a_caller_without_a_key_is_refused(served):
    for url in personal_urls(served.demo):
        for key in (None, "not-a-key"):
            response = served.get(key, url)
            assert response.status_code == 401, url
            assert response.headers["content-type"] == "application/problem+json"
            assert response.headers["www-authenticate"].startswith("Basic")
    assert served.get(None, "/health", purpose=None).status_code == 200


def test_a_personal_read_needs_a_purpose(served):
    response = served.get(ANALYST, "/search?type=Person", purpose=None)
    assert response.status_code == 400 and "X-Purpose" in response.json()["detail"]
    by_query = served.client.get(
        "/search", params={"type": "Person", "purpose": "a link I opened"}, headers={"X-API-Key": ANALYST}
    )
    assert by_query.status_code == 200


def test_a_partner_viewer_never_receives_a_c_handled_record(served):
    hidden_ids: set[str] = set()
    for url in personal_urls(served.demo):
        analyst = served.get(ANALYST, url)
        assert analyst.status_code == 200, (url, analyst.text[:300])
        hidden_ids |= {r["record_id"] for r in _records(analyst.json()) if r["handling"] == "C"}
        for fmt in ("json", "html") if "/profiles/" in url or "/network" in url else ("json",):
            separator = "&" if "?" in url else "?"
            partner = served.get(PARTNER, f"{url}{separator}format={fmt}", purpose="partner check")
            assert partner.status_code in (200, 404), (url, partner.text[:300])
            assert "banner C" not in partner.text
            if partner.status_code == 200 and fmt == "json":
                body = partner.json()
                assert all(r["handling"] == "P" for r in _records(body)), url
                assert "withheld" not in body and body["clearance"]["filtered"] is True, url
            for record_id in hidden_ids:
                assert record_id not in partner.text, (url, record_id)
    # the planted intelligence is handled C: the analyst saw it, so the check above could fail
    assert set(served.demo.planted["vulnerable_associates"].values()) <= hidden_ids
    vulnerable = person_id(served.demo, served.demo.planted["vulnerable"])
    assert served.get(PARTNER, f"/entities/{vulnerable}").status_code == 404


def test_a_partner_sees_what_the_p_records_say_of_an_entity_that_c_records_also_support(served):
    """Neither less (the P data is the partner's to see) nor more (what only C records said)."""
    mixed = [
        e for e in served.demo.store.find("Person", limit=5000) if {a.handling for a in e.provenance} == {"P", "C"}
    ]
    assert mixed, "the demo should have people both ASB (P) and police (C) records name"
    checked = 0
    for entity in mixed[:20]:
        said_by_p: dict = {}
        for record in entity.provenance:
            if record.handling == "P":
                said_by_p.update(record.properties or {})
        only_c = set(entity.properties) - set(said_by_p)
        body = served.get(PARTNER, f"/entities/{entity.id}").json()
        assert body["properties"] == said_by_p, entity.id
        assert {p["handling"] for p in body["provenance"]} == {"P"}
        checked += bool(only_c)
    assert checked, "some of them should carry properties only the C records gave (a date of birth, say)"
    # that C records about these people exist is itself restricted: nothing in the answer says so
    streets = served.get(PARTNER, "/search", type="Street", limit=1).json()
    assert "withheld" not in body and body["clearance"] == streets["clearance"]


def _names(demo: Demo) -> set[str]:
    """Full names, nominal numbers, dates of birth, phone numbers and address lines of the demo's people.

    Single forenames and surnames are left out: "Ward" or "Wood" also name streets.
    """
    values = set()
    for type_name in ("Person", "Phone", "Address"):
        for entity in demo.store.find(type_name, limit=100_000):
            for key in ("name", "nominalId", "dateOfBirth", "phoneNumber", "addressLine"):
                if entity.properties.get(key):
                    values.add(str(entity.properties[key]))
    return {v for v in values if len(v) >= 6}


def test_a_researcher_never_sees_a_real_name(served):
    demo = served.demo
    names = _names(demo)
    assert len(names) > 100
    problem = find_problem(demo.store, demo.planted["problem"])
    profile = served.get(RESEARCHER, f"/profiles/problem/{problem}")
    assert profile.status_code == 200
    people = [p["person"] for p in profile.json()["people"]["key_individuals"]]
    assert people and all(p.startswith("psn-") for p in people), json.dumps(profile.json()["people"])[:2000]
    texts = [profile.text]
    for url in (
        f"/profiles/subject/{people[0]}",
        f"/profiles/subject/{people[0]}?format=html",
        f"/entities/{people[0]}",
        f"/entities/{people[0]}/associations",
        f"/entities/{people[0]}/network?format=html",
        f"/paths?from={people[0]}&to={people[1]}",
        "/search?type=Person&limit=200",
        f"/problems/{problem}/links",
    ):
        response = served.get(RESEARCHER, url)
        assert response.status_code == 200, (url, response.text[:300])
        texts.append(response.text)
    seen = "\n".join(texts).casefold()
    leaked = sorted(n for n in names if n.casefold() in seen)
    assert leaked == []
    # the same reads as an analyst do show names: the check above can fail
    analyst = served.get(ANALYST, f"/profiles/problem/{problem}").text.casefold()
    assert any(n.casefold() in analyst for n in names)


def test_a_researcher_cannot_confirm_a_name_or_an_id(served):
    demo = served.demo
    vulnerable = demo.store.get(person_id(demo, demo.planted["vulnerable"]))
    assert served.get(RESEARCHER, f"/entities/{vulnerable.id}").status_code == 404
    surname = entity_label(demo.model, vulnerable).split()[-1]
    found = served.get(RESEARCHER, "/search", q=surname, type="Person").json()
    assert found["items"] == []
    assert served.get(ANALYST, "/search", q=surname, type="Person").json()["items"]


def test_pseudonyms_are_stable(served):
    first = served.get(RESEARCHER, "/search", type="Person", limit=20).json()["items"]
    again = served.get(RESEARCHER, "/search", type="Person", limit=20).json()["items"]
    assert [e["id"] for e in first] == [e["id"] for e in again]
    one = served.get(RESEARCHER, f"/entities/{first[0]['id']}").json()
    assert one["id"] == first[0]["id"] and one["properties"] == {}
    assert all(p["record_id"].startswith("rec-") for p in one["provenance"])


def test_each_personal_data_read_is_audited(served):
    demo = served.demo
    vulnerable = person_id(demo, demo.planted["vulnerable"])
    purpose = f"audit check {id(served)}"
    reads = [f"/entities/{vulnerable}", f"/entities/{vulnerable}/associations", f"/profiles/subject/{vulnerable}"]
    for url in reads:
        assert served.get(ANALYST, url, purpose=purpose).status_code == 200
    served.get(PARTNER, f"/entities/{vulnerable}", purpose=purpose)  # refused: logged all the same
    log = served.get(ADMIN, "/audit", purpose="review", limit=1000, verify="true").json()
    mine = [e for e in log["items"] if e["purpose"] == purpose]
    assert [e["path"] for e in mine] == [*reads, f"/entities/{vulnerable}"]
    assert [e["who"] for e in mine] == ["development analyst"] * 3 + ["development partner viewer"]
    assert all(vulnerable in e["items"] for e in mine[:3])
    assert mine[3]["status"] == 404 and mine[3]["items"] == [] and mine[3]["withheld"]["entities"] >= 1
    assert log["intact"] is True
    by_item = served.get(ADMIN, "/audit", purpose="review", item=vulnerable, limit=1000).json()["items"]
    assert {e["seq"] for e in mine[:3]} <= {e["seq"] for e in by_item}


def test_only_admins_read_the_audit_log_and_nobody_changes_it(served):
    assert served.get(ANALYST, "/audit").status_code == 403
    for method in ("post", "put", "patch", "delete"):
        response = getattr(served.client, method)("/audit", headers={"X-API-Key": ADMIN, "X-Purpose": "try"})
        assert response.status_code == 405


def test_the_audit_log_refuses_edits_and_shows_tampering(tmp_path):
    log = AuditLog(tmp_path / "audit.db", key="k" * 32, anchor=tmp_path / "anchor.log")
    for n in range(3):
        log.append(AuditEntry("DC 1", "analyst", "case 7", "GET", f"/entities/Person-{n}", 200, [f"Person-{n}"]))
    assert log.verify().intact
    raw = sqlite3.connect(tmp_path / "audit.db")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        raw.execute("UPDATE audit SET who = 'someone else' WHERE seq = 2")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        raw.execute("DELETE FROM audit WHERE seq = 2")
    raw.execute("DROP TRIGGER audit_no_update")  # what only someone with the file itself could do
    raw.execute("UPDATE audit SET items = ? WHERE seq = 2", (json.dumps([]),))
    raw.commit()
    found = log.verify()
    assert not found.intact and found.first_broken == 2


# ---------------------------------------------------------------- assessments, on each store
def test_assessments_a_partner_counts_incidents_but_never_the_people_of_restricted_records(served):
    analyst = served.get(ANALYST, "/assessments/strategic").json()
    partner = served.get(PARTNER, "/assessments/strategic").json()
    assert analyst["people"]["victims"] > 0
    assert partner["people"]["victims"] == 0 and partner["people"]["offenders"] == 0
    assert partner["people"]["screenings"]["criminal_associates"]["people"] == 0
    assert partner["clearance"]["filtered"] is True
    assert {s["source"] for s in partner["sources"]} < {s["source"] for s in analyst["sources"]}
    # intelligence reports count by the grades of the records the caller may see: a partner's are all P
    assert any(grade.endswith("C") for grade in analyst["intelligence"]["by_grade"])
    assert partner["intelligence"]["by_grade"] and all(g.endswith("P") for g in partner["intelligence"]["by_grade"])
    page = served.get(PARTNER, "/assessments/strategic", format="html").text
    for source in {s["source"] for s in analyst["sources"]} - {s["source"] for s in partner["sources"]}:
        assert source not in page


def test_assessments_a_researcher_sees_people_only_under_pseudonyms(served):
    demo = served.demo
    body = served.get(RESEARCHER, "/assessments/tactical", days=92).json()
    listed = [r for kind in ("victims", "offenders") for r in body["new_repeats"][kind]["listed"]]
    assert all(r["id"].startswith("psn-") for r in listed)
    page = served.get(RESEARCHER, "/assessments/tactical", format="html", days=92).text
    victim = demo.store.get(person_id(demo, demo.planted["repeat_victim"]))
    assert victim.properties["surname"] not in page


def test_an_assessment_area_one_may_not_see_is_refused_as_one_that_does_not_exist(served):
    demo = served.demo
    restricted_person = person_id(demo, demo.planted["repeat_victim"])  # only the C extract names them
    refusals = [
        served.get(PARTNER, "/assessments/strategic", area=area)
        for area in ("LSOA-0000000000000000000", restricted_person)
    ]
    assert [r.status_code for r in refusals] == [404, 404]
    assert refusals[0].json()["detail"] == refusals[1].json()["detail"]
    lsoa = next(e.id for e in demo.store.find("LSOA", limit=1))
    scoped = served.get(PARTNER, "/assessments/strategic", area=lsoa).json()
    assert scoped["terms_of_reference"]["area"]["id"] == lsoa
