"""CCW-AD/CH and CCP-AD/CH (OPA contraceptive care, public code lists): named boundary cases, one warehouse per
module, computed once."""
from __future__ import annotations

import pytest

from tests.measures.scenario import D, add_days

Y = 2024
ALL_YEAR = (D(Y, 1, 1), D(Y, 12, 31))


def _woman(wh, pid, age_on_31_dec, spans=(ALL_YEAR,), sex="F"):
    wh.person(pid, birth=D(Y - age_on_31_dec, 6, 15), sex=sex)
    for s, e in spans:
        wh.enroll(pid, s, e)


# id -> (age on 31 Dec, sex, enrollment spans, claims to add: callables of (wh, pid))
CCW_CASES = {
    # ages: Child Core Set 15-20, Adult 21-44, on 31 Dec
    "ccw_age_14_not_in_either": (14, "F", (ALL_YEAR,), [lambda w, p: w.visit(p, D(Y, 3, 1), hcpcs="J7307")]),
    "ccw_age_15_child": (15, "F", (ALL_YEAR,), [lambda w, p: w.visit(p, D(Y, 3, 1), hcpcs="J7307")]),
    "ccw_age_20_child_untreated": (20, "F", (ALL_YEAR,), []),
    "ccw_age_21_adult_injectable": (21, "F", (ALL_YEAR,), [lambda w, p: w.visit(p, D(Y, 3, 1), hcpcs="J1050",
                                                                                dx=("Z3042",))]),
    "ccw_age_44_adult_pill_visit": (44, "F", (ALL_YEAR,), [lambda w, p: w.visit(p, D(Y, 3, 1), hcpcs="99213",
                                                                                dx=("Z3041",))]),
    "ccw_age_45_not_in_either": (45, "F", (ALL_YEAR,), []),
    "ccw_male_not_in_either": (30, "M", (ALL_YEAR,), []),
    # methods: IUD by ICD-10-PCS on an institutional claim, sterilization by CPT, LARC outside MY
    "ccw_iud_by_pcs_code": (30, "F", (ALL_YEAR,), [lambda w, p: w.claim(p, D(Y, 5, 1), claim_type="institutional",
                                                                        tob="0131", dx=("Z3009",),
                                                                        px=("0UH97HZ",))]),
    "ccw_sterilization_cpt_is_mmec_not_larc": (30, "F", (ALL_YEAR,), [lambda w, p: w.visit(p, D(Y, 5, 1),
                                                                                         hcpcs="58671")]),
    "ccw_implant_in_prior_year_not_counted": (30, "F", (ALL_YEAR,), [lambda w, p: w.visit(p, D(Y - 1, 12, 31),
                                                                                        hcpcs="J7307")]),
    # enrollment: one gap of 45 days allowed, 46 days not
    "ccw_gap_45_days_in_denominator": (30, "F", ((D(Y, 1, 1), D(Y, 3, 31)), (D(Y, 5, 16), D(Y, 12, 31))), []),
    "ccw_gap_46_days_not_in_denominator": (30, "F", ((D(Y, 1, 1), D(Y, 3, 31)), (D(Y, 5, 17), D(Y, 12, 31))), []),
    # exclusions: infecund, pregnant at year end (a pregnancy dx on 1 Nov counts, on 31 Oct does not)
    "ccw_hysterectomy_excluded": (40, "F", (ALL_YEAR,), [lambda w, p: w.visit(p, D(Y, 2, 1), hcpcs="58150")]),
    "ccw_menopause_dx_excluded": (44, "F", (ALL_YEAR,), [lambda w, p: w.visit(p, D(Y, 2, 1), hcpcs="99213",
                                                                              dx=("N951",))]),
    "ccw_pregnancy_dx_1_nov_excluded": (25, "F", (ALL_YEAR,), [lambda w, p: w.visit(p, D(Y, 11, 1), hcpcs="99213",
                                                                                    dx=("Z3401",))]),
    "ccw_pregnancy_dx_31_oct_stays": (25, "F", (ALL_YEAR,), [lambda w, p: w.visit(p, D(Y, 10, 31), hcpcs="99213",
                                                                                  dx=("Z3401",))]),
}

# id -> (age on the delivery date, delivery date, [(day offset from delivery, hcpcs)], enrolled through)
CCP_CASES = {
    "ccp_larc_on_day_3_counts_3_day": (25, D(Y, 3, 1), [(3, "J7307")], D(Y, 12, 31)),
    "ccp_larc_on_day_4_counts_90_day_only": (25, D(Y, 3, 1), [(4, "J7307")], D(Y, 12, 31)),
    "ccp_pill_on_day_90_counts_90_day": (25, D(Y, 3, 1), [(90, "S4993")], D(Y, 12, 31)),
    "ccp_injectable_on_day_91_not_counted": (25, D(Y, 3, 1), [(91, "J1050")], D(Y, 12, 31)),
    "ccp_sterilization_on_delivery_day": (25, D(Y, 3, 1), [(0, "58611")], D(Y, 12, 31)),
    "ccp_delivery_30_sep_in_denominator": (25, D(Y, 9, 30), [], D(Y, 12, 31)),
    "ccp_delivery_1_oct_not_in_denominator": (25, D(Y, 10, 1), [], D(Y, 12, 31)),
    "ccp_enrolled_to_day_90_in_denominator": (25, D(Y, 3, 1), [], D(Y, 5, 30)),
    "ccp_enrolled_to_day_89_not_in_denominator": (25, D(Y, 3, 1), [], D(Y, 5, 29)),
    "ccp_age_20_child": (20, D(Y, 3, 1), [], D(Y, 12, 31)),
    "ccp_age_21_adult": (21, D(Y, 3, 1), [], D(Y, 12, 31)),
}


