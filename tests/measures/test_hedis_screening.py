"""BCS-AD, CCS-AD and W30-CH on licensed value sets (a small VSD-layout file written by the test): named boundary
cases, one warehouse per module, computed once."""
from __future__ import annotations

import pytest

from tests.measures.scenario import D, add_days, licensed_folder

Y = 2024
VSD = """Measure ID,Value Set Name,Value Set OID,Code,Code System
BCS,Mammography,1,77067,CPT
BCS,Bilateral Mastectomy,2,0HTV0ZZ,ICD10PCS
BCS,History of Bilateral Mastectomy,3,Z9013,ICD10CM
CCS,Cervical Cytology Lab Test,4,88142,CPT
CCS,High Risk HPV Lab Test,5,87624,CPT
CCS,Hysterectomy With No Residual Cervix,6,58150,CPT
CCS,Absence of Cervix Diagnosis,7,Z90710,ICD10CM
W30,Well-Care,8,99391,CPT
"""


@pytest.fixture(scope="module")
def licensed(tmp_path_factory):
    return licensed_folder(tmp_path_factory, VSD)


# --- BCS-AD ---------------------------------------------------------------------------------------------------
# id -> (age on 31 Dec, sex, [(date, hcpcs, dx, px)], enrolled from)
BCS_CASES = {
    "bcs_age_51_not_in_denominator": (51, "F", [(D(Y, 3, 1), "77067", (), ())], D(Y - 1, 1, 1)),
    "bcs_age_52_screened": (52, "F", [(D(Y, 3, 1), "77067", (), ())], D(Y - 1, 1, 1)),
    "bcs_age_74_unscreened": (74, "F", [], D(Y - 1, 1, 1)),
    "bcs_age_75_not_in_denominator": (75, "F", [], D(Y - 1, 1, 1)),
    "bcs_male_not_in_denominator": (60, "M", [(D(Y, 3, 1), "77067", (), ())], D(Y - 1, 1, 1)),
    "bcs_mammogram_1_oct_two_years_before_counts": (60, "F", [(D(Y - 2, 10, 1), "77067", (), ())], D(Y - 1, 1, 1)),
    "bcs_mammogram_30_sep_two_years_before_not_counted": (60, "F", [(D(Y - 2, 9, 30), "77067", (), ())],
                                                          D(Y - 1, 1, 1)),
    "bcs_enrolled_only_in_my_not_in_denominator": (60, "F", [], D(Y, 1, 1)),
    "bcs_mastectomy_pcs_excluded": (60, "F", [(D(Y - 5, 3, 1), "99213", (), ("0HTV0ZZ",))], D(Y - 1, 1, 1)),
    "bcs_history_dx_excluded": (60, "F", [(D(Y, 3, 1), "99213", ("Z9013",), ())], D(Y - 1, 1, 1)),
}
BCS_EXPECTED = {"bcs_age_52_screened": (1, 1), "bcs_age_74_unscreened": (0, 1),
                "bcs_mammogram_1_oct_two_years_before_counts": (1, 1),
                "bcs_mammogram_30_sep_two_years_before_not_counted": (0, 1)}

# --- CCS-AD: (age on 31 Dec, [(date, hcpcs, dx)]) --------------------------------------------------------------
CCS_CASES = {
    "ccs_age_23_not_in_denominator": (23, [(D(Y, 3, 1), "88142", ())]),
    "ccs_age_24_cytology_in_my": (24, [(D(Y, 3, 1), "88142", ())]),
    "ccs_cytology_1_jan_two_years_before_counts": (40, [(D(Y - 2, 1, 1), "88142", ())]),
    "ccs_cytology_31_dec_three_years_before_not_counted": (40, [(D(Y - 3, 12, 31), "88142", ())]),
    "ccs_hpv_four_years_before_at_age_30_counts": (34, [(D(Y - 4, 12, 31), "87624", ())]),
    "ccs_hpv_at_age_29_not_counted": (33, [(D(Y - 4, 3, 1), "87624", ())]),
    "ccs_age_64_unscreened": (64, []),
    "ccs_age_65_not_in_denominator": (65, []),
    "ccs_hysterectomy_excluded": (50, [(D(Y - 10, 3, 1), "58150", ())]),
    "ccs_absence_of_cervix_dx_excluded": (50, [(D(Y, 3, 1), "99213", ("Z90710",))]),
}
CCS_EXPECTED = {"ccs_age_24_cytology_in_my": (1, 1), "ccs_cytology_1_jan_two_years_before_counts": (1, 1),
                "ccs_cytology_31_dec_three_years_before_not_counted": (0, 1),
                "ccs_hpv_four_years_before_at_age_30_counts": (1, 1), "ccs_hpv_at_age_29_not_counted": (0, 1),
                "ccs_age_64_unscreened": (0, 1)}

