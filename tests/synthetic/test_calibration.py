"""The synthetic state's calibrated rates (warehouse/synthetic/calibration.py) land inside the range the
plausibility check accepts (measures.checks.plausible_range on the published FFY 2021 state quartiles), so a
fresh demo passes its own checks. Expected values are computed from the generator's parameters; the demo figures
themselves are in the calibration module's docstring."""
from __future__ import annotations

import csv

import pytest

from measures.checks import QUARTILES, plausible_range
from warehouse.synthetic import calibration as K


def _range(abbr: str, *words: str, rate_type: str = "proportion") -> tuple[float, float]:
    with open(QUARTILES, newline="") as fh:
        (q,) = [r for r in csv.DictReader(fh) if r["measure_abbreviation"] == abbr
                and all(w.lower() in r["rate_definition"].lower() for w in words)]
    return plausible_range(float(q["bottom_quartile"]), float(q["top_quartile"]), rate_type)


@pytest.mark.parametrize("days,categories,words", [(7, 4, "7 Days"), (30, 6, "30 Days")])
def test_sud_follow_up_shares_are_plausible_fua_rates(days, categories, words):
    p = K.FOLLOWUP_CATEGORY_P["sud"]
    share = 100 * sum(p[1:categories])          # same day, 1-6, 7 (and 8, 9-30 for 30 days)
    lo, hi = _range("FUA-AD", words)
    assert lo <= share <= hi, (share, lo, hi)
    assert sum(p) == pytest.approx(1.0)


def test_high_dose_opioid_share_is_a_plausible_ohd_rate():
    share = 100 * sum(K.CHRONIC_OPIOID_PRODUCT_P[2:])     # oxycodone 30 (180 MME/day), morphine ER 60 (120)
    lo, hi = _range("OHD-AD")
    assert lo <= share <= hi


def test_asthma_admissions_are_a_plausible_pqi15_rate():
    adult_asthma_prevalence = 0.06                        # generator: asthma in 6 % of adults
    per_100k_member_months = adult_asthma_prevalence * K.PQI_ASTHMA_ADMISSIONS_PER_YEAR / 12 * 100_000
    lo, hi = _range("PQI15-AD", rate_type="per_100000_mm")
    assert lo <= per_100k_member_months <= hi


def test_antipsychotic_adherence_bands_bracket_a_plausible_saa_rate():
    bands = dict(zip(K.SAA_ADHERENCE_BANDS, K.SAA_BAND_P))
    lo, hi = _range("SAA-AD")
    # people filling >= 85 % of months mostly reach PDC 80 %, those at <= 60 % almost never
    assert 100 * sum(p for a, p in bands.items() if a >= 0.85) >= lo
    assert 100 * sum(p for a, p in bands.items() if a >= 0.97) <= hi
