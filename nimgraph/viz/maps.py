"""Maps for the assessments with Leaflet 1.9.4, vendored and inlined: the page works with the network cable out.

``map_assets()`` is Leaflet's style and script plus ours, written once in a page's head;
``map_html()`` is one map: its ``<div>`` and a script that draws into it. A page with two maps
inlines Leaflet once.

Nothing a map draws makes a request: incidents are circle markers and hotspots rectangles (no
marker icons, whose images Leaflet would fetch), and the ``url(...)`` references to those images
are taken out of Leaflet's stylesheet. Without a tile URL there is no tile layer at all: a plain
background with the area outlines, fitted to the data, and a scale bar. With one (a tile server
the partnership runs), an ``L.tileLayer`` with that URL and its attribution.

Everything is drawn on one canvas (``preferCanvas``), so tens of thousands of incidents stay
usable. Data go into the script as JSON that cannot end the script element. When the layers are
drawn the map's div gets ``data-drawn="true"``, which a browser test waits for.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from markupsafe import Markup, escape

LEAFLET_VERSION = "1.9.4"
ELEMENT_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
# A declaration whose value fetches a file: Leaflet's layer-control and default-marker images.
CSS_URL_DECLARATION = re.compile(r"[\w-]+\s*:\s*url\([^)]*\)\s*;?")
SOURCE_MAP_COMMENT = re.compile(r"^//# sourceMappingURL=.*$", re.MULTILINE)
# Characters that could end the script element, start an HTML comment or an entity, or (before
# ES2019) end a JavaScript string: written as \u escapes, which JSON and JavaScript read back alike.
JSON_IN_SCRIPT = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)

MAP_CSS = """
.nimgraph-map-block { max-width: 170mm; margin: 0 0 12px; font-family: Arial, Helvetica, sans-serif; }
.nimgraph-map { width: 100%; height: 120mm; border: 1px solid #888888; }
.nimgraph-map.leaflet-container { background: #ffffff; font: 12px/1.4 Arial, Helvetica, sans-serif; }
.nimgraph-map-block, .nimgraph-map-block * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
.nimgraph-map-legend { display: flex; flex-wrap: wrap; gap: 2px 14px; font-size: 11px; line-height: 1.5;
  margin-top: 4px; }
.nimgraph-map-legend-title { font-weight: bold; flex-basis: 100%; }
.nimgraph-map-swatch { display: inline-block; width: 12px; height: 12px; margin-right: 5px; vertical-align: -2px;
  border: 1px solid #333333; }
.nimgraph-map-dot { border-radius: 50%; width: 9px; height: 9px; }
.nimgraph-map-note { font-size: 11px; margin: 4px 0 0; }
@media print {
  .nimgraph-map-block { break-inside: avoid; page-break-inside: avoid; }
  .nimgraph-map .leaflet-control-zoom { display: none; }
}
"""

# Draws one map from the configuration map_html() writes. Texts from the data go in through
# textContent, never as HTML: Leaflet's popups would otherwise parse them.
MAP_SCRIPT = """
(function () {
  "use strict";

  function popupContent(lines) {
    var box = document.createElement("div");
    lines.forEach(function (line) {
      if (!line) return;
      var row = document.createElement("div");
      row.textContent = line;
      box.appendChild(row);
    });
    return box;
  }

  function openPopupOnClick(map, group) {
    group.on("click", function (event) {
      var layer = event.propagatedFrom || event.layer;
      L.popup().setLatLng(event.latlng).setContent(popupContent(layer.options.nimgraphText)).openOn(map);
    });
  }

  function drawHotspots(map, config, bounds) {
    var group = L.featureGroup();
    config.hotspots.forEach(function (cell) {
      var style = config.hotspotStyles[cell[4]];
      var extent = [[cell[0], cell[1]], [cell[2], cell[3]]];
      L.rectangle(extent, {
        color: style.stroke, weight: style.weight, dashArray: style.dash,
        fillColor: style.fill, fillOpacity: style.fillOpacity, nimgraphText: cell[5]
      }).addTo(group);
      bounds.extend(extent);
    });
    openPopupOnClick(map, group);
    group.addTo(map);
  }

  function drawAreas(map, config, bounds) {
    var group = L.geoJSON(config.areas, {
      style: {color: "#000000", weight: 1.5, fill: true, fillOpacity: 0},
      onEachFeature: function (feature, layer) {
        var properties = feature.properties || {};
        layer.options.nimgraphText = [String(properties.name || properties.label || properties.code || "")];
      }
    });
    openPopupOnClick(map, group);
    if (group.getLayers().length) bounds.extend(group.getBounds());
    group.addTo(map);
  }

  function drawPoints(map, config, bounds) {
    var group = L.featureGroup();
    var radius = config.points.length > 5000 ? 2.5 : 4;
    config.points.forEach(function (point) {
      L.circleMarker([point[0], point[1]], {
        radius: radius, color: "#000000", weight: 0.5, fillOpacity: 0.9,
        fillColor: config.categoryColours[point[2]], nimgraphText: [point[3], config.categories[point[2]]]
      }).addTo(group);
      bounds.extend([point[0], point[1]]);
    });
    openPopupOnClick(map, group);
    group.addTo(map);
  }

  function drawTiles(map, config) {
    // The attribution arrives HTML-escaped, as Leaflet writes it as HTML.
    L.tileLayer(config.tileUrl, {attribution: config.attribution, maxZoom: 19}).addTo(map);
    L.control.attribution({prefix: "Leaflet"}).addTo(map);
  }

  function markDrawnAfterPaint(container) {
    // The canvas renderer paints on the next animation frame; the one after it follows that paint.
    requestAnimationFrame(function () {
      requestAnimationFrame(function () { container.setAttribute("data-drawn", "true"); });
    });
  }

  function resizeForPrint(map) {
    if (!window.matchMedia) return;
    var print = window.matchMedia("print");
    var resize = function () { map.invalidateSize({animate: false}); };
    if (print.addEventListener) print.addEventListener("change", resize); else print.addListener(resize);
  }

  window.nimgraphMaps = window.nimgraphMaps || {};
  window.nimgraphMap = function (config) {
    var container = document.getElementById(config.elementId);
    var map = L.map(container, {
      preferCanvas: true, attributionControl: false, maxZoom: 19, zoomSnap: config.tileUrl ? 1 : 0.25
    });
    if (config.tileUrl) drawTiles(map, config);
    var bounds = L.latLngBounds([]);
    if (config.hotspots.length) drawHotspots(map, config, bounds);
    if (config.areas) drawAreas(map, config, bounds);
    if (config.points.length) drawPoints(map, config, bounds);
    if (bounds.isValid()) map.fitBounds(bounds, {padding: [16, 16], maxZoom: 17, animate: false});
    else map.setView(config.emptyCentre, config.emptyZoom, {animate: false});
    L.control.scale({position: "bottomleft"}).addTo(map);
    resizeForPrint(map);
    window.nimgraphMaps[config.elementId] = map;
    markDrawnAfterPaint(container);
  };
})();
"""

# Incident colours by category in order of first appearance (Okabe-Ito: distinct for common colour blindness).
CATEGORY_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999999")
# Where a map with nothing to fit to looks: Great Britain.
EMPTY_CENTRE = (54.0, -2.5)
EMPTY_ZOOM = 5


@dataclass(frozen=True)
class HotspotBand:
    """Getis-Ord Gi* z-scores at the usual 90, 95 and 99% confidence: cells at or beyond ``edge`` on its side."""

    name: str
    edge: float | None
    fill: str | None
    dash: str | None

    def holds(self, z: float | None) -> bool:
        if self.edge is None:
            return True
        if z is None:
            return False
        return z >= self.edge if self.edge > 0 else z <= self.edge

    def style(self) -> dict[str, Any]:
        if self.fill is None:
            return {"stroke": "#bbbbbb", "weight": 0.5, "dash": None, "fill": "#ffffff", "fillOpacity": 0}
        return {"stroke": "#333333", "weight": 1, "dash": self.dash, "fill": self.fill, "fillOpacity": 0.75}


# Cold spots have dashed outlines, so greyscale print tells a cold cell from a hot one of the same depth.
HOTSPOT_BANDS = (
    HotspotBand("Hot spot, 99% (z \u2265 2.58)", 2.58, "#b2182b", None),
    HotspotBand("Hot spot, 95% (z \u2265 1.96)", 1.96, "#ef8a62", None),
    HotspotBand("Hot spot, 90% (z \u2265 1.65)", 1.65, "#fddbc7", None),
    HotspotBand("Cold spot, 99% (z \u2264 \u22122.58)", -2.58, "#2166ac", "4 3"),
    HotspotBand("Cold spot, 95% (z \u2264 \u22121.96)", -1.96, "#67a9cf", "4 3"),
    HotspotBand("Cold spot, 90% (z \u2264 \u22121.65)", -1.65, "#d1e5f0", "4 3"),
    HotspotBand("Not significant, or no z-score", None, None, None),
)


def hotspot_band(z: float | None) -> int:
    """The index in HOTSPOT_BANDS of the band a cell's z-score falls in.

    >>> [HOTSPOT_BANDS[hotspot_band(z)].name.split(",")[0] for z in (3.1, -2.0, 1.0, None)]
    ['Hot spot', 'Cold spot', 'Not significant', 'Not significant']
    """
    return next(index for index, band in enumerate(HOTSPOT_BANDS) if band.holds(z))


@cache
def vendored(name: str) -> str:
    return (files("nimgraph") / "viz" / "vendor" / name).read_text(encoding="utf-8")


def leaflet_css() -> str:
    """Leaflet's stylesheet without the declarations that would fetch its images."""
    return CSS_URL_DECLARATION.sub("", vendored("leaflet.css"))


def leaflet_js() -> str:
    script = SOURCE_MAP_COMMENT.sub("", vendored("leaflet.js"))
    if re.search(r"</script|<!--", script, re.IGNORECASE):
        raise RuntimeError("the vendored leaflet.js holds text that would end the inline script element")
    return script


def map_assets() -> Markup:
    """The ``<style>`` and ``<script>`` for a page's head: Leaflet and the map drawing code, once per page."""
    return Markup(
        f"<style>\n{leaflet_css()}\n{MAP_CSS}</style>\n"
        f"<script>\n{leaflet_js()}\n</script>\n<script>{MAP_SCRIPT}</script>\n"
    )


def json_for_script(value: Any) -> str:
    r"""JSON that an inline script reads as the same value, and that cannot end the script element.

    >>> print(json_for_script(["</script>", "<!-- a & b"]))
    ["\u003c/script\u003e","\u003c!-- a \u0026 b"]
    """
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).translate(JSON_IN_SCRIPT)


def finite_or_none(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def valid_latitude(value: Any) -> float | None:
    number = finite_or_none(value)
    return number if number is not None and -90 <= number <= 90 else None


def valid_longitude(value: Any) -> float | None:
    number = finite_or_none(value)
    return number if number is not None and -180 <= number <= 180 else None


def text_of(value: Any) -> str:
    return "" if value is None else str(value)


def point_rows(points: Iterable[dict]) -> tuple[list[list], list[str], int]:
    """Points as [lat, lon, category index, label], the category names, and how many had no usable place."""
    categories: dict[str, int] = {}
    rows: list[list] = []
    left_out = 0
    for point in points:
        lat, lon = valid_latitude(point.get("lat")), valid_longitude(point.get("lon"))
        if lat is None or lon is None:
            left_out += 1
            continue
        category = text_of(point.get("category")) or "Uncategorised"
        index = categories.setdefault(category, len(categories))
        rows.append([lat, lon, index, text_of(point.get("label"))])
    return rows, list(categories), left_out


def hotspot_text(cell: dict, z: float | None, p: float | None) -> list[str]:
    measures = "no z-score" if z is None else f"z = {z:.2f}"
    if p is not None:
        measures += f", p = {p:.2g}"
    return [text_of(cell.get("label")), text_of(cell.get("pattern")), measures]


def hotspot_rows(hotspots: Iterable[dict]) -> tuple[list[list], int]:
    """Cells as [south, west, north, east, band index, popup lines], and how many had no usable extent."""
    rows: list[list] = []
    left_out = 0
    for cell in hotspots:
        south, north = valid_latitude(cell.get("south")), valid_latitude(cell.get("north"))
        west, east = valid_longitude(cell.get("west")), valid_longitude(cell.get("east"))
        if south is None or west is None or north is None or east is None:
            left_out += 1
            continue
        z, p = finite_or_none(cell.get("z")), finite_or_none(cell.get("p"))
        rows.append([south, west, north, east, hotspot_band(z), hotspot_text(cell, z, p)])
    return rows, left_out


def check_areas(areas: dict | None) -> None:
    if areas is not None and (not isinstance(areas, dict) or areas.get("type") != "FeatureCollection"):
        raise ValueError("areas must be a GeoJSON FeatureCollection, or None when no geometry is known")


def category_colour(index: int) -> str:
    return CATEGORY_COLOURS[index % len(CATEGORY_COLOURS)]


def legend_key(label: str, swatch_style: str, *, dot: bool = False) -> str:
    shape = "nimgraph-map-swatch nimgraph-map-dot" if dot else "nimgraph-map-swatch"
    return f'<span class="nimgraph-map-key"><span class="{shape}" style="{swatch_style}"></span>{escape(label)}</span>'


def legend_html(categories: list[str], has_hotspots: bool, has_areas: bool) -> str:
    """The map's key, under it rather than over the data, in HTML so that it prints as text."""
    parts = []
    if has_hotspots:
        parts.append('<span class="nimgraph-map-legend-title">Hotspots (Getis-Ord Gi* z-score)</span>')
        for band in HOTSPOT_BANDS:
            border = "dashed" if band.dash else "solid"
            parts.append(legend_key(band.name, f"background:{band.fill or '#ffffff'};border-style:{border}"))
    if categories:
        parts.append('<span class="nimgraph-map-legend-title">Incidents</span>')
        parts += [legend_key(name, f"background:{category_colour(i)}", dot=True) for i, name in enumerate(categories)]
    if has_areas:
        parts.append('<span class="nimgraph-map-legend-title">Areas</span>')
        parts.append(legend_key("Area outline", "background:#ffffff;border-color:#000000"))
    return f'<div class="nimgraph-map-legend">{"".join(parts)}</div>' if parts else ""


def left_out_note(points_left_out: int, cells_left_out: int) -> str:
    parts = []
    if points_left_out:
        parts.append(f"{points_left_out:,} incident{'s' if points_left_out != 1 else ''}")
    if cells_left_out:
        parts.append(f"{cells_left_out:,} hotspot cell{'s' if cells_left_out != 1 else ''}")
    if not parts:
        return ""
    return f'<p class="nimgraph-map-note">Not on the map, for want of valid coordinates: {" and ".join(parts)}.</p>'


def map_html(
    *,
    element_id: str,
    points: list[dict],
    hotspots: list[dict],
    areas: dict | None,
    tile_url: str | None,
    attribution: str | None = None,
) -> Markup:
    """One map's ``<div>``, its key, and the inline script that draws it (``map_assets()`` must be in the page once).

    ``points``: incidents, ``{lat, lon, label, category}``, drawn as circles coloured by category;
    ``hotspots``: grid cells, ``{south, west, north, east, z, p, pattern, label}``, shaded by z;
    ``areas``: a GeoJSON FeatureCollection of area outlines, or None. ``tile_url``: a tile server's
    URL template, or None for no tile layer. Entries without valid coordinates are not drawn, and
    a note under the map says how many.
    """
    if not ELEMENT_ID.fullmatch(element_id):
        raise ValueError(f"element_id must be a letter then letters, digits, '-' or '_': {element_id!r}")
    check_areas(areas)
    point_data, categories, points_left_out = point_rows(points)
    hotspot_data, cells_left_out = hotspot_rows(hotspots)
    config = {
        "elementId": element_id,
        "points": point_data,
        "categories": categories,
        "categoryColours": [category_colour(i) for i in range(len(categories))],
        "hotspots": hotspot_data,
        "hotspotStyles": [band.style() for band in HOTSPOT_BANDS],
        "areas": areas,
        "tileUrl": tile_url or None,
        "attribution": str(escape(attribution or "")),
        "emptyCentre": EMPTY_CENTRE,
        "emptyZoom": EMPTY_ZOOM,
    }
    div = (
        f'<div id="{element_id}" class="nimgraph-map" role="region" aria-label="Map" '
        f'data-points="{len(point_data)}" data-hotspots="{len(hotspot_data)}"></div>'
    )
    key = legend_html(categories, bool(hotspot_data), areas is not None)
    script = f"<script>nimgraphMap({json_for_script(config)});</script>"
    note = left_out_note(points_left_out, cells_left_out)
    return Markup(f'<div class="nimgraph-map-block">{div}{key}{note}</div>{script}')
