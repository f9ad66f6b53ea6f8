"""How concentrated crime is: over a mapping of target (place id, victim id) to its number of events.

Repeat rates, the share of events at the top places, the concentration curve and the Gini coefficient,
as a strategic assessment reports them. ``population``, where asked for, is how many targets there are in
all, including those with no events (every street segment in the area, say); without it, the mapping's
keys are all there are. Pure functions over counts, in numpy, so a million places take well under a
second.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = ["RepeatRate", "concentration_curve", "gini", "repeat_rate", "top_share"]


def _counts(counts: Mapping[str, int]) -> np.ndarray:
    values = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
    # numpy would truncate 2.5 to 2 without a word; a count that is not a whole number is a mistake upstream
    if not np.all(np.isfinite(values)) or np.any(values < 0) or np.any(values != np.floor(values)):
        raise ValueError("counts must be whole numbers of events, none negative")
    return values.astype(np.int64)


def _ranked(counts: Mapping[str, int], population: int | None) -> tuple[np.ndarray, int]:
    """The targets' positive counts, highest first, and the number of targets in all."""
    values = _counts(counts)
    if population is None:
        population = len(values)
    elif population < len(values):
        raise ValueError(f"population {population} is smaller than the {len(values)} targets counted")
    positive = values[values > 0]
    return np.sort(positive)[::-1], population


@dataclass(frozen=True)
class RepeatRate:
    """How many targets had an event more than once, and what share of the events were theirs."""

    targets: int  # targets with at least one event
    repeat_targets: int  # targets with two or more
    events: int
    repeat_events: int  # every event at a repeat target, the first included
    rate: float  # repeat_targets / targets; 0.0 with no targets
    event_share: float  # repeat_events / events; 0.0 with no events

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def repeat_rate(counts: Mapping[str, int]) -> RepeatRate:
    """Repeat targets (two or more events) among targets with any, and their share of the events.

    Targets with a count of 0 are not targets of anything and are left out.

    >>> repeats = repeat_rate({"V1": 3, "V2": 1, "V3": 2, "V4": 0})
    >>> repeats.targets, repeats.repeat_targets, repeats.events, repeats.repeat_events
    (3, 2, 6, 5)
    >>> round(repeats.rate, 3), round(repeats.event_share, 3)
    (0.667, 0.833)
    >>> repeat_rate({}).rate
    0.0
    """
    values = _counts(counts)
    repeats = values[values >= 2]
    targets, events = int(np.count_nonzero(values)), int(values.sum())
    repeat_targets, repeat_events = len(repeats), int(repeats.sum())
    return RepeatRate(
        targets=targets,
        repeat_targets=repeat_targets,
        events=events,
        repeat_events=repeat_events,
        rate=repeat_targets / targets if targets else 0.0,
        event_share=repeat_events / events if events else 0.0,
    )


def _top_places(fraction: float, population: int) -> int:
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction must lie between 0 and 1, got {fraction!r}")
    # rounded first so that 0.1 of 30 places is 3, not ceil(3.0000000000000004) = 4
    return math.ceil(round(fraction * population, 9))


def top_share(counts: Mapping[str, int], fraction: float, *, population: int | None = None) -> float:
    """The share of events at the top ``fraction`` of places: "x% of places have y% of crime".

    The top is exactly ceil(fraction * population) places, highest counts first, so a fraction that
    falls inside a run of tied places takes as many of them as it needs; which ones does not change the
    share. With no events the share is 0.0.

    >>> street_segments = {"S1": 5, "S2": 3, "S3": 1, "S4": 1}
    >>> top_share(street_segments, 0.1, population=10), top_share(street_segments, 0.2, population=10)
    (0.5, 0.8)
    >>> top_share(street_segments, 0.25)  # without population, the four segments with events are all
    0.5
    """
    ranked, population = _ranked(counts, population)
    places = _top_places(fraction, population)
    events = int(ranked.sum())
    return int(ranked[:places].sum()) / events if events else 0.0


def concentration_curve(
    counts: Mapping[str, int], *, population: int | None = None, points: int = 101
) -> list[tuple[float, float]]:
    """Cumulative share of places, highest counts first (x), against cumulative share of events (y).

    The curve runs from (0, 0) to (1, 1) through (i / population, share of events at the top i places).
    With at most ``points - 1`` places those are the points returned; with more, the curve is read at
    ``points`` evenly spaced x (0, 1 / (points - 1), ..., 1), interpolating linearly within a place, so a
    million places still give ``points`` points. Either way the points are exact on the curve, which is
    rising and concave. With no events there is no curve: [].

    >>> concentration_curve({"S1": 5, "S2": 3, "S3": 1, "S4": 1}, population=5)
    [(0.0, 0.0), (0.2, 0.5), (0.4, 0.8), (0.6, 0.9), (0.8, 1.0), (1.0, 1.0)]
    >>> concentration_curve({"S1": 5, "S2": 3, "S3": 1, "S4": 1}, population=10, points=6)
    [(0.0, 0.0), (0.2, 0.8), (0.4, 1.0), (0.6, 1.0), (0.8, 1.0), (1.0, 1.0)]
    """
    if points < 2:
        raise ValueError(f"points must be at least 2, got {points}")
    ranked, population = _ranked(counts, population)
    events = int(ranked.sum())
    if not events:
        return []
    cumulative = np.concatenate(([0], np.cumsum(ranked)))
    if population + 1 <= points:
        x = np.arange(population + 1) / population
        y = cumulative[np.minimum(np.arange(population + 1), len(ranked))] / events
    else:
        steps = np.arange(points)
        x = steps / (points - 1)
        # Past the last place with events np.interp holds the last value, the total: places with none.
        y = np.interp(steps * population / (points - 1), np.arange(len(cumulative)), cumulative) / events
    return [(float(a), float(b)) for a, b in zip(x, y, strict=True)]


def gini(counts: Mapping[str, int], population: int | None = None) -> float:
    """The Gini coefficient of events across places: 0 when every place has as many, up to 1 - 1/population.

    Over all ``population`` places, those with none included: the mean absolute difference between two
    places' counts over twice the mean count, sum |c_i - c_j| / (2 n^2 mean), which is twice the area
    between the concentration curve and the diagonal. With no events it is 0.0.

    >>> gini({"S1": 5, "S2": 3, "S3": 1, "S4": 1}, population=10)
    0.74
    >>> gini({"S1": 2, "S2": 2, "S3": 2})
    0.0
    >>> gini({"S1": 7}, population=4)  # everything at one place of four: the most there can be
    0.75
    """
    ranked, population = _ranked(counts, population)
    events = int(ranked.sum())
    if not events:
        return 0.0
    # Places in ascending order, the ones with no events first: sum over ranks i of i c_i gives the Gini as
    # 2 sum(i c_i) / (n total) - (n + 1) / n.
    ascending = ranked[::-1].astype(np.float64)
    ranks = np.arange(population - len(ranked) + 1, population + 1, dtype=np.float64)
    value = 2 * float(ranks @ ascending) / (population * events) - (population + 1) / population
    return max(0.0, value)  # equal counts can round to -1e-17
