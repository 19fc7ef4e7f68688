"""APM-CH, APP-CH and SSD-AD on licensed value sets (a VSD-layout file written by the test) and the shipped
antipsychotic NDC (risperidone 00781522201): named boundary cases, one warehouse per module, computed once."""
from __future__ import annotations

import pytest

from tests.measures.scenario import D, add_days, licensed_folder

Y = 2024
RISPERIDONE, INSULIN = "00781522201", "00088222033"
VSD = """Measure ID,Value Set Name,Value Set OID,Code,Code System
APM,Glucose Lab Test,1,82947,CPT
APM,HbA1c Lab Test,2,83036,CPT
APM,LDL C Lab Test,3,83721,CPT
APM,Cholesterol Lab Test,4,82465,CPT
APP,Psychosocial Care,5,90832,CPT
APP,Bipolar Disorder,6,F3110,ICD10CM
APP,Other Bipolar Disorder,7,F3181,ICD10CM
APP,Other Psychotic Disorders,8,F29,ICD10CM
APP,Autism,9,F840,ICD10CM
APP,Other Developmental Disorders,10,F88,ICD10CM
"""


@pytest.fixture(scope="module")
def licensed(tmp_path_factory):
    return licensed_folder(tmp_path_factory, VSD)


# APM: id -> (age on 31 Dec, fill dates, [(date, cpt)])
APM_CASES = {
    "apm_age_0_not_in_denominator": (0, [D(Y, 2, 1), D(Y, 3, 1)], []),
    "apm_age_1_both_tests": (1, [D(Y, 2, 1), D(Y, 3, 1)], [(D(Y, 4, 1), "82947"), (D(Y, 4, 1), "82465")]),
    "apm_age_17_hba1c_only": (17, [D(Y, 2, 1), D(Y, 3, 1)], [(D(Y, 4, 1), "83036")]),
    "apm_age_18_not_in_denominator": (18, [D(Y, 2, 1), D(Y, 3, 1)], []),
    "apm_one_fill_date_not_in_denominator": (10, [D(Y, 2, 1), D(Y, 2, 1)], []),
    "apm_ldl_test_in_prior_year_not_counted": (10, [D(Y, 2, 1), D(Y, 3, 1)], [(D(Y - 1, 12, 31), "83721")]),
}
APM_EXPECTED = {  # (rate, person) -> (num, den)
    **{(r, "apm_age_1_both_tests"): (1, 1) for r in ("blood_glucose", "cholesterol", "glucose_and_cholesterol")},
    ("blood_glucose", "apm_age_17_hba1c_only"): (1, 1), ("cholesterol", "apm_age_17_hba1c_only"): (0, 1),
    ("glucose_and_cholesterol", "apm_age_17_hba1c_only"): (0, 1),
    **{(r, "apm_ldl_test_in_prior_year_not_counted"): (0, 1)
       for r in ("blood_glucose", "cholesterol", "glucose_and_cholesterol")},
}

# APP: id -> (age on 31 Dec, fill dates, [(date, code, is_dx)], enrolled from)
IPSD = D(Y, 6, 1)
APP_CASES = {
    "app_care_90_days_before_counts": (12, [IPSD], [(add_days(IPSD, -90), "90832", False)], D(Y - 1, 1, 1)),
    "app_care_91_days_before_not_counted": (12, [IPSD], [(add_days(IPSD, -91), "90832", False)], D(Y - 1, 1, 1)),
    "app_care_30_days_after_counts": (12, [IPSD], [(add_days(IPSD, 30), "90832", False)], D(Y - 1, 1, 1)),
    "app_care_31_days_after_not_counted": (12, [IPSD], [(add_days(IPSD, 31), "90832", False)], D(Y - 1, 1, 1)),
    # the earlier fill falls in the prior year, outside the intake period
    "app_fill_120_days_before_not_new": (12, [add_days(D(Y, 3, 1), -120), D(Y, 3, 1)], [], D(Y - 1, 1, 1)),
    "app_fill_121_days_before_then_new": (12, [add_days(D(Y, 3, 1), -121), D(Y, 3, 1)], [], D(Y - 1, 1, 1)),
    "app_first_fill_2_dec_not_in_denominator": (12, [D(Y, 12, 2)], [], D(Y - 1, 1, 1)),
    "app_enrolled_from_119_days_before_not_in_denominator": (12, [IPSD], [], add_days(IPSD, -119)),
    "app_enrolled_from_120_days_before_in_denominator": (12, [IPSD], [], add_days(IPSD, -120)),
    "app_autism_dx_excluded": (12, [IPSD], [(D(Y, 3, 1), "F840", True)], D(Y - 1, 1, 1)),
}
APP_EXPECTED = {"app_care_90_days_before_counts": (1, 1), "app_care_91_days_before_not_counted": (0, 1),
                "app_care_30_days_after_counts": (1, 1), "app_care_31_days_after_not_counted": (0, 1),
                "app_fill_121_days_before_then_new": (0, 1),
                "app_enrolled_from_120_days_before_in_denominator": (0, 1)}

