"""The operational review's measures against hand-computed and published worked examples.

Every expected value below is worked by hand in the comment beside it (or is the published figure),
never read back from the code under test.
"""

from __future__ import annotations

import math

import pytest

from nimgraph.analysis.displacement import (
    AreaCounts,
    ReviewCounts,
    before_after_test,
    total_net_effect,
    weighted_displacement_difference,
    weighted_displacement_quotient,
)


def counts(target, buffer, control, buffer_control=None, **lengths) -> ReviewCounts:
    area = lambda pair: AreaCounts(*pair) if pair is not None else None  # noqa: E731
    return ReviewCounts(area(target), area(buffer), area(control), area(buffer_control), **lengths)


# ------------------------------------------------------------------------------------------ WDQ
def test_wdq_worked_example_with_a_diffusion_of_benefit():
    # SM = 60/190 - 100/200 = 0.315789 - 0.5 = -0.184211
    # BDM = 70/190 - 80/200 = 0.368421 - 0.4 = -0.031579
    # WDQ = -0.031579 / -0.184211 = 0.171429 (= 6/35: the buffer fell by 6 of 76 expected, the target by 35 of 95)
    wdq = weighted_displacement_quotient(counts((100, 60), (80, 70), (200, 190)))
    assert wdq.success_measure == pytest.approx(-0.184211, abs=1e-6)
    assert wdq.buffer_displacement_measure == pytest.approx(-0.031579, abs=1e-6)
    assert wdq.quotient == pytest.approx(6 / 35)
    assert wdq.reading.startswith("Diffusion of benefit:")


def test_wdq_complete_displacement_is_minus_one():
    # SM = 50/100 - 100/100 = -0.5; BDM = 150/100 - 100/100 = 0.5; WDQ = -1: all the benefit moved next door
    wdq = weighted_displacement_quotient(counts((100, 50), (100, 150), (100, 100)))
    assert wdq.quotient == pytest.approx(-1.0)
    assert "smaller than the direct effect" in wdq.reading  # Bowers and Johnson: -1 <= WDQ < 0


@pytest.mark.parametrize(
    ("buffer_after", "quotient", "reading"),
    [
        (40, 1.2, "Diffusion of benefit greater than the direct effect"),  # BDM = 40/100 - 1 = -0.6; /-0.5
        (100, 0.0, "Neither displacement nor diffusion"),  # BDM = 0
        (120, -0.4, "Some displacement into the buffer"),  # BDM = 0.2; /-0.5
        (180, -1.6, "Displacement greater than the direct effect"),  # BDM = 0.8; /-0.5
    ],
)
def test_wdq_reads_each_band_of_the_published_scale(buffer_after, quotient, reading):
    wdq = weighted_displacement_quotient(counts((100, 50), (100, buffer_after), (100, 100)))
    assert wdq.quotient == pytest.approx(quotient)
    assert wdq.reading.startswith(reading)


def test_wdq_is_not_read_when_the_target_did_not_improve_relative_to_control():
    # SM = 60/100 - 50/100 = +0.1: a failed intervention, whose quotient Bowers and Johnson say means nothing
    wdq = weighted_displacement_quotient(counts((50, 60), (80, 70), (100, 100)))
    assert wdq.success_measure == pytest.approx(0.1)
    assert wdq.quotient is None
    assert "not read" in wdq.reading


@pytest.mark.parametrize("control", [(0, 10), (10, 0)])
def test_wdq_with_a_zero_control_count_is_undefined_and_says_so(control):
    wdq = weighted_displacement_quotient(counts((30, 20), (30, 30), control))
    assert wdq.quotient is None and wdq.success_measure is None
    assert any("control count is 0" in w for w in wdq.warnings)


def test_wdq_uses_the_buffers_own_control_when_given():
    # SM = 50/100 - 100/100 = -0.5; BDM against the buffer's control = 90/50 - 100/50 = -0.2; WDQ = 0.4
    wdq = weighted_displacement_quotient(counts((100, 50), (100, 90), (100, 100), buffer_control=(50, 50)))
    assert wdq.buffer_displacement_measure == pytest.approx(-0.2)
    assert wdq.quotient == pytest.approx(0.4)


def test_small_counts_are_named_cell_by_cell():
    wdq = weighted_displacement_quotient(counts((9, 3), (30, 30), (40, 40)))
    [warning] = [w for w in wdq.warnings if w.startswith("Small counts")]
    assert "target before (9)" in warning and "target after (3)" in warning and "buffer" not in warning


# ------------------------------------------------------------------------------------------ WDD
def test_wdd_reproduces_the_papers_worked_example():
    # Wheeler and Ratcliffe (2018): local (110-207)-(318-308) = -107; displacement (157-178)-(140-150) = -11;
    # total -118; variance 207+110+308+318+178+157+150+140 = 1568; z = -118/39.598 = -2.98; 95% CI -196 to -40
    wdd = weighted_displacement_difference(counts((207, 110), (178, 157), (308, 318), buffer_control=(150, 140)))
    assert (wdd.local, wdd.displacement, wdd.total) == (-107, -11, -118)
    assert wdd.local_se == pytest.approx(math.sqrt(207 + 110 + 308 + 318))
    assert wdd.total_se == pytest.approx(math.sqrt(1568))
    assert round(wdd.z, 2) == -2.98
    assert (round(wdd.low), round(wdd.high)) == (-196, -40)
    assert wdd.significant and wdd.p_value == pytest.approx(0.00291, abs=5e-5)


