"""The E-test and the Poisson control limit, checked against numbers that do not come from the code under test.

An independent E-test is written here from Krishnamoorthy and Thomson's formula (the double sum, exact
rational comparison of the statistic); reference values come from the paper's examples, scipy's
documentation, the authors' Fortran program (as recorded in scipy's test-suite) and statsmodels; the
control limit is checked against scipy.stats.poisson.sf and by hand.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from scipy import stats

from nimgraph.analysis.significance import (
    CONTROL_METHOD,
    METHOD,
    METHOD_UNPOOLED,
    compare_counts,
    e_test_p_value,
    expected_level,
)

STATISTICS = ["pooled", "unpooled"]


def poisson_pmf(k: int, mean: float) -> float:
    return math.exp(k * math.log(mean) - mean - math.lgamma(k + 1))


def naive_e_test(k1: int, k2: int, n1: float, n2: float, statistic: str) -> float:
    """Krishnamoorthy and Thomson (2004) eq. (3.5), summed cell by cell over the whole grid of outcomes.

    The pooled rate estimates both means; a cell counts when |T(x1, x2)| >= |T(k1, k2)|, compared exactly in
    fractions. T is the difference in rates x1/n1 - x2/n2 over its standard error; squared,
    pooled:   (x1/n1 - x2/n2)^2 / ((x1 + x2)/(n1 + n2) (1/n1 + 1/n2)) = (x1 n2 - x2 n1)^2 / ((x1 + x2) n1 n2)
    unpooled: (x1/n1 - x2/n2)^2 / (x1/n1^2 + x2/n2^2) = (x1 n2 - x2 n1)^2 / (x1 n2^2 + x2 n1^2)
    with the exposures as the decimals they were written as, scaled to whole numbers (neither T changes when
    both exposures are multiplied by the same number). The undefined cell (0, 0) is left out.
    """
    e1, e2 = Fraction(str(n1)), Fraction(str(n2))
    scale = math.lcm(e1.denominator, e2.denominator)
    p1, p2 = int(e1 * scale), int(e2 * scale)

    def squared_statistic(x1: int, x2: int) -> Fraction:
        if statistic == "pooled":
            return Fraction((x1 * p2 - x2 * p1) ** 2, (x1 + x2) * p1 * p2)
        return Fraction((x1 * p2 - x2 * p1) ** 2, x1 * p2 * p2 + x2 * p1 * p1)

    observed = squared_statistic(k1, k2)
    pooled_rate = (k1 + k2) / (n1 + n2)
    mean1, mean2 = n1 * pooled_rate, n2 * pooled_rate
    # 20 standard deviations and more beyond the mean: the mass left out is far below 1e-15
    last1 = int(mean1 + 20 * math.sqrt(mean1) + 40)
    last2 = int(mean2 + 20 * math.sqrt(mean2) + 40)
    pmf2 = [poisson_pmf(x2, mean2) for x2 in range(last2 + 1)]
    total = 0.0
    for x1 in range(last1 + 1):
        row = sum(pmf2[x2] for x2 in range(last2 + 1) if (x1, x2) != (0, 0) and squared_statistic(x1, x2) >= observed)
        total += poisson_pmf(x1, mean1) * row
    return total


# (current, previous, current exposure, previous exposure): equal and unequal exposures, ties, zeros
SPREAD = [
    (0, 3, 1, 1),
    (3, 0, 1, 1),
    (6, 2, 1, 1),
    (1, 1, 1, 1),
    (12, 30, 1, 1),
    (45, 60, 1, 1),
    (80, 55, 1, 1),
    (2, 0, 14, 365),  # unpooled, this ties with (0, 2): scipy 1.17 drops the tie
    (0, 2, 14, 365),
    (9, 120, 14, 365),
    (1, 40, 14, 365),
    (5, 30, 7, 28),
    (3, 6, 7, 28),
    (20, 35, 28, 84),
    (4, 1, 3.5, 1),
    (0, 3, 3.5, 1),
    (4, 12, 0.1, 0.3),  # equal rates, with exposures that are not exact in binary
    (3, 20, 100, 300),
    (17, 9, 0.37, 5.9),
    (2, 9, 1, 3),
]


@pytest.mark.parametrize("statistic", STATISTICS)
@pytest.mark.parametrize(("current", "previous", "current_exposure", "previous_exposure"), SPREAD)
def test_e_test_agrees_with_the_double_sum_written_from_the_paper(
    current: int, previous: int, current_exposure: float, previous_exposure: float, statistic: str
):
    expected = naive_e_test(current, previous, current_exposure, previous_exposure, statistic)
    change = compare_counts(
        current, previous, current_exposure=current_exposure, previous_exposure=previous_exposure, statistic=statistic
    )
    assert change.p_value == pytest.approx(expected, abs=1e-9, rel=0)


@pytest.mark.parametrize(("current", "previous", "current_exposure", "previous_exposure"), SPREAD)
def test_the_two_statistics_are_one_test_when_exposures_are_equal(
    current: int, previous: int, current_exposure: float, previous_exposure: float
):
    for exposure in (current_exposure, previous_exposure):
        pooled = e_test_p_value(current, previous, exposure, exposure)
        unpooled = e_test_p_value(current, previous, exposure, exposure, statistic="unpooled")
        assert unpooled == pytest.approx(pooled, abs=1e-12)


@pytest.mark.parametrize("statistic", STATISTICS)
@pytest.mark.parametrize(
    ("current", "previous", "published"),
    [
        (0, 3, 0.0884),  # Krishnamoorthy and Thomson (2004), section 6, example 1 (100 g samples each)
        (2, 6, 0.1749),  # example 2; R ptools' documentation calls e_test(6, 2) this example
    ],
)
def test_e_test_reproduces_the_papers_examples(current: int, previous: int, published: float, statistic: str):
    for exposure in (100, 1):  # only the ratio of the exposures matters
        p_value = compare_counts(
            current, previous, current_exposure=exposure, previous_exposure=exposure, statistic=statistic
        ).p_value
        assert p_value == pytest.approx(published, abs=5e-5)  # published to 4 places
    assert compare_counts(previous, current, statistic=statistic).p_value == pytest.approx(published, abs=5e-5)


@pytest.mark.parametrize("statistic", STATISTICS)
def test_e_test_reproduces_scipys_documented_example(statistic: str):
    # scipy.stats.poisson_means_test docs: poisson_means_test(0, 100, 3, 100).pvalue == 0.08837900929018157.
    # scipy leaves out Poisson mass below 1e-10 at the lower end of each sum, hence the tolerance.
    change = compare_counts(0, 3, current_exposure=100, previous_exposure=100, statistic=statistic)
    assert change.p_value == pytest.approx(0.08837900929018157, abs=1e-9, rel=0)


@pytest.mark.parametrize(
    ("k1", "n1", "k2", "n2", "fortran"),
    [
        # The authors' Fortran program (pois2pval.for), two-sided, d = 0, as recorded in scipy's tests
        # (TestPoissonMeansTest.test_fortran_authors). The Fortran truncates its sums, so scipy allows 2e-6.
        (20, 10, 20, 10, 0.9999997568929630),
        (10, 10, 10, 10, 0.9999998403241203),
        (3, 100, 20, 300, 0.12202725450896404),
    ],
)
def test_e_test_agrees_with_the_authors_fortran(k1: int, n1: float, k2: int, n2: float, fortran: float):
    # the paper's own statistic is the unpooled one
    p_value = compare_counts(k1, k2, current_exposure=n1, previous_exposure=n2, statistic="unpooled").p_value
    assert p_value == pytest.approx(fortran, abs=2e-6, rel=0)


@pytest.mark.parametrize(
    ("k1", "n1", "k2", "n2", "score", "wald"),
    [
        # statsmodels 0.15.0 statsmodels.stats.rates.etest_poisson_2indep(k1, n1, k2, n2, method=...), run
        # once for these numbers: method="score" is the pooled statistic (R ptools' e_test orders outcomes the
        # same way), method="wald" the unpooled. statsmodels sums a grid cut where the Poisson tail is 1e-13.
        (9, 14, 120, 365, 0.04362932271144429, 0.17832629055784485),
        (2, 14, 0, 365, 0.00039696779869664563, 0.5332098738585072),
        (0, 14, 2, 365, 0.6039925353313867, 0.5332098738585072),
        (5, 7, 30, 28, 0.4079256491772165, 0.355829230678409),
        (1, 14, 40, 365, 0.6902919695696044, 0.6091327019625472),
        (20, 28, 35, 84, 0.051263724840068706, 0.09197870339453078),
        (17, 0.37, 9, 5.9, 1.4649844140538895e-15, 0.20953330735823691),
        (3, 100, 20, 300, 0.19132281851213234, 0.12202744803647211),
    ],
)
def test_e_test_agrees_with_statsmodels(k1: int, n1: float, k2: int, n2: float, score: float, wald: float):
    pooled = compare_counts(k1, k2, current_exposure=n1, previous_exposure=n2)
    unpooled = compare_counts(k1, k2, current_exposure=n1, previous_exposure=n2, statistic="unpooled")
    assert pooled.p_value == pytest.approx(score, abs=1e-9, rel=1e-6)
    assert unpooled.p_value == pytest.approx(wald, abs=1e-9, rel=1e-6)
    assert (pooled.method, unpooled.method) == (METHOD, METHOD_UNPOOLED)


@pytest.mark.parametrize(
    ("current", "previous", "current_exposure", "previous_exposure"),
    [(30, 12, 1, 1), (9, 120, 14, 365), (0, 3, 100, 100), (45, 60, 1, 1), (5, 30, 7, 28), (200, 260, 1, 1)],
)
def test_e_test_agrees_with_scipy_where_there_is_no_tie(
    current: int, previous: int, current_exposure: float, previous_exposure: float
):
    scipy_p = stats.poisson_means_test(current, current_exposure, previous, previous_exposure).pvalue
    ours = compare_counts(
        current, previous, current_exposure=current_exposure, previous_exposure=previous_exposure, statistic="unpooled"
    )
    assert ours.p_value == pytest.approx(scipy_p, abs=1e-9, rel=0)


@pytest.mark.parametrize("statistic", STATISTICS)
def test_equal_rates_leave_out_only_the_undefined_corner(statistic: str):
    # T = 0 is the least extreme value, so every cell but (0, 0) counts: p = 1 - exp(-(mean1 + mean2)),
    # and mean1 + mean2 = k1 + k2.
    assert compare_counts(1, 1, statistic=statistic).p_value == pytest.approx(1 - math.exp(-2), abs=1e-12)
    twice_as_long = compare_counts(2, 4, previous_exposure=2, statistic=statistic)
    assert twice_as_long.p_value == pytest.approx(1 - math.exp(-6), abs=1e-12)
    tenths = compare_counts(4, 12, current_exposure=0.1, previous_exposure=0.3, statistic=statistic)
    assert tenths.p_value == pytest.approx(1 - math.exp(-16), abs=1e-12)


@pytest.mark.parametrize("statistic", STATISTICS)
def test_e_test_is_symmetric_and_ignores_the_unit_of_exposure(statistic: str):
    for current, previous, n1, n2 in SPREAD:
        p_value = e_test_p_value(current, previous, n1, n2, statistic=statistic)
        assert e_test_p_value(previous, current, n2, n1, statistic=statistic) == pytest.approx(p_value, abs=1e-12)
        # 14 and 365 days are 2 and 52.14 weeks: the same test
        in_weeks = e_test_p_value(current, previous, n1 / 7, n2 / 7, statistic=statistic)
        assert in_weeks == pytest.approx(p_value, abs=1e-12)


def test_change_reports_rates_and_the_verdict():
    change = compare_counts(9, 120, current_exposure=14, previous_exposure=365)
    assert change.ratio == pytest.approx((9 / 14) / (120 / 365))
    assert change.percent == pytest.approx(((9 / 14) / (120 / 365) - 1) * 100)
    assert change.method == METHOD
    as_dict = change.as_dict()
    assert as_dict["current"] == 9 and as_dict["previous"] == 120
    assert as_dict["current_exposure"] == 14.0 and as_dict["previous_exposure"] == 365.0
    assert as_dict["p_value"] == change.p_value and as_dict["significant"] is True  # p = 0.044

    fall = compare_counts(0, 5)
    assert (fall.ratio, fall.percent) == (0.0, -100.0)
    rise_from_nothing = compare_counts(5, 0)
    assert rise_from_nothing.ratio is None and rise_from_nothing.percent is None


def test_significant_means_p_below_alpha():
    p_value = compare_counts(30, 12).p_value
    assert not compare_counts(30, 12, alpha=p_value).significant
    assert compare_counts(30, 12, alpha=math.nextafter(p_value, 1)).significant


@pytest.mark.parametrize("statistic", STATISTICS)
def test_both_zero_is_p_one_and_not_significant(statistic: str):
    change = compare_counts(0, 0, current_exposure=14, previous_exposure=365, statistic=statistic)
    assert change.p_value == 1.0 and not change.significant
    assert change.ratio is None and change.percent is None


def z_test(k1: int, k2: int, n1: float, n2: float) -> float:
    """Two-sided z-test of the difference in rates, its standard error from the pooled rate."""
    pooled_rate = (k1 + k2) / (n1 + n2)
    return 2 * stats.norm.sf(abs(k1 / n1 - k2 / n2) / math.sqrt(pooled_rate * (1 / n1 + 1 / n2)))


@pytest.mark.parametrize("statistic", STATISTICS)
def test_huge_counts_are_quick_and_sane(statistic: str):
    # The grid of outcomes would have some 10^8 cells; the answers must still be those of the test.
    assert compare_counts(10**6, 10**6, statistic=statistic).p_value == 1.0  # 1 - exp(-2e6)
    # Far out in counts the E-test is the z-test: 5000 / sqrt(2,005,000) = 3.53 standard errors
    expected = z_test(10**6 + 5000, 10**6, 1, 1)
    assert compare_counts(10**6 + 5000, 10**6, statistic=statistic).p_value == pytest.approx(expected, rel=0.02)
    assert compare_counts(10**6, 10**6 + 5000, statistic=statistic).p_value == pytest.approx(expected, rel=0.02)
    # 14 days against 365 at some 15 million events, 0.5% up: 3.9 standard errors
    expected = z_test(563_000, 14_600_000, 14, 365)
    fortnight = compare_counts(563_000, 14_600_000, current_exposure=14, previous_exposure=365, statistic=statistic)
    assert fortnight.p_value == pytest.approx(expected, rel=0.05)
    assert compare_counts(10**6, 0, statistic=statistic).p_value < 1e-300
    surge = compare_counts(10**6, 20_000, current_exposure=14, previous_exposure=365, statistic=statistic)
    assert surge.significant and surge.ratio == pytest.approx((10**6 / 14) / (20_000 / 365))
    # the same rate over 14 and 365 days, at about a million events
    same_rate = compare_counts(14 * 40_000, 365 * 40_000, current_exposure=14, previous_exposure=365)
    assert same_rate.p_value == 1.0 and same_rate.ratio == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("current", "previous", "current_exposure", "previous_exposure", "alpha", "error"),
    [
        (-1, 3, 1, 1, 0.05, ValueError),
        (1, -3, 1, 1, 0.05, ValueError),
        (1.5, 3, 1, 1, 0.05, TypeError),
        (1, 3, 0, 1, 0.05, ValueError),
        (1, 3, 1, float("inf"), 0.05, ValueError),
        (1, 3, 1, float("nan"), 0.05, ValueError),
        (1, 3, 1, 1, 0, ValueError),
        (1, 3, 1, 1, 1, ValueError),
    ],
)
def test_compare_counts_refuses_nonsense(
    current: int, previous: int, current_exposure: float, previous_exposure: float, alpha: float, error: type
):
    with pytest.raises(error):
        compare_counts(
            current, previous, current_exposure=current_exposure, previous_exposure=previous_exposure, alpha=alpha
        )


def test_an_unknown_statistic_is_refused():
    with pytest.raises(ValueError):
        compare_counts(3, 4, statistic="wald")  # type: ignore[arg-type]


# The control limit


@pytest.mark.parametrize(
    ("history", "alpha"),
    [
        ([3, 5, 4, 2, 6, 4], 0.01),
        ([1, 1, 1, 1], 0.05),
        ([0, 0, 1, 0, 0, 0, 0, 0], 0.01),
        ([40, 52, 47, 38, 61, 44, 50, 49], 0.01),
        ([40, 52, 47, 38, 61, 44, 50, 49], 0.001),
        ([7], 0.05),
        ([2500, 2600, 2450], 0.01),
    ],
)
def test_control_limit_against_scipys_poisson_tail(history: list[int], alpha: float):
    level = expected_level(history, alpha=alpha)
    mean = sum(history) / len(history)
    assert level.mean == pytest.approx(mean) and level.model_mean == pytest.approx(mean)
    limit = level.upper_limit
    assert limit is not None
    assert stats.poisson.sf(limit, mean) < alpha  # P(X >= limit + 1) < alpha ...
    assert limit == 0 or stats.poisson.sf(limit - 1, mean) >= alpha  # ... and no smaller limit will do
    for current in sorted(set(range(20)) | set(range(max(0, limit - 30), limit + 30))):
        p_above = stats.poisson.sf(current - 1, mean)
        assert level.p_value_above(current) == pytest.approx(p_above, rel=1e-12, abs=0)
        assert level.exceeds(current) == (p_above < alpha) == (current > limit)


def test_control_limit_worked_by_hand():
    # Poisson(1): P(X >= 3) = 1 - 2.5/e = 0.0803, P(X >= 4) = 1 - (8/3)/e = 0.0190, P(X >= 5) = 1 - (65/24)/e = 0.0037
    at_5_percent = expected_level([1, 1, 1, 1], alpha=0.05)
    assert at_5_percent.mean == 1.0
    assert at_5_percent.upper_limit == 3  # P(X >= 4) < 0.05 <= P(X >= 3)
    assert at_5_percent.p_value_above(4) == pytest.approx(1 - (8 / 3) / math.e, rel=1e-12)
    assert at_5_percent.exceeds(4) and not at_5_percent.exceeds(3)
    at_1_percent = expected_level([2, 0, 1, 1], alpha=0.01)
    assert at_1_percent.upper_limit == 4  # P(X >= 5) < 0.01 <= P(X >= 4)
    assert at_1_percent.p_value_above(5) == pytest.approx(1 - (65 / 24) / math.e, rel=1e-12)
    assert at_1_percent.p_value_above(0) == 1.0
    assert at_1_percent.alpha == 0.01 and at_1_percent.method == CONTROL_METHOD
    assert at_1_percent.as_dict() == {
        "periods": 4,
        "mean": 1.0,
        "model_mean": 1.0,
        "alpha": 0.01,
        "upper_limit": 4,
        "method": CONTROL_METHOD,
    }


def test_a_quiet_history_uses_half_an_event_over_its_length():
    # 4 quiet weeks: mean 0.125; P(X >= 1) = 1 - e^-0.125 = 0.1175, P(X >= 2) = 1 - 1.125 e^-0.125 = 0.0070
    short = expected_level([0, 0, 0, 0], alpha=0.01)
    assert short.mean == 0.0 and short.model_mean == 0.125
    assert short.upper_limit == 1
    assert short.p_value_above(1) == pytest.approx(1 - math.exp(-0.125), rel=1e-12)
    assert not short.exceeds(1) and short.exceeds(2)
    # a year of quiet weeks: P(X >= 1) = 1 - e^(-0.5/52) = 0.0096 < 0.01, so one event is above the limit
    year = expected_level([0] * 52, alpha=0.01)
    assert year.upper_limit == 0 and year.exceeds(1)
    assert year.p_value_above(1) == pytest.approx(-math.expm1(-0.5 / 52), rel=1e-12)


def test_no_history_means_no_baseline():
    level = expected_level([], alpha=0.01)
    assert (level.periods, level.mean, level.model_mean, level.upper_limit) == (0, None, None, None)
    assert not level.exceeds(0) and not level.exceeds(1000)
    assert level.p_value_above(1000) is None


def test_expected_level_refuses_nonsense():
    with pytest.raises(ValueError):
        expected_level([1, -2, 3])
    with pytest.raises(TypeError):
        expected_level([1, 2.5])
    with pytest.raises(ValueError):
        expected_level([1, 2], alpha=0)
    with pytest.raises(ValueError):
        expected_level([1, 2]).exceeds(-1)
