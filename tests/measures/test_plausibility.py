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


ISSUE_19_MEASURES = {"CCW-AD", "CCW-CH", "CCP-AD", "CCP-CH", "BCS-AD", "CCS-AD", "W30-CH", "ADD-CH", "AMR-AD",
                     "AMR-CH", "APM-CH", "APP-CH", "SSD-AD", "PPC2-AD", "PPC2-CH"}


def test_every_mapped_rate_finds_at_most_one_published_rate_definition():
    """Each (measure, rate) of the plausibility map names at most one row of the shipped quartile table (an
    ambiguous match would mis-compare), and every rate of the measures added for issue 19 names exactly one (FFY
    2021 published no quartiles for COL-AD and CDF-AD: their check says so)."""
    from measures.checks import PLAUSIBILITY_MAP, _quartiles
    from measures.registry import all_measures

    rates = {(m.id, r.rate_id) for m in all_measures() for r in m.rates}
    for (measure, rate_id), (abbr, words) in PLAUSIBILITY_MAP.items():
        assert (measure, rate_id) in rates, f"{measure} has no rate {rate_id}"
        hits = [q for q in _quartiles() if q["measure_abbreviation"] == abbr
                and all(w.lower() in q["rate_definition"].lower() for w in words)]
        want = (1,) if measure in ISSUE_19_MEASURES else (0, 1)
        assert len(hits) in want, f"{measure} {rate_id}: {len(hits)} published rate definitions match {words}"
    mapped = {m for m, _ in PLAUSIBILITY_MAP}
    assert ISSUE_19_MEASURES <= mapped
    assert {(m, r) for m, r in rates if m in ISSUE_19_MEASURES} <= set(PLAUSIBILITY_MAP)
