"""IU-HH, AMB-HH, AIF-HH and PQI edge cases (per-member-month rates)."""
from __future__ import annotations

import pytest

from tests.measures.scenario import D

Y = 2024


def _member(wh, pid, birth=D(1980, 6, 15), start=D(Y, 1, 1), end=D(Y, 12, 31), **kw):
    wh.person(pid, birth=birth)
    wh.enroll(pid, start, end, **kw)
    return pid


def _tot(rows):
    return {r["rate_id"]: r for r in rows if r["stratum"]["type"] == "total"}


def test_iu_discharges_days_alos_and_mental_health_category(wh):
    p = _member(wh, "p")
    wh.inpatient(p, D(Y, 3, 1), D(Y, 3, 5), ["F200"], drg="885")  # 4 days, MH
    wh.inpatient(p, D(Y, 6, 1), D(Y, 6, 3), ["I509"], drg="291")  # 2 days
    _member(wh, "q", start=D(Y, 7, 1))  # 6 member months, no stays
    rows = _tot(wh.compute(Y, "IU-HH"))
    assert rows["total_discharges"]["denominator"] == 18
    assert rows["total_discharges"]["numerator"] == 2
    assert rows["total_discharges"]["rate"] == pytest.approx(2 * 1000 / 18)
    assert rows["total_days"]["numerator"] == 6
    assert rows["total_alos"]["rate"] == pytest.approx(3.0)
    assert (rows["mh_discharges"]["numerator"], rows["mh_days"]["numerator"]) == (1, 4)
    assert rows["mh_alos"]["rate"] == pytest.approx(4.0)


def test_iu_newborn_stays_excluded_and_transfers_merged(wh):
    b = _member(wh, "baby", birth=D(Y, 2, 1), start=D(Y, 2, 1))
    wh.inpatient(b, D(Y, 2, 1), D(Y, 2, 3), ["Z3800"], drg="795")
    p = _member(wh, "p")
    wh.inpatient(p, D(Y, 3, 1), D(Y, 3, 5), ["I214"])
    wh.inpatient(p, D(Y, 3, 6), D(Y, 3, 9), ["I214"])  # transfer -> one discharge of 8 days
    rows = _tot(wh.compute(Y, "IU-HH"))
    assert rows["total_discharges"]["numerator"] == 1
    assert rows["total_days"]["numerator"] == 8


def test_iu_age_band_by_member_month(wh):
    p = _member(wh, "p", birth=D(Y - 18, 7, 1))  # 17 Jan-Jun (month start), 18 from Jul
    wh.inpatient(p, D(Y, 3, 1), D(Y, 3, 2), ["I509"])
    rows = [r for r in wh.compute(Y, "IU-HH") if r["rate_id"] == "total_discharges"
            and r["stratum"]["type"] == "age_band"]
    got = {r["stratum"]["value"]: (r["numerator"], r["denominator"]) for r in rows}
    assert got == {"0-17": (1, 6), "18-64": (0, 6), "65+": (0, 0), "unknown": (0, 0)}


def test_amb_ed_visit_resulting_in_admission_not_counted(wh):
    p = _member(wh, "p")
    wh.ed(p, D(Y, 4, 1), ["J449"])
    wh.ed(p, D(Y, 5, 1), ["J449"])
    wh.inpatient(p, D(Y, 5, 2), D(Y, 5, 4), ["J449"])  # admitted next day
    wh.ed(p, D(Y, 6, 1), ["F329"])  # mental-health principal dx: excluded
    r = _tot(wh.compute(Y, "AMB-HH"))["ed_visits"]
    assert (r["numerator"], r["denominator"]) == (1, 12)
    assert r["rate"] == pytest.approx(1000 / 12)


def test_aif_length_of_stay_boundaries_20_21_100_101(wh):
    for pid, days in (("s20", 20), ("m21", 21), ("m100", 100), ("l101", 101)):
        _member(wh, pid, birth=D(1950, 1, 1))
        adm = D(Y, 2, 1)
        wh.claim(pid, adm, D.fromordinal(adm.toordinal() + days), claim_type="institutional", tob="0211",
                 admit=adm, discharge=D.fromordinal(adm.toordinal() + days), lines=[dict(rev="0022")])
    rows = _tot(wh.compute(Y, "AIF-HH"))
    assert rows["short_term"]["numerator"] == 1
    assert rows["medium_term"]["numerator"] == 2
    assert rows["long_term"]["numerator"] == 1
    assert rows["short_term"]["denominator"] == 48


def test_aif_institutional_months_not_in_denominator(wh):
    wh.person("ltc", birth=D(1940, 1, 1))
    wh.enroll("ltc", D(Y, 1, 1), D(Y, 12, 31), ltc=True)
    wh.claim("ltc", D(Y, 3, 1), D(Y, 3, 10), claim_type="institutional", tob="0211", admit=D(Y, 3, 1),
             discharge=D(Y, 3, 10))
    _member(wh, "c", birth=D(1940, 1, 1))
    rows = _tot(wh.compute(Y, "AIF-HH"))
    assert (rows["short_term"]["numerator"], rows["short_term"]["denominator"]) == (0, 12)


def test_pqi08_heart_failure_with_cardiac_procedure_excluded(wh):
    a = _member(wh, "a")
    wh.inpatient(a, D(Y, 3, 1), D(Y, 3, 4), ["I5020"])
    b = _member(wh, "b")
    wh.inpatient(b, D(Y, 3, 1), D(Y, 3, 4), ["I5020"], px=["0210083"])  # cardiac procedure (appendix B)
    r = _tot(wh.compute(Y, "PQI08-AD"))["admissions"]
    assert (r["numerator"], r["denominator"]) == (1, 24)
    assert r["rate"] == pytest.approx(100000 / 24)


def test_pqi05_age_40_and_pqi15_age_18_to_39(wh):
    old = _member(wh, "old", birth=D(Y - 45, 1, 1))
    wh.inpatient(old, D(Y, 3, 1), D(Y, 3, 4), ["J441"])
    young = _member(wh, "young", birth=D(Y - 30, 1, 1))
    wh.inpatient(young, D(Y, 3, 1), D(Y, 3, 4), ["J4541"])
    wh.inpatient(young, D(Y, 5, 1), D(Y, 5, 4), ["J441"])  # COPD under 40 -> not PQI05
    r05 = _tot(wh.compute(Y, "PQI05-AD"))["admissions"]
    assert (r05["numerator"], r05["denominator"]) == (1, 12)
    r15 = _tot(wh.compute(Y, "PQI15-AD"))["admissions"]
    assert (r15["numerator"], r15["denominator"]) == (1, 12)
    r92 = _tot(wh.compute(Y, "PQI92-HH"))["admissions"]
    assert r92["numerator"] == 2


def test_pqi_transfer_in_is_not_counted(wh):
    a = _member(wh, "a")
    wh.inpatient(a, D(Y, 3, 1), D(Y, 3, 4), ["E1010"], admit_source="4")
    wh.inpatient(a, D(Y, 6, 1), D(Y, 6, 4), ["E1010"])
    assert _tot(wh.compute(Y, "PQI01-AD"))["admissions"]["numerator"] == 1
