"""Significance tests for counts of crime, as a strategic or tactical assessment uses them.

:func:`compare_counts` says whether a count differs from an earlier one by more than chance (the
Poisson E-test); :func:`expected_level` says whether this period's count is above what the previous
periods lead one to expect (a Poisson upper control limit). Pure functions: no I/O, no store.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np
from scipy.stats import poisson

__all__ = [
    "CONTROL_METHOD",
    "METHOD",
    "METHOD_UNPOOLED",
    "TIE_TOLERANCE",
    "Change",
    "Expected",
    "Statistic",
    "compare_counts",
    "e_test_p_value",
    "expected_level",
]

METHOD = (
    "Two-sided Poisson E-test (Krishnamoorthy and Thomson, 2004) of the two counts as rates per unit of "
    "exposure, the difference in rates measured in standard errors from the pooled rate, as R's ptools "
    "e_test does: the p-value is the chance, were both rates the pooled rate, of a difference at least as "
    "large as the one observed."
)

METHOD_UNPOOLED = (
    "Two-sided Poisson E-test (Krishnamoorthy and Thomson, 2004) of the two counts as rates per unit of "
    "exposure, the difference in rates measured in standard errors from each count's own variance, as in the "
    "paper and scipy.stats.poisson_means_test: the p-value is the chance, were both rates the pooled rate, of "
    "a difference at least as large as the one observed."
)

Statistic = Literal["pooled", "unpooled"]

CONTROL_METHOD = (
    "Upper control limit from a Poisson model of the previous periods: the expected count is their mean "
    "(half an event spread over them when all were zero), the limit is the smallest count k with "
    "P(X >= k + 1) < alpha, and a count above the limit is one with P(X >= count) < alpha."
)

# Squared statistics this close (relative, or absolute below 1) count as equal. Exact ties are common at
# small counts (with the unpooled statistic, 2 in 14 days against none in 365 ties with none against 2),
# and floating point must not drop one: scipy.stats.poisson_means_test (1.17) compares rounded statistics
# and gives 0.28 there where the sum with the tie is 0.53.
TIE_TOLERANCE = 1e-9

# Poisson mass left out at each end of the outer sum; the inner sum is exact (cdf and sf).
_TAIL = 1e-17


def _count(value: int, name: str) -> int:
    try:
        count = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be a whole number of events, not {value!r}") from None
    if count < 0:
        raise ValueError(f"{name} must not be negative, got {count}")
    return count


def _exposure(value: float, name: str) -> float:
    exposure = float(value)
    if not (math.isfinite(exposure) and exposure > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return exposure


def _alpha(value: float) -> float:
    alpha = float(value)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {value!r}")
    return alpha


@dataclass(frozen=True)
class Change:
    """Two counts, their rates' ratio and percent change, and the E-test's verdict on the difference."""

    current: int
    previous: int
    current_exposure: float
    previous_exposure: float
    ratio: float | None  # current rate / previous rate; None when the previous rate is 0
    percent: float | None  # percent change in rate; None when the previous rate is 0
    p_value: float
    method: str
    significant: bool  # p_value < alpha

    def as_dict(self) -> dict[str, Any]:
        # dataclasses.asdict deep-copies field by field: tens of thousands of changes an assessment
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def _squared_statistic(
    x1: np.ndarray | float, x2: np.ndarray | float, n1: float, n2: float, statistic: Statistic
) -> np.ndarray | float:
    # Pooled: (x1/n1 - x2/n2)^2 / ((x1 + x2)/(n1 + n2) (1/n1 + 1/n2)); unpooled: (x1/n1 - x2/n2)^2 /
    # (x1/n1^2 + x2/n2^2). Both multiplied through by (n1 n2)^2 so that no rate is rounded on the way. At
    # (0, 0) both are 0/0, nan, which compares false: that outcome, where T is undefined, is left out.
    difference = x1 * n2 - x2 * n1
    if statistic == "pooled":
        return difference * difference / ((x1 + x2) * (n1 * n2))
    return difference * difference / (x1 * (n2 * n2) + x2 * (n1 * n1))


def _upper_end(mean: float) -> int:
    # poisson.isf gives nan for tail probabilities below about 1e-16, so step out until the tail is that small.
    step = math.ceil(10 * math.sqrt(mean)) + 20
    end = math.ceil(mean) + step
    while poisson.sf(end, mean) >= _TAIL:
        end += step
    return end


@lru_cache(maxsize=65_536)  # an assessment tests thousands of candidates, most with the same small counts
def e_test_p_value(k1: int, k2: int, n1: float = 1.0, n2: float = 1.0, *, statistic: Statistic = "pooled") -> float:
    """Two-sided E-test p-value for counts ``k1`` over exposure ``n1`` and ``k2`` over ``n2`` (equal rates).

    Krishnamoorthy and Thomson (2004), eq. (3.5): with the pooled rate l = (k1 + k2) / (n1 + n2),
    p = sum over x1, x2 of Poisson(x1; n1 l) Poisson(x2; n2 l) I[|T(x1, x2)| >= |T(k1, k2)|]. The point
    (0, 0), where T is undefined, is left out, as scipy and R's ptools do; so equal rates give
    1 - P(0, 0), not 1. Both counts zero gives 1.

    ``statistic`` says how T measures the difference in rates x1/n1 - x2/n2 in standard errors:

    - ``"pooled"`` (the default, as R's ptools ``e_test`` and statsmodels' ``etest_poisson_2indep`` do):
      over sqrt((x1 + x2)/(n1 + n2) (1/n1 + 1/n2)), the standard error at the pooled rate.
    - ``"unpooled"`` (the paper's eq. (3.3) and ``scipy.stats.poisson_means_test``): over
      sqrt(x1/n1^2 + x2/n2^2), the standard error from each count's own variance.

    With equal exposures the two are the same test. With unequal ones they are not, and the unpooled
    statistic takes a count of none as exactly known: 2 events in 14 days against none in 365 gets
    p = 0.53 unpooled, as 2 against none over equal periods would, and p = 0.0004 pooled.

    ``scipy.stats.poisson_means_test`` (unpooled) is not called, for two reasons. It compares statistics
    after rounding, so an exact tie can fall out of the sum: in the example above scipy 1.17 gives 0.28;
    here statistics within :data:`TIE_TOLERANCE` are ties. And it sums the whole grid of outcomes, some
    10^8 cells for 10^6 against 10^6. Here, for fixed x1, T falls as x2 rises (for either statistic), so
    the extreme x2 form two tails, x2 <= A(x1) and x2 >= B(x1), found by bisection on the statistic
    itself: one sum over x1 of Poisson tail probabilities, a few thousand terms. The outer sum leaves out at
    most 2e-17 of Poisson mass; the inner tails are exact.

    >>> round(e_test_p_value(0, 3, 100, 100), 4)  # Krishnamoorthy and Thomson's first example
    0.0884
    >>> round(e_test_p_value(6, 2), 4)  # their second; with equal exposures their size does not matter
    0.1749
    >>> round(e_test_p_value(2, 0, 14, 365), 4), round(e_test_p_value(2, 0, 14, 365, statistic="unpooled"), 4)
    (0.0004, 0.5332)
    """
    k1, k2 = _count(k1, "k1"), _count(k2, "k2")
    n1, n2 = _exposure(n1, "n1"), _exposure(n2, "n2")
    if statistic not in ("pooled", "unpooled"):
        raise ValueError(f"statistic must be 'pooled' or 'unpooled', not {statistic!r}")
    if k1 == 0 and k2 == 0:
        return 1.0
    pooled_rate = (k1 + k2) / (n1 + n2)
    mean1, mean2 = n1 * pooled_rate, n2 * pooled_rate
    observed = float(_squared_statistic(float(k1), float(k2), n1, n2, statistic))
    threshold = observed - TIE_TOLERANCE * max(observed, 1.0)
    if threshold <= 0:
        # Every outcome but the undefined (0, 0) is at least as extreme as no difference at all.
        return float(-math.expm1(-(mean1 + mean2)))

    first = int(poisson.ppf(_TAIL, mean1))
    last = _upper_end(mean1)
    x1 = np.arange(first, last + 1, dtype=np.float64)
    balance = np.floor(x1 * (n2 / n1))  # near where the difference in rates changes sign

    def extreme(x2: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return _squared_statistic(x1, x2, n1, n2, statistic) >= threshold

    # A: the largest x2 with x1/n1 - x2/n2 > 0 and T^2 >= threshold (-1 when there is none).
    # Invariant: lo is extreme or -1, hi is not extreme (it is past the balance point).
    lo, hi = np.full_like(x1, -1.0), balance + 2
    while np.any(hi - lo > 1):
        mid = np.floor((lo + hi) / 2)
        good = extreme(mid) & (x1 * n2 - mid * n1 > 0)
        lo, hi = np.where(good, mid, lo), np.where(good, hi, mid)
    below = lo

    # B: the smallest x2 with x1/n1 - x2/n2 < 0 and T^2 >= threshold. Invariant: lo is not extreme, hi is.
    # T^2 grows without bound in x2, so doubling steps past the balance point reach an extreme hi.
    def beyond(x2: np.ndarray) -> np.ndarray:
        return extreme(x2) & (x1 * n2 - x2 * n1 < 0)

    lo, hi, step = np.maximum(balance - 1, -1.0), balance + 2, np.ones_like(x1)
    while not np.all(reached := beyond(hi)):
        lo = np.where(reached, lo, hi)
        hi, step = np.where(reached, hi, hi + step), step * 2
    while np.any(hi - lo > 1):
        mid = np.floor((lo + hi) / 2)
        good = beyond(mid)
        lo, hi = np.where(good, lo, mid), np.where(good, mid, hi)
    above = hi

    tails = poisson.cdf(below, mean2) + poisson.sf(above - 1, mean2)
    p_value = float(np.sum(poisson.pmf(x1, mean1) * tails))
    return min(1.0, p_value)


def compare_counts(
    current: int,
    previous: int,
    *,
    current_exposure: float = 1.0,
    previous_exposure: float = 1.0,
    alpha: float = 0.05,
    statistic: Statistic = "pooled",
) -> Change:
    """Whether ``current`` differs from ``previous`` by more than chance, as rates per unit of exposure.

    Exposures are the lengths (or populations) the counts are over, so 9 burglaries in the last 14 days
    can be set against 120 in the previous 365. The test is the two-sided E-test of Krishnamoorthy and
    Thomson (2004) with the pooled statistic, as R ptools' ``e_test`` computes it; ``statistic="unpooled"``
    gives the paper's own statistic, as ``scipy.stats.poisson_means_test`` computes it. They agree when the
    exposures are equal; see :func:`e_test_p_value` for where they differ, and why scipy is not called.
    ``method`` is the sentence for a report (:data:`METHOD` or :data:`METHOD_UNPOOLED`).
    ``significant`` is ``p_value < alpha``. Both counts zero: p = 1, not significant.

    >>> change = compare_counts(30, 12)
    >>> change.ratio, change.percent, round(change.p_value, 4), change.significant
    (2.5, 150.0, 0.0051, True)
    >>> change = compare_counts(9, 120, current_exposure=14, previous_exposure=365)
    >>> round(change.ratio, 3), round(change.p_value, 3), change.significant
    (1.955, 0.044, True)
    >>> compare_counts(0, 0).p_value
    1.0
    >>> compare_counts(3, 0).ratio is None
    True
    """
    k1, k2 = _count(current, "current"), _count(previous, "previous")
    n1, n2 = _exposure(current_exposure, "current_exposure"), _exposure(previous_exposure, "previous_exposure")
    alpha = _alpha(alpha)
    ratio = (k1 / n1) / (k2 / n2) if k2 else None
    p_value = e_test_p_value(k1, k2, n1, n2, statistic=statistic)
    return Change(
        current=k1,
        previous=k2,
        current_exposure=n1,
        previous_exposure=n2,
        ratio=ratio,
        percent=None if ratio is None else (ratio - 1) * 100,
        p_value=p_value,
        method=METHOD if statistic == "pooled" else METHOD_UNPOOLED,
        significant=p_value < alpha,
    )


@dataclass(frozen=True)
class Expected:
    """The expected level of a count from the previous periods, and the upper control limit above it.

    ``mean`` is the previous periods' average; ``model_mean`` the Poisson mean used, which is ``mean``
    unless every period had none, when it is 0.5 / periods: a zero mean would call any single event
    impossible (p = 0), while half an event over the history lets a long quiet run count for more than a
    short one. With no history there is no baseline: ``mean``, ``model_mean`` and ``upper_limit`` are None,
    nothing exceeds and :meth:`p_value_above` is None.
    """

    periods: int
    mean: float | None
    model_mean: float | None
    alpha: float
    upper_limit: int | None  # the smallest k with P(X >= k + 1) < alpha
    method: str

    def p_value_above(self, current: int) -> float | None:
        """P(X >= current) for X ~ Poisson(model_mean); None without a history."""
        current = _count(current, "current")
        if self.model_mean is None:
            return None
        return float(poisson.sf(current - 1, self.model_mean))

    def exceeds(self, current: int) -> bool:
        """Whether ``current`` is above the upper limit, which is when P(X >= current) < alpha."""
        current = _count(current, "current")
        return self.upper_limit is not None and current > self.upper_limit

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def expected_level(history: Sequence[int], *, alpha: float = 0.01) -> Expected:
    """The Poisson expected level and upper control limit of a count, from the previous periods' counts.

    >>> weekly = expected_level([3, 5, 4, 2, 6, 4], alpha=0.01)
    >>> weekly.mean, weekly.upper_limit
    (4.0, 9)
    >>> weekly.exceeds(9), weekly.exceeds(10), round(weekly.p_value_above(10), 5)
    (False, True, 0.00813)
    >>> quiet = expected_level([0] * 52)
    >>> quiet.model_mean == 0.5 / 52, quiet.upper_limit, quiet.exceeds(1)
    (True, 0, True)
    >>> expected_level([]).exceeds(5)
    False
    """
    alpha = _alpha(alpha)
    counts = [_count(value, "a history count") for value in history]
    if not counts:
        return Expected(0, None, None, alpha, None, CONTROL_METHOD)
    mean = sum(counts) / len(counts)
    model_mean = mean if mean > 0 else 0.5 / len(counts)
    # isf lands on or next to the limit; the steps make the definition, not isf's rounding, decide it.
    limit = int(poisson.isf(alpha, model_mean))
    while poisson.sf(limit, model_mean) >= alpha:
        limit += 1
    while limit > 0 and poisson.sf(limit - 1, model_mean) < alpha:
        limit -= 1
    return Expected(len(counts), mean, model_mean, alpha, limit, CONTROL_METHOD)
