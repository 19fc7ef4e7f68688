"""FUH-HH edge cases."""
from __future__ import annotations

from tests.measures.scenario import D

Y = 2024
MH_NPI = "1111111111"


def _member(wh, pid="p1", birth=D(1980, 6, 15), start=D(2023, 1, 1), end=D(2025, 12, 31)):
    wh.person(pid, birth=birth)
    wh.enroll(pid, start, end)
    return pid


def _setup(wh):
    wh.provider(MH_NPI, mh=True)
    wh.provider("2222222222", mh=False)


def test_fuh_followup_on_discharge_date_does_not_count(wh):
    _setup(wh)
    p = _member(wh)
    wh.inpatient(p, D(Y, 3, 1), D(Y, 3, 5), ["F329"])
    wh.visit(p, D(Y, 3, 5), npi=MH_NPI)
    r7 = wh.total(Y, "FUH-HH", "7_day")
    assert (r7["numerator"], r7["denominator"]) == (0, 1)


def test_fuh_day_7_counts_day_8_does_not(wh):
    _setup(wh)
    a, b = _member(wh, "a"), _member(wh, "b")
    wh.inpatient(a, D(Y, 3, 1), D(Y, 3, 5), ["F329"])
    wh.visit(a, D(Y, 3, 12), npi=MH_NPI)  # day 7
    wh.inpatient(b, D(Y, 3, 1), D(Y, 3, 5), ["F200"])
    wh.visit(b, D(Y, 3, 13), npi=MH_NPI)  # day 8
    r7 = wh.total(Y, "FUH-HH", "7_day")
    assert (r7["numerator"], r7["denominator"]) == (1, 2)
    r30 = wh.total(Y, "FUH-HH", "30_day")
    assert (r30["numerator"], r30["denominator"]) == (2, 2)
    met = {d["person_id"]: d["numerator_claim_id"] for d in wh.detail("FUH-HH", Y, "7_day") if d["numerator_met"]}
    assert list(met) == ["a"] and met["a"]


def test_fuh_visit_with_non_mental_health_provider_does_not_count(wh):
    _setup(wh)
    p = _member(wh)
    wh.inpatient(p, D(Y, 3, 1), D(Y, 3, 5), ["F329"])
    wh.visit(p, D(Y, 3, 8), npi="2222222222")
    assert wh.total(Y, "FUH-HH", "30_day")["numerator"] == 0


def test_fuh_acute_to_acute_transfer_merged_final_discharge_counts(wh):
    _setup(wh)
    p = _member(wh)
    wh.inpatient(p, D(Y, 3, 1), D(Y, 3, 5), ["F329"])
    wh.inpatient(p, D(Y, 3, 6), D(Y, 3, 10), ["F331"])  # direct transfer next day
    wh.visit(p, D(Y, 3, 8), npi=MH_NPI)  # after first discharge but during the merged stay
    r = wh.total(Y, "FUH-HH", "30_day")
    assert r["denominator"] == 1 and r["numerator"] == 0
    det = wh.detail("FUH-HH", Y, "30_day")
    assert det[0]["anchor_date"] == D(Y, 3, 10)


def test_fuh_readmission_within_30_days_removes_the_discharge(wh):
    _setup(wh)
    p = _member(wh)
    wh.inpatient(p, D(Y, 3, 1), D(Y, 3, 5), ["F329"])
    wh.inpatient(p, D(Y, 4, 1), D(Y, 4, 3), ["J449"])  # readmission day 27, any dx
    q = _member(wh, "q")
    wh.inpatient(q, D(Y, 3, 1), D(Y, 3, 5), ["F329"])
    wh.inpatient(q, D(Y, 4, 10), D(Y, 4, 12), ["J449"])  # day 36: keeps the index
    det = wh.detail("FUH-HH", Y, "30_day") if wh.compute(Y, "FUH-HH") else []
    assert {d["person_id"] for d in det} == {"q"}


def test_fuh_nonacute_transfer_on_discharge_date_removes_the_discharge(wh):
    _setup(wh)
    p = _member(wh)
    wh.inpatient(p, D(Y, 3, 1), D(Y, 3, 5), ["F329"])
    wh.inpatient(p, D(Y, 3, 5), D(Y, 3, 20), ["F329"], tob="0211", rev="0191")
    assert wh.total(Y, "FUH-HH", "30_day")["denominator"] == 0


def test_fuh_enrollment_gap_in_30_days_after_discharge_excludes(wh):
    _setup(wh)
    wh.person("g", birth=D(1980, 1, 1))
    wh.enroll("g", D(2023, 1, 1), D(Y, 3, 20))
    wh.enroll("g", D(Y, 3, 23), D(2025, 12, 31))  # 2-day gap
    wh.inpatient("g", D(Y, 3, 1), D(Y, 3, 5), ["F329"])
    ok = _member(wh, "ok")
    wh.inpatient(ok, D(Y, 3, 1), D(Y, 3, 5), ["F329"])
    wh.compute(Y, "FUH-HH")
    assert {d["person_id"] for d in wh.detail("FUH-HH", Y, "7_day")} == {"ok"}


