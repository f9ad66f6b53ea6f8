"""Charts for the assessments as inline SVG: no script, nothing fetched, legible when printed in greyscale.

Each function returns one ``<svg>`` element (``markupsafe.Markup``) with a fixed viewBox and
``width="100%"``, so it scales to the column it is put in and prints at the same proportions.
Black and greys only, so a photocopy loses nothing: where two lines must be told apart one is
solid and the other dashed, with open markers. Every text that comes from the data is escaped and
stripped of characters XML forbids, so a category name cannot end the drawing or start a script.
Empty data gives a small drawing that says "No data".

>>> print(format_number(12345), format_number(1234.56), format_number(2.5), format_number(0.0042))
12,345 1,234.6 2.5 0.0042
>>> nice_ticks(0, 37)
[0, 10, 20, 30, 40]
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

SVG_NAMESPACE = "http://www.w3.org/2000/svg"
FONT = "Arial, Helvetica, sans-serif"
WIDTH = 640
TITLE_SIZE = 14
LABEL_SIZE = 12
TICK_SIZE = 11
GRID_GREY = "#d0d0d0"
AXIS_GREY = "#555555"
# Characters XML 1.0 does not allow: a label holding one would make the drawing unparseable.
XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
ELLIPSIS = "\u2026"


@dataclass(frozen=True)
class LineStyle:
    stroke: str
    width: float
    dash: str | None
    marker_fill: str


# In series order: the period assessed solid black, the comparison year dashed grey with open markers.
LINE_STYLES = (
    LineStyle("#000000", 2.5, None, "#000000"),
    LineStyle("#666666", 2.0, "7 4", "#ffffff"),
    LineStyle("#000000", 1.5, "2 3", "#ffffff"),
    LineStyle("#999999", 2.0, "10 3 2 3", "#999999"),
)
COUNT_FILL = "#444444"
HARM_FILL = "#bbbbbb"


# --- text and numbers -------------------------------------------------------------------------


def clean_text(text: object) -> str:
    """The text with the characters XML forbids removed (escaping is done where it is written)."""
    return XML_FORBIDDEN.sub("", str(text))


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


def format_number(value: float) -> str:
    """Thousands separators; whole numbers without decimals, others to a precision that suits their size."""
    if float(value).is_integer():
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{value:.2g}"


def format_share(share: float) -> str:
    return f"{share * 100:.0f}%"


def coordinate(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def is_number(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def nice_ticks(low: float, high: float, *, target: int = 5, whole: bool = True) -> list[float]:
    """Ticks at round steps (1, 2 or 5 times a power of ten) covering low to high; whole steps for counts."""
    if high <= low:
        high = low + 1
    raw_step = (high - low) / target
    magnitude = 10 ** math.floor(math.log10(raw_step))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw_step)
    if whole:
        step = max(step, 1)
    first = math.floor(low / step)
    last = math.ceil(high / step)
    ticks = [round(i * step, 10) for i in range(first, last + 1)]
    return [int(t) if float(t).is_integer() else t for t in ticks]


# --- SVG pieces ---------------------------------------------------------------------------------


def svg_document(title: str, height: float, body: list[str], *, kind: str) -> Markup:
    label = escape(clean_text(title))
    head = (
        f'<svg xmlns="{SVG_NAMESPACE}" class="nimgraph-chart nimgraph-chart-{kind}" '
        f'viewBox="0 0 {WIDTH} {coordinate(height)}" width="100%" preserveAspectRatio="xMidYMin meet" '
        f'role="img" aria-label="{label}" font-family="{FONT}" font-size="{LABEL_SIZE}">'
        f"<title>{label}</title>"
    )
    return Markup(head + "".join(body) + "</svg>")


def text(
    x: float,
    y: float,
    content: str,
    *,
    size: int = LABEL_SIZE,
    anchor: str = "start",
    extra: str = "",
    css_class: str | None = None,
) -> str:
    css = f' class="{css_class}"' if css_class else ""
    return (
        f'<text x="{coordinate(x)}" y="{coordinate(y)}" font-size="{size}" text-anchor="{anchor}"{css}{extra}>'
        f"{escape(clean_text(content))}</text>"
    )


def line(x1: float, y1: float, x2: float, y2: float, *, stroke: str, width: float = 1, dash: str | None = None) -> str:
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<line x1="{coordinate(x1)}" y1="{coordinate(y1)}" x2="{coordinate(x2)}" y2="{coordinate(y2)}" '
        f'stroke="{stroke}" stroke-width="{width}"{dashed}/>'
    )


def titled(tooltip: str, inner: str, css_class: str = "") -> str:
    """A group whose <title> (the tooltip, and what a screen reader says) holds the full text."""
    css = f' class="{css_class}"' if css_class else ""
    return f"<g{css}><title>{escape(clean_text(tooltip))}</title>{inner}</g>"


def heading(title: str) -> str:
    return text(0, 18, truncate(clean_text(title), 80), size=TITLE_SIZE, extra=' font-weight="bold"')


def no_data(title: str, kind: str) -> Markup:
    return svg_document(title, 80, [heading(title), text(WIDTH / 2, 56, "No data", anchor="middle")], kind=kind)


def legend_line_swatch(x: float, y: float, style: LineStyle) -> str:
    return line(x, y, x + 28, y, stroke=style.stroke, width=style.width, dash=style.dash) + (
        f'<circle cx="{coordinate(x + 14)}" cy="{coordinate(y)}" r="3.5" fill="{style.marker_fill}" '
        f'stroke="{style.stroke}" stroke-width="1.5"/>'
    )


def approximate_text_width(content: str, size: int = LABEL_SIZE) -> float:
    return len(content) * size * 0.55


# --- trend chart --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plot:
    """The rectangle the data are drawn in, and the value range of its y axis."""

    left: float
    top: float
    width: float
    height: float
    y_ticks: list[float]

    @property
    def bottom(self) -> float:
        return self.top + self.height

    def y(self, value: float) -> float:
        low, high = self.y_ticks[0], self.y_ticks[-1]
        return self.bottom - (value - low) / (high - low) * self.height


def runs(values: Sequence[float | None]) -> list[list[int]]:
    """The indexes of each unbroken stretch of known values: a line is drawn through each, not across gaps."""
    stretches: list[list[int]] = []
    current: list[int] = []
    for index, value in enumerate(values):
        if is_number(value):
            current.append(index)
        elif current:
            stretches.append(current)
            current = []
    if current:
        stretches.append(current)
    return stretches


def month_x(plot: Plot, index: int, count: int) -> float:
    if count == 1:
        return plot.left + plot.width / 2
    return plot.left + index * plot.width / (count - 1)


def y_axis(plot: Plot, y_label: str) -> list[str]:
    parts = []
    for tick in plot.y_ticks:
        y = plot.y(tick)
        parts.append(line(plot.left, y, plot.left + plot.width, y, stroke=GRID_GREY))
        parts.append(text(plot.left - 6, y + 4, format_number(tick), size=TICK_SIZE, anchor="end", css_class="tick-y"))
    middle = plot.top + plot.height / 2
    parts.append(
        text(-middle, 14, truncate(clean_text(y_label), 40), anchor="middle", extra=' transform="rotate(-90)"')
    )
    return parts


def month_axis(plot: Plot, months: Sequence[str]) -> list[str]:
    most_labels = max(1, int(plot.width // 52))
    every = math.ceil(len(months) / most_labels)
    parts = [line(plot.left, plot.bottom, plot.left + plot.width, plot.bottom, stroke=AXIS_GREY)]
    for index, month in enumerate(months):
        if index % every:
            continue
        x = month_x(plot, index, len(months))
        parts.append(line(x, plot.bottom, x, plot.bottom + 4, stroke=AXIS_GREY))
        parts.append(
            text(
                x,
                plot.bottom + 18,
                truncate(clean_text(month), 10),
                size=TICK_SIZE,
                anchor="middle",
                css_class="tick-x",
            )
        )
    return parts


def series_marks(plot: Plot, months: Sequence[str], name: str, values: Sequence[float | None], style: LineStyle) -> str:
    positions = {i: (month_x(plot, i, len(months)), plot.y(v)) for i, v in enumerate(values) if is_number(v)}
    dash = f' stroke-dasharray="{style.dash}"' if style.dash else ""
    parts = []
    for stretch in runs(values):
        if len(stretch) < 2:
            continue
        path = " ".join(
            f"{'M' if n == 0 else 'L'}{coordinate(positions[i][0])},{coordinate(positions[i][1])}"
            for n, i in enumerate(stretch)
        )
        parts.append(
            f'<path class="line" d="{path}" fill="none" stroke="{style.stroke}" stroke-width="{style.width}"{dash}/>'
        )
    for index, (x, y) in positions.items():
        tooltip = f"{name}, {months[index]}: {format_number(values[index])}"
        circle = (
            f'<circle class="point" cx="{coordinate(x)}" cy="{coordinate(y)}" r="3.5" '
            f'fill="{style.marker_fill}" stroke="{style.stroke}" stroke-width="1.5"/>'
        )
        parts.append(titled(tooltip, circle))
    return f'<g class="series">{"".join(parts)}</g>'


def line_legend(x: float, y: float, names: Sequence[str]) -> list[str]:
    parts = []
    for index, name in enumerate(names):
        style = LINE_STYLES[index % len(LINE_STYLES)]
        shown = truncate(clean_text(name), 32)
        parts.append(f'<g class="legend-item">{legend_line_swatch(x, y, style)}{text(x + 34, y + 4, shown)}</g>')
        x += 34 + approximate_text_width(shown) + 18
    return parts


def trend_chart(months: list[str], series: list[tuple[str, list[float | None]]], *, title: str, y_label: str) -> Markup:
    """A line per series over the months (None or NaN: no data, a gap in the line), e.g. this period and last year.

    The first series is drawn solid black, the second dashed grey with open markers.
    """
    for name, values in series:
        if len(values) != len(months):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(months)} months")
    known = [v for _, values in series for v in values if is_number(v)]
    if not months or not known:
        return no_data(title, "trend")
    whole = all(float(v).is_integer() for v in known)
    plot = Plot(
        left=64, top=56, width=WIDTH - 64 - 20, height=200, y_ticks=nice_ticks(min(0, *known), max(known), whole=whole)
    )
    body = [heading(title), *line_legend(plot.left, 38, [name for name, _ in series])]
    body += y_axis(plot, y_label)
    body += month_axis(plot, months)
    for index, (name, values) in enumerate(series):
        body.append(series_marks(plot, months, name, values, LINE_STYLES[index % len(LINE_STYLES)]))
    return svg_document(title, plot.bottom + 32, body, kind="trend")


# --- bar chart ----------------------------------------------------------------------------------

LABEL_COLUMN = 176
CATEGORY_CHARACTERS = 27
ROW_HEIGHT = 22
BAR_HEIGHT = 14
VALUE_ROOM = 56  # beyond a panel's longest bar, for its value
BARS_TOP = 70


@dataclass(frozen=True)
class Panel:
    """One measure's column of bars, on its own scale."""

    left: float
    width: float
    ticks: list[float]
    fill: str
    css_class: str

    def length(self, value: float) -> float:
        return value / self.ticks[-1] * (self.width - VALUE_ROOM)


