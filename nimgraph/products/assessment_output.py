"""The assessments as a self-contained page (charts inline, the map offline) and as an xlsx workbook."""

from __future__ import annotations

import io
from collections.abc import Iterable

from openpyxl import Workbook
from openpyxl.styles import Font

from nimgraph.grading import HANDLING
from nimgraph.products.render import environment
from nimgraph.products.strategic import StrategicAssessment
from nimgraph.products.tactical import TacticalAssessment
from nimgraph.viz import charts, maps

Assessment = StrategicAssessment | TacticalAssessment
TEMPLATES = {StrategicAssessment: "strategic_assessment.html", TacticalAssessment: "tactical_assessment.html"}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _strategic_charts(data: dict) -> dict:
    months = data["volume"]["by_month"]
    harm_rows = [(r["category"], float(r["count"]), float(r["harm"])) for r in data["harm"]["by_category"][:15]]
    return {
        "trend": charts.trend_chart(
            months["months"],
            [("This period", months["current"]), ("Same months last year", months["last_year"])],
            title="Incidents per month",
            y_label="Incidents",
        ),
        "harm": charts.bar_chart(
            harm_rows, title="Incidents and harm by category", value_label="Incidents", harm_label="Harm"
        ),
        "concentration": charts.concentration_chart(
            [(x, y) for x, y in data["concentration"]["curve"]], title="Concentration of incidents across places"
        ),
    }


def to_html(product: Assessment, *, notice: str | None = None, tile_url: str | None = None, attribution=None) -> str:
    """One page that needs nothing from the network (unless a tile URL is set) and prints to PDF."""
    data = product.to_dict()
    drawn = product.map.get("points") or product.map.get("hotspots")
    map_markup = (
        maps.map_html(
            element_id="assessment-map",
            points=product.map.get("points", []),
            hotspots=product.map.get("hotspots", []),
            areas=None,
            tile_url=tile_url,
            attribution=attribution,
        )
        if drawn
        else ""
    )
    return (
        environment()
        .get_template(TEMPLATES[type(product)])
        .render(
            product=data,
            notice=notice,
            handling=product.handling,
            handling_text=HANDLING[product.handling] if product.handling else "",
            charts=_strategic_charts(data) if isinstance(product, StrategicAssessment) else {},
            map=map_markup,
            map_assets=maps.map_assets() if drawn else "",
        )
    )


def _sheet(book: Workbook, title: str, header: list[str], rows: Iterable[list]) -> None:
    sheet = book.create_sheet(title[:31])
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_cell(v) for v in row])
    sheet.freeze_panes = "A2"


def _cell(value):
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value  # a value from partner data must never run as a spreadsheet formula
    if isinstance(value, list | tuple | dict):
        return str(value)
    return value


def to_xlsx(product: Assessment) -> bytes:
    """The assessment's tables, one sheet each, with the handling code and sources on the first."""
    data = product.to_dict()
    book = Workbook()
    about = book.active
    about.title = "About"
    about.append(["Assessment", data["product"]])
    about.append(["Handling", f"{product.handling}: {HANDLING[product.handling]}" if product.handling else "none"])
    tor = data["terms_of_reference"]
    about.append(["Area covered", tor["area"]["label"]])
    about.append(["Period", f"{tor['period']['from']} to {tor['period']['to']}"])
    about.append(["Generated", data["generated_at"]])
    for note in data["footnotes"]:
        about.append([f"Source {note['n']}", note["text"]])
    for gap in data["intelligence_gaps"]:
        about.append(["Gap", gap])
    change = ["current", "previous", "change_percent", "p_value", "significant"]
    if isinstance(product, StrategicAssessment):
        for key, title in (("by_category", "Volume by category"), ("by_area", "Volume by area")):
            _sheet(
                book,
                title,
                ["id", "label", *change],
                ([r["id"], r["label"], *(r[c] for c in change)] for r in data["volume"][key]),
            )
        months = data["volume"]["by_month"]
        _sheet(
            book,
            "By month",
            ["month", "this period", "same month last year"],
            zip(months["months"], months["current"], months["last_year"], strict=True),
        )
        harm = ["category", "count", "weight", "weight_listed", "harm", "harm_share", "volume_rank", "harm_rank"]
        _sheet(book, "Harm", harm, ([r[c] for c in harm] for r in data["harm"]["by_category"]))
        _sheet(book, "Concentration curve", ["share of places", "share of incidents"], data["concentration"]["curve"])
        spots = ["cell", "count", "z", "p", "pattern"]
        _sheet(
            book,
            "Hotspots",
            [*spots, "lat", "lon"],
            ([*(s[c] for c in spots), *s["centre"]] for s in data["hotspots"].get("hot_cells", [])),
        )
        ranked = data["priorities"]["ranked"]
        factors = list(ranked[0]["factors"]) if ranked else []
        _sheet(
            book,
            "Priorities",
            ["rank", "kind", "name", "score", *factors, "gaps"],
            (
                [r["rank"], r["kind"], r["name"], r["score"], *r["factors"].values(), "; ".join(r["gaps"])]
                for r in ranked
            ),
        )
    else:
        above = ["label", "count", "expected", "upper_limit", "p_value"]
        for key, title in (("by_category", "Above expected, category"), ("by_area", "Above expected, area")):
            _sheet(book, title, above, ([r[c] for c in above] for r in data["above_expected"][key]))
        hot = ["cell", "pattern", "count_now", "z_now"]
        _sheet(book, "New hotspots", hot, ([r[c] for c in hot] for r in data["hotspots"].get("new_or_emerging", [])))
        for kind in ("victims", "offenders", "locations"):
            listed = data["new_repeats"][kind]["listed"]
            _sheet(
                book,
                f"New repeat {kind}",
                ["id", "label", "in_period", "in_previous_year"],
                ([r["id"], r["label"], r["in_period"], r["in_previous_year"]] for r in listed),
            )
        _sheet(
            book,
            "Recommendations",
            ["for", "why", "recommend"],
            ([r["for"], r["why"], r["recommend"]] for r in data["recommendations"]),
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