# SSD: id -> (age on 31 Dec, [(date, dx, inpatient)], fill dates, extra claims)
SSD_CASES = {
    "ssd_two_dates_tested": (40, [(D(Y, 2, 1), "F209", False), (D(Y, 3, 1), "F209", False)], [D(Y, 3, 1)],
                             [("cpt", D(Y, 5, 1), "82947")]),
    "ssd_one_date_not_in_denominator": (40, [(D(Y, 2, 1), "F209", False)], [D(Y, 3, 1)], []),
    "ssd_one_inpatient_untested": (40, [(D(Y, 2, 1), "F3110", True)], [D(Y, 3, 1)], []),
    "ssd_no_antipsychotic_not_in_denominator": (40, [(D(Y, 2, 1), "F209", True)], [], []),
    "ssd_age_64_untested": (64, [(D(Y, 2, 1), "F209", True)], [D(Y, 3, 1)], []),
    "ssd_age_65_not_in_denominator": (65, [(D(Y, 2, 1), "F209", True)], [D(Y, 3, 1)], []),
    "ssd_insulin_prior_year_excluded": (40, [(D(Y, 2, 1), "F209", True)], [D(Y, 3, 1)],
                                        [("rx", D(Y - 1, 1, 1), INSULIN)]),
    "ssd_diabetes_dx_two_dates_excluded": (40, [(D(Y, 2, 1), "F209", True)], [D(Y, 3, 1)],
                                           [("dx", D(Y - 1, 5, 1), "E119"), ("dx", D(Y - 1, 6, 1), "E119")]),
    "ssd_diabetes_dx_one_date_stays": (40, [(D(Y, 2, 1), "F209", True)], [D(Y, 3, 1)],
                                       [("dx", D(Y - 1, 5, 1), "E119")]),
}
SSD_EXPECTED = {"ssd_two_dates_tested": (1, 1), "ssd_one_inpatient_untested": (0, 1), "ssd_age_64_untested": (0, 1),
                "ssd_diabetes_dx_one_date_stays": (0, 1)}


@pytest.fixture(scope="module")
def per_person(module_wh, licensed):
    wh = module_wh
    for pid, (age, fills, tests) in APM_CASES.items():
        wh.person(pid, birth=D(Y - age, 3, 15))
        wh.enroll(pid, D(Y, 1, 1), D(Y, 12, 31))
        for day in fills:
            wh.rx(pid, RISPERIDONE, day)
        for day, cpt in tests:
            wh.visit(pid, day, hcpcs=cpt, dx=("Z0000",))
    for pid, (age, fills, codes, start) in APP_CASES.items():
        wh.person(pid, birth=D(Y - age, 3, 15))
        wh.enroll(pid, start, D(Y, 12, 31))
        for day in fills:
            wh.rx(pid, RISPERIDONE, day)
        for day, code, is_dx in codes:
            wh.visit(pid, day, hcpcs="99213" if is_dx else code, dx=(code,) if is_dx else ("F913",))
    for pid, (age, dxs, fills, extra) in SSD_CASES.items():
        wh.person(pid, birth=D(Y - age, 3, 15))
        wh.enroll(pid, D(Y - 1, 1, 1), D(Y, 12, 31))
        for day, dx, inpatient in dxs:
            if inpatient:
                wh.inpatient(pid, day, add_days(day, 3), [dx])
            else:
                wh.visit(pid, day, hcpcs="99213", dx=(dx,))
        for day in fills:
            wh.rx(pid, RISPERIDONE, day)
        for kind, day, code in extra:
            if kind == "rx":
                wh.rx(pid, code, day)
            else:
                wh.visit(pid, day, hcpcs=code if kind == "cpt" else "99213", dx=(code,) if kind == "dx" else ("Z0000",))
    rows = wh.compute(Y, "APM-CH", "APP-CH", "SSD-AD", licensed_dir=licensed)
    assert {r["status"] for r in rows} == {"ok"}
    return wh.per_person(Y)


def test_apm_cases(per_person):
    got = {(r, p): v for (m, r, p), v in per_person.items() if m == "APM-CH" and p.startswith("apm_")}
    assert got == APM_EXPECTED


def test_app_cases(per_person):
    assert {p: v for (m, _, p), v in per_person.items() if m == "APP-CH" and p.startswith("app_")} == APP_EXPECTED


def test_ssd_cases(per_person):
    assert {p: v for (m, _, p), v in per_person.items() if m == "SSD-AD" and p.startswith("ssd_")} == SSD_EXPECTED

