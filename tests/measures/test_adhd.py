"""ADD-CH on licensed value sets (a VSD-layout file written by the test; the ADHD medication NDC is a made-up
number in it): named boundary cases, one warehouse, computed once."""
from __future__ import annotations

import pytest

from tests.measures.scenario import D, add_days, licensed_folder

Y = 2024
ADHD = "99999000777"
VSD = f"""Measure ID,Value Set Name,Value Set OID,Code,Code System
ADD,ADHD Medications,1,{ADHD},NDC
ADD,BH Outpatient,2,99213,CPT
ADD,Narcolepsy,3,G47411,ICD10CM
"""
IPSD = D(Y - 1, 6, 1)


def _monthly_fills(wh, pid, start, n):
    for i in range(n):
        wh.rx(pid, ADHD, add_days(start, 30 * i), days_supply=30)


# id -> (birth, fill dates, visit day offsets from the IPSD, enrolled from, extra)
BASE_BIRTH = D(Y - 10, 1, 1)
CASES = {
    "add_visit_day_30_initiated": (BASE_BIRTH, [IPSD], [30], None, None),
    "add_visit_day_31_not_initiated": (BASE_BIRTH, [IPSD], [31], None, None),
    "add_visit_on_ipsd_not_initiated": (BASE_BIRTH, [IPSD], [0], None, None),
    "add_prior_fill_120_days_not_new": (BASE_BIRTH, [add_days(D(Y - 1, 3, 1), -1), D(Y - 1, 3, 1)], [], None, None),
    "add_first_fill_1_mar_prior_year_in_intake": (BASE_BIRTH, [D(Y - 1, 3, 1)], [], None, None),
    "add_first_fill_1_mar_my_not_in_intake": (BASE_BIRTH, [D(Y, 3, 1)], [], None, None),
    "add_age_6_on_1_mar_prior_year_in": (D(Y - 7, 3, 1), [IPSD], [], None, None),
    "add_age_5_on_1_mar_prior_year_out": (D(Y - 7, 3, 2), [IPSD], [], None, None),
    "add_age_12_on_last_feb_in": (D(Y - 13, 3, 1), [IPSD], [], None, None),
    "add_age_13_on_last_feb_out": (D(Y - 13, 2, 28), [IPSD], [], None, None),
    "add_continuation_met": (BASE_BIRTH, "monthly_10", [10, 60, 120], None, None),
    "add_continuation_one_later_visit_not_met": (BASE_BIRTH, "monthly_10", [10, 60], None, None),
    "add_continuation_209_days_not_met": (BASE_BIRTH, "209_days", [10, 60, 120], None, None),
    "add_enrolled_to_day_30_initiation_only": (BASE_BIRTH, [IPSD], [10], add_days(IPSD, 30), None),
    "add_narcolepsy_excluded": (BASE_BIRTH, [IPSD], [10], None, "narcolepsy"),
    "add_inpatient_day_20_excluded": (BASE_BIRTH, [IPSD], [10], None, "inpatient_20"),
    "add_inpatient_day_40_excluded_from_continuation_only": (BASE_BIRTH, "monthly_10", [10, 60, 120], None,
                                                             "inpatient_40"),
}
EXPECTED = {  # (rate, person) -> (num, den)
    ("initiation", "add_visit_day_30_initiated"): (1, 1), ("continuation", "add_visit_day_30_initiated"): (0, 1),
    ("initiation", "add_visit_day_31_not_initiated"): (0, 1),
    ("continuation", "add_visit_day_31_not_initiated"): (0, 1),
    ("initiation", "add_visit_on_ipsd_not_initiated"): (0, 1),
    ("continuation", "add_visit_on_ipsd_not_initiated"): (0, 1),
    ("initiation", "add_first_fill_1_mar_prior_year_in_intake"): (0, 1),
    ("continuation", "add_first_fill_1_mar_prior_year_in_intake"): (0, 1),
    ("initiation", "add_age_6_on_1_mar_prior_year_in"): (0, 1),
    ("continuation", "add_age_6_on_1_mar_prior_year_in"): (0, 1),
    ("initiation", "add_age_12_on_last_feb_in"): (0, 1), ("continuation", "add_age_12_on_last_feb_in"): (0, 1),
    ("initiation", "add_continuation_met"): (1, 1), ("continuation", "add_continuation_met"): (1, 1),
    ("initiation", "add_continuation_one_later_visit_not_met"): (1, 1),
    ("continuation", "add_continuation_one_later_visit_not_met"): (0, 1),
    ("initiation", "add_continuation_209_days_not_met"): (1, 1),
    ("continuation", "add_continuation_209_days_not_met"): (0, 1),
    ("initiation", "add_enrolled_to_day_30_initiation_only"): (1, 1),
    ("initiation", "add_inpatient_day_40_excluded_from_continuation_only"): (1, 1),
}


@pytest.fixture(scope="module")
def per_person(module_wh, tmp_path_factory):
    folder = licensed_folder(tmp_path_factory, VSD)
    wh = module_wh
    for pid, (birth, fills, visits, enrolled_to, extra) in CASES.items():
        wh.person(pid, birth=birth)
        wh.enroll(pid, D(Y - 2, 1, 1), enrolled_to or D(Y, 12, 31))
        if fills == "monthly_10":
            _monthly_fills(wh, pid, IPSD, 10)
        elif fills == "209_days":
            _monthly_fills(wh, pid, IPSD, 6)
            wh.rx(pid, ADHD, add_days(IPSD, 180), days_supply=29)
        else:
            for day in fills:
                wh.rx(pid, ADHD, day)
        for offset in visits:
            wh.visit(pid, add_days(IPSD, offset), hcpcs="99213", dx=("F900",))
        if extra == "narcolepsy":
            wh.visit(pid, D(Y - 2, 5, 1), hcpcs="99214", dx=("G47411",))
        elif extra and extra.startswith("inpatient_"):
            day = add_days(IPSD, int(extra.split("_")[1]))
            wh.inpatient(pid, day, add_days(day, 3), ["F909"])
    rows = wh.compute(Y, "ADD-CH", licensed_dir=folder)
    assert {r["status"] for r in rows} == {"ok"}
    return wh.per_person(Y)


def test_add_cases(per_person):
    assert {(r, p): v for (m, r, p), v in per_person.items() if m == "ADD-CH"} == EXPECTED