def test_fuh_adjacent_spans_are_continuous(wh):
    _setup(wh)
    wh.person("s", birth=D(1980, 1, 1))
    wh.enroll("s", D(2023, 1, 1), D(Y, 3, 15), payer="mco_a")
    wh.enroll("s", D(Y, 3, 16), D(2025, 12, 31), payer="mco_b")
    wh.inpatient("s", D(Y, 3, 1), D(Y, 3, 5), ["F329"])
    assert wh.total(Y, "FUH-HH", "7_day")["denominator"] == 1


def test_fuh_discharge_after_december_1_is_not_in_denominator(wh):
    _setup(wh)
    p = _member(wh)
    wh.inpatient(p, D(Y, 11, 28), D(Y, 12, 2), ["F329"])
    assert wh.total(Y, "FUH-HH", "7_day")["denominator"] == 0


def test_fuh_age_on_discharge_date(wh):
    _setup(wh)
    five = _member(wh, "five", birth=D(Y - 6, 3, 10))  # turns 6 on 10 Mar
    wh.inpatient(five, D(Y, 3, 1), D(Y, 3, 9), ["F329"])  # still 5 on discharge
    six = _member(wh, "six", birth=D(Y - 6, 3, 10))
    wh.inpatient(six, D(Y, 3, 1), D(Y, 3, 10), ["F329"])  # 6 on discharge date
    wh.compute(Y, "FUH-HH")
    det = wh.detail("FUH-HH", Y, "7_day")
    assert [(d["person_id"], d["age"], d["age_band"]) for d in det] == [("six", 6, "6-17")]


def test_fuh_hospice_exclusion(wh):
    _setup(wh)
    p = _member(wh)
    wh.inpatient(p, D(Y, 3, 1), D(Y, 3, 5), ["F329"])
    wh.visit(p, D(Y, 3, 7), npi=MH_NPI)
    wh.claim(p, D(Y, 9, 1), claim_type="institutional", tob="0811", dx=["C189"], lines=[dict(rev="0651")])
    r = wh.total(Y, "FUH-HH", "7_day")
    assert (r["numerator"], r["denominator"], r["exclusions"]) == (0, 0, 1)
    assert wh.detail("FUH-HH", Y, "7_day")[0]["exclusion_reason"] == "hospice"


def test_fuh_death_exclusion(wh):
    _setup(wh)
    wh.person("d", birth=D(1970, 1, 1), death=D(Y, 10, 1))
    wh.enroll("d", D(2023, 1, 1), D(Y, 10, 1))
    wh.inpatient("d", D(Y, 3, 1), D(Y, 3, 5), ["F329"])
    r = wh.total(Y, "FUH-HH", "30_day")
    assert (r["denominator"], r["exclusions"]) == (0, 1)


def test_fuh_non_mental_principal_dx_not_in_denominator(wh):
    _setup(wh)
    p = _member(wh)
    wh.inpatient(p, D(Y, 3, 1), D(Y, 3, 5), ["I509", "F329"])  # MH only secondary
    assert wh.total(Y, "FUH-HH", "30_day")["denominator"] == 0


def test_fuh_self_harm_principal_dx_counts(wh):
    _setup(wh)
    p = _member(wh)
    wh.inpatient(p, D(Y, 3, 1), D(Y, 3, 5), ["T1491XA"])
    wh.visit(p, D(Y, 3, 6), hcpcs="99496", npi=MH_NPI)  # TCM
    r = wh.total(Y, "FUH-HH", "7_day")
    assert (r["numerator"], r["denominator"]) == (1, 1)


def test_fuh_strata_and_idempotent_recompute(wh):
    _setup(wh)
    p = _member(wh)
    wh.inpatient(p, D(Y, 3, 1), D(Y, 3, 5), ["F329"])
    first = wh.compute(Y, "FUH-HH")
    second = wh.compute(Y, "FUH-HH")
    strip = lambda rows: sorted((r["rate_id"], r["stratum"]["type"], r["stratum"]["value"], r["numerator"],
                                 r["denominator"]) for r in rows)  # noqa: E731
    assert strip(first) == strip(second)
    types = {r["stratum"]["type"] for r in first}
    assert {"total", "age_band", "sex", "race", "ethnicity", "payer", "delivery_system", "program", "entity",
            "county"} <= types
    band = [r for r in first if r["stratum"] == {"type": "age_band", "value": "18-64"} and r["rate_id"] == "7_day"]
    assert band and band[0]["denominator"] == 1 and band[0]["small_cell"] is True