@pytest.fixture(scope="module")
def units(module_wh):
    wh = module_wh
    for pid, (age, sex, spans, claims) in CCW_CASES.items():
        _woman(wh, pid, age, spans, sex)
        for add in claims:
            add(wh, pid)
    for pid, (age, delivery, methods, enrolled_to) in CCP_CASES.items():
        wh.person(pid, birth=D(delivery.year - age, 1, 1))
        wh.enroll(pid, D(Y, 1, 1), enrolled_to)
        wh.inpatient(pid, delivery, add_days(delivery, 2), ["O80", "Z3A39"])
        for offset, code in methods:
            wh.visit(pid, add_days(delivery, offset), hcpcs=code, dx=("Z30019",))
    wh.compute(Y, "CCW-CH", "CCW-AD", "CCP-CH", "CCP-AD")
    return wh.per_person(Y), {(r["measure_id"], r["person_id"]): r for r in wh.detail("CCW-AD", Y)
                              + wh.detail("CCW-CH", Y)}


CCW_EXPECTED = {  # person -> (measure, mmec, larc); None = in neither denominator
    "ccw_age_14_not_in_either": None,
    "ccw_age_15_child": ("CCW-CH", 1, 1),
    "ccw_age_20_child_untreated": ("CCW-CH", 0, 0),
    "ccw_age_21_adult_injectable": ("CCW-AD", 1, 0),
    "ccw_age_44_adult_pill_visit": ("CCW-AD", 1, 0),
    "ccw_age_45_not_in_either": None,
    "ccw_male_not_in_either": None,
    "ccw_iud_by_pcs_code": ("CCW-AD", 1, 1),
    "ccw_sterilization_cpt_is_mmec_not_larc": ("CCW-AD", 1, 0),
    "ccw_implant_in_prior_year_not_counted": ("CCW-AD", 0, 0),
    "ccw_gap_45_days_in_denominator": ("CCW-AD", 0, 0),
    "ccw_gap_46_days_not_in_denominator": None,
    "ccw_hysterectomy_excluded": "excluded",
    "ccw_menopause_dx_excluded": "excluded",
    "ccw_pregnancy_dx_1_nov_excluded": "excluded",
    "ccw_pregnancy_dx_31_oct_stays": ("CCW-AD", 0, 0),
}


@pytest.mark.parametrize("pid", sorted(CCW_EXPECTED))
def test_ccw_case(units, pid):
    per_person, detail = units
    want = CCW_EXPECTED[pid]
    got = {m: (per_person.get((m, "mmec", pid)), per_person.get((m, "larc", pid))) for m in ("CCW-CH", "CCW-AD")}
    if want is None:
        assert got == {"CCW-CH": (None, None), "CCW-AD": (None, None)}
    elif want == "excluded":
        assert got == {"CCW-CH": (None, None), "CCW-AD": (None, None)}
        assert detail[("CCW-AD", pid)]["excluded"]
    else:
        measure, mmec, larc = want
        assert got[measure] == ((mmec, 1), (larc, 1))
        other = "CCW-AD" if measure == "CCW-CH" else "CCW-CH"
        assert got[other] == (None, None)


CCP_EXPECTED = {  # person -> (measure, mmec_3, mmec_90, larc_3, larc_90); None = in neither denominator
    "ccp_larc_on_day_3_counts_3_day": ("CCP-AD", 1, 1, 1, 1),
    "ccp_larc_on_day_4_counts_90_day_only": ("CCP-AD", 0, 1, 0, 1),
    "ccp_pill_on_day_90_counts_90_day": ("CCP-AD", 0, 1, 0, 0),
    "ccp_injectable_on_day_91_not_counted": ("CCP-AD", 0, 0, 0, 0),
    "ccp_sterilization_on_delivery_day": ("CCP-AD", 1, 1, 0, 0),
    "ccp_delivery_30_sep_in_denominator": ("CCP-AD", 0, 0, 0, 0),
    "ccp_delivery_1_oct_not_in_denominator": None,
    "ccp_enrolled_to_day_90_in_denominator": ("CCP-AD", 0, 0, 0, 0),
    "ccp_enrolled_to_day_89_not_in_denominator": None,
    "ccp_age_20_child": ("CCP-CH", 0, 0, 0, 0),
    "ccp_age_21_adult": ("CCP-AD", 0, 0, 0, 0),
}
CCP_RATES = ("mmec_3_day", "mmec_90_day", "larc_3_day", "larc_90_day")


@pytest.mark.parametrize("pid", sorted(CCP_EXPECTED))
def test_ccp_case(units, pid):
    per_person, _ = units
    want = CCP_EXPECTED[pid]
    got = {m: tuple(per_person.get((m, r, pid)) for r in CCP_RATES) for m in ("CCP-CH", "CCP-AD")}
    if want is None:
        assert got == {"CCP-CH": (None,) * 4, "CCP-AD": (None,) * 4}
    else:
        measure, *nums = want
        assert got[measure] == tuple((n, 1) for n in nums)


def test_ccw_and_ccp_are_computed_from_the_shipped_public_lists(module_wh):
    rows = module_wh.compute(Y, "CCW-AD")
    total = next(r for r in rows if r["rate_id"] == "mmec" and r["stratum"]["type"] == "total")
    assert total["status"] == "ok"
    assert total["value_set_versions"]["contraception_larc_hcpcs"].startswith("icm-opa-")
