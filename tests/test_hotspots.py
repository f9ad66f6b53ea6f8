"""Hotspots: the grid puts points where geodesic offsets say, Gi* matches the Getis-Ord formula written out here,
planted clusters are found, and emerging-hotspot patterns and the Mann-Kendall test follow their definitions."""

from __future__ import annotations

import math
import warnings

import libpysal
import numpy as np
import pytest
from pyproj import Geod
from scipy import stats

from nimgraph.analysis import hotspots
from nimgraph.analysis.hotspots import (
    area_weights,
    describe_method,
    gi_star,
    grid,
    grid_weights,
    hotspot_trends,
    mann_kendall,
)

WGS84 = Geod(ellps="WGS84")
ORIGIN = (53.40, -1.50)  # Sheffield: a partnership-sized area around it


def offset(north_m: float, east_m: float, origin: tuple[float, float] = ORIGIN) -> tuple[float, float]:
    """The point ``north_m`` north of ``origin`` along the meridian, then ``east_m`` east along a geodesic."""
    lon, lat, _ = WGS84.fwd(origin[1], origin[0], 0.0, north_m)
    lon, lat, _ = WGS84.fwd(lon, lat, 90.0, east_m)
    return lat, lon


def square_grid(rows: int, cols: int, cell_metres: float = 250.0) -> hotspots.Grid:
    """A grid of exactly ``rows`` x ``cols`` cells: points at the south-west corner and the far corner cell's centre."""
    far = offset((rows - 0.5) * cell_metres, (cols - 0.5) * cell_metres)
    cells = grid([ORIGIN[0], far[0]], [ORIGIN[1], far[1]], cell_metres=cell_metres)
    assert (cells.rows, cells.cols) == (rows, cols)
    return cells


def queen_adjacency(rows: int, cols: int) -> np.ndarray:
    """Binary queen contiguity with each cell its own neighbour, index ``row * cols + col``."""
    row, col = np.divmod(np.arange(rows * cols), cols)
    return ((np.abs(row[:, None] - row[None, :]) <= 1) & (np.abs(col[:, None] - col[None, :]) <= 1)).astype(float)


def reference_gi_star(x: np.ndarray, adjacency: np.ndarray) -> np.ndarray:
    """Getis and Ord (1992), Ord and Getis (1995): Gi* z with weights w_ij including w_ii."""
    n = x.size
    mean = x.mean()
    spread = math.sqrt((x**2).mean() - mean**2)
    weight_sums = adjacency.sum(axis=1)
    squared_sums = (adjacency**2).sum(axis=1)
    return (adjacency @ x - mean * weight_sums) / (spread * np.sqrt((n * squared_sums - weight_sums**2) / (n - 1)))


def benjamini_hochberg(p: np.ndarray, alpha: float) -> np.ndarray:
    """Reject the k smallest p-values, k the largest with p_(k) <= k * alpha / m."""
    order = np.argsort(p)
    m = p.size
    passing = np.nonzero(p[order] <= alpha * np.arange(1, m + 1) / m)[0]
    rejected = np.zeros(m, dtype=bool)
    if passing.size:
        rejected[order[: passing[-1] + 1]] = True
    return rejected