def check_bar_values(rows: Sequence[tuple[str, float, float]]) -> None:
    for category, count, harm in rows:
        for value in (count, harm):
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"category {category!r}: counts and harm are finite and not negative, not {value!r}")


def panel_header(panel: Panel, label: str, rows_bottom: float) -> list[str]:
    swatch = (
        f'<rect x="{coordinate(panel.left)}" y="31" width="12" height="12" fill="{panel.fill}" '
        f'stroke="#000000" stroke-width="0.5"/>'
    )
    parts = [f'<g class="legend-item">{swatch}{text(panel.left + 18, 41, truncate(clean_text(label), 26))}</g>']
    for tick in panel.ticks:
        x = panel.left + panel.length(tick)
        parts.append(line(x, BARS_TOP - 6, x, rows_bottom, stroke=GRID_GREY))
        parts.append(text(x, 60, format_number(tick), size=TICK_SIZE, anchor="middle", css_class="tick-x"))
    return parts


def bar(panel: Panel, value: float, y: float) -> str:
    length = panel.length(value)
    rect = (
        f'<rect class="bar {panel.css_class}" x="{coordinate(panel.left)}" y="{coordinate(y)}" '
        f'width="{coordinate(length)}" height="{BAR_HEIGHT}" fill="{panel.fill}" stroke="#000000" stroke-width="0.5"/>'
    )
    label = text(panel.left + length + 4, y + BAR_HEIGHT - 3, format_number(value), size=TICK_SIZE, css_class="value")
    return rect + label


