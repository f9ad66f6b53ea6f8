"""Concentration of crime: hand-worked cases, a naive exact computation in fractions, and the curve's shape."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import numpy as np
import pytest

from nimgraph.analysis.concentration import concentration_curve, gini, repeat_rate, top_share

SEGMENTS = {"S1": 5, "S2": 3, "S3": 1, "S4": 1}  # 10 events on 4 of 10 street segments


def naive_all_places(counts: dict[str, int], population: int) -> list[int]:
    """Every place's count, highest first, the places with none included."""
    return sorted(counts.values(), reverse=True) + [0] * (population - len(counts))


def naive_top_share(counts: dict[str, int], fraction: float, population: int) -> Fraction:
    places = math.ceil(Fraction(str(fraction)) * population)  # the fraction as written, in exact arithmetic
    everything = naive_all_places(counts, population)
    return Fraction(sum(everything[:places]), sum(everything))


def naive_gini(counts: dict[str, int], population: int) -> Fraction:
    """Mean absolute difference over all ordered pairs of places, over twice the mean."""
    everything = naive_all_places(counts, population)
    total = sum(everything)
    differences = sum(abs(a - b) for a in everything for b in everything)
    return Fraction(differences, 2 * population * total)  # (sum |a - b| / n^2) / (2 total / n)


def naive_curve_at(counts: dict[str, int], population: int, x: Fraction) -> Fraction:
    """The concentration curve at x: linear between (i / n, share of events at the top i places)."""
    everything = naive_all_places(counts, population)
    total = sum(everything)
    position = x * population
    whole = math.floor(position)
    below = sum(everything[:whole])
    partial = (position - whole) * (everything[whole] if whole < population else 0)
    return (below + partial) / total


def random_counts(seed: int, places: int = 150) -> dict[str, int]:
    draw = random.Random(seed)
    # skewed, as crime is: most places one or two events, a few many, some listed with none
    return {f"P{i}": min(int(draw.paretovariate(1.2)) - 1, 400) for i in range(places)}


# repeat_rate


def test_repeat_rate_by_hand():
    repeats = repeat_rate({"V1": 3, "V2": 1, "V3": 2, "V4": 0, "V5": 1, "V6": 7})
    assert repeats.as_dict() == {
        "targets": 5,  # V4 had none
        "repeat_targets": 3,
        "events": 14,
        "repeat_events": 12,
        "rate": 3 / 5,
        "event_share": 12 / 14,
    }


@pytest.mark.parametrize("counts", [{}, {"V1": 0, "V2": 0}])
def test_repeat_rate_without_events_is_zero(counts: dict[str, int]):
    repeats = repeat_rate(counts)
    assert (repeats.targets, repeats.repeat_targets, repeats.events, repeats.repeat_events) == (0, 0, 0, 0)
    assert (repeats.rate, repeats.event_share) == (0.0, 0.0)


