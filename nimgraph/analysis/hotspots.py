"""Hotspots for an assessment: events on a grid, Getis-Ord Gi*, and emerging or persistent hotspots over sub-periods.

Pure functions over numbers: nothing here reads a store or a file.

The usual sequence::

    cells = grid(latitudes, longitudes, cell_metres=250)
    weights = grid_weights(cells)
    spots = gi_star(cells.counts(latitudes, longitudes), weights)
    trends = hotspot_trends([cells.counts(la, lo) for la, lo in periods], weights)
    text = describe_method(weights="grid", cell_metres=cells.cell_metres)

For counts per area (wards, beats) that have centroids but no boundaries, :func:`area_weights` gives k nearest
neighbours instead of :func:`grid_weights`.

Why a local equirectangular projection rather than the British National Grid: coordinates may come from anywhere,
and a partnership's area is tens of kilometres across. Degrees are scaled to metres with the WGS84 ellipsoid's
radii of curvature at the points' mean latitude, so a cell is exactly a latitude/longitude rectangle. North-south
distances are then right to about 0.003 % 20 km from that latitude; east-west distances are off by
``tan(lat0) * dlat`` (dlat in radians from the mean latitude): at most 0.5 % 20 km north or south of it at UK
latitudes, about 1 m across a 250 m cell. That changes only how big the outer cells are on the ground, not which
cells touch which, and Gi* on the grid uses contiguity, not distance.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import Literal

import esda
import libpysal.weights
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

__all__ = [
    "MAX_CELLS",
    "METHOD",
    "PATTERNS",
    "Cell",
    "Grid",
    "Hotspot",
    "HotspotTrend",
    "MannKendall",
    "area_weights",
    "describe_method",
    "gi_star",
    "grid",
    "grid_weights",
    "hotspot_trends",
    "mann_kendall",
]

MAX_CELLS = 250_000
"""The most cells :func:`grid` makes: at this size, :func:`grid_weights` and :func:`gi_star` take 15 s and 500 MB."""

# WGS84
_SEMI_MAJOR_AXIS = 6_378_137.0
_FLATTENING = 1 / 298.257223563
_ECCENTRICITY_SQUARED = _FLATTENING * (2 - _FLATTENING)

PATTERNS = (
    "new",
    "consecutive",
    "intensifying",
    "persistent",
    "diminishing",
    "sporadic",
    "oscillating",
    "historical",
    "none",
)
"""The hot-spot patterns :func:`hotspot_trends` gives, after ESRI's Emerging Hot Spot Analysis; 'none' for the rest."""

METHOD: Mapping[str, str] = MappingProxyType(
    {
        "grid": (
            "Events were counted in square cells of {cell_metres:g} m on a local equirectangular projection about the "
            "events' mean latitude; every cell of the events' bounding box was included, empty cells as zero."
        ),
        "grid_weights": (
            "Each cell's neighbourhood was the cell itself and the up to eight cells sharing an edge or a corner with "
            "it (queen contiguity), each weighted 1 (binary weights)."
        ),
        "area_weights": (
            "Each area's neighbourhood was the area itself and its {k} nearest other areas by straight-line distance "
            "between centroids, each weighted 1 (binary weights)."
        ),
        "statistic": (
            "Hotspots were tested with the Getis-Ord Gi* statistic (Getis and Ord 1992; Ord and Getis 1995): the "
            "total count in each neighbourhood against the total expected from the mean over the whole study area, "
            "as a z-score with an analytical p-value from the normal distribution (no permutations)."
        ),
        "significance": (
            "A cell is a hot spot when its z-score is positive and its two-sided p-value is significant at "
            "{alpha:g}, a cold spot when its z-score is negative and the same holds."
        ),
        "fdr": (
            "Significance was corrected for testing many cells at once by controlling the false discovery rate at "
            "{alpha:g} (Benjamini and Hochberg 1995): at most that share of the cells flagged are expected to be "
            "flagged by chance."
        ),
        "no_correction": (
            "No correction was made for testing many cells at once: about {alpha:g} of cells with no real "
            "clustering are expected to be flagged by chance."
        ),
        "untestable": (
            "A cell with no neighbours, or a study area or period whose counts are all equal, cannot be tested and "
            "is reported as neither hot nor cold."
        ),
        "trends": (
            "For emerging hotspots, Gi* was computed separately for each of {periods} sub-periods with the same "
            "neighbourhoods, each cell's series of Gi* z-scores was tested for a trend with the two-sided Mann-Kendall "
            "test (corrected for ties) at {alpha:g}, and cells were classed with the hot-spot patterns of ESRI's "
            "Emerging Hot Spot Analysis (new, consecutive, intensifying, persistent, diminishing, sporadic, "
            "oscillating, historical); cold-spot patterns were not classed."
        ),
    }
)
"""Sentences a report can quote, as ``str.format`` templates; :func:`describe_method` fills and joins them."""