def bar_row(index: int, row: tuple[str, float, float], panels: tuple[Panel, Panel], labels: tuple[str, str]) -> str:
    category, count, harm = row
    name = clean_text(category)
    y = BARS_TOP + index * ROW_HEIGHT + (ROW_HEIGHT - BAR_HEIGHT) / 2
    tooltip = f"{name}: {labels[0]} {format_number(count)}, {labels[1]} {format_number(harm)}"
    inner = text(
        LABEL_COLUMN - 8, y + BAR_HEIGHT - 3, truncate(name, CATEGORY_CHARACTERS), anchor="end", css_class="category"
    )
    inner += bar(panels[0], count, y) + bar(panels[1], harm, y)
    return titled(tooltip, inner, "row")


def bar_chart(rows: list[tuple[str, float, float]], *, title: str, value_label: str, harm_label: str) -> Markup:
    """Horizontal bars per category: its count, and beside it its harm (count x weight) on a scale of its own."""
    if not rows:
        return no_data(title, "bars")
    check_bar_values(rows)
    gap = 24
    panel_width = (WIDTH - LABEL_COLUMN - gap - 8) / 2
    counts_whole = all(float(count).is_integer() for _, count, _ in rows)
    count_ticks = nice_ticks(0, max(count for _, count, _ in rows), target=4, whole=counts_whole)
    harm_ticks = nice_ticks(0, max(harm for _, _, harm in rows), target=4, whole=False)
    panels = (
        Panel(LABEL_COLUMN, panel_width, count_ticks, COUNT_FILL, "count"),
        Panel(LABEL_COLUMN + panel_width + gap, panel_width, harm_ticks, HARM_FILL, "harm"),
    )
    rows_bottom = BARS_TOP + len(rows) * ROW_HEIGHT
    body = [heading(title)]
    body += panel_header(panels[0], value_label, rows_bottom)
    body += panel_header(panels[1], harm_label, rows_bottom)
    body += [bar_row(i, row, panels, (value_label, harm_label)) for i, row in enumerate(rows)]
    return svg_document(title, rows_bottom + 10, body, kind="bars")