def planted_counts(
    rows: int, cols: int, seed: int | list[int], cluster: dict[tuple[int, int], int], noise: float = 2.0
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    counts = rng.poisson(noise, size=(rows, cols)).astype(float)
    for (row, col), extra in cluster.items():
        counts[row, col] += extra
    return counts


def as_counts(array: np.ndarray) -> dict[str, float]:
    return {f"r{row}c{col}": float(array[row, col]) for row in range(array.shape[0]) for col in range(array.shape[1])}


def block(top: int, left: int, size: int, extra: int) -> dict[tuple[int, int], int]:
    return {(top + r, left + c): extra for r in range(size) for c in range(size)}


# --------------------------------------------------------------------------------------------------------------------
# The grid


def test_points_at_known_metre_offsets_land_in_the_expected_cells():
    rng = np.random.default_rng(7)
    cell = 250.0
    north, east = rng.uniform(0, 2000, 400), rng.uniform(0, 1500, 400)
    # the projection and a geodesic east differ by well under a metre over 2 km: keep points 2 m off the edges
    clear = (np.mod(north, cell) > 2) & (np.mod(north, cell) < cell - 2)
    clear &= (np.mod(east, cell) > 2) & (np.mod(east, cell) < cell - 2)
    north, east = np.concatenate([[0.0], north[clear]]), np.concatenate([[0.0], east[clear]])
    lats, lons = zip(*(offset(n, e) for n, e in zip(north, east, strict=True)), strict=True)

    cells = grid(np.array(lats), np.array(lons), cell_metres=cell)
    indexes = cells.cells_of(lats, lons)

    assert (indexes >= 0).all()
    found = [(cells.cell(i).row, cells.cell(i).col) for i in indexes.tolist()]
    assert found == [(int(n // cell), int(e // cell)) for n, e in zip(north, east, strict=True)]
    counts = cells.counts(lats, lons)
    assert len(counts) == cells.rows * cells.cols == len(cells.cells)
    assert sum(counts.values()) == len(north)
    expected_rows, expected_cols = math.floor(north.max() / cell) + 1, math.floor(east.max() / cell) + 1
    assert (cells.rows, cells.cols) == (expected_rows, expected_cols)


def test_cells_are_the_size_asked_for_on_the_ground():
    cells = square_grid(9, 9, cell_metres=250)
    middle = cells.cell(4 * 9 + 4)  # on the reference latitude
    _, _, across = WGS84.inv(middle.west, middle.south, middle.east, middle.south)
    _, _, up = WGS84.inv(middle.west, middle.south, middle.west, middle.north)
    assert across == pytest.approx(250, abs=0.05)
    assert up == pytest.approx(250, abs=0.05)
    assert middle.id == "r4c4"
    assert (middle.centre_lat, middle.centre_lon) == pytest.approx(
        ((middle.south + middle.north) / 2, (middle.west + middle.east) / 2)
    )
    assert cells.cell(0).south == ORIGIN[0] and cells.cell(0).west == ORIGIN[1]
    assert not cells.widened and cells.cell_metres == 250


def test_points_outside_or_without_coordinates_have_no_cell():
    cells = square_grid(3, 3)
    outside = [offset(-10, 100), offset(100, -10), offset(800, 100), (float("nan"), ORIGIN[1])]
    lats, lons = zip(*outside, strict=True)
    assert cells.cells_of(lats, lons).tolist() == [-1, -1, -1, -1]
    assert sum(cells.counts(lats, lons).values()) == 0


def test_missing_coordinates_are_skipped_and_bad_ones_refused():
    with_gap = grid([ORIGIN[0], float("nan"), offset(600, 0)[0]], [ORIGIN[1], 10.0, ORIGIN[1]], cell_metres=250)
    assert (with_gap.rows, with_gap.cols) == (3, 1)  # the NaN row's longitude of 10 would have made it wide
    with pytest.raises(ValueError, match="within"):
        grid([53.4, 95.0], [-1.5, -1.5])
    with pytest.raises(ValueError, match="no points"):
        grid([float("nan")], [float("nan")])
    with pytest.raises(ValueError, match="shape"):
        grid([53.4, 53.5], [-1.5])
    with pytest.raises(ValueError, match="positive"):
        grid([53.4], [-1.5], cell_metres=0)


def test_a_country_wide_spread_widens_the_cells_to_the_cap():
    rng = np.random.default_rng(3)
    lats, lons = rng.uniform(50.0, 58.5, 20_000), rng.uniform(-6.0, 1.7, 20_000)
    cap = 20_000

    cells = grid(lats, lons, cell_metres=250, max_cells=cap)

    assert cells.widened and cells.requested_cell_metres == 250
    assert len(cells) <= cap
    assert cells.cell_metres == math.floor(cells.cell_metres) > 250
    # the smallest whole-metre size that fits: one metre less would not
    narrower = grid(lats, lons, cell_metres=cells.cell_metres - 1, max_cells=10**9)
    assert len(narrower) > cap
    assert (cells.cells_of(lats, lons) >= 0).all()
    assert sum(cells.counts(lats, lons).values()) == lats.size
    # the cells are still square on the ground at the reference latitude
    middle = cells.cell((cells.rows // 2) * cells.cols + cells.cols // 2)
    _, _, across = WGS84.inv(middle.west, cells.reference_latitude, middle.east, cells.reference_latitude)
    assert across == pytest.approx(cells.cell_metres, rel=1e-4)


def test_a_single_point_is_a_one_cell_grid():
    cells = grid([53.4], [-1.5])
    assert len(cells) == 1 and cells.counts([53.4], [-1.5]) == {"r0c0": 1}


# --------------------------------------------------------------------------------------------------------------------
# Weights


def test_grid_weights_are_queen_contiguity():
    rows, cols = 4, 5
    weights = grid_weights(square_grid(rows, cols))
    adjacency = queen_adjacency(rows, cols)
    ids = [f"r{r}c{c}" for r in range(rows) for c in range(cols)]
    assert weights.id_order == ids
    for index, cell in enumerate(ids):
        expected = {ids[j] for j in np.nonzero(adjacency[index])[0] if j != index}
        assert set(weights.neighbors[cell]) == expected


def test_area_weights_are_the_k_nearest_centroids_by_geodesic_distance():
    rng = np.random.default_rng(11)
    centroids = {f"area{i}": offset(rng.uniform(0, 6000), rng.uniform(0, 6000)) for i in range(30)}
    weights = area_weights(centroids, k=4)
    names = list(centroids)
    for name in names:
        lat, lon = centroids[name]
        others = [o for o in names if o != name]
        distances = [WGS84.inv(lon, lat, centroids[o][1], centroids[o][0])[2] for o in others]
        nearest = {others[i] for i in np.argsort(distances)[:4]}
        assert set(weights.neighbors[name]) == nearest, name


def test_area_weights_cap_k_and_allow_a_single_area():
    few = area_weights({"a": (53.40, -1.50), "b": (53.41, -1.50), "c": (53.40, -1.52)}, k=5)
    assert {area: len(around) for area, around in few.neighbors.items()} == {"a": 2, "b": 2, "c": 2}
    alone = area_weights({"a": (53.40, -1.50)})
    assert dict(alone.neighbors) == {"a": []}
    assert [(spot.id, spot.hot, math.isnan(spot.z)) for spot in gi_star({"a": 4}, alone)] == [("a", False, True)]


# --------------------------------------------------------------------------------------------------------------------
# Gi*


def test_gi_star_matches_the_getis_ord_formula_on_a_grid():
    rows = cols = 6
    counts = planted_counts(rows, cols, seed=1, cluster=block(1, 1, 2, 9))
    expected = reference_gi_star(counts.ravel(), queen_adjacency(rows, cols))

    spots = gi_star(as_counts(counts), grid_weights(square_grid(rows, cols)))

    assert [spot.id for spot in spots] == [f"r{r}c{c}" for r in range(rows) for c in range(cols)]
    assert np.array([spot.z for spot in spots]) == pytest.approx(expected, abs=1e-9)
    assert [spot.p for spot in spots] == pytest.approx([math.erfc(abs(z) / math.sqrt(2)) for z in expected], abs=1e-12)
    assert [spot.count for spot in spots] == counts.ravel().tolist()


def test_gi_star_matches_the_formula_with_k_nearest_areas():
    rng = np.random.default_rng(5)
    centroids = {f"area{i}": offset(rng.uniform(0, 5000), rng.uniform(0, 5000)) for i in range(25)}
    counts = {name: float(rng.poisson(3)) for name in centroids}
    weights = area_weights(centroids, k=3)
    names = weights.id_order
    adjacency = np.eye(len(names))
    for i, name in enumerate(names):
        for other in weights.neighbors[name]:
            adjacency[i, names.index(other)] = 1.0
    expected = reference_gi_star(np.array([counts[n] for n in names]), adjacency)

    assert [spot.z for spot in gi_star(counts, weights)] == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("fdr", [True, False])
def test_significance_is_two_sided_at_alpha_with_or_without_the_false_discovery_rate(fdr: bool):
    rows = cols = 12
    counts = planted_counts(rows, cols, seed=4, cluster={**block(2, 2, 2, 6), **block(8, 8, 3, -2)})
    counts = np.clip(counts, 0, None)
    z = reference_gi_star(counts.ravel(), queen_adjacency(rows, cols))
    p = np.array([math.erfc(abs(value) / math.sqrt(2)) for value in z])
    significant = benjamini_hochberg(p, 0.05) if fdr else p < 0.05

    spots = gi_star(as_counts(counts), grid_weights(square_grid(rows, cols)), alpha=0.05, fdr=fdr)

    assert [spot.hot for spot in spots] == (significant & (z > 0)).tolist()
    assert [spot.cold for spot in spots] == (significant & (z < 0)).tolist()
    assert any(spot.hot for spot in spots)
    if not fdr:  # the correction must matter for this data, or the two runs test the same thing
        assert significant.sum() > benjamini_hochberg(p, 0.05).sum()


def test_a_planted_cluster_is_hot_and_nothing_far_from_it_is():
    rows = cols = 30
    counts = planted_counts(rows, cols, seed=2, cluster=block(12, 17, 3, 8))

    spots = gi_star(as_counts(counts), grid_weights(square_grid(rows, cols)))

    hot = {(int(s.id[1 : s.id.index("c")]), int(s.id[s.id.index("c") + 1 :])) for s in spots if s.hot}
    assert (13, 18) in hot  # the cluster's centre
    far = {(row, col) for row, col in hot if max(row - 14, 12 - row, col - 19, 17 - col) > 2}
    assert far == set()
    assert len(hot) >= 5


def test_all_zero_counts_and_a_single_cell_give_no_hotspots_without_warnings():
    weights = grid_weights(square_grid(5, 5))
    single = grid_weights(grid([53.4], [-1.5]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        zero = gi_star({}, weights)
        alone = gi_star({"r0c0": 7}, single)
        flat = gi_star(dict.fromkeys(weights.id_order, 3), weights)
    for spots in (zero, alone, flat):
        assert not any(spot.hot or spot.cold for spot in spots)
        assert all(math.isnan(spot.z) and math.isnan(spot.p) for spot in spots)
    assert len(zero) == 25 and len(alone) == 1 and alone[0].count == 7


def test_an_island_is_not_tested_but_still_counts_in_the_study_area():
    neighbours = {"a": ["b"], "b": ["a", "c"], "c": ["b", "d"], "d": ["c"], "island": []}
    weights = libpysal.weights.W(neighbours, silence_warnings=True)
    counts = {"a": 9.0, "b": 7.0, "c": 1.0, "d": 0.0, "island": 12.0}
    adjacency = np.eye(5)
    for i, unit in enumerate(weights.id_order):
        for other in neighbours[unit]:
            adjacency[i, weights.id_order.index(other)] = 1
    expected = reference_gi_star(np.array([counts[u] for u in weights.id_order]), adjacency)

    spots = {spot.id: spot for spot in gi_star(counts, weights)}

    assert math.isnan(spots["island"].z) and not spots["island"].hot
    assert [spots[u].z for u in "abcd"] == pytest.approx(expected[:4], abs=1e-9)


def test_a_neighbourhood_that_is_the_whole_area_is_not_tested():
    # in a 2 x 2 grid every cell touches every other: Gi* has no variance
    spots = gi_star({"r0c0": 5, "r1c1": 1}, grid_weights(square_grid(2, 2)))
    assert all(math.isnan(spot.z) and not spot.hot for spot in spots)


def test_counts_are_checked_against_the_weights_and_the_weights_left_alone():
    weights = grid_weights(square_grid(3, 3))
    before = {unit: list(around) for unit, around in weights.neighbors.items()}
    transform = weights.transform
    gi_star({"r1c1": 5, "r0c0": 1}, weights)
    assert {unit: list(around) for unit, around in weights.neighbors.items()} == before
    assert weights.transform == transform
    with pytest.raises(ValueError, match="ids the weights do not have"):
        gi_star({"r9c9": 1}, weights)
    with pytest.raises(ValueError, match="negative"):
        gi_star({"r0c0": -1}, weights)


def test_the_method_text_says_the_parameters_used():
    text = describe_method(weights="grid", cell_metres=300, alpha=0.01, fdr=True, periods=6)
    assert "300 m" in text and "queen contiguity" in text and "at 0.01" in text and "false discovery rate" in text
    assert "6 sub-periods" in text and "Mann-Kendall" in text
    areas = describe_method(weights="areas", k=4, fdr=False)
    assert "4 nearest" in areas and "No correction" in areas and "queen" not in areas


# --------------------------------------------------------------------------------------------------------------------
# Mann-Kendall


def test_mann_kendall_by_hand_with_ties():
    # pairs of 1, 2, 2, 3: five rising, one tie; variance (4*3*13 - 2*1*9) / 18 for the tied pair
    result = mann_kendall([1, 2, 2, 3])
    variance = (4 * 3 * 13 - 2 * 1 * 9) / 18
    assert result.s == 5
    assert result.variance == pytest.approx(variance)
    assert result.z == pytest.approx(4 / math.sqrt(variance))
    assert result.p == pytest.approx(math.erfc(4 / math.sqrt(variance) / math.sqrt(2)))
    assert mann_kendall([3, 2, 2, 1]).z == pytest.approx(-4 / math.sqrt(variance))
    assert mann_kendall([1, float("nan"), 2, 2, 3]) == result


@pytest.mark.parametrize("seed", range(6))
def test_mann_kendall_agrees_with_kendalls_tau_against_time(seed: int):
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 5, size=12).astype(float) + np.arange(12) * 0.3 * (seed % 3 - 1)
    tau, p = stats.kendalltau(np.arange(12), values, method="asymptotic")
    pairs = 12 * 11 / 2
    _, group_sizes = np.unique(values, return_counts=True)
    tied_pairs = (group_sizes * (group_sizes - 1) / 2).sum()
    s = tau * math.sqrt(pairs * (pairs - tied_pairs))  # tau-b with no ties in time
    uncorrected_z = stats.norm.isf(p / 2)  # scipy's z has no continuity correction

    result = mann_kendall(values)

    assert result.s == pytest.approx(s, abs=1e-9)
    if s != 0:
        assert result.variance == pytest.approx(s**2 / uncorrected_z**2, rel=1e-9)
        assert result.z == pytest.approx((s - math.copysign(1, s)) / math.sqrt(result.variance), rel=1e-12)


def test_mann_kendall_with_no_variance_says_no_trend():
    assert mann_kendall([2, 2, 2]) == hotspots.MannKendall(0, 0.0, 0.0, 1.0)
    assert mann_kendall([5]).p == 1.0


# --------------------------------------------------------------------------------------------------------------------
# Emerging hotspots


ROWS = COLS = 14
CENTRE = "r5c5"  # the centre of a 3 x 3 cluster at rows and columns 4-6


def periods_of(strengths: list[int], seed: int) -> list[dict[str, float]]:
    return [as_counts(planted_counts(ROWS, COLS, [seed, i], block(4, 4, 3, s))) for i, s in enumerate(strengths)]


def trend_of(strengths: list[int], seed: int) -> hotspots.HotspotTrend:
    weights = grid_weights(square_grid(ROWS, COLS))
    trends = {trend.id: trend for trend in hotspot_trends(periods_of(strengths, seed), weights)}
    return trends[CENTRE]


def test_a_cluster_only_in_the_final_period_is_new():
    trend = trend_of([0, 0, 0, 0, 0, 0, 0, 8], seed=1)
    assert trend.hot_periods == [False] * 7 + [True]
    assert trend.pattern == "new"


def test_a_cluster_hot_throughout_and_growing_is_intensifying():
    trend = trend_of([3, 4, 5, 6, 7, 8, 9, 10], seed=2)
    assert trend.hot_periods == [True] * 8
    tau, p = stats.kendalltau(range(8), trend.z)
    assert tau > 0 and p < 0.05
    assert trend.trend_z > 0 and trend.trend_p < 0.05
    assert trend.pattern == "intensifying"


def test_a_cluster_hot_throughout_without_a_trend_is_persistent():
    trend = trend_of([8, 6, 8, 6, 8, 6, 8, 6], seed=3)
    assert trend.hot_periods == [True] * 8
    assert stats.kendalltau(range(8), trend.z)[1] > 0.05
    assert trend.trend_p > 0.05
    assert trend.pattern == "persistent"


def test_the_trend_is_the_mann_kendall_test_on_each_cells_z_scores():
    weights = grid_weights(square_grid(ROWS, COLS))
    periods = periods_of([2, 5, 3, 6, 4, 7], seed=4)
    by_period = [{spot.id: spot for spot in gi_star(counts, weights)} for counts in periods]
    for trend in hotspot_trends(periods, weights):
        assert trend.z == [spots[trend.id].z for spots in by_period]
        assert trend.hot_periods == [spots[trend.id].hot for spots in by_period]
        test = mann_kendall(trend.z)
        assert (trend.trend_z, trend.trend_p) == pytest.approx((test.z, test.p), abs=1e-12)
        assert trend.pattern in hotspots.PATTERNS


def test_hotspot_trends_need_two_periods():
    with pytest.raises(ValueError, match="two"):
        hotspot_trends([{}], grid_weights(square_grid(2, 3)))


F, T = False, True
NO_TREND = (0.3, 0.76)


@pytest.mark.parametrize(
    ("hot", "cold", "trend", "pattern"),
    [
        ([F, F, F, F, T], None, NO_TREND, "new"),
        ([F, F, T, T, T], None, NO_TREND, "consecutive"),
        ([T, F, F, T, T], None, NO_TREND, "sporadic"),
        ([T, F, T, F, T], None, NO_TREND, "sporadic"),
        ([F, F, T, F, T], [T, F, F, F, F], NO_TREND, "oscillating"),
        ([F, F, F, F, T], [F, T, F, F, F], NO_TREND, "oscillating"),
        ([T] * 10, None, (3.1, 0.002), "intensifying"),
        ([T] * 10, None, (-3.1, 0.002), "diminishing"),
        ([T] * 10, None, NO_TREND, "persistent"),
        ([F] + [T] * 9, None, NO_TREND, "persistent"),  # 90 % of periods is mostly hot
        ([F, F] + [T] * 8, None, NO_TREND, "consecutive"),  # 80 % is not
        ([T] * 9 + [F], None, NO_TREND, "historical"),
        ([T] * 8 + [F, F], None, NO_TREND, "none"),
        ([T, T, F, F, F], None, NO_TREND, "none"),
        ([F] * 5, [T] * 5, NO_TREND, "none"),  # cold spots are not classed
    ],
)
def test_patterns_follow_the_emerging_hot_spot_definitions(hot, cold, trend, pattern):
    cold = cold or [False] * len(hot)
    assert hotspots._pattern(hot, cold, *trend, alpha=0.05) == pattern
