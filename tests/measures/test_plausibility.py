"""The plausibility check's range (measures.checks.plausible_range) against the published FFY 2021 quartiles
(measures/reference/core_set_quartiles.csv)."""
from __future__ import annotations

import pytest

from measures.checks import plausible_range

# FUH-AD 7 days: bottom quartile 30.2, top 43.9 (higher is better); IQR 13.7 -> fences 30.2 - 20.55, 43.9 + 20.55
FUH7 = (30.2, 43.9)
# COB-AD: bottom quartile 17.2, top 10.0 (lower is better: CMS's "bottom" is the larger number)
COB = (17.2, 10.0)


def test_the_median_of_a_lower_is_better_measure_is_plausible():
    lo, hi = plausible_range(*COB, "proportion")
    assert lo <= 13.8 <= hi, "COB's published median lies inside its own range"
    assert (lo, hi) == pytest.approx((0.0, 28.0))            # 10.0 - 10.8 floored at 0; 17.2 + 10.8


def test_half_of_the_states_are_outside_the_iqr_but_inside_the_fences():
    lo, hi = plausible_range(*FUH7, "proportion")
    assert (lo, hi) == pytest.approx((9.65, 64.45))
    assert lo <= 29.0 <= hi and lo <= 50.0 <= hi            # outside the IQR, still plausible


def test_rate_at_the_upper_fence_is_plausible_and_just_beyond_is_not():
    lo, hi = plausible_range(*FUH7, "proportion")
    assert hi == pytest.approx(64.45)
    assert not 64.46 <= hi


def test_percentages_are_capped_at_100_and_rates_per_member_months_are_not():
    assert plausible_range(60.0, 90.0, "proportion")[1] == 100.0
    assert plausible_range(14.9, 22.2, "per_100000_mm")[1] == pytest.approx(33.15)   # PQI01: 22.2 + 1.5 x 7.3
