"""The assessments over the real app on each store: formats, clearance, pseudonyms, refusals, audit.

The demo's police nominal extract and intelligence log are handled C; street crime, ASB, fire and
problem records are P. A partner counts incidents but never the people the C extract names, and
learns nothing from an area it may not see that it would not learn from one that does not exist.
"""

from __future__ import annotations

import io

import pytest
from conftest import dev_settings
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from api.main import create_app
from nimgraph.products.assessment_output import XLSX_TYPE

ANALYST, RESEARCHER, PARTNER, ADMIN = "dev-analyst", "dev-researcher", "dev-partner", "dev-admin"


@pytest.fixture(scope="module")
def served_embedded(demo, tmp_path_factory):
    """The app over the session's embedded demo, for what does not depend on the store."""
    access_db = tmp_path_factory.mktemp("access-embedded") / "access.db"
    settings = dev_settings(store="unused", work_dir=demo.work_dir, access_db=access_db)
    with TestClient(create_app(settings, store=demo.store, model=demo.model)) as client:
        client.demo = demo  # type: ignore[attr-defined]
        yield client


def test_no_key_or_no_purpose_is_refused_and_logged(served_embedded):
    for kind in ("strategic", "tactical"):
        for key in ({}, {"X-API-Key": "not-a-key"}):
            response = served_embedded.get(f"/assessments/{kind}", headers={**key, "X-Purpose": "check"})
            assert response.status_code == 401 and response.headers["www-authenticate"].startswith("Basic")
        without = served_embedded.get(f"/assessments/{kind}", headers={"X-API-Key": ANALYST})
        assert without.status_code == 400 and "X-Purpose" in without.json()["detail"]
    log = _get(served_embedded, ADMIN, "/audit", purpose="review", limit=1000).json()["items"]
    refused = [(e["path"], e["status"], e["who"]) for e in log if e["path"].startswith("/assessments/")]
    assert ("/assessments/strategic", 401, "(no key)") in refused
    assert ("/assessments/tactical", 401, "(unrecognised key)") in refused


def _get(client: TestClient, key: str, url: str, purpose: str = "assessment tests", **params):
    return client.get(url, headers={"X-API-Key": key, "X-Purpose": purpose}, params=params or None)


def test_each_format_of_each_assessment(served_embedded):
    served = served_embedded
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


def test_bad_parameters_say_what_is_wrong(served_embedded):
    served = served_embedded
    for params in ({"months": 0}, {"months": 99}, {"until": "28/10/2026"}, {"format": "pdf"}):
        response = _get(served, ANALYST, "/assessments/strategic", **params)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"
    empty = _get(served, ANALYST, "/assessments/strategic", until="1990-01-01")
    assert empty.status_code == 404 and "no incidents" in empty.json()["detail"]


def test_assessments_are_audited_with_their_purpose(served_embedded):
    served = served_embedded
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
