"""The strategic and tactical assessments find what the demo plants, through the caller's view.

The demo (``nimgraph/demo/generate.py``) plants a low-volume high-harm category, a category
significantly up on last year and one that is not, a hotspot that emerges in the last 28 days and
a priority (robbery rising in one LSOA with repeat victims); ``planted.json`` says where.
"""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import load_workbook
from scipy.stats import poisson_means_test

from nimgraph.access.roles import Role, clearance_for
from nimgraph.access.view import ClearedView
from nimgraph.products import assessment_output
from nimgraph.products.assessing import AssessmentSettings
from nimgraph.products.strategic import build_strategic_assessment
from nimgraph.products.tactical import build_tactical_assessment
from nimgraph.viz import maps


@pytest.fixture(scope="module")
def planted(demo) -> dict:
    return json.loads((demo.work_dir / "data" / "planted.json").read_text())["assessment"]


@pytest.fixture(scope="module")
def tables(tmp_path_factory) -> AssessmentSettings:
    return AssessmentSettings.load(sections_file=tmp_path_factory.mktemp("sections") / "sections.yaml")


@pytest.fixture(scope="module")
def strategic(demo, tables):
    view = ClearedView(demo.store, demo.model, clearance_for(Role.ANALYST))
    return build_strategic_assessment(view, demo.model, tables)


@pytest.fixture(scope="module")
def tactical(demo, tables):
    view = ClearedView(demo.store, demo.model, clearance_for(Role.ANALYST))
    return build_tactical_assessment(view, demo.model, tables)


def _category(product, name: str) -> dict:
    return next(r for r in product.volume["by_category"] if r["label"] == name)


def test_the_period_ends_with_the_latest_incident(strategic, tactical, planted):
    assert strategic.terms_of_reference["period"]["to"][:7] == planted["last_day"][:7]
    assert strategic.terms_of_reference["period"]["from"][:7] == planted["current_year"]["from"]
    assert tactical.terms_of_reference["period"]["to"] == planted["last_day"]
    assert tactical.terms_of_reference["period"]["days"] == 14


def test_counts_by_category_are_the_planted_counts(strategic, planted):
    for category, counts in planted["counts"].items():
        row = _category(strategic, category)
        assert (row["current"], row["previous"]) == (counts["current"], counts["previous"]), category


def test_a_planted_rise_is_significant_and_a_level_category_is_not(strategic, planted):
    rise, level = _category(strategic, planted["significant_rise"]), _category(strategic, planted["not_significant"])
    assert rise["significant"] and rise["direction"] == "up"
    assert not level["significant"]
    for row in (rise, level):  # the two-sided E-test with equal exposures, as scipy computes it
        reference = poisson_means_test(row["current"], 1, row["previous"], 1).pvalue
        assert row["p_value"] == pytest.approx(reference, abs=1e-4)


def test_harm_ranking_lifts_the_low_volume_high_harm_category(strategic, planted):
    high, bulk = planted["harm_lift"]["high_harm"], planted["harm_lift"]["high_volume"]
    rows = {r["category"]: r for r in strategic.harm["by_category"]}
    assert rows[high]["count"] < rows[bulk]["count"]
    assert rows[high]["volume_rank"] > rows[bulk]["volume_rank"]
    assert rows[high]["harm_rank"] < rows[bulk]["harm_rank"]
    assert {"category": high, "above": bulk} in [
        {k: v for k, v in r.items() if k in ("category", "above")} for r in strategic.harm["lifted"]
    ]
    assert strategic.harm["index"]["status"] == "illustrative"


def _holds(cell_bounds: dict, latitude: float, longitude: float) -> bool:
    return (
        cell_bounds["south"] <= latitude <= cell_bounds["north"]
        and cell_bounds["west"] <= longitude <= cell_bounds["east"]
    )


def test_the_hotspot_that_emerged_in_the_last_28_days_is_found(strategic, tactical, planted):
    spot = planted["emerging_hotspot"]
    strategic_cells = [c for c in strategic.map["hotspots"] if _holds(c, spot["latitude"], spot["longitude"])]
    assert strategic_cells, "the planted street's cell is not on the strategic assessment's map"
    emerging = {e["cell"]: e for e in strategic.hotspots["emerging"]}
    assert strategic_cells[0]["id"] in emerging
    assert emerging[strategic_cells[0]["id"]]["pattern"] == "new"  # hot only in the last of the 28-day periods
    assert emerging[strategic_cells[0]["id"]]["in_last_28_days"] >= spot["events"] - spot["before"]
    tactical_cells = [c for c in tactical.map["hotspots"] if _holds(c, spot["latitude"], spot["longitude"])]
    assert tactical_cells and tactical_cells[0]["id"] in {e["cell"] for e in tactical.hotspots["new_or_emerging"]}


