"""What a hostile reviewer found in the assessments, kept found: homes listed are audited and
pseudonymised like people, a broken table tells callers nothing of its content, bad dates are
refused cleanly, and the command line audits refusals and wants a real purpose."""

from __future__ import annotations

import pytest
from conftest import TEST_ID_KEY, dev_settings
from fastapi.testclient import TestClient

from api.main import create_app
from nimgraph.access.audit import AuditLog
from nimgraph.access.pseudonyms import Pseudonyms
from nimgraph.access.roles import Role, clearance_for
from nimgraph.access.view import ClearedView
from nimgraph.cli import main
from nimgraph.config import Settings
from nimgraph.products.assessing import AssessmentSettings
from nimgraph.products.common import TableError
from nimgraph.products.harm import load_harm_index
from nimgraph.products.tactical import build_tactical_assessment
from nimgraph.records import Assertion, Batch, Entity, Link
from nimgraph.store.embedded import EmbeddedStore

HOMES = ["Address-h1", "Address-h2", "Address-h3"]


def _record(record_id: str, day: str) -> Assertion:
    return Assertion("test", record_id, "t.csv", 2, day, "1AP", "P")


def homes_batch() -> Batch:
    """Two ASB reports at each of three homes in the last fortnight of October, none before."""
    entities, links = [], []
    for n, home in enumerate(HOMES):
        entities.append(
            Entity(
                home,
                "Address",
                {
                    "addressLine": f"{n + 1} Quiet Close",
                    "postcode": "NW9 1AA",
                    "latitude": 53.5,
                    "longitude": -2.2 + n / 1000,
                },
                [_record(home, "2026-10-01")],
            )
        )
        for k, day in enumerate(("2026-10-20", "2026-10-27")):
            event = f"ASBIncident-{n}{k}"
            entities.append(Entity(event, "ASBIncident", {"date": day, "category": "Nuisance"}, [_record(event, day)]))
            links.append(Link(f"at-{n}{k}", "occurredAt", event, home, {}, [_record(f"at-{n}{k}", day)]))
    return Batch(entities=entities, links=links)


@pytest.fixture
def homes_store(tmp_path, model):
    store = EmbeddedStore(tmp_path / "graph.db", model, id_key=TEST_ID_KEY)
    store.upsert(homes_batch())
    yield store
    store.close()


def test_homes_a_tactical_assessment_lists_are_released_and_pseudonymised(homes_store, model, tmp_path):
    tables = AssessmentSettings.load()
    analyst = ClearedView(homes_store, model, clearance_for(Role.ANALYST))
    product = build_tactical_assessment(analyst, model, tables, until="2026-10-28", screenings=False)
    listed = product.new_repeats["locations"]["listed"]
    assert sorted(r["id"] for r in listed) == HOMES
    assert len(product.map["points"]) == 6  # the analyst's map shows the incidents at the homes
    analyst.release_only(product.shown, before=set())
    assert analyst.released == set(HOMES)  # what the audit entry names

    pseudonyms = Pseudonyms(tmp_path / "access.db", "k" * 40)
    researcher = ClearedView(homes_store, model, clearance_for(Role.RESEARCHER), pseudonyms)
    seen = build_tactical_assessment(researcher, model, tables, until="2026-10-28", screenings=False)
    rows = seen.new_repeats["locations"]["listed"]
    assert [r["id"] for r in rows] == sorted(pseudonyms.of(h) for h in HOMES)  # by pseudonym, not by real id
    assert all(r["label"].startswith("Address ") and r["label"] != "Address" for r in rows)
    assert not any("Quiet Close" in r["label"] for r in rows)
    assert seen.map["points"] == []  # a home has no coordinates for a pseudonymised caller: nothing is drawn
    researcher.release_only(seen.shown, before=set())
    assert researcher.released == set(HOMES)
    assert all(pseudonyms.resolve(r["id"]) in HOMES for r in rows)  # registered, so the caller can ask about them
    pseudonyms.close()


def test_a_broken_sections_file_tells_callers_nothing_of_what_it_holds(demo, tmp_path):
    sections = tmp_path / "sections.yaml"
    sections.write_text("tactical_assessment:\n  all:\n    summary: Risk: Victoria Secretname (NP950000)\n")
    settings = dev_settings(
        store="unused", work_dir=demo.work_dir, access_db=tmp_path / "access.db", assessment_sections=sections
    )
    with TestClient(create_app(settings, store=demo.store, model=demo.model)) as client:
        response = client.get("/assessments/tactical", headers={"X-API-Key": "dev-partner", "X-Purpose": "check"})
    assert response.status_code == 500
    assert "Secretname" not in response.text and str(tmp_path) not in response.text
    assert "administrator" in response.json()["detail"]


def test_sections_take_only_text(tmp_path, demo):
    sections = tmp_path / "sections.yaml"
    sections.write_text(
        "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
        "strategic_assessment:\n  all:\n    pestelo: *b\n    executive_summary: Plain text.\n"
    )
    from nimgraph.products.assessing import analyst_sections

    kept = analyst_sections("strategic_assessment", AssessmentSettings.load(sections_file=sections), "all")
    assert kept == {"executive_summary": "Plain text.", "pestelo": "", "analyst_conclusions": ""}


def test_a_harm_index_needs_finite_weights(tmp_path):
    table = tmp_path / "harm.yaml"
    table.write_text("name: t\nsource: s\nyear: 2026\nweights: {Robbery: .inf}\n")
    with pytest.raises(TableError, match="finite"):
        load_harm_index(table)


def test_impossible_dates_are_refused_cleanly(demo, tmp_path):
    settings = dev_settings(store="unused", work_dir=demo.work_dir, access_db=tmp_path / "access.db")
    with TestClient(create_app(settings, store=demo.store, model=demo.model)) as client:
        for kind in ("strategic", "tactical"):
            for until in ("2026-02-30", "2026-13-01", "0001-01-01", "9999-12-31"):
                response = client.get(
                    f"/assessments/{kind}",
                    params={"until": until},
                    headers={"X-API-Key": "dev-analyst", "X-Purpose": "check"},
                )
                assert response.status_code == 422, (kind, until)
                assert response.headers["content-type"] == "application/problem+json"


def test_the_command_line_wants_a_purpose_and_audits_a_refusal(homes_store, model, cli_development, capsys, tmp_path):
    homes_store.close()
    store = ["--store", str(tmp_path / "graph.db")]
    assert main([*store, "assess", "tactical", "--purpose", " ", "-q"]) == 2
    assert "purpose" in capsys.readouterr().err
    assert main([*store, "assess", "strategic", "--until", "2026-02-30", "--purpose", "check dates", "-q"]) == 2
    err = capsys.readouterr().err
    assert "real day" in err and "Traceback" not in err
    assert main([*store, "assess", "strategic", "--area", "LSOA-nowhere", "--purpose", "check refusal", "-q"]) == 2
    settings = Settings()
    entries = AuditLog(settings.access_db, settings.secret("audit_key"), settings.audit_anchor).query(limit=100)
    refused = [e for e in entries if e["method"].endswith("-REFUSED")]
    assert [e["purpose"] for e in refused] == ["check dates", "check refusal"]
    assert all("months=12" in e["path"] and "format=html" in e["path"] for e in refused)
