"""COL-HH, CBP-HH, CDF-HH edge cases."""
from __future__ import annotations

from tests.measures.scenario import D

Y = 2024


def _member(wh, pid, birth=D(1965, 6, 15), start=D(Y - 1, 1, 1), end=D(Y + 1, 12, 31)):
    wh.person(pid, birth=birth)
    wh.enroll(pid, start, end)
    return pid


def _tot(rows, rid):
    return next(r for r in rows if r["rate_id"] == rid and r["stratum"]["type"] == "total")


def test_col_colonoscopy_lookback_9_years_fobt_only_in_year(wh):
    _member(wh, "colo9")
    wh.visit("colo9", D(Y - 9, 5, 1), hcpcs="45378", dx=["Z1211"])
    _member(wh, "colo10")
    wh.visit("colo10", D(Y - 10, 12, 31), hcpcs="45378", dx=["Z1211"])
    _member(wh, "fobt_prior")
    wh.visit("fobt_prior", D(Y - 1, 12, 1), hcpcs="82270", dx=["Z1211"])
    _member(wh, "sdna2")
    wh.visit("sdna2", D(Y - 2, 2, 1), hcpcs="81528", dx=["Z1211"])
    r = _tot(wh.compute(Y, "COL-HH"), "screened")
    assert (r["numerator"], r["denominator"]) == (2, 4)


def test_col_age_46_to_75_on_december_31(wh):
    _member(wh, "45", birth=D(Y - 45, 6, 1))
    _member(wh, "46", birth=D(Y - 46, 12, 31))
    _member(wh, "76", birth=D(Y - 76, 1, 1))
    wh.compute(Y, "COL-HH")
    assert [d["person_id"] for d in wh.detail("COL-HH", Y)] == ["46"]


def test_col_colorectal_cancer_exclusion(wh):
    _member(wh, "crc")
    wh.visit("crc", D(Y - 3, 3, 1), hcpcs="99213", dx=["C189"])
    r = _tot(wh.compute(Y, "COL-HH"), "screened")
    assert (r["denominator"], r["exclusions"]) == (0, 1)


def test_col_two_gaps_in_prior_year_fail_enrollment(wh):
    wh.person("gaps", birth=D(1965, 1, 1))
    wh.enroll("gaps", D(Y - 1, 1, 1), D(Y - 1, 3, 31))
    wh.enroll("gaps", D(Y - 1, 5, 1), D(Y - 1, 7, 31))
    wh.enroll("gaps", D(Y - 1, 9, 1), D(Y + 1, 12, 31))
    _member(wh, "ok")
    wh.compute(Y, "COL-HH")
    assert [d["person_id"] for d in wh.detail("COL-HH", Y)] == ["ok"]


def test_cbp_most_recent_reading_decides(wh):
    for pid, codes in (("ctl", [("3078F", "3074F", 3), ("3080F", "3077F", 1)]),
                       ("unc", [("3078F", "3074F", 1), ("3080F", "3077F", 9)]),
                       ("none", [])):
        _member(wh, pid)
        wh.visit(pid, D(Y - 1, 5, 1), hcpcs="99213", dx=["I10"])
        wh.visit(pid, D(Y, 2, 1), hcpcs="99213", dx=["I10"])
        for dia, sys_, month in codes:
            wh.claim(pid, D(Y, month, 15), dx=["I10"], lines=[dict(hcpcs=dia), dict(hcpcs=sys_)])
    r = _tot(wh.compute(Y, "CBP-HH"), "controlled")
    assert (r["numerator"], r["denominator"]) == (1, 3)


def test_cbp_needs_two_hypertension_dates(wh):
    _member(wh, "one")
    wh.visit("one", D(Y, 2, 1), hcpcs="99213", dx=["I10"])
    wh.visit("one", D(Y, 8, 1), hcpcs="99213", dx=["I10"])  # after 30 Jun: does not count
    assert _tot(wh.compute(Y, "CBP-HH"), "controlled")["denominator"] == 0


def test_cdf_g_code_numerator_and_prior_depression_exclusion(wh):
    _member(wh, "neg")
    wh.visit("neg", D(Y, 3, 1), hcpcs="99213", dx=["Z0000"])
    wh.visit("neg", D(Y, 3, 1), hcpcs="G8510", dx=["Z0000"])
    _member(wh, "miss")
    wh.visit("miss", D(Y, 3, 1), hcpcs="99213", dx=["Z0000"])
    _member(wh, "dep")
    wh.visit("dep", D(Y - 1, 3, 1), hcpcs="99213", dx=["F329"])
    wh.visit("dep", D(Y, 3, 1), hcpcs="99213", dx=["F329"])
    r = _tot(wh.compute(Y, "CDF-HH"), "screened")
    assert (r["numerator"], r["denominator"], r["exclusions"]) == (1, 2, 1)
