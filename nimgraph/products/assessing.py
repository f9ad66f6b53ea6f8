"""What the strategic and tactical assessments share: their settings, the read, sources, hotspots.

Both read the period's incidents through the caller's view (``ClearedView.incidents``), so every
count, rate, rank and map is what it would be if the records the caller may not see did not exist.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from nimgraph.analysis import hotspots
from nimgraph.grading import most_restrictive
from nimgraph.labels import entity_label
from nimgraph.ontology import Core, Model
from nimgraph.products.common import NotVisible, TableError, source_register
from nimgraph.products.harm import HarmIndex, load_harm_index
from nimgraph.products.periods import Period
from nimgraph.products.priorities import Matrix, load_matrix
from nimgraph.records import Incident, IncidentRead, Report
from nimgraph.viz import maps

SECTION_NAMES = {
    "strategic_assessment": ("executive_summary", "pestelo", "analyst_conclusions"),
    "tactical_assessment": ("summary", "analyst_notes"),
}
OTHER_CATEGORIES = "other categories"
MAX_POINTS = 20_000
MAX_SECTIONS_FILE = 2_000_000  # bytes: the analyst's sections file
MAX_SECTION = 100_000  # characters of one section  # incident points drawn on a map; the rest are counted, not drawn


@dataclass(frozen=True)
class AssessmentSettings:
    """What an assessment is built with, from settings: the tables, alpha, the grid, the map."""

    harm: HarmIndex
    matrix: Matrix
    alpha: float = 0.05
    cell_metres: float = 250.0
    tile_url: str | None = None
    tile_attribution: str | None = None
    sections_file: Path | None = None

    @classmethod
    def load(
        cls,
        harm_index: Path | str | None = None,
        priority_matrix: Path | str | None = None,
        *,
        alpha: float = 0.05,
        cell_metres: float = 250.0,
        tile_url: str | None = None,
        tile_attribution: str | None = None,
        sections_file: Path | None = None,
    ) -> AssessmentSettings:
        return cls(
            load_harm_index(harm_index),
            load_matrix(priority_matrix),
            alpha,
            cell_metres,
            tile_url or None,
            tile_attribution or None,
            sections_file,
        )


@dataclass
class Scoped:
    """The incidents an assessment counts (within its area, if one is given) and how to name things."""

    read: IncidentRead
    incidents: list[Incident]
    area: dict | None
    label: Callable[[str], str]
    notes: list[str] = field(default_factory=list)


def read_scoped(view, model: Model, since: str, until: str, area: str | None) -> Scoped:
    """The incidents in [since, until] the caller may see, within ``area`` when given.

    An area the caller cannot see is refused exactly as one that does not exist.
    """
    area_info = None
    if area is not None:
        entity = view.get(area)
        if entity is None or entity.type not in model.entities or not model.is_a(entity.type, Core.AREA):
            raise NotVisible(area)
        area_info = {"id": entity.id, "label": entity_label(model, entity), "type": entity.type}
    read = view.incidents(since, until)
    incidents = read.incidents if area is None else [i for i in read.incidents if area in i.areas]

    def label(place_id: str) -> str:
        place = read.places.get(place_id)
        return place.label if place else place_id

    return Scoped(read=read, incidents=incidents, area=area_info, label=label)


def latest_day(incidents: Sequence[Incident], fallback: date) -> date:
    """The day of the latest incident (a month-only one counts as its month's first day), else ``fallback``."""
    return date.fromisoformat(max(i.date for i in incidents)) if incidents else fallback


def sources_and_handling(view, read: IncidentRead) -> tuple[list[dict], list[dict], str | None]:
    """Footnotes (one per source: records by grade), the source table, and the most restrictive code."""
    register = source_register(view)
    by_source: dict[str, dict[str, int]] = {}
    codes = set()
    for (source, grade, handling), count in sorted(read.records.items()):
        by_source.setdefault(source, {}).setdefault(grade, 0)
        by_source[source][grade] += count
        codes.add(handling)
    sources = [
        {
            "n": n,
            "source": source,
            "agency": register.get(source, {}).get("agency"),
            "records": sum(grades.values()),
            "grades": dict(sorted(grades.items())),
        }
        for n, (source, grades) in enumerate(sorted(by_source.items()), 1)
    ]
    footnotes = [
        {
            "n": s["n"],
            "text": f"{s['source']}"
            + (f" ({s['agency']})" if s["agency"] else "")
            + f": {s['records']:,} records, graded "
            + ", ".join(f"{g} x{c:,}" for g, c in s["grades"].items()),
        }
        for s in sources
    ]
    return footnotes, sources, most_restrictive(codes) if codes else None


def analyst_sections(product: str, settings: AssessmentSettings, scope_key: str) -> dict[str, str]:
    """The analyst's own text for each of the product's free sections, kept in a YAML file so that
    regenerating the product keeps it: ``{product: {scope: {section: text}}}``. Only text is taken,
    at most MAX_SECTION characters a section."""
    names = SECTION_NAMES[product]
    kept: dict = {}
    path = settings.sections_file
    if path is not None and Path(path).is_file():
        if Path(path).stat().st_size > MAX_SECTIONS_FILE:
            raise TableError(f"the analyst's sections file {path} is over {MAX_SECTIONS_FILE:,} bytes; trim it")
        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as err:
            raise TableError(f"the analyst's sections file {path} is not YAML ({err}); fix it") from None
        by_product = loaded.get(product) if isinstance(loaded, dict) else None
        by_scope = by_product.get(scope_key) if isinstance(by_product, dict) else None
        kept = by_scope if isinstance(by_scope, dict) else {}
    return {name: text[:MAX_SECTION] if isinstance(text := kept.get(name), str) else "" for name in names}


def hotspot_map_cells(
    grid: hotspots.Grid, found: Sequence, patterns: dict[str, str] | None = None, also: Sequence = ()
) -> list[dict]:
    """Cells for the map: hot ones in ``found``, and the trends in ``also`` (hot in the latest
    sub-period: emerging ones the whole period's statistic does not show), with bounds, z and pattern."""
    cells = {cell.id: cell for cell in grid.cells}
    shown: dict[str, dict] = {}
    latest = [(t.id, t.z[-1], None, None) for t in also if t.hot_periods and t.hot_periods[-1]]
    for cell_id, z, p, count in [(s.id, s.z, s.p, s.count) for s in found if s.hot] + latest:
        if cell_id in shown:
            continue
        cell = cells[cell_id]
        pattern = (patterns or {}).get(cell_id, "")
        shown[cell_id] = {
            "id": cell.id,
            "south": cell.south,
            "west": cell.west,
            "north": cell.north,
            "east": cell.east,
            "z": round(float(z), 2),
            "p": None if p is None else float(p),
            "count": None if count is None else int(count),
            "pattern": pattern,
            "label": f"{cell.id}: z {float(z):.1f}"
            + (f", {int(count)} incidents" if count is not None else "")
            + (f", {pattern}" if pattern else ""),
        }
    return list(shown.values())


def map_points(incidents: Sequence[Incident], limit: int = MAX_POINTS) -> tuple[list[dict], int]:
    """Incident points for the map, the latest first up to ``limit``; and how many had coordinates."""
    placed = [i for i in incidents if i.latitude is not None and i.longitude is not None]
    shown = sorted(placed, key=lambda i: (i.date, i.id), reverse=True)[:limit]
    # the map has as many distinct colours as its palette: the commonest categories get one each,
    # the rest share one, so the key never gives two categories the same colour
    common = Counter(i.category for i in shown).most_common()
    colours = len(maps.CATEGORY_COLOURS)
    named = {c for c, _ in common[: colours - 1]} if len(common) > colours else None
    return (
        [
            {
                "lat": i.latitude,
                "lon": i.longitude,
                "label": f"{i.category}, {i.date}",
                "category": i.category if named is None or i.category in named else OTHER_CATEGORIES,
            }
            for i in shown
        ],
        len(placed),
    )


def period_of(incidents: Sequence[Incident], period: Period, *, days_only: bool = False) -> list[Incident]:
    return [i for i in incidents if period.holds(i.date) and not (days_only and i.month_only)]


def intelligence_by_grade(reports: Sequence[Report], period: Period) -> dict:
    """Intelligence reports of the period by grade: a report several records grade, at its best."""
    inside = [r for r in reports if period.holds(r.date)]
    by_grade = Counter(min(r.grades) if r.grades else "ungraded" for r in inside)
    by_evaluation = Counter((min(r.grades)[:2] if r.grades else "ungraded") for r in inside)
    return {
        "reports": len(inside),
        "by_grade": dict(sorted(by_grade.items())),
        "by_source_and_intelligence": dict(sorted(by_evaluation.items())),
        "grade_note": "a report several records grade is counted at its best grade (the lowest code)",
    }
