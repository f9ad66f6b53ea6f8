"""The assessments over the real app on each store: formats, clearance, pseudonyms, refusals, audit.

The demo's police nominal extract and intelligence log are handled C; street crime, ASB, fire and
problem records are P. A partner counts incidents but never the people the C extract names, and
learns nothing from an area it may not see that it would not learn from one that does not exist.
"""

from __future__ import annotations

import io

import pytest
from conftest import demo_on, dev_settings, person_id
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from api.main import create_app
from nimgraph.products.assessment_output import XLSX_TYPE

ANALYST, RESEARCHER, PARTNER, ADMIN = "dev-analyst", "dev-researcher", "dev-partner", "dev-admin"


@pytest.fixture(scope="module", params=["embedded", "neo4j"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, model):
    demo = demo_on(request, tmp_path_factory, model)
    access_db = tmp_path_factory.mktemp("access") / "access.db"
    settings = dev_settings(
        store="unused",
        work_dir=demo.work_dir,
        access_db=access_db,
        assessment_sections=tmp_path_factory.mktemp("sections") / "sections.yaml",
    )
    with TestClient(create_app(settings, store=demo.store, model=demo.model)) as client:
        client.demo = demo  # type: ignore[attr-defined]
        yield client


def _get(client: TestClient, key: str, url: str, purpose: str = "assessment tests", **params):
    return client.get(url, headers={"X-API-Key": key, "X-Purpose": purpose}, params=params or None)


def test_each_format_of_each_assessment(served):
    for kind in ("strategic", "tactical"):
        body = _get(served, ANALYST, f"/assessments/{kind}").json()
        assert body["product"] == f"{kind}_assessment"
        assert body["clearance"]["filtered"] is False
        page = _get(served, ANALYST, f"/assessments/{kind}", format="html")
        assert page.headers["content-type"].startswith("text/html")
        assert "img-src 'self' data: blob:;" in page.headers["content-security-policy"]
        assert f"{kind.capitalize()} assessment" in page.text
        book = _get(served, ANALYST, f"/assessments/{kind}", format="xlsx")
        assert book.headers["content-type"] == XLSX_TYPE
        assert load_workbook(io.BytesIO(book.content))["About"]["B1"].value == f"{kind}_assessment"


def test_a_partner_counts_incidents_but_never_the_people_of_restricted_records(served):
    analyst = _get(served, ANALYST, "/assessments/strategic").json()
    partner = _get(served, PARTNER, "/assessments/strategic").json()
    assert analyst["people"]["victims"] > 0
    assert partner["people"]["victims"] == 0 and partner["people"]["offenders"] == 0
    assert partner["people"]["screenings"]["criminal_associates"]["people"] == 0
    assert partner["clearance"]["filtered"] is True
    assert {s["source"] for s in partner["sources"]} < {s["source"] for s in analyst["sources"]}
    # intelligence reports count by the grades of the records the caller may see: a partner's are all P
    assert any(grade.endswith("C") for grade in analyst["intelligence"]["by_grade"])
    assert partner["intelligence"]["by_grade"] and all(g.endswith("P") for g in partner["intelligence"]["by_grade"])
    page = _get(served, PARTNER, "/assessments/strategic", format="html").text
    for source in {s["source"] for s in analyst["sources"]} - {s["source"] for s in partner["sources"]}:
        assert source not in page


def test_a_researcher_sees_people_only_under_pseudonyms(served):
    demo = served.demo
    body = _get(served, RESEARCHER, "/assessments/tactical", days=92).json()
    listed = [r for kind in ("victims", "offenders") for r in body["new_repeats"][kind]["listed"]]
    assert all(r["id"].startswith("psn-") for r in listed)
    page = _get(served, RESEARCHER, "/assessments/tactical", format="html", days=92).text
    victim = demo.store.get(person_id(demo, demo.planted["repeat_victim"]))
    assert victim.properties["surname"] not in page


def test_an_area_one_may_not_see_is_refused_as_one_that_does_not_exist(served):
    demo = served.demo
    restricted_person = person_id(demo, demo.planted["repeat_victim"])  # only the C extract names them
    refusals = [
        _get(served, PARTNER, "/assessments/strategic", area=area)
        for area in ("LSOA-0000000000000000000", restricted_person)
    ]
    assert [r.status_code for r in refusals] == [404, 404]
    assert refusals[0].json()["detail"] == refusals[1].json()["detail"]
    lsoa = next(e.id for e in demo.store.find("LSOA", limit=1))
    scoped = _get(served, PARTNER, "/assessments/strategic", area=lsoa).json()
    assert scoped["terms_of_reference"]["area"]["id"] == lsoa


def test_bad_parameters_say_what_is_wrong(served):
    for params in ({"months": 0}, {"months": 99}, {"until": "28/10/2026"}, {"format": "pdf"}):
        response = _get(served, ANALYST, "/assessments/strategic", **params)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"
    empty = _get(served, ANALYST, "/assessments/strategic", until="1990-01-01")
    assert empty.status_code == 404 and "no incidents" in empty.json()["detail"]


def test_assessments_are_audited_with_their_purpose(served):
    purpose = f"TTCG {id(served)}"
    assert _get(served, ANALYST, "/assessments/tactical", purpose=purpose).status_code == 200
    assert _get(served, PARTNER, "/assessments/strategic", purpose=purpose, area="nope").status_code == 404
    log = _get(served, ADMIN, "/audit", purpose="review", limit=1000).json()["items"]
    mine = [e for e in log if e["purpose"] == purpose]
    assert [(e["path"], e["status"]) for e in mine] == [
        ("/assessments/tactical", 200),
        ("/assessments/strategic?area=nope", 404),
    ]


def test_a_tile_server_is_allowed_only_when_set(tmp_path_factory, demo):
    settings = dev_settings(
        store="unused",
        work_dir=demo.work_dir,
        access_db=tmp_path_factory.mktemp("tiles") / "access.db",
        map_tile_url="https://tiles.example.org/{z}/{x}/{y}.png",
        map_tile_attribution="Example tiles",
    )
    with TestClient(create_app(settings, store=demo.store, model=demo.model)) as client:
        page = _get(client, ANALYST, "/assessments/tactical", format="html")
    assert "https://tiles.example.org" in page.headers["content-security-policy"]
    assert "tiles.example.org/{z}/{x}/{y}.png" in page.text
