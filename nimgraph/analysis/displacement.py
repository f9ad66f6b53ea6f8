"""Did it work? Counts in a target area, its displacement buffer and a control area, before and after.

Three published measures of an intervention's effect, each with the warnings its authors give:

- the Weighted Displacement Quotient (Bowers and Johnson, 2003): a success measure, a buffer
  displacement measure and their quotient, all relative to the control area's change;
- the Weighted Displacement Difference (Wheeler and Ratcliffe, 2018): a difference in differences
  of counts, with a standard error from the Poisson assumption, a z-score and a confidence interval;
- the Total Net Effect (Guerette, 2009): incidents prevented in the target and the buffer, net of
  displacement, against what the control area's change predicts.

:func:`before_after_test` adds the Poisson E-test of the target area's before and after counts.
Pure functions over counts: no store, no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from scipy.stats import norm

from nimgraph.analysis.significance import Change, compare_counts

__all__ = [
    "SMALL_COUNT",
    "AreaCounts",
    "ReviewCounts",
    "TotalNetEffect",
    "WeightedDisplacementDifference",
    "WeightedDisplacementQuotient",
    "before_after_test",
    "total_net_effect",
    "weighted_displacement_difference",
    "weighted_displacement_quotient",
]

# Below this many events in one area and window, a ratio or a normal approximation swings on a
# handful of incidents; each measure says so rather than refusing.
SMALL_COUNT = 10


@dataclass(frozen=True)
class AreaCounts:
    """Events counted in one area in the before window and the after window."""

    before: int
    after: int

    def __post_init__(self) -> None:
        for name in ("before", "after"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"a count must be a whole number of events, not {value!r} ({name})")


@dataclass(frozen=True)
class ReviewCounts:
    """The counts an operational review compares.

    ``buffer_control`` is a second control area for the buffer, as Wheeler and Ratcliffe allow; without
    it the one control area serves both the target and the buffer. ``before_length`` and
    ``after_length`` are the windows' lengths in any one unit (days), so unequal windows compare as rates.
    """

    target: AreaCounts
    buffer: AreaCounts
    control: AreaCounts
    buffer_control: AreaCounts | None = None
    before_length: float = 1.0
    after_length: float = 1.0

    def __post_init__(self) -> None:
        for name in ("before_length", "after_length"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive length of time, not {value!r}")

    @property
    def buffer_reference(self) -> AreaCounts:
        return self.buffer_control or self.control


def _small(counts: ReviewCounts, areas: tuple[str, ...]) -> list[str]:
    cells = [
        f"{area} {window} ({getattr(getattr(counts, area), window)})"
        for area in areas
        for window in ("before", "after")
        if getattr(getattr(counts, area), window) < SMALL_COUNT
    ]
    if not cells:
        return []
    return [f"Small counts (under {SMALL_COUNT}): {', '.join(cells)}; a few incidents either way change the result."]


# ------------------------------------------------------------------------------------------ WDQ
WDQ_ASSUMPTIONS = (
    "The control area shares the target's background trend and is far enough away not to be affected "
    "by the intervention; the buffer is where displaced offending (or a diffusion of benefit) would appear. "
    "Counts are compared as proportions of the control area's count in each window, so the measure does "
    "not depend on the windows' lengths."
)


@dataclass(frozen=True)
class WeightedDisplacementQuotient:
    """Bowers and Johnson's measures. ``quotient`` is None where it is undefined or not to be read."""

    success_measure: float | None  # R1/C1 - R0/C0: below 0, the target fell relative to control
    buffer_displacement_measure: float | None  # B1/C1 - B0/C0: above 0 displacement, below 0 diffusion
    quotient: float | None  # buffer displacement measure / success measure
    reading: str
    assumptions: str = WDQ_ASSUMPTIONS
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def _wdq_reading(quotient: float) -> str:
    if quotient > 1:
        return "Diffusion of benefit greater than the direct effect: the buffer improved by more than the target."
    if quotient > 0:
        return "Diffusion of benefit: the buffer improved too, by less than the target."
    if quotient == 0:
        return "Neither displacement nor diffusion: the buffer changed as the control area did."
    if quotient >= -1:
        return "Some displacement into the buffer, smaller than the direct effect: a net benefit."
    return "Displacement greater than the direct effect: the intervention was counterproductive overall."