def test_repeat_rate_with_no_repeats():
    repeats = repeat_rate({"V1": 1, "V2": 1})
    assert (repeats.rate, repeats.event_share, repeats.repeat_events) == (0.0, 0.0, 0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_repeat_rate_against_a_naive_count(seed: int):
    counts = random_counts(seed)
    repeats = repeat_rate(counts)
    victims = [c for c in counts.values() if c > 0]
    repeat_victims = [c for c in victims if c > 1]
    assert repeats.targets == len(victims) and repeats.repeat_targets == len(repeat_victims)
    assert repeats.events == sum(victims) and repeats.repeat_events == sum(repeat_victims)
    assert repeats.rate == len(repeat_victims) / len(victims)
    assert repeats.event_share == sum(repeat_victims) / sum(victims)


# top_share


def test_top_share_by_hand():
    assert top_share(SEGMENTS, 0.1, population=10) == 0.5  # 1 segment: 5 of 10
    assert top_share(SEGMENTS, 0.2, population=10) == 0.8  # 2 segments: 8 of 10
    assert top_share(SEGMENTS, 0.15, population=10) == 0.8  # 1.5 segments round up to 2
    assert top_share(SEGMENTS, 0.5, population=10) == 1.0
    assert top_share(SEGMENTS, 0.5) == 0.8  # of the 4 listed, the top 2
    assert top_share(SEGMENTS, 0.0, population=10) == 0.0
    assert top_share(SEGMENTS, 1.0, population=10) == 1.0


def test_top_share_ties_at_the_cut_take_what_they_need():
    # The top half of 4 places is 2 of the 3 tied at 3: 6 of 10, whichever two
    assert top_share({"A": 3, "B": 3, "C": 3, "D": 1}, 0.5) == 0.6


def test_top_share_is_not_fooled_by_binary_fractions():
    # 0.1 * 30 is 3.0000000000000004 in floating point; the top tenth of 30 places is 3 of them
    assert top_share({f"P{i}": 1 for i in range(30)}, 0.1) == pytest.approx(0.1)
    assert top_share({f"P{i}": 1 for i in range(100)}, 0.07) == pytest.approx(0.07)  # 7.000000000000001


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
@pytest.mark.parametrize("fraction", [0.01, 0.05, 0.1, 0.2, 0.25, 0.333, 0.5, 0.9])
def test_top_share_against_a_naive_exact_computation(seed: int, fraction: float):
    counts = random_counts(seed)
    for population in (None, len(counts), len(counts) + 77):
        size = len(counts) if population is None else population
        expected = naive_top_share(counts, fraction, size)
        assert top_share(counts, fraction, population=population) == pytest.approx(float(expected), abs=1e-12)


def test_top_share_without_events_is_zero():
    assert top_share({}, 0.2) == 0.0
    assert top_share({"A": 0}, 0.2, population=50) == 0.0


# concentration_curve


def test_concentration_curve_by_hand():
    assert concentration_curve(SEGMENTS, population=5) == [
        (0.0, 0.0),
        (0.2, 0.5),
        (0.4, 0.8),
        (0.6, 0.9),
        (0.8, 1.0),
        (1.0, 1.0),
    ]
    # 10 segments read at x = 0, 0.25, 0.5, 0.75, 1: 2.5 segments is 5 + 3 + half of 1
    assert concentration_curve(SEGMENTS, population=10, points=5) == [
        (0.0, 0.0),
        (0.25, 0.85),
        (0.5, 1.0),
        (0.75, 1.0),
        (1.0, 1.0),
    ]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("points", [2, 7, 101, 1000])
def test_concentration_curve_against_a_naive_exact_curve(seed: int, points: int):
    counts = random_counts(seed)
    population = len(counts) + 50
    curve = concentration_curve(counts, population=population, points=points)
    assert len(curve) == min(points, population + 1)
    for x, y in curve:
        # every x returned is a multiple of 1 / (points - 1) or of 1 / population, as documented
        step = population if population + 1 <= points else points - 1
        assert abs(x * step - round(x * step)) < 1e-9
        exact_x = Fraction(round(x * step), step)
        assert y == pytest.approx(float(naive_curve_at(counts, population, exact_x)), abs=1e-12)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("points", [2, 3, 11, 101, 5000])
def test_concentration_curve_rises_is_concave_and_ends_at_one_one(seed: int, points: int):
    counts = random_counts(seed, places=300 + 50 * seed)
    curve = concentration_curve(counts, population=len(counts) + 40 * seed, points=points)
    assert 2 <= len(curve) <= points
    assert curve[0] == (0.0, 0.0) and curve[-1] == (1.0, 1.0)
    xs, ys = np.array(curve).T
    assert np.all(np.diff(xs) > 0) and np.all(np.diff(ys) >= 0)
    slopes = np.diff(ys) / np.diff(xs)
    assert np.all(np.diff(slopes) <= 1e-9)
    # the curve is at or above the diagonal: the top x of places hold at least x of the events
    assert np.all(ys >= xs - 1e-12)


def test_concentration_curve_agrees_with_top_share_at_its_points():
    counts = random_counts(9)
    population = len(counts) + 30
    for x, y in concentration_curve(counts, population=population, points=population + 1):
        assert y == pytest.approx(top_share(counts, x, population=population), abs=1e-12)


def test_concentration_curve_without_events_is_empty():
    assert concentration_curve({}) == []
    assert concentration_curve({"A": 0}, population=3) == []


# gini


def test_gini_by_hand():
    # 10 segments, ascending 0 x 6, 1, 1, 3, 5: sum of i c_i = 7 + 8 + 27 + 50 = 92; 2 * 92 / 100 - 11 / 10
    assert gini(SEGMENTS, population=10) == pytest.approx(0.74, abs=1e-15)
    # pairs: |5-3| + |5-1| * 2 + |3-1| * 2 + 0 = 14, times 2 ordered = 28; 28 / (2 * 4^2 * 2.5) = 0.35
    assert gini(SEGMENTS) == pytest.approx(0.35, abs=1e-15)
    assert gini({"A": 4, "B": 4}) == 0.0
    assert gini({"A": 9}, population=10) == pytest.approx(0.9, abs=1e-15)  # the most for 10 places


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_gini_against_the_mean_absolute_difference(seed: int):
    counts = random_counts(seed)
    for population in (len(counts), len(counts) + 100):
        assert gini(counts, population) == pytest.approx(float(naive_gini(counts, population)), abs=1e-12)
    assert gini(counts) == pytest.approx(float(naive_gini(counts, len(counts))), abs=1e-12)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_gini_is_twice_the_area_between_the_curve_and_the_diagonal(seed: int):
    counts = random_counts(seed)
    population = len(counts) + 25
    xs, ys = np.array(concentration_curve(counts, population=population, points=population + 1)).T
    area = float(np.sum((ys[1:] + ys[:-1]) / 2 * np.diff(xs)))  # the trapezium rule is exact on a polyline
    assert gini(counts, population) == pytest.approx(2 * area - 1, abs=1e-12)


def test_gini_without_events_is_zero():
    assert gini({}) == 0.0
    assert gini({"A": 0, "B": 0}, population=5) == 0.0


# refusals and size


@pytest.mark.parametrize(
    "call",
    [
        lambda: repeat_rate({"A": -1}),
        lambda: repeat_rate({"A": 2.5}),
        lambda: gini({"A": float("nan")}),
        lambda: top_share(SEGMENTS, 1.5),
        lambda: top_share(SEGMENTS, -0.1),
        lambda: top_share(SEGMENTS, 0.2, population=3),  # fewer places than were counted
        lambda: concentration_curve(SEGMENTS, points=1),
        lambda: gini(SEGMENTS, population=2),
    ],
)
def test_nonsense_is_refused(call):
    with pytest.raises(ValueError):
        call()


def test_a_million_places():
    # Run, not timed: this is the size of a force's street segments, and must take well under a second.
    rng = np.random.default_rng(7)
    values = np.minimum(rng.zipf(1.8, size=1_000_000) - 1, 10_000)
    counts = dict(zip((f"S{i}" for i in range(len(values))), values.tolist(), strict=True))
    population = 1_200_000
    curve = concentration_curve(counts, population=population)
    assert len(curve) == 101 and curve[0] == (0.0, 0.0) and curve[-1] == (1.0, 1.0)
    ordered = np.sort(values)[::-1]
    total = int(ordered.sum())
    top_fifth = 240_000  # places
    assert top_share(counts, 0.2, population=population) == int(ordered[:top_fifth].sum()) / total
    assert curve[20] == (0.2, pytest.approx(int(ordered[:top_fifth].sum()) / total, abs=1e-12))
    repeats = repeat_rate(counts)
    assert repeats.targets == int(np.count_nonzero(values)) and repeats.events == total
    coefficient = gini(counts, population)
    assert 0.0 < coefficient < 1.0 - 1 / population
    # Gini with more empty places is larger, by the formula's scaling: G' = 1 - (n / n') (1 - G)
    assert gini(counts, 2 * population) == pytest.approx(1 - 0.5 * (1 - coefficient), abs=1e-9)