def test_wdd_local_only_cases_from_the_reference_implementation():
    # ptools' tests: control 20 -> 20, target 20 -> 10: local -10; add a buffer 20 -> 10 against a flat 20: -20
    no_buffer = weighted_displacement_difference(counts((20, 10), (0, 0), (20, 20), buffer_control=(0, 0)))
    assert (no_buffer.local, no_buffer.displacement, no_buffer.total) == (-10, 0, -10)
    with_buffer = weighted_displacement_difference(counts((20, 10), (20, 10), (20, 20), buffer_control=(20, 20)))
    assert with_buffer.total == -20
    assert with_buffer.total_se == pytest.approx(math.sqrt(20 + 10 + 20 + 20 + 20 + 10 + 20 + 20))


def test_wdd_with_one_control_for_both_counts_its_variance_four_times():
    # total = (60-100) - (190-200) + (70-80) - (190-200) = -40 + 10 - 10 + 10 = -30
    # variance = (100+60) + (80+70) + 4 * (200+190) = 160 + 150 + 1560 = 1870
    wdd = weighted_displacement_difference(counts((100, 60), (80, 70), (200, 190)))
    assert wdd.total == -30
    assert wdd.total_se == pytest.approx(math.sqrt(1870))
    assert any("subtracted twice" in w for w in wdd.warnings)
    # 200 before against the target's 100 is twice: still of a size; 300 is not
    assert not any("not within half to twice" in w for w in wdd.warnings)
    larger = weighted_displacement_difference(counts((100, 60), (80, 70), (300, 290)))
    assert any("control area's before count (300)" in w for w in larger.warnings)


def test_wdd_scales_a_longer_before_window_to_the_after_window():
    # before is twice as long: each before count counts half, and its variance a quarter
    # local = (30 - 80/2) - (50 - 100/2) = -10 - 0 = -10; variance = 30 + 80/4 + 50 + 100/4 = 125
    wdd = weighted_displacement_difference(
        counts((80, 30), (0, 0), (100, 50), buffer_control=(0, 0), before_length=2, after_length=1)
    )
    assert wdd.local == pytest.approx(-10)
    assert wdd.local_se == pytest.approx(math.sqrt(125))


def test_wdd_of_nothing_has_no_z_and_says_why():
    wdd = weighted_displacement_difference(counts((0, 0), (0, 0), (0, 0)))
    assert wdd.z is None and wdd.p_value is None and not wdd.significant
    assert any("Every count is 0" in w for w in wdd.warnings)


def test_wdd_rejects_an_alpha_outside_the_unit_interval():
    with pytest.raises(ValueError, match="alpha"):
        weighted_displacement_difference(counts((1, 1), (1, 1), (1, 1)), alpha=1.5)


# ------------------------------------------------------------------------------------------ TNE
def test_tne_worked_example():
    # control change 190/200 = 0.95; target expected 95, saw 60: 35 prevented; buffer expected 76, saw 70: 6
    tne = total_net_effect(counts((100, 60), (80, 70), (200, 190)))
    assert (tne.target_effect, tne.buffer_effect, tne.total) == pytest.approx((35, 6, 41))
    assert "41.0 incidents prevented" in tne.reading


def test_tne_nets_off_displacement():
    # control flat: target 100 -> 50 saves 50; buffer 100 -> 150 adds 50: no net effect
    tne = total_net_effect(counts((100, 50), (100, 150), (100, 100)))
    assert (tne.target_effect, tne.buffer_effect, tne.total) == pytest.approx((50, -50, 0))
    assert tne.reading == "No net effect."
    worse = total_net_effect(counts((100, 80), (100, 160), (100, 100)))  # 20 saved, 60 added
    assert worse.total == pytest.approx(-40)
    assert "more incidents than expected" in worse.reading


def test_tne_is_undefined_without_a_control_baseline():
    tne = total_net_effect(counts((10, 5), (10, 10), (0, 7)))
    assert tne.total is None
    assert any("no events before" in w for w in tne.warnings)


# ------------------------------------------------------------------------------------------ Poisson
def test_the_before_after_test_is_the_e_test_of_the_target_rates():
    # 60 after against 100 before over equal windows: rate ratio 0.6; the E-test's p is below 0.01
    change = before_after_test(counts((100, 60), (1, 1), (1, 1)))
    assert change.ratio == pytest.approx(0.6) and change.p_value < 0.01
    # 50 in 30 days against 100 in 60 days: the same rate, no change
    same_rate = before_after_test(counts((100, 50), (1, 1), (1, 1), before_length=60, after_length=30))
    assert same_rate.ratio == pytest.approx(1.0) and not same_rate.significant


@pytest.mark.parametrize("bad", [-1, 1.5, True, "3"])
def test_counts_must_be_whole_numbers_of_events(bad):
    with pytest.raises(ValueError, match="whole number"):
        AreaCounts(bad, 1)
