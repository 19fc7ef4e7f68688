"""PCR-HH and OUD-HH edge cases."""
from __future__ import annotations

from tests.measures.scenario import D

Y = 2024


def _member(wh, pid, birth=D(1980, 6, 15), start=D(2023, 1, 1), end=D(2025, 12, 31)):
    wh.person(pid, birth=birth)
    wh.enroll(pid, start, end)
    return pid


def _rows(wh):
    return {r["rate_id"]: r for r in wh.compute(Y, "PCR-HH") if r["stratum"]["type"] == "total"}


def test_pcr_unplanned_readmission_within_30_days(wh):
    p = _member(wh, "p")
    wh.inpatient(p, D(Y, 2, 1), D(Y, 2, 5), ["I509"])
    wh.inpatient(p, D(Y, 3, 6), D(Y, 3, 8), ["J449"])  # day 30 -> readmission; also an index stay
    q = _member(wh, "q")
    wh.inpatient(q, D(Y, 2, 1), D(Y, 2, 5), ["I509"])
    wh.inpatient(q, D(Y, 3, 7), D(Y, 3, 9), ["J449"])  # day 31 -> not a readmission
    rows = _rows(wh)
    assert rows["index_stays"]["numerator"] == 4
    assert (rows["observed_readmissions"]["numerator"], rows["observed_readmissions"]["denominator"]) == (1, 4)


def test_pcr_planned_readmission_does_not_count(wh):
    p = _member(wh, "p")
    wh.inpatient(p, D(Y, 2, 1), D(Y, 2, 5), ["C189"])
    wh.inpatient(p, D(Y, 2, 10), D(Y, 2, 12), ["Z5111"])  # chemotherapy: always planned
    assert _rows(wh)["observed_readmissions"]["numerator"] == 0


def test_pcr_acute_to_acute_transfer_is_one_stay(wh):
    p = _member(wh, "p")
    wh.inpatient(p, D(Y, 2, 1), D(Y, 2, 5), ["I214"])
    wh.inpatient(p, D(Y, 2, 5), D(Y, 2, 9), ["I214"])  # same-day transfer
    rows = _rows(wh)
    assert rows["index_stays"]["numerator"] == 1 and rows["observed_readmissions"]["numerator"] == 0


def test_pcr_four_stay_outlier_rule(wh):
    o = _member(wh, "o")
    for m in (1, 3, 5, 7):
        wh.inpatient(o, D(Y, m, 1), D(Y, m, 3), ["I509"])
    t = _member(wh, "t")
    for m in (1, 3, 5):
        wh.inpatient(t, D(Y, m, 1), D(Y, m, 3), ["I509"])
    rows = _rows(wh)
    assert rows["index_stays"]["numerator"] == 3  # outlier's 4 stays removed
    assert rows["index_stays"]["exclusions"] == 4
    assert (rows["outliers"]["numerator"], rows["outliers"]["denominator"]) == (1, 2)
    assert rows["outliers"]["rate"] == 500.0


def test_pcr_expected_and_oe_not_computable_without_weights(wh):
    _member(wh, "p")
    rows = _rows(wh)
    for rid in ("expected_readmissions", "oe_ratio"):
        assert rows[rid]["status"].startswith("not computable") and rows[rid]["rate"] is None


def test_pcr_age_18_to_64_on_discharge(wh):
    old = _member(wh, "old", birth=D(Y - 65, 2, 3))  # turns 65 on 3 Feb
    wh.inpatient(old, D(Y, 1, 20), D(Y, 2, 3), ["I509"])
    young = _member(wh, "young", birth=D(Y - 65, 2, 4))
    wh.inpatient(young, D(Y, 1, 20), D(Y, 2, 3), ["I509"])
    wh.compute(Y, "PCR-HH")
    assert [d["person_id"] for d in wh.detail("PCR-HH", Y, "index_stays")] == ["young"]


def test_pcr_enrollment_one_gap_up_to_45_days_allowed(wh):
    for pid, gap in (("g45", 45), ("g46", 46)):
        wh.person(pid, birth=D(1980, 1, 1))
        wh.enroll(pid, D(2023, 1, 1), D(2023, 6, 30))
        wh.enroll(pid, D.fromordinal(D(2023, 6, 30).toordinal() + gap + 1), D(2025, 12, 31))
        wh.inpatient(pid, D(Y, 3, 1), D(Y, 3, 5), ["I509"])
    wh.compute(Y, "PCR-HH")
    assert [d["person_id"] for d in wh.detail("PCR-HH", Y, "index_stays")] == ["g45"]


def test_pcr_pregnancy_principal_dx_excluded(wh):
    p = _member(wh, "p")
    wh.inpatient(p, D(Y, 3, 1), D(Y, 3, 3), ["O80", "Z3A39"])
    r = _rows(wh)["index_stays"]
    assert (r["numerator"], r["exclusions"]) == (0, 1)


def test_pcr_observation_stay_counts_as_readmission(wh):
    p = _member(wh, "p")
    wh.inpatient(p, D(Y, 2, 1), D(Y, 2, 5), ["I509"])
    wh.claim(p, D(Y, 2, 15), D(Y, 2, 16), claim_type="institutional", tob="0131", dx=["I509"],
             lines=[dict(rev="0762")])
    assert _rows(wh)["observed_readmissions"]["numerator"] == 1


def test_oud_pharmacotherapy_total_and_by_medication(wh):
    a = _member(wh, "a")
    wh.visit(a, D(Y, 2, 1), hcpcs="99213", dx=["F1120"])
    wh.rx(a, "12496120203", D(Y, 2, 2))
    b = _member(wh, "b")
    wh.visit(b, D(Y, 2, 1), hcpcs="99213", dx=["F1110"])
    wh.visit(b, D(Y, 3, 1), hcpcs="J2315", dx=["F1110"])
    c = _member(wh, "c")
    wh.visit(c, D(Y, 2, 1), hcpcs="99213", dx=["F1120"])
    wh.rx(c, "12496120203", D(Y - 1, 12, 20))  # fill in prior year does not count
    rows = {r["rate_id"]: r for r in wh.compute(Y, "OUD-HH") if r["stratum"]["type"] == "total"}
    assert (rows["total"]["numerator"], rows["total"]["denominator"]) == (2, 3)
    assert rows["buprenorphine"]["numerator"] == 1
    assert rows["naltrexone_lai"]["numerator"] == 1
    assert rows["methadone"]["numerator"] == 0


def test_oud_age_18_on_december_31(wh):
    k = _member(wh, "kid", birth=D(Y - 17, 12, 31))  # 17 on 31 Dec? birthday is 31 Dec -> 17
    wh.visit(k, D(Y, 2, 1), hcpcs="99213", dx=["F1120"])
    a = _member(wh, "adult", birth=D(Y - 18, 12, 31))
    wh.visit(a, D(Y, 2, 1), hcpcs="99213", dx=["F1120"])
    wh.compute(Y, "OUD-HH")
    assert [d["person_id"] for d in wh.detail("OUD-HH", Y, "total")] == ["adult"]