def describe_method(
    *,
    weights: Literal["grid", "areas"],
    alpha: float = 0.05,
    fdr: bool = True,
    cell_metres: float | None = None,
    k: int | None = None,
    periods: int | None = None,
) -> str:
    """The method of a hotspot analysis in plain sentences, from :data:`METHOD`.

    ``cell_metres`` (the grid's actual :attr:`Grid.cell_metres`) is needed with ``weights="grid"``, ``k`` (the
    neighbours actually used: ``weights.max_neighbors`` of :func:`area_weights`' result) with ``weights="areas"``;
    ``periods`` adds the emerging-hotspot sentence.

    >>> text = describe_method(weights="areas", k=4, fdr=False)
    >>> ("its 4 nearest other areas" in text, "No correction" in text, "false discovery" in text)
    (True, True, False)
    """
    if weights == "grid":
        if cell_metres is None:
            raise ValueError("cell_metres is needed to describe grid weights")
        sentences = [METHOD["grid"].format(cell_metres=cell_metres), METHOD["grid_weights"]]
    elif weights == "areas":
        if k is None:
            raise ValueError("k is needed to describe area weights")
        sentences = [METHOD["area_weights"].format(k=k)]
    else:
        raise ValueError(f"weights must be 'grid' or 'areas'; got {weights!r}")
    sentences += [METHOD["statistic"], METHOD["significance"].format(alpha=alpha)]
    sentences.append((METHOD["fdr"] if fdr else METHOD["no_correction"]).format(alpha=alpha))
    sentences.append(METHOD["untestable"])
    if periods is not None:
        sentences.append(METHOD["trends"].format(periods=periods, alpha=alpha))
    return " ".join(sentences)


# --------------------------------------------------------------------------------------------------------------------
# The grid


def _metres_per_degree(reference_latitude: float) -> tuple[float, float]:
    """Metres per degree of latitude and of longitude at ``reference_latitude``, on the WGS84 ellipsoid."""
    sin_lat = math.sin(math.radians(reference_latitude))
    denominator = 1 - _ECCENTRICITY_SQUARED * sin_lat * sin_lat
    meridional = _SEMI_MAJOR_AXIS * (1 - _ECCENTRICITY_SQUARED) / denominator**1.5
    prime_vertical = _SEMI_MAJOR_AXIS / math.sqrt(denominator)
    parallel = prime_vertical * math.cos(math.radians(reference_latitude))
    return meridional * math.pi / 180, parallel * math.pi / 180  # radii are metres per radian