def weighted_displacement_quotient(counts: ReviewCounts) -> WeightedDisplacementQuotient:
    """The Weighted Displacement Quotient of Bowers and Johnson (2003).

    Each area's count is taken as a proportion of the control area's count in the same window. The
    success measure is the change in the target's proportion; the buffer displacement measure is the
    change in the buffer's (against the buffer's control when one is given); the quotient is the second
    over the first. It is read only when the success measure shows a success (below 0): the authors warn
    that the quotient of a failed intervention means nothing, and it is undefined when a control count is 0.

    >>> c = ReviewCounts(AreaCounts(100, 60), AreaCounts(80, 70), AreaCounts(200, 190))
    >>> wdq = weighted_displacement_quotient(c)
    >>> round(wdq.success_measure, 4), round(wdq.buffer_displacement_measure, 4), round(wdq.quotient, 4)
    (-0.1842, -0.0316, 0.1714)
    >>> wdq.reading
    'Diffusion of benefit: the buffer improved too, by less than the target.'
    >>> failed = ReviewCounts(AreaCounts(50, 60), AreaCounts(80, 70), AreaCounts(200, 190))
    >>> weighted_displacement_quotient(failed).quotient is None
    True
    """
    warnings = _small(counts, ("target", "buffer", "control"))
    reference = counts.buffer_reference
    zeros = [
        f"{name} {window}"
        for name, area in (("control", counts.control), ("buffer control", counts.buffer_control))
        if area is not None
        for window in ("before", "after")
        if getattr(area, window) == 0
    ]
    success = None
    if counts.control.before and counts.control.after:
        success = counts.target.after / counts.control.after - counts.target.before / counts.control.before
    buffer_measure = None
    if reference.before and reference.after:
        buffer_measure = counts.buffer.after / reference.after - counts.buffer.before / reference.before
    if zeros:
        warnings.append(
            f"A control count is 0 ({', '.join(zeros)}): the measures that divide by it are undefined. "
            "Choose a larger control area or longer windows."
        )
    if counts.buffer.before == 0 and counts.buffer.after == 0:
        warnings.append("The buffer had no events in either window: displacement cannot be measured there.")
    if success is None or buffer_measure is None:
        return WeightedDisplacementQuotient(
            success, buffer_measure, None, "Undefined: a control count is 0.", warnings=warnings
        )
    if success >= 0:
        return WeightedDisplacementQuotient(
            success,
            buffer_measure,
            None,
            "No success to weigh: the target did not fall relative to the control area, so the quotient is "
            "not read (Bowers and Johnson).",
            warnings=warnings,
        )
    quotient = buffer_measure / success
    return WeightedDisplacementQuotient(success, buffer_measure, quotient, _wdq_reading(quotient), warnings=warnings)


# ------------------------------------------------------------------------------------------ WDD
WDD_ASSUMPTIONS = (
    "A difference in differences of counts: the control area's change is what the target's (and the "
    "buffer's) would have been without the intervention, in the same units, so the control should carry "
    "a similar number of events. Counts are independent Poisson, so each count is its own variance; "
    "over-dispersed counts make the standard error too small. Unequal windows compare as rates per "
    "after-window."
)


