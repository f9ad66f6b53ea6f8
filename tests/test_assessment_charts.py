"""The assessments' charts (inline SVG) and maps (vendored Leaflet): self-contained, escaped, and drawn.

Each chart must parse as XML, hold as many marks as its data call for (counted here from the
inputs, not from the drawing code), keep hostile labels inert, and refer to nothing outside the
page. Each map must fetch nothing: no tile layer unless a tile URL is given, no image from
Leaflet's stylesheet, and data that cannot close its script element. In Chromium, a page with two
maps and the three charts must draw them while making no request but for the page itself.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from importlib.resources import files
from pathlib import Path

import pytest
from defusedxml.ElementTree import fromstring

from nimgraph.viz.charts import bar_chart, concentration_chart, trend_chart
from nimgraph.viz.maps import HOTSPOT_BANDS, hotspot_band, map_assets, map_html

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "</svg><script>alert(1)</script>"
HOSTILE_IN_SCRIPT = "</script><script>alert(1)</script><!--"
URL = re.compile(r"https?://[^\s\"'<>)]+", re.IGNORECASE)
MONTHS = [f"2024-{m:02d}" for m in range(1, 13)]


def parse(svg: str):
    return fromstring(str(svg))


def by_class(root, tag: str, css_class: str) -> list:
    return [e for e in root.iter(f"{SVG}{tag}") if css_class in (e.get("class") or "").split()]


def texts(root, css_class: str | None = None) -> list[str]:
    return ["".join(e.itertext()) for e in root.iter(f"{SVG}text") if css_class is None or e.get("class") == css_class]


def titles(root) -> list[str]:
    return [e.text or "" for e in root.iter(f"{SVG}title")]


def assert_self_contained_svg(svg: str, title: str) -> None:
    """Parses; scales (viewBox, width 100%); titled for screen readers; fetches and runs nothing; legible."""
    markup = str(svg)
    root = parse(markup)
    assert root.tag == f"{SVG}svg"
    assert re.fullmatch(r"0 0 \d+(\.\d+)? \d+(\.\d+)?", root.get("viewBox"))
    assert root.get("width") == "100%"
    assert root.get("aria-label") == title
    assert root[0].tag == f"{SVG}title" and root[0].text == title
    assert set(URL.findall(markup)) == {"http://www.w3.org/2000/svg"}
    assert "<script" not in markup.lower()
    assert not re.search(r"\b(href|src)\s*=", markup)
    sizes = [float(e.get("font-size")) for e in root.iter() if e.get("font-size")]
    assert sizes and min(sizes) >= 10


def known(values) -> list[float]:
    return [v for v in values if v is not None and math.isfinite(v)]


def lines_expected(values) -> int:
    """A line through each stretch of two or more known values in a row."""
    lines = stretch = 0
    for value in [*values, None]:
        if known([value]):
            stretch += 1
            continue
        lines += stretch >= 2
        stretch = 0
    return lines


# --- trend chart --------------------------------------------------------------------------------


def test_a_trend_chart_has_a_point_per_known_month_and_a_line_per_unbroken_stretch():
    this_year = [3, 5, None, 8, 12, 40, 37, 20, None, None, 4, 1]
    last_year = [2, 4, 6, 8, 10, float("nan"), 14, 16, 18, 20, 22, 24]
    svg = trend_chart(MONTHS, [("This year", this_year), ("Last year", last_year)], title="ASB", y_label="Incidents")

    assert_self_contained_svg(svg, "ASB")
    root = parse(svg)
    series = by_class(root, "g", "series")
    assert len(series) == 2
    for group, values in zip(series, (this_year, last_year), strict=True):
        assert len(by_class(group, "circle", "point")) == len(known(values))
        assert len(by_class(group, "path", "line")) == lines_expected(values)
    assert lines_expected(this_year) == 3 and lines_expected(last_year) == 2  # the helper itself, on known cases


def test_last_year_is_dashed_and_this_year_solid_so_greyscale_print_tells_them_apart():
    root = parse(trend_chart(MONTHS[:3], [("This", [1, 2, 3]), ("Last", [3, 2, 1])], title="t", y_label="n"))
    this_line, last_line = (by_class(g, "path", "line")[0] for g in by_class(root, "g", "series"))
    assert this_line.get("stroke-dasharray") is None
    assert last_line.get("stroke-dasharray")
    legend = by_class(root, "g", "legend-item")
    assert ["".join(item.itertext()) for item in legend] == ["This", "Last"]
    assert legend[1].find(f"{SVG}line").get("stroke-dasharray")


def test_trend_axis_ticks_are_round_numbers_with_thousands_separators():
    small = parse(trend_chart(MONTHS[:2], [("n", [0, 37])], title="t", y_label="n"))
    assert texts(small, "tick-y") == ["0", "10", "20", "30", "40"]
    large = parse(trend_chart(MONTHS[:2], [("n", [1200, 23456])], title="t", y_label="n"))
    assert texts(large, "tick-y") == ["0", "5,000", "10,000", "15,000", "20,000", "25,000"]
    assert "n, 2024-02: 23,456" in titles(large)


def test_a_trend_chart_without_known_values_says_no_data():
    for svg in (
        trend_chart([], [], title="Empty", y_label="n"),
        trend_chart(MONTHS[:2], [("n", [None, None])], title="Empty", y_label="n"),
    ):
        assert_self_contained_svg(svg, "Empty")
        assert "No data" in texts(parse(svg))


def test_a_series_must_have_a_value_per_month():
    with pytest.raises(ValueError, match="3 values for 2 months"):
        trend_chart(MONTHS[:2], [("n", [1, 2, 3])], title="t", y_label="n")


def test_hostile_texts_in_a_trend_chart_stay_text():
    svg = trend_chart([HOSTILE, "Feb"], [(HOSTILE, [1, 2])], title=HOSTILE, y_label=HOSTILE)
    assert_self_contained_svg(svg, HOSTILE)
    assert f"{HOSTILE}, {HOSTILE}: 1" in titles(parse(svg))


# --- bar chart ----------------------------------------------------------------------------------


def test_a_bar_chart_has_a_count_bar_and_a_harm_bar_per_category_each_to_its_own_scale():
    rows = [("Burglary", 1234, 5678.5), ("Criminal damage", 300, 150), ("Vehicle crime", 12, 99999), ("Arson", 0, 0)]
    svg = bar_chart(rows, title="By category", value_label="Incidents", harm_label="Harm")

    assert_self_contained_svg(svg, "By category")
    root = parse(svg)
    counts, harms = by_class(root, "rect", "count"), by_class(root, "rect", "harm")
    assert len(counts) == len(harms) == len(rows)
    for bars, column in ((counts, 1), (harms, 2)):
        widths = [float(b.get("width")) for b in bars]
        largest = max(range(len(rows)), key=lambda i: rows[i][column])
        for width, row in zip(widths, rows, strict=True):
            assert width == pytest.approx(widths[largest] * row[column] / rows[largest][column], abs=0.11)
    assert texts(root, "value") == ["1,234", "5,678.5", "300", "150", "12", "99,999", "0", "0"]
    assert [t.split(": ")[0] for t in titles(root)[1:]] == [name for name, _, _ in rows]
    assert ["".join(item.itertext()) for item in by_class(root, "g", "legend-item")] == ["Incidents", "Harm"]


def test_bar_ticks_are_round_and_long_category_names_are_cut_with_their_full_name_in_the_title():
    long_name = "Possession of an article with a blade or point in a public place"
    root = parse(bar_chart([(long_name, 25000, 2.5)], title="t", value_label="n", harm_label="h"))
    shown = texts(root, "category")[0]
    assert shown.endswith("\u2026") and long_name.startswith(shown[:-1]) and len(shown) < len(long_name)
    assert f"{long_name}: n 25,000, h 2.5" in titles(root)
    ticks = texts(root, "tick-x")
    assert ticks[: ticks.index("0", 1)] == ["0", "10,000", "20,000", "30,000"]


def test_hostile_category_names_are_inert_and_kept_whole_in_the_title():
    svg = bar_chart([(HOSTILE, 3, 4)], title=HOSTILE, value_label=HOSTILE, harm_label="h")
    assert_self_contained_svg(svg, HOSTILE)
    assert f"{HOSTILE}: {HOSTILE} 3, h 4" in titles(parse(svg))


def test_characters_xml_forbids_are_dropped_rather_than_breaking_the_drawing():
    svg = bar_chart([("bell\x07 and null\x00", 1, 1)], title="t\x1b", value_label="n", harm_label="h")
    assert_self_contained_svg(svg, "t")
    assert texts(parse(svg), "category") == ["bell and null"]


def test_a_bar_chart_without_rows_says_no_data_and_bad_values_are_refused():
    svg = bar_chart([], title="Empty", value_label="n", harm_label="h")
    assert_self_contained_svg(svg, "Empty")
    assert "No data" in texts(parse(svg))
    for bad in (-1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="finite and not negative"):
            bar_chart([("x", bad, 1)], title="t", value_label="n", harm_label="h")


# --- concentration chart ------------------------------------------------------------------------


def path_vertices(path) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r"[ML](-?[\d.]+),(-?[\d.]+)", path.get("d"))]


def test_the_concentration_curve_passes_through_each_point_and_marks_five_and_ten_percent():
    points = [(0.05, 0.4), (0.1, 0.55), (0.5, 0.9), (1.0, 1.0)]
    svg = concentration_chart(points, title="Concentration")

    assert_self_contained_svg(svg, "Concentration")
    root = parse(svg)
    (curve,) = by_class(root, "path", "curve")
    vertices = path_vertices(curve)
    assert len(vertices) == len(points) + 1  # from the origin
    # On screen, y grows downwards: the curve rises from left to right.
    assert [x for x, _ in vertices] == sorted(x for x, _ in vertices)
    assert [y for _, y in vertices] == sorted((y for _, y in vertices), reverse=True)
    assert len(by_class(root, "g", "mark")) == 2
    assert texts(root, "mark-caption") == ["5% of places hold 40% of events", "10% of places hold 55% of events"]
    assert "5% of places: 40% of events" in titles(root)


def test_the_diagonal_of_equal_spread_is_dashed_and_runs_corner_to_corner():
    root = parse(concentration_chart([(0.5, 0.8), (1.0, 1.0)], title="t"))
    (curve,) = by_class(root, "path", "curve")
    start, end = path_vertices(curve)[0], path_vertices(curve)[-1]
    diagonals = [
        e
        for e in root.iter(f"{SVG}line")
        if e.get("stroke-dasharray")
        and (float(e.get("x1")), float(e.get("y1")), float(e.get("x2")), float(e.get("y2"))) == (*start, *end)
    ]
    assert len(diagonals) == 1


def test_a_marked_share_is_read_between_points_on_the_curve():
    root = parse(concentration_chart([(0.2, 0.6), (1.0, 1.0)], title="t"))
    # From the origin to (20%, 60%): 5% of places hold 15% of events, 10% hold 30%.
    assert texts(root, "mark-caption") == ["5% of places hold 15% of events", "10% of places hold 30% of events"]


def test_the_shares_an_assessment_states_are_the_ones_marked_when_given():
    # Five places: the busiest 5% is the first place, 50% of events, not the 12.5% read along the curve.
    curve = [(0.0, 0.0), (0.2, 0.5), (0.4, 0.8), (0.6, 0.9), (0.8, 1.0), (1.0, 1.0)]
    read = parse(concentration_chart(curve, title="t"))
    assert texts(read, "mark-caption")[0] == "5% of places hold 12% of events"
    stated = parse(concentration_chart(curve, title="t", marked_shares={0.1: 0.5, 0.05: 0.5}))
    assert texts(stated, "mark-caption") == ["5% of places hold 50% of events", "10% of places hold 50% of events"]
    with pytest.raises(ValueError, match="shares between 0 and 1"):
        concentration_chart(curve, title="t", marked_shares={5: 50})


def test_a_curve_of_many_places_is_thinned_but_keeps_its_ends():
    places = 50_000
    points = [((i + 1) / places, math.sqrt((i + 1) / places)) for i in range(places)]
    (curve,) = by_class(parse(concentration_chart(points, title="t")), "path", "curve")
    vertices = path_vertices(curve)
    assert 500 < len(vertices) <= 1001
    (whole,) = by_class(parse(concentration_chart([(1.0, 1.0)], title="t")), "path", "curve")
    assert (vertices[0], vertices[-1]) == tuple(path_vertices(whole))


def test_concentration_shares_outside_nought_to_one_are_refused_and_none_say_no_data():
    with pytest.raises(ValueError, match="shares between 0 and 1"):
        concentration_chart([(5, 40)], title="t")
    svg = concentration_chart([], title=HOSTILE)
    assert_self_contained_svg(svg, HOSTILE)
    assert "No data" in texts(parse(svg))


# --- maps ---------------------------------------------------------------------------------------

AREAS = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": "Ward A"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[1.24, 52.58], [1.35, 52.58], [1.35, 52.66], [1.24, 52.58]]],
            },
        }
    ],
}


def hotspot_grid(rows: int, columns: int) -> list[dict]:
    cells = []
    for row, column in itertools.product(range(rows), range(columns)):
        south, west = 52.59 + row * 0.006, 1.25 + column * 0.009
        z = (row - column) * 0.8
        cells.append(
            {"south": south, "west": west, "north": south + 0.006, "east": west + 0.009, "z": z, "p": 0.01,
             "pattern": "hot" if z > 1.96 else "none", "label": f"cell {row},{column}"}
        )  # fmt: skip
    return cells


def incident_points(count: int) -> list[dict]:
    categories = ("ASB", "Burglary", "Criminal damage")
    return [
        {
            "lat": 52.6 + (i % 97) * 0.0004,
            "lon": 1.27 + (i % 89) * 0.0006,
            "label": f"Incident {i}",
            "category": categories[i % 3],
        }
        for i in range(count)
    ]


def map_config(html: str) -> dict:
    (found,) = re.findall(r"<script>nimgraphMap\((.*)\);</script>", html, re.DOTALL)
    return json.loads(found)


def vendored(name: str) -> str:
    return (files("nimgraph") / "viz" / "vendor" / name).read_text(encoding="utf-8")


def test_leaflet_is_vendored_at_1_9_4_with_its_licence():
    assert vendored("leaflet.js").startswith("/* @preserve\n * Leaflet 1.9.4,")
    assert "BSD 2-Clause License" in vendored("LICENSE-leaflet.txt")
    assert ".leaflet-container" in vendored("leaflet.css")


def test_map_assets_inline_leaflet_once_and_fetch_nothing():
    assets = str(map_assets())
    styles = re.findall(r"<style>(.*?)</style>", assets, re.DOTALL)
    scripts = re.findall(r"<script>(.*?)</script>", assets, re.DOTALL)
    assert len(styles) == 1 and len(scripts) == 2
    assert assets.count("<script") == assets.count("</script") == 2  # nothing inside ends a script early
    assert scripts[0].count("Leaflet 1.9.4") == 1
    # Leaflet's stylesheet names its images with url(...); none is left to fetch.
    assert "url(" not in styles[0] and "@import" not in styles[0]
    assert ".leaflet-control-layers-toggle" in styles[0]
    # The script's one url( is the VML behaviour old Internet Explorer reads, a fragment and no file.
    assert re.findall(r"url\([^)]*\)", "".join(scripts)) == ["url(#default#VML)"]
    assert "sourceMappingURL" not in assets
    assert not re.search(r"src\s*=\s*[\"']?\s*(https?:)?//", assets)
    # The stylesheet's URLs are bug reports cited in its comments.
    assert not URL.search(re.sub(r"/\*.*?\*/", "", styles[0], flags=re.DOTALL))
    assert len(URL.findall(styles[0])) == 2
    # The script's are the SVG namespace and Leaflet's home, in its licence comment and default credit link.
    assert set(URL.findall("".join(scripts))) == {"http://www.w3.org/2000/svg", "https://leafletjs.com"}
    assert "https://leafletjs.com" in scripts[0].split("*/")[0]
    assert 'prefix: "Leaflet"' in scripts[1]  # the credit shown is plain text, not that link


def test_a_map_without_a_tile_url_has_no_tile_layer_and_no_url():
    html = str(
        map_html(element_id="map-a", points=incident_points(5), hotspots=hotspot_grid(2, 2), areas=AREAS, tile_url=None)
    )
    assert not URL.search(html)
    assert "url(" not in html and "src=" not in html
    config = map_config(html)
    assert config["tileUrl"] is None
    assert len(config["points"]) == 5 and len(config["hotspots"]) == 4 and config["areas"] == AREAS
    assert 'id="map-a"' in html and 'data-points="5"' in html and 'data-hotspots="4"' in html


def test_a_map_with_a_tile_url_has_that_tile_layer_and_its_attribution_as_text():
    html = str(
        map_html(
            element_id="m",
            points=[],
            hotspots=[],
            areas=None,
            tile_url="https://tiles.example.police.uk/{z}/{x}/{y}.png",
            attribution="<b>© Partnership</b>",
        )
    )
    config = map_config(html)
    assert config["tileUrl"] == "https://tiles.example.police.uk/{z}/{x}/{y}.png"
    assert config["attribution"] == "&lt;b&gt;© Partnership&lt;/b&gt;"
    assert "L.tileLayer(config.tileUrl" in str(map_assets())
    assert "if (config.tileUrl) drawTiles(map, config);" in str(map_assets())


def test_hostile_labels_cannot_close_the_map_script_and_come_back_whole():
    line_separator = "a\u2028b\u2029c"
    html = str(
        map_html(
            element_id="m",
            points=[{"lat": 52.6, "lon": 1.3, "label": HOSTILE_IN_SCRIPT, "category": HOSTILE_IN_SCRIPT}],
            hotspots=[{**hotspot_grid(1, 1)[0], "label": HOSTILE_IN_SCRIPT, "pattern": line_separator}],
            areas={**AREAS, "features": [{**AREAS["features"][0], "properties": {"name": HOSTILE_IN_SCRIPT}}]},
            tile_url=None,
        )
    )
    assert html.count("<script") == html.count("</script") == 1
    assert "<!--" not in html and "\u2028" not in html and "\u2029" not in html
    config = map_config(html)
    assert config["points"][0][3] == HOSTILE_IN_SCRIPT
    assert config["categories"] == [HOSTILE_IN_SCRIPT]
    assert config["hotspots"][0][5][:2] == [HOSTILE_IN_SCRIPT, line_separator]
    assert config["areas"]["features"][0]["properties"]["name"] == HOSTILE_IN_SCRIPT
    # The key under the map shows the category as escaped text.
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;!--" in html


def test_entries_without_valid_coordinates_are_left_off_the_map_and_counted_in_a_note():
    points = [*incident_points(3), {"lat": None, "lon": 1.3}, {"lat": 95, "lon": 1.3}, {"lat": float("nan"), "lon": 0}]
    cells = [*hotspot_grid(1, 2), {"south": "x", "west": 0, "north": 1, "east": 1, "z": 3}]
    html = str(map_html(element_id="m", points=points, hotspots=cells, areas=None, tile_url=None))
    assert 'data-points="3"' in html and 'data-hotspots="2"' in html
    assert "Not on the map, for want of valid coordinates: 3 incidents and 1 hotspot cell." in html


def test_hotspot_cells_are_shaded_by_their_gi_star_band():
    names = [HOTSPOT_BANDS[hotspot_band(z)].name for z in (3.0, 2.0, 1.7, 0.0, -1.7, -2.0, -3.0, None)]
    assert [name.split(" (")[0] for name in names] == [
        "Hot spot, 99%", "Hot spot, 95%", "Hot spot, 90%", "Not significant, or no z-score",
        "Cold spot, 90%", "Cold spot, 95%", "Cold spot, 99%", "Not significant, or no z-score",
    ]  # fmt: skip
    config = map_config(
        str(map_html(element_id="m", points=[], hotspots=hotspot_grid(1, 1), areas=None, tile_url=None))
    )
    assert config["hotspots"][0][5] == ["cell 0,0", "none", "z = 0.00, p = 0.01"]


def test_map_inputs_that_would_break_the_page_are_refused():
    with pytest.raises(ValueError, match="element_id"):
        map_html(element_id='m" onload="alert(1)', points=[], hotspots=[], areas=None, tile_url=None)
    with pytest.raises(ValueError, match="FeatureCollection"):
        map_html(element_id="m", points=[], hotspots=[], areas={"type": "Polygon"}, tile_url=None)


# --- in Chromium --------------------------------------------------------------------------------

POINTS_IN_BROWSER = 20_000


def assessment_page(path: Path, *, tile_url: str | None = None) -> str:
    """A page as an assessment lays it out: the map assets once, two maps, the three charts."""
    body = [
        map_html(
            element_id="map-incidents",
            points=incident_points(POINTS_IN_BROWSER),
            hotspots=[],
            areas=AREAS,
            tile_url=tile_url,
            attribution="<i>Tiles</i> © Partnership",
        ),
        map_html(element_id="map-hotspots", points=[], hotspots=hotspot_grid(6, 8), areas=None, tile_url=None),
        trend_chart(
            MONTHS, [("This year", list(range(12))), ("Last year", [5, None, *range(10)])], title="t", y_label="n"
        ),
        bar_chart([("Burglary", 12, 340.5), (HOSTILE, 3, 9)], title="b", value_label="Count", harm_label="Harm"),
        concentration_chart([(0.05, 0.4), (0.1, 0.55), (1.0, 1.0)], title="c"),
    ]
    html = (
        f'<!doctype html><html><head><meta charset="utf-8"><title>Assessment</title>{map_assets()}</head>'
        f'<body style="width: 760px">{"".join(str(part) for part in body)}</body></html>'
    )
    path.write_text(html, encoding="utf-8")
    return path.as_uri()


def open_recording(browser, url: str):
    """The page opened with every request recorded, and any that is not the file itself refused."""
    page = browser.new_page(viewport={"width": 800, "height": 1000})
    requested: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: (errors.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    page.route("**/*", lambda route: route.continue_() if route.request.url == url else route.abort())
    page.goto(url)
    for element_id in ("map-incidents", "map-hotspots"):
        page.wait_for_selector(f'#{element_id}[data-drawn="true"]', state="attached", timeout=60_000)
    return page, requested, errors


COUNT_LAYERS = """([id, kind]) => {
    let count = 0;
    window.nimgraphMaps[id].eachLayer(layer => { if (layer instanceof L[kind]) count++; });
    return count;
}"""

INKED_PIXELS = """id => {
    const canvas = document.querySelector('#' + id + ' canvas');
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let inked = 0;
    for (let i = 0; i < pixels.length; i += 4) if (pixels[i + 3] > 0) inked++;
    return inked;
}"""


@pytest.mark.browser
def test_an_assessment_page_draws_two_maps_and_three_charts_without_a_request(browser, tmp_path: Path):
    url = assessment_page(tmp_path / "assessment.html")
    page, requested, errors = open_recording(browser, url)
    try:
        assert requested == [url], f"requests besides the page: {requested}"
        assert errors == []  # no script error, and no alert from a hostile label
        assert page.evaluate(COUNT_LAYERS, ["map-incidents", "CircleMarker"]) == POINTS_IN_BROWSER
        assert page.evaluate(COUNT_LAYERS, ["map-hotspots", "Rectangle"]) == 6 * 8
        for element_id in ("map-incidents", "map-hotspots"):
            assert page.evaluate(COUNT_LAYERS, [element_id, "TileLayer"]) == 0
            assert page.locator(f"#{element_id} canvas").count() == 1
            assert page.evaluate(INKED_PIXELS, element_id) > 1000, f"{element_id}'s canvas is blank"
            assert page.locator(f"#{element_id} .leaflet-control-scale").count() == 1
        sizes = page.evaluate(
            "[...document.querySelectorAll('svg.nimgraph-chart')].map(s => s.getBoundingClientRect())"
            ".map(r => [r.width, r.height])"
        )
        assert len(sizes) == 3 and all(width > 300 and height > 100 for width, height in sizes)
        assert page.evaluate("document.querySelectorAll('img, link, script[src], iframe').length") == 0
    finally:
        page.close()


@pytest.mark.browser
def test_a_map_given_a_tile_url_asks_only_that_server_for_tiles(browser, tmp_path: Path):
    """The .invalid name never resolves, and the route refuses the requests anyway: nothing leaves."""
    url = assessment_page(tmp_path / "tiled.html", tile_url="http://tiles.invalid/{z}/{x}/{y}.png")
    page, requested, _ = open_recording(browser, url)
    try:
        assert page.evaluate(COUNT_LAYERS, ["map-incidents", "TileLayer"]) == 1
        assert page.evaluate(COUNT_LAYERS, ["map-hotspots", "TileLayer"]) == 0
        others = [r for r in requested if r != url]
        assert others and all(re.fullmatch(r"http://tiles\.invalid/\d+/\d+/\d+\.png", r) for r in others)
        assert page.inner_text("#map-incidents .leaflet-control-attribution") == "Leaflet | <i>Tiles</i> © Partnership"
    finally:
        page.close()