def _coordinates(latitudes: ArrayLike, longitudes: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    lats = np.asarray(latitudes, dtype=np.float64)
    lons = np.asarray(longitudes, dtype=np.float64)
    if lats.shape != lons.shape:
        raise ValueError(f"latitudes and longitudes differ in shape: {lats.shape} and {lons.shape}")
    return lats, lons


@dataclass(frozen=True, slots=True)
class Cell:
    """One grid cell: ``row`` 0 is the southernmost, ``col`` 0 the westernmost; edges and centre in WGS84 degrees."""

    id: str
    row: int
    col: int
    south: float
    west: float
    north: float
    east: float
    centre_lat: float
    centre_lon: float


@dataclass(frozen=True)
class Grid:
    """Square cells over the bounding box of some points, on a local equirectangular projection.

    Cell ``index`` is ``row * cols + col``, the order of :attr:`ids`, :attr:`cells` and :func:`grid_weights`. A cell
    holds the points with ``south <= lat < north`` and ``west <= lon < east``; the last row and column reach past the
    bounding box, so every point the grid was made from has a cell.
    """

    rows: int
    cols: int
    cell_metres: float
    """The cell size used: ``requested_cell_metres``, or wider when that would have made more than ``max_cells``."""
    requested_cell_metres: float
    south: float
    west: float
    reference_latitude: float
    metres_per_degree_lat: float
    metres_per_degree_lon: float

    @property
    def widened(self) -> bool:
        """Whether the cells had to be wider than asked, to keep within the cap on the number of cells."""
        return self.cell_metres != self.requested_cell_metres

    def __len__(self) -> int:
        return self.rows * self.cols

    @staticmethod
    def cell_id(row: int, col: int) -> str:
        """``'r12c7'`` for row 12, column 7.

        >>> Grid.cell_id(12, 7)
        'r12c7'
        """
        return f"r{row}c{col}"

    @cached_property
    def ids(self) -> list[str]:
        """Every cell's id, in index order."""
        return [self.cell_id(row, col) for row in range(self.rows) for col in range(self.cols)]

    def _lat_edge(self, row: float) -> float:
        return self.south + row * self.cell_metres / self.metres_per_degree_lat

    def _lon_edge(self, col: float) -> float:
        return self.west + col * self.cell_metres / self.metres_per_degree_lon

    def cell(self, index: int) -> Cell:
        """The cell at ``index`` (``row * cols + col``)."""
        if not 0 <= index < len(self):
            raise IndexError(f"cell index {index} is outside a grid of {len(self)} cells")
        row, col = divmod(index, self.cols)
        south, north = self._lat_edge(row), self._lat_edge(row + 1)
        west, east = self._lon_edge(col), self._lon_edge(col + 1)
        centre_lat, centre_lon = self._lat_edge(row + 0.5), self._lon_edge(col + 0.5)
        return Cell(self.cell_id(row, col), row, col, south, west, north, east, centre_lat, centre_lon)

    @cached_property
    def cells(self) -> list[Cell]:
        """Every cell, empty or not, in index order (built on first use: up to :data:`MAX_CELLS` objects)."""
        return [self.cell(index) for index in range(len(self))]

    def cells_of(self, latitudes: ArrayLike, longitudes: ArrayLike) -> NDArray[np.int64]:
        """The index of the cell holding each point, -1 for a point outside the grid or without coordinates.

        >>> g = grid([51.5, 51.5], [-0.1, -0.09], cell_metres=250)
        >>> g.cells_of([51.5, 51.5, 51.5, 52.0, float("nan")], [-0.1, -0.095, -0.09, -0.1, -0.1]).tolist()
        [0, 1, 2, -1, -1]
        """
        lats, lons = _coordinates(latitudes, longitudes)
        with np.errstate(invalid="ignore"):
            rows = np.floor((lats - self.south) * (self.metres_per_degree_lat / self.cell_metres))
            cols = np.floor((lons - self.west) * (self.metres_per_degree_lon / self.cell_metres))
            inside = (rows >= 0) & (rows < self.rows) & (cols >= 0) & (cols < self.cols)
        indexes = np.full(lats.shape, -1, dtype=np.int64)
        indexes[inside] = rows[inside].astype(np.int64) * self.cols + cols[inside].astype(np.int64)
        return indexes

    def counts(self, latitudes: ArrayLike, longitudes: ArrayLike) -> dict[str, int]:
        """Points per cell for every cell, zeros included, in index order; points outside the grid are not counted.

        >>> g = grid([51.5, 51.5], [-0.1, -0.09], cell_metres=250)
        >>> g.counts([51.5, 51.5, 51.5], [-0.1, -0.1, -0.09])
        {'r0c0': 2, 'r0c1': 0, 'r0c2': 1}
        """
        indexes = self.cells_of(latitudes, longitudes).ravel()
        tally = np.bincount(indexes[indexes >= 0], minlength=len(self))
        return dict(zip(self.ids, tally.tolist(), strict=True))


def _cells_needed(width: float, height: float, cell_metres: float) -> int:
    return (math.floor(width / cell_metres) + 1) * (math.floor(height / cell_metres) + 1)


def _cell_metres_within(width: float, height: float, requested: float, max_cells: int) -> float:
    """``requested``, or the smallest whole number of metres above it that needs no more than ``max_cells`` cells."""
    if _cells_needed(width, height, requested) <= max_cells:
        return requested
    # (width/s + 1)(height/s + 1) = max_cells, a quadratic in 1/s, bounds the cells needed from above
    area, perimeter = width * height, width + height
    if area > 0:
        per_metre = (-perimeter + math.sqrt(perimeter * perimeter + 4 * area * (max_cells - 1))) / (2 * area)
    else:
        per_metre = (max_cells - 1) / perimeter
    fits = math.ceil(max(requested, 1 / per_metre))
    while _cells_needed(width, height, fits) > max_cells:  # only float rounding can get here
        fits += 1
    # the floors make fewer cells than the bound: the smallest whole metre that fits can be narrower
    too_narrow = math.floor(requested)
    while fits - too_narrow > 1:
        middle = (fits + too_narrow) // 2
        if _cells_needed(width, height, middle) <= max_cells:
            fits = middle
        else:
            too_narrow = middle
    return float(fits)


def grid(
    latitudes: ArrayLike,
    longitudes: ArrayLike,
    *,
    cell_metres: float = 250.0,
    max_cells: int = MAX_CELLS,
) -> Grid:
    """The grid of ``cell_metres`` squares covering the points' bounding box, empty cells included.

    Points with a missing (NaN) coordinate are left out; a coordinate outside ±90° / ±180° is an error. The grid
    starts at the bounding box's south-west corner. When the box would need more than ``max_cells`` cells (points
    across a country with 250 m cells), the cells are widened to the smallest whole number of metres that fits,
    and :attr:`Grid.cell_metres` says so. The grid does not wrap across the antimeridian.

    >>> g = grid([51.5, 51.5009], [-0.1, -0.0985], cell_metres=50)
    >>> (g.rows, g.cols, g.cell_metres, len(g.cells), g.cells[0].id, g.cells[-1].id)
    (3, 3, 50.0, 9, 'r0c0', 'r2c2')
    >>> wide = grid([50.0, 55.0], [-5.0, 1.0], cell_metres=250, max_cells=10_000)
    >>> (wide.rows * wide.cols <= 10_000, wide.widened, wide.cell_metres > 250)
    (True, True, True)
    """
    if not math.isfinite(cell_metres) or cell_metres <= 0:
        raise ValueError(f"cell_metres must be a positive number of metres; got {cell_metres!r}")
    if max_cells < 1:
        raise ValueError(f"max_cells must be at least 1; got {max_cells!r}")
    lats, lons = _coordinates(latitudes, longitudes)
    located = np.isfinite(lats) & np.isfinite(lons)
    lats, lons = lats[located], lons[located]
    if lats.size == 0:
        raise ValueError("no points with coordinates to grid")
    if np.abs(lats).max() > 90 or np.abs(lons).max() > 180:
        raise ValueError("latitudes must be within ±90 and longitudes within ±180 degrees (WGS84)")
    south, north = float(lats.min()), float(lats.max())
    west, east = float(lons.min()), float(lons.max())
    reference_latitude = float(lats.mean())
    per_degree_lat, per_degree_lon = _metres_per_degree(reference_latitude)
    width, height = (east - west) * per_degree_lon, (north - south) * per_degree_lat
    used = _cell_metres_within(width, height, float(cell_metres), max_cells)
    return Grid(
        rows=math.floor(height / used) + 1,
        cols=math.floor(width / used) + 1,
        cell_metres=used,
        requested_cell_metres=float(cell_metres),
        south=south,
        west=west,
        reference_latitude=reference_latitude,
        metres_per_degree_lat=per_degree_lat,
        metres_per_degree_lon=per_degree_lon,
    )


# --------------------------------------------------------------------------------------------------------------------
# Weights


def grid_weights(cells: Grid) -> libpysal.weights.W:
    """Queen contiguity over every cell of ``cells``, ids the cell ids: the up to eight cells touching each cell.

    Binary and without the cell itself; :func:`gi_star` adds the cell to its own neighbourhood.

    >>> w = grid_weights(grid([51.5, 51.5009], [-0.1, -0.0985], cell_metres=50))
    >>> sorted(w.neighbors["r0c0"]), len(w.neighbors["r1c1"])
    (['r0c1', 'r1c0', 'r1c1'], 8)
    """
    lattice = libpysal.weights.lat2W(cells.rows, cells.cols, rook=False)
    ids = cells.ids
    # W.remap_ids looks each id up in a list (quadratic): 250,000 cells would take hours
    # a 1 x 1 lattice has no entry for its cell
    neighbours = {ids[index]: [ids[other] for other in lattice.neighbors.get(index, [])] for index in range(len(ids))}
    return libpysal.weights.W(neighbours, id_order=ids, silence_warnings=True)


def area_weights(centroids: Mapping[str, tuple[float, float]], k: int = 5) -> libpysal.weights.W:
    """The ``k`` nearest other areas of each area, by distance between ``(lat, lon)`` centroids; binary.

    For counts per area when the areas have no boundaries. ``k`` is cut to one fewer than the areas (so
    ``max_neighbors`` says the k used); a single area has no neighbours. Distances are taken on the same local
    equirectangular projection as :func:`grid`. Not symmetric: B can be among A's nearest without A among B's.

    >>> w = area_weights({"a": (51.50, -0.10), "b": (51.50, -0.11), "c": (51.50, -0.13), "d": (51.60, -0.10)}, k=1)
    >>> dict(w.neighbors)
    {'a': ['b'], 'b': ['a'], 'c': ['b'], 'd': ['a']}
    """
    if k < 1:
        raise ValueError(f"k must be at least 1; got {k!r}")
    ids = [str(area) for area in centroids]
    if not ids:
        raise ValueError("no areas to weight")
    if len(ids) == 1:
        return libpysal.weights.W({ids[0]: []}, id_order=ids, silence_warnings=True)
    lats, lons = _coordinates([c[0] for c in centroids.values()], [c[1] for c in centroids.values()])
    if not (np.isfinite(lats).all() and np.isfinite(lons).all()):
        raise ValueError("every area needs a centroid with coordinates")
    if np.abs(lats).max() > 90 or np.abs(lons).max() > 180:
        raise ValueError("latitudes must be within ±90 and longitudes within ±180 degrees (WGS84)")
    per_degree_lat, per_degree_lon = _metres_per_degree(float(lats.mean()))
    points = np.column_stack([(lons - lons.min()) * per_degree_lon, (lats - lats.min()) * per_degree_lat])
    nearest = libpysal.weights.KNN.from_array(points, k=min(k, len(ids) - 1), ids=ids, silence_warnings=True)
    neighbours = {str(area): [str(other) for other in nearest.neighbors[area]] for area in nearest.id_order}
    return libpysal.weights.W(neighbours, id_order=ids, silence_warnings=True)


# --------------------------------------------------------------------------------------------------------------------
# Gi*


@dataclass(frozen=True, slots=True)
class Hotspot:
    """Gi* for one cell or area. ``z`` and ``p`` (two-sided) are NaN when the cell cannot be tested."""

    id: str
    count: float
    z: float
    p: float
    hot: bool
    cold: bool


@dataclass(frozen=True)
class _Neighbourhoods:
    """Binary weights with each unit in its own neighbourhood, built once for every period of a trend."""

    ids: list[str]
    weights: libpysal.weights.W
    testable: NDArray[np.bool_]  # has a neighbour besides itself


def _neighbourhoods(weights: libpysal.weights.W) -> _Neighbourhoods:
    ids = list(weights.id_order)
    # a new W, so the caller's is not transformed by esda, and every unit is its own neighbour whatever it had
    with_self = {unit: [unit, *(other for other in weights.neighbors.get(unit, []) if other != unit)] for unit in ids}
    testable = np.array([len(with_self[unit]) > 1 for unit in ids], dtype=bool)
    return _Neighbourhoods(ids, libpysal.weights.W(with_self, id_order=ids, silence_warnings=True), testable)


def _values(counts: Mapping[str, float], ids: list[str]) -> NDArray[np.float64]:
    known = set(ids)
    strangers = [unit for unit in counts if unit not in known]
    if strangers:
        raise ValueError(f"{len(strangers)} counts are for ids the weights do not have, e.g. {strangers[:3]}")
    values = np.array([counts.get(unit, 0) for unit in ids], dtype=np.float64)
    if not np.isfinite(values).all() or (values < 0).any():
        raise ValueError("counts must be finite and not negative")
    return values


def _significant(p: NDArray[np.float64], alpha: float, fdr: bool) -> NDArray[np.bool_]:
    tested = np.isfinite(p)
    if not tested.any():
        return np.zeros(p.shape, dtype=bool)
    # esda.fdr's cut-off k*alpha/m is for "p < cut-off"; untested cells are not among the m tests
    threshold = float(esda.fdr(p[tested], alpha)) if fdr else alpha
    with np.errstate(invalid="ignore"):
        return tested & (p < threshold)


def _gi_star_arrays(
    values: NDArray[np.float64], neighbourhoods: _Neighbourhoods
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Gi* z-scores and two-sided p-values, NaN where a unit cannot be tested."""
    n = values.size
    z = np.full(n, np.nan)
    if n < 2 or np.ptp(values) == 0:
        return z, np.full(n, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = esda.G_Local(values, neighbourhoods.weights, transform="B", star=True, permutations=0)
    z = np.asarray(result.Zs, dtype=np.float64)
    # a neighbourhood of every unit has no variance: z is 0/0 there
    whole_area = np.asarray(neighbourhoods.weights.sparse.sum(axis=1)).ravel() >= n
    z = np.where(neighbourhoods.testable & ~whole_area & np.isfinite(z), z, np.nan)
    return z, np.minimum(2 * stats.norm.sf(np.abs(z)), 1.0)


def gi_star(
    counts: Mapping[str, float],
    weights: libpysal.weights.W,
    *,
    alpha: float = 0.05,
    fdr: bool = True,
) -> list[Hotspot]:
    """Getis-Ord Gi* for every unit of ``weights`` (in its ``id_order``), with hot and cold spots flagged.

    Each unit's neighbourhood is itself plus its neighbours in ``weights``, all weighted 1 (``esda.G_Local`` with
    ``star=True, transform='B'``), whatever weights ``weights`` holds; ``weights`` itself is not changed.
    ``z`` is the analytical Gi* z-score (no permutations) and ``p`` its two-sided normal p-value. A unit is
    ``hot`` when ``z > 0`` and ``p`` is below ``alpha`` or, with ``fdr``, below the Benjamini-Hochberg cut-off that
    keeps the false discovery rate at ``alpha`` over the units tested (``esda.fdr``); ``cold`` likewise for
    ``z < 0``.

    A unit missing from ``counts`` counts 0; a count for a unit ``weights`` lacks is an error. Units that cannot be
    tested get NaN ``z`` and ``p`` and are neither hot nor cold: one with no neighbours (an island; it still counts
    in the study area's mean and spread), one whose neighbourhood is the whole study area, and every unit when the
    counts are all equal (all zero, or a single unit).

    >>> w = libpysal.weights.lat2W(1, 5, rook=False)
    >>> w.remap_ids(["a", "b", "c", "d", "e"])
    >>> [(s.id, round(s.z, 3), round(s.p, 3)) for s in gi_star({"a": 9, "b": 8, "e": 1}, w)][:3]
    [('a', 1.986, 0.047), ('b', 1.256, 0.209), ('c', -0.567, 0.571)]
    >>> [s.id for s in gi_star({"a": 9, "b": 8, "e": 1}, w, fdr=False) if s.hot]
    ['a']
    >>> [s.id for s in gi_star({"a": 9, "b": 8, "e": 1}, w) if s.hot]  # 0.047 is not below the FDR cut-off 0.01
    []
    >>> gi_star({}, w)[0]
    Hotspot(id='a', count=0.0, z=nan, p=nan, hot=False, cold=False)
    """
    neighbourhoods = _neighbourhoods(weights)
    values = _values(counts, neighbourhoods.ids)
    tested = _tested(values, neighbourhoods, alpha, fdr)
    return [
        Hotspot(*fields)
        for fields in zip(
            neighbourhoods.ids,
            values.tolist(),
            tested.z.tolist(),
            tested.p.tolist(),
            tested.hot.tolist(),
            tested.cold.tolist(),
            strict=True,
        )
    ]


@dataclass(frozen=True)
class _Period:
    z: NDArray[np.float64]
    p: NDArray[np.float64]
    hot: NDArray[np.bool_]
    cold: NDArray[np.bool_]


def _tested(values: NDArray[np.float64], neighbourhoods: _Neighbourhoods, alpha: float, fdr: bool) -> _Period:
    z, p = _gi_star_arrays(values, neighbourhoods)
    significant = _significant(p, alpha, fdr)
    return _Period(z, p, significant & (z > 0), significant & (z < 0))


# --------------------------------------------------------------------------------------------------------------------
# Mann-Kendall and emerging hotspots


@dataclass(frozen=True, slots=True)
class MannKendall:
    """A Mann-Kendall trend test: ``s`` the score, ``variance`` its variance under no trend (tie-corrected), ``z``
    (continuity-corrected) and ``p`` two-sided."""

    s: int
    variance: float
    z: float
    p: float


def _mann_kendall_rows(
    series: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Mann-Kendall for each row of ``series`` (units x periods, oldest first), NaNs left out of their row."""
    units, periods = series.shape
    s = np.zeros(units)
    with np.errstate(invalid="ignore"):
        for earlier in range(periods - 1):
            s += np.nansum(np.sign(series[:, earlier + 1 :] - series[:, earlier : earlier + 1]), axis=1)
    n = np.isfinite(series).sum(axis=1).astype(np.float64)
    # groups of tied values: runs of equal values in each sorted row (NaN equals nothing, so is never tied)
    ordered = np.sort(series, axis=1)
    ties = np.zeros(units)
    run = np.ones(units)
    for position in range(1, periods):
        same = ordered[:, position] == ordered[:, position - 1]
        ties += np.where(same, 0.0, run * (run - 1) * (2 * run + 5))
        run = np.where(same, run + 1, 1.0)
    ties += run * (run - 1) * (2 * run + 5)
    variance = (n * (n - 1) * (2 * n + 5) - ties) / 18
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(variance > 0, (s - np.sign(s)) / np.sqrt(variance), 0.0)
    return s, variance, z, 2 * stats.norm.sf(np.abs(z))


def mann_kendall(values: Sequence[float] | ArrayLike) -> MannKendall:
    """The Mann-Kendall test for a monotonic trend in ``values`` (in time order; NaNs are left out).

    ``s`` is the sum over every pair i < j of sign(x_j - x_i). Its variance under no trend is
    ``(n(n-1)(2n+5) - Σ t(t-1)(2t+5)) / 18``, the sum over groups of ``t`` tied values; ``z`` is ``(s - 1) / sd``
    for ``s > 0``, ``(s + 1) / sd`` for ``s < 0`` and 0 for ``s = 0`` (or for no variance: fewer than two values,
    or all equal), and ``p = 2 (1 - Φ(|z|))``.

    >>> result = mann_kendall([1, 2, 2, 3])
    >>> result.s, round(result.variance, 4), round(result.z, 4), round(result.p, 4)
    (5, 7.6667, 1.4446, 0.1486)
    >>> mann_kendall([4, 4, 4]).p
    1.0
    """
    row = np.asarray(values, dtype=np.float64).reshape(1, -1)
    s, variance, z, p = _mann_kendall_rows(row)
    return MannKendall(int(s[0]), float(variance[0]), float(z[0]), float(p[0]))


@dataclass(frozen=True, slots=True)
class HotspotTrend:
    """A unit's hot-spot pattern over the sub-periods (oldest first): one of :data:`PATTERNS`.

    ``z`` are its Gi* z-scores (NaN where it could not be tested), ``hot_periods`` whether it was a significant
    hot spot in each, ``trend_z`` and ``trend_p`` the Mann-Kendall test on ``z``.
    """

    id: str
    pattern: str
    hot_periods: list[bool]
    z: list[float]
    trend_z: float
    trend_p: float


def _pattern(hot: list[bool], cold: list[bool], trend_z: float, trend_p: float, alpha: float) -> str:
    periods, hot_periods = len(hot), sum(hot)
    mostly_hot = 10 * hot_periods >= 9 * periods  # ESRI's "at least 90 percent", in integers
    if not hot[-1]:
        return "historical" if mostly_hot else "none"
    if mostly_hot:
        if trend_p < alpha:
            return "intensifying" if trend_z > 0 else "diminishing"
        return "persistent"
    if any(cold[:-1]):
        return "oscillating"
    if hot_periods == 1:
        return "new"
    final_run = 0
    while final_run < periods and hot[periods - 1 - final_run]:
        final_run += 1
    return "consecutive" if final_run == hot_periods else "sporadic"


def hotspot_trends(
    counts_by_period: Sequence[Mapping[str, float]],
    weights: libpysal.weights.W,
    *,
    alpha: float = 0.05,
    fdr: bool = True,
) -> list[HotspotTrend]:
    """Emerging, persistent and fading hotspots: :func:`gi_star` per sub-period (oldest first), then a pattern.

    Each period is tested on its own (its own mean, spread and false-discovery cut-off) with the same
    neighbourhoods; ESRI's tool instead tests space-time neighbourhoods across its whole cube. The Mann-Kendall
    test (:func:`mann_kendall`) runs on each unit's Gi* z-scores, leaving out periods where it could not be tested,
    and a trend counts when its two-sided p is below ``alpha`` (not corrected for the many units). "Hot" is a
    significant hot spot; "mostly hot" is hot in at least 90 % of the periods (with fewer than ten periods: all).
    Following ESRI's Emerging Hot Spot Analysis hot-spot definitions, checked in this order:

    - *historical*: not hot in the final period, but mostly hot.
    - *intensifying* / *diminishing*: hot in the final period, mostly hot, and a significant rising / falling trend.
    - *persistent*: hot in the final period, mostly hot, and no significant trend.
    - *oscillating*: hot in the final period, not mostly hot, and a significant cold spot in an earlier period.
    - *new*: hot in the final period only (and never cold before).
    - *consecutive*: hot in an unbroken run of two or more periods ending with the final one, never hot (or cold)
      before the run, not mostly hot.
    - *sporadic*: hot in the final period, hot on and off before it, never cold, not mostly hot.
    - *none*: anything else, including every cold-spot pattern (cold spots are not classed).

    ESRI's new and consecutive definitions do not mention cold spots; a unit once cold is classed oscillating, as its
    definition does. The Mann-Kendall test cannot reach p < 0.05 with fewer than five periods, so intensifying and
    diminishing need at least five. At least two periods are needed.

    >>> w = libpysal.weights.lat2W(1, 6, rook=False)
    >>> w.remap_ids(["a", "b", "c", "d", "e", "f"])
    >>> periods = [{"f": 9, "e": 8}, {"a": 9, "b": 8, "f": 3}, {"a": 9, "b": 8, "c": 7}]
    >>> trends = hotspot_trends(periods, w, alpha=0.2, fdr=False)
    >>> [(t.id, t.pattern, t.hot_periods) for t in trends if t.pattern != "none"]
    [('a', 'consecutive', [False, True, True]), ('b', 'oscillating', [False, True, True])]
    >>> [round(z, 2) for z in trends[1].z]  # b: a significant cold spot at alpha 0.2 in the first period
    [-1.58, 1.37, 2.21]
    """
    if len(counts_by_period) < 2:
        raise ValueError("hotspot trends need at least two sub-periods")
    neighbourhoods = _neighbourhoods(weights)
    by_period = [
        _tested(_values(counts, neighbourhoods.ids), neighbourhoods, alpha, fdr) for counts in counts_by_period
    ]
    # units x periods
    z = np.column_stack([period.z for period in by_period])
    hot = np.column_stack([period.hot for period in by_period]).tolist()
    cold = np.column_stack([period.cold for period in by_period]).tolist()
    _, _, trend_z, trend_p = _mann_kendall_rows(z)
    return [
        HotspotTrend(unit, _pattern(unit_hot, unit_cold, unit_z, unit_p, alpha), unit_hot, unit_zs, unit_z, unit_p)
        for unit, unit_hot, unit_cold, unit_zs, unit_z, unit_p in zip(
            neighbourhoods.ids, hot, cold, z.tolist(), trend_z.tolist(), trend_p.tolist(), strict=True
        )
    ]