# --- W30-CH: (birth date, well-care visit dates, enrolled from) ------------------------------------------------
W30_CASES = {
    # 15-month birthday 10 Jun Y (born 10 Mar Y-1)
    "w30_six_visits_by_15_month_birthday": (D(Y - 1, 3, 10), [add_days(D(Y - 1, 3, 20), 30 * i) for i in range(5)]
                                            + [D(Y, 6, 10)], D(Y - 1, 3, 10)),
    "w30_sixth_visit_day_after_15_month_birthday": (D(Y - 1, 3, 10), [add_days(D(Y - 1, 3, 20), 30 * i)
                                                                      for i in range(5)] + [D(Y, 6, 11)],
                                                    D(Y - 1, 3, 10)),
    "w30_five_visits_same_dates_twice": (D(Y - 1, 3, 10), [add_days(D(Y - 1, 3, 20), 30 * i) for i in range(5)] * 2,
                                         D(Y - 1, 3, 10)),
    "w30_15_month_birthday_in_next_year_not_in_denominator": (D(Y, 10, 1), [], D(Y, 10, 1)),
    "w30_enrolled_from_day_76_not_in_denominator": (D(Y - 1, 3, 10), [], add_days(D(Y - 1, 3, 10), 77)),
    "w30_enrolled_from_day_76_gap_45_in_denominator": (D(Y - 1, 3, 10), [], add_days(D(Y - 1, 3, 10), 76)),
    # 30-month birthday 10 Jun Y (born 10 Dec Y-3); 15-month birthday 10 Mar Y-1
    "w30_two_visits_after_15_month_birthday": (D(Y - 3, 12, 10), [D(Y - 1, 3, 11), D(Y, 6, 10)], D(Y - 3, 12, 10)),
    "w30_visit_on_15_month_birthday_not_in_rate_2": (D(Y - 3, 12, 10), [D(Y - 1, 3, 10), D(Y, 6, 10)],
                                                     D(Y - 3, 12, 10)),
}
W30_EXPECTED = {  # (measure rate, person) -> (num, den)
    ("first_15_months", "w30_six_visits_by_15_month_birthday"): (1, 1),
    ("first_15_months", "w30_sixth_visit_day_after_15_month_birthday"): (0, 1),
    ("first_15_months", "w30_five_visits_same_dates_twice"): (0, 1),
    ("first_15_months", "w30_enrolled_from_day_76_gap_45_in_denominator"): (0, 1),
    ("15_to_30_months", "w30_two_visits_after_15_month_birthday"): (1, 1),
    ("15_to_30_months", "w30_visit_on_15_month_birthday_not_in_rate_2"): (0, 1),
}


@pytest.fixture(scope="module")
def per_person(module_wh, licensed):
    wh = module_wh
    for pid, (age, sex, claims, start) in BCS_CASES.items():
        wh.person(pid, birth=D(Y - age, 6, 15), sex=sex)
        wh.enroll(pid, start, D(Y, 12, 31))
        for day, hcpcs, dx, px in claims:
            wh.claim(pid, day, dx=dx or ("Z1231",), px=px, lines=[dict(hcpcs=hcpcs)])
    for pid, (age, claims) in CCS_CASES.items():
        wh.person(pid, birth=D(Y - age, 6, 15))
        wh.enroll(pid, D(Y, 1, 1), D(Y, 12, 31))
        for day, hcpcs, dx in claims:
            wh.claim(pid, day, dx=dx or ("Z124",), lines=[dict(hcpcs=hcpcs)])
    for pid, (birth, visits, start) in W30_CASES.items():
        wh.person(pid, birth=birth)
        wh.enroll(pid, start, D(Y, 12, 31))
        for day in visits:
            wh.visit(pid, day, hcpcs="99391", dx=("Z00129",))
    rows = wh.compute(Y, "BCS-AD", "CCS-AD", "W30-CH", licensed_dir=licensed)
    assert {r["status"] for r in rows} == {"ok"}
    return wh.per_person(Y)


def _units(per_person, measure, rate_id, prefix):
    return {p: v for (m, r, p), v in per_person.items() if m == measure and r == rate_id and p.startswith(prefix)}


def test_bcs_cases(per_person):
    assert _units(per_person, "BCS-AD", "screened", "bcs_") == BCS_EXPECTED


def test_ccs_cases(per_person):
    assert _units(per_person, "CCS-AD", "screened", "ccs_") == CCS_EXPECTED


def test_w30_cases(per_person):
    got = {(r, p): v for (m, r, p), v in per_person.items() if m == "W30-CH"}
    assert got == W30_EXPECTED



LICENSED_ONLY = ("BCS-AD", "CCS-AD", "W30-CH", "APM-CH", "APP-CH", "SSD-AD", "AMR-CH", "AMR-AD", "ADD-CH", "PPC2-AD",
                 "PPC2-CH")


def test_licensed_measures_are_not_computable_without_the_users_value_sets(wh):
    """Every NCQA measure added for issue 19 needs at least one licensed value set: without the user's files each
    rate reports it (never a partial computation)."""
    rows = wh.compute(Y, *LICENSED_ONLY)
    assert {r["measure"] for r in rows} == set(LICENSED_ONLY)
    assert all(r["status"].startswith("not computable: missing value sets") for r in rows)


@pytest.mark.parametrize("official,ours", [("Non-live Births", "non_live_births"), ("LDL-C Lab Test", "ldl_c_lab_test"),
                                           ("HbA1c Lab Test", "hba1c_lab_test"), ("  Autism ", "autism")])
def test_licensed_value_set_names_without_a_map_entry_are_normalised(official, ours):
    from measures.valuesets import own_name

    assert own_name(official) == ours