# --- concentration chart ------------------------------------------------------------------------

CURVE_LEFT = 70
CURVE_TOP = 56
CURVE_SIZE = 300
MOST_CURVE_VERTICES = (
    1000  # a thousand steps are finer than print shows; tens of thousands of places would bloat the page
)
MARKED_SHARES = (0.05, 0.10)


def check_shares(points: Sequence[tuple[float, float]]) -> None:
    for x, y in points:
        if not (math.isfinite(x) and math.isfinite(y) and -1e-9 <= x <= 1 + 1e-9 and -1e-9 <= y <= 1 + 1e-9):
            raise ValueError(f"concentration points are shares between 0 and 1, not ({x!r}, {y!r})")


def from_origin(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    ordered = sorted(points)
    return ordered if ordered[0] == (0, 0) else [(0.0, 0.0), *ordered]


def thinned(vertices: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """At most about MOST_CURVE_VERTICES of the vertices, evenly taken, keeping the first and the last."""
    if len(vertices) <= MOST_CURVE_VERTICES:
        return vertices
    every = math.ceil(len(vertices) / MOST_CURVE_VERTICES)
    return vertices[::every] + ([vertices[-1]] if (len(vertices) - 1) % every else [])


def share_of_events_at(vertices: Sequence[tuple[float, float]], share_of_places: float) -> float | None:
    """The curve's height at this share of places, linearly between its vertices; None beyond its end."""
    for (x1, y1), (x2, y2) in itertools.pairwise(vertices):
        if x1 <= share_of_places <= x2:
            return y1 if x2 == x1 else y1 + (y2 - y1) * (share_of_places - x1) / (x2 - x1)
    return None


def curve_x(share: float) -> float:
    return CURVE_LEFT + share * CURVE_SIZE


def curve_y(share: float) -> float:
    return CURVE_TOP + CURVE_SIZE - share * CURVE_SIZE


def share_axes() -> list[str]:
    parts = []
    for tick in nice_ticks(0, 1, whole=False):
        parts.append(line(curve_x(tick), CURVE_TOP, curve_x(tick), curve_y(0), stroke=GRID_GREY))
        parts.append(line(CURVE_LEFT, curve_y(tick), curve_x(1), curve_y(tick), stroke=GRID_GREY))
        parts.append(
            text(
                curve_x(tick), curve_y(0) + 16, format_share(tick), size=TICK_SIZE, anchor="middle", css_class="tick-x"
            )
        )
        parts.append(
            text(
                CURVE_LEFT - 6, curve_y(tick) + 4, format_share(tick), size=TICK_SIZE, anchor="end", css_class="tick-y"
            )
        )
    parts.append(text(curve_x(0.5), curve_y(0) + 34, "Share of places (busiest first)", anchor="middle"))
    middle = CURVE_TOP + CURVE_SIZE / 2
    parts.append(text(-middle, 16, "Share of events", anchor="middle", extra=' transform="rotate(-90)"'))
    return parts


def share_mark(share_of_places: float, share_of_events: float) -> str:
    x, y = curve_x(share_of_places), curve_y(share_of_events)
    caption = f"{format_share(share_of_places)} of places: {format_share(share_of_events)} of events"
    inner = (
        line(x, curve_y(0), x, y, stroke="#000000", dash="3 2")
        + line(CURVE_LEFT, y, x, y, stroke="#000000", dash="3 2")
        + f'<circle cx="{coordinate(x)}" cy="{coordinate(y)}" r="4" fill="#ffffff" stroke="#000000" '
        'stroke-width="1.5"/>'
    )
    return titled(caption, inner, "mark")


def concentration_legend(marks: Sequence[tuple[float, float]]) -> list[str]:
    x = curve_x(1) + 30
    curve = line(x, 70, x + 28, 70, stroke="#000000", width=2.5)
    diagonal = line(x, 92, x + 28, 92, stroke=AXIS_GREY, width=1.5, dash="6 4")
    parts = [
        f'<g class="legend-item">{curve}{text(x + 34, 74, "Events by place")}</g>',
        f'<g class="legend-item">{diagonal}{text(x + 34, 96, "Equal spread")}</g>',
    ]
    for index, (places, events) in enumerate(marks):
        parts.append(
            text(
                x,
                128 + index * 20,
                f"{format_share(places)} of places hold {format_share(events)} of events",
                css_class="mark-caption",
            )
        )
    return parts


def concentration_chart(
    points: list[tuple[float, float]], *, title: str, marked_shares: dict[float, float] | None = None
) -> Markup:
    """The concentration curve: cumulative share of events (y) against share of places, busiest first (x).

    Shares are fractions from 0 to 1. The diagonal of equal spread is dashed; the shares of events
    held by the busiest 5% and 10% of places are marked and written beside the chart. They are read
    off the curve (linearly between its points) unless ``marked_shares`` gives them, {share of
    places: share of events}, as the assessment's text states them, so that chart and text agree.
    """
    if not points:
        return no_data(title, "concentration")
    check_shares(points)
    vertices = from_origin(points)
    if marked_shares is None:
        marked_shares = {s: e for s in MARKED_SHARES if (e := share_of_events_at(vertices, s)) is not None}
    marks = sorted(marked_shares.items())
    check_shares(marks)
    path = " ".join(
        f"{'M' if i == 0 else 'L'}{coordinate(curve_x(x))},{coordinate(curve_y(y))}"
        for i, (x, y) in enumerate(thinned(vertices))
    )
    body = [heading(title), *share_axes()]
    body.append(line(curve_x(0), curve_y(0), curve_x(1), curve_y(1), stroke=AXIS_GREY, width=1.5, dash="6 4"))
    body.append(
        f'<path class="curve" d="{path}" fill="none" stroke="#000000" stroke-width="2.5" stroke-linejoin="round"/>'
    )
    body += [share_mark(places, events) for places, events in marks]
    body += concentration_legend(marks)
    return svg_document(title, curve_y(0) + 48, body, kind="concentration")