@dataclass(frozen=True)
class WeightedDisplacementDifference:
    """Wheeler and Ratcliffe's test. Negative estimates are fewer events than the control predicts."""

    local: float  # (T1 - T0) - (C1 - C0)
    local_se: float
    displacement: float  # (B1 - B0) - (CB1 - CB0)
    displacement_se: float
    total: float
    total_se: float
    z: float | None
    p_value: float | None  # two-sided, from the normal distribution
    confidence: float
    low: float
    high: float
    significant: bool
    reading: str
    assumptions: str = WDD_ASSUMPTIONS
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def weighted_displacement_difference(counts: ReviewCounts, *, alpha: float = 0.05) -> WeightedDisplacementDifference:
    """The Weighted Displacement Difference test of Wheeler and Ratcliffe (2018).

    The local estimate is the target's change less the control's; the displacement estimate is the
    buffer's change less its control's; the total is their sum. Under the Poisson assumption each
    count's variance is the count itself; when one control area serves both, its counts enter the
    total twice, and their variance four times. Before counts are scaled to the after window's length.

    The paper's worked example (control 308 then 318, target 207 then 110, buffer control 150 then
    140, buffer 178 then 157): total -118, standard error sqrt(1568), z -2.98, 95% interval -196 to -40.

    >>> paper = ReviewCounts(
    ...     target=AreaCounts(207, 110), buffer=AreaCounts(178, 157),
    ...     control=AreaCounts(308, 318), buffer_control=AreaCounts(150, 140))
    >>> wdd = weighted_displacement_difference(paper)
    >>> wdd.local, wdd.displacement, wdd.total, wdd.total_se ** 2, round(wdd.z, 2)
    (-107.0, -11.0, -118.0, 1568.0, -2.98)
    >>> round(wdd.low), round(wdd.high), wdd.significant
    (-196, -40, True)
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha!r}")
    scale = counts.after_length / counts.before_length  # a before count, per after-window

    def change(area: AreaCounts) -> tuple[float, float]:
        return area.after - area.before * scale, area.after + area.before * scale**2

    target, target_var = change(counts.target)
    control, control_var = change(counts.control)
    buffer, buffer_var = change(counts.buffer)
    shared = counts.buffer_control is None
    buffer_control, buffer_control_var = change(counts.buffer_reference)
    local = target - control
    displacement = buffer - buffer_control
    total = local + displacement
    local_var = target_var + control_var
    displacement_var = buffer_var + buffer_control_var
    # One control for both: Var(dT + dB - 2 dC) = Var(dT) + Var(dB) + 4 Var(dC).
    total_var = target_var + buffer_var + 4 * control_var if shared else local_var + displacement_var
    total_se = math.sqrt(total_var)
    level = float(norm.ppf(1 - alpha / 2))
    z = total / total_se if total_se else None
    p_value = float(2 * norm.sf(abs(z))) if z is not None else None
    significant = p_value is not None and p_value < alpha
    warnings = _small(counts, ("target", "buffer", "control"))
    if total_se == 0:
        warnings.append("Every count is 0: there is nothing to test.")
    target_before, control_before = counts.target.before, counts.control.before
    if target_before and control_before and not 0.5 <= control_before / target_before <= 2:
        warnings.append(
            f"The control area's before count ({control_before}) is not within half to twice the target's "
            f"({target_before}): a difference of counts assumes they are of a size. The quotient, which uses "
            "proportions, is the safer reading here."
        )
    if shared:
        warnings.append("One control area serves both the target and the buffer: its change is subtracted twice.")
    direction = "fewer" if total < 0 else "more"
    reading = (
        f"{abs(total):.1f} {direction} events in the target and buffer than the control predicts"
        f" ({'significant' if significant else 'not significant'} at {alpha:g})."
    )
    return WeightedDisplacementDifference(
        local=local,
        local_se=math.sqrt(local_var),
        displacement=displacement,
        displacement_se=math.sqrt(displacement_var),
        total=total,
        total_se=total_se,
        z=z,
        p_value=p_value,
        confidence=1 - alpha,
        low=total - level * total_se,
        high=total + level * total_se,
        significant=significant,
        reading=reading,
        warnings=warnings,
    )


# ------------------------------------------------------------------------------------------ TNE
TNE_ASSUMPTIONS = (
    "Without the intervention, the target and the buffer would have changed in the proportion the control "
    "area did; the difference between that expectation and what happened is the effect, counted in events."
)


@dataclass(frozen=True)
class TotalNetEffect:
    """Guerette's net effect in events: positive is incidents prevented, negative is incidents added."""

    target_effect: float | None  # R0 * (C1/C0) - R1
    buffer_effect: float | None  # B0 * (C1/C0) - B1: positive diffusion, negative displacement
    total: float | None
    reading: str
    assumptions: str = TNE_ASSUMPTIONS
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def total_net_effect(counts: ReviewCounts) -> TotalNetEffect:
    """The Total Net Effect of Guerette (2009): [R0 (C1/C0) - R1] + [B0 (C1/C0) - B1].

    Each before count is scaled by the control area's change (the buffer's own control when given) to
    what the after window would have held without the intervention; what did not happen is the effect.
    Undefined when the control had no events before.

    >>> tne = total_net_effect(ReviewCounts(AreaCounts(100, 60), AreaCounts(80, 70), AreaCounts(200, 190)))
    >>> round(tne.target_effect, 2), round(tne.buffer_effect, 2), round(tne.total, 2)
    (35.0, 6.0, 41.0)
    >>> total_net_effect(ReviewCounts(AreaCounts(5, 2), AreaCounts(3, 3), AreaCounts(0, 4))).total is None
    True
    """
    warnings = _small(counts, ("target", "buffer", "control"))
    reference = counts.buffer_reference
    if not counts.control.before or not reference.before:
        warnings.append(
            "The control area had no events before: its change, and so the expected counts, are undefined. "
            "Choose a larger control area or a longer before window."
        )
        return TotalNetEffect(None, None, None, "Undefined: the control area's before count is 0.", warnings=warnings)
    target_effect = counts.target.before * counts.control.after / counts.control.before - counts.target.after
    buffer_effect = counts.buffer.before * reference.after / reference.before - counts.buffer.after
    total = target_effect + buffer_effect
    if total > 0:
        reading = f"About {total:.1f} incidents prevented, net of displacement."
    elif total < 0:
        reading = f"About {-total:.1f} more incidents than expected, net of any benefit."
    else:
        reading = "No net effect."
    return TotalNetEffect(target_effect, buffer_effect, total, reading, warnings=warnings)


# ------------------------------------------------------------------------------------------ Poisson
def before_after_test(counts: ReviewCounts, *, alpha: float = 0.05) -> Change:
    """The target area's after count against its before count, as rates over the windows' lengths.

    >>> change = before_after_test(ReviewCounts(AreaCounts(100, 60), AreaCounts(80, 70), AreaCounts(200, 190)))
    >>> change.ratio, change.significant
    (0.6, True)
    """
    return compare_counts(
        counts.target.after,
        counts.target.before,
        current_exposure=counts.after_length,
        previous_exposure=counts.before_length,
        alpha=alpha,
    )