def test_the_planted_priority_leads_the_recommended_priorities(strategic, planted):
    wanted = planted["priority"]
    local = [r for r in strategic.priorities["ranked"] if r["kind"] == "category in area"]
    assert local, "no category-in-area priority was recommended"
    top = local[0]
    assert top["category"] == wanted["category"]
    assert wanted["lsoa_code"] in top["area_label"]
    assert top["measures"]["trend"]["score"] == 5  # significantly up on last year
    assert top["measures"]["volume"]["value"] == wanted["current"]
    assert all(gap for gap in top["gaps"])  # every entry says what limits confidence, when anything does


def test_changing_the_matrix_weights_changes_the_ranking(demo, tmp_path):
    matrix = tmp_path / "matrix.yaml"
    matrix.write_text(
        "name: volume only\nsource: test\nfactors:\n  likelihood:\n    weight: 1\n    measures: {volume: 1}\n"
        "share_bands: [0.05, 0.15, 0.3, 0.5]\npublic_types: []\ntop: 200\n"
    )
    view = ClearedView(demo.store, demo.model, clearance_for(Role.ANALYST))
    product = build_strategic_assessment(
        view, demo.model, AssessmentSettings.load(priority_matrix=matrix), screenings=False
    )
    volumes = [r["measures"]["volume"]["score"] for r in product.priorities["ranked"]]
    assert volumes == sorted(volumes, reverse=True)
    assert product.terms_of_reference["priority_matrix"]["name"] == "volume only"


def test_analyst_sections_are_kept_when_the_product_is_regenerated(demo, tmp_path):
    sections = tmp_path / "sections.yaml"
    sections.write_text("strategic_assessment:\n  all:\n    pestelo: 'Political: a new PCC plan.'\n")
    view = ClearedView(demo.store, demo.model, clearance_for(Role.ANALYST))
    tables = AssessmentSettings.load(sections_file=sections)
    for _ in range(2):
        product = build_strategic_assessment(view, demo.model, tables, screenings=False)
        assert product.analyst_sections["pestelo"] == "Political: a new PCC plan."
        assert "Political: a new PCC plan." in assessment_output.to_html(product)


def test_a_partner_sees_no_count_from_records_it_may_not_see(demo, tables, strategic):
    partner = ClearedView(demo.store, demo.model, clearance_for(Role.PARTNER_VIEWER))
    product = build_strategic_assessment(partner, demo.model, tables, screenings=False)
    # the nominal extract naming victims and offenders is restricted: a partner counts incidents, never people
    assert strategic.people["victims"] > 0
    assert product.people["victims"] == 0 and product.people["offenders"] == 0
    assert {code for s in product.sources for code in s["grades"]} <= {
        code for s in strategic.sources for code in s["grades"]
    }
    assert product.handling in clearance_for(Role.PARTNER_VIEWER).handling


def test_the_page_needs_nothing_from_the_network_and_the_workbook_has_the_tables(strategic, tactical):
    for product in (strategic, tactical):
        page = assessment_output.to_html(product)
        assert "<svg" in page or product is tactical
        # Leaflet's own code names its site in a credit the map never adds (tests/test_assessment_charts.py)
        page = page.replace(str(maps.map_assets()), "")
        assert str(maps.map_assets()) not in page and "nimgraphMap(" in page
        assert 'src="http' not in page and 'href="http' not in page and 'tileLayer("http' not in page
        if product is strategic:  # the summary says the change in words, each number once
            total = product.volume["total"]
            assert f"{total['current']:,} against {total['previous']:,} (" in page
        book = load_workbook(io.BytesIO(assessment_output.to_xlsx(product)))
        assert book["About"]["A1"].value == "Assessment"
    names = load_workbook(io.BytesIO(assessment_output.to_xlsx(strategic))).sheetnames
    assert {"Volume by category", "Harm", "Hotspots", "Priorities"} <= set(names)


def test_a_shorter_period_is_also_set_against_the_one_before_it(demo, tables):
    view = ClearedView(demo.store, demo.model, clearance_for(Role.ANALYST))
    product = build_strategic_assessment(view, demo.model, tables, months=3, screenings=False)
    tor = product.terms_of_reference
    assert (
        tor["previous_period"]["to"] < tor["period"]["from"] and tor["previous_period"] != tor["same_period_last_year"]
    )
    rows = {r["label"]: r for r in product.volume["by_category_against_previous_period"]}
    against_last_year = {r["label"]: r for r in product.volume["by_category"]}
    for label, row in rows.items():
        assert row["current"] == against_last_year.get(label, row)["current"]
    assert sum(r["current"] for r in rows.values()) == product.summary["incidents"]
    assert sum(r["previous"] for r in rows.values()) == product.summary["previous_period"]


def test_the_map_key_gives_no_two_categories_one_colour(strategic):
    categories = {p["category"] for p in strategic.map["points"]}
    assert len(categories) <= len(maps.CATEGORY_COLOURS)
    assert len({i["category"] for i in strategic.map["points"]}) > 1
