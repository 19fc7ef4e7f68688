"""AMR-CH / AMR-AD on licensed diagnosis value sets (a VSD-layout file written by the test) and the shipped asthma
NDCs (fluticasone controller, albuterol reliever): named boundary cases, one warehouse, computed once."""
from __future__ import annotations

import pytest

from tests.measures.scenario import D, licensed_folder

Y = 2024
CONTROLLER, RELIEVER = "00173071920", "00173068220"
VSD = """Measure ID,Value Set Name,Value Set OID,Code,Code System
AMR,Asthma,1,J4541,ICD10CM
AMR,COPD,2,J449,ICD10CM
AMR,Emphysema,3,J439,ICD10CM
AMR,Obstructive Chronic Bronchitis,4,J440,ICD10CM
AMR,Chronic Respiratory Conditions Due to Fumes or Vapors,5,J684,ICD10CM
AMR,Cystic Fibrosis,6,E840,ICD10CM
AMR,Acute Respiratory Failure,7,J9600,ICD10CM
"""


def _fills(wh, pid, year, controller, reliever):
    for i in range(controller):
        wh.rx(pid, CONTROLLER, D(year, 1 + i, 5))
    for i in range(reliever):
        wh.rx(pid, RELIEVER, D(year, 1 + i, 20))


# id -> (age on 31 Dec, (controller, reliever) fills in the prior year and in MY, extra: callable(wh, pid))
CASES = {
    "amr_ratio_exactly_half_met": (30, (4, 0), (2, 2), None),
    "amr_ratio_below_half_not_met": (30, (4, 0), (2, 3), None),
    "amr_persistent_only_in_my_not_in_denominator": (30, (3, 0), (4, 0), None),
    "amr_four_visits_and_two_fills_persistent": (30, (2, 0), (4, 0),
                                                 lambda w, p: [w.visit(p, D(Y - 1, m, 1), hcpcs="99213",
                                                                       dx=("J4541",)) for m in (2, 3, 4, 5)]),
    "amr_three_visits_and_two_fills_not_persistent": (30, (2, 0), (4, 0),
                                                      lambda w, p: [w.visit(p, D(Y - 1, m, 1), hcpcs="99213",
                                                                            dx=("J4541",)) for m in (2, 3, 4)]),
    "amr_ed_visit_in_prior_year_persistent": (30, (0, 0), (4, 0),
                                              lambda w, p: w.ed(p, D(Y - 1, 6, 1), ["J4541"])),
    "amr_copd_excluded": (50, (4, 0), (4, 0), lambda w, p: w.visit(p, D(Y - 3, 1, 1), hcpcs="99213", dx=("J449",))),
    "amr_no_fill_in_my_excluded": (30, (4, 0), (0, 0), lambda w, p: w.ed(p, D(Y, 6, 1), ["J4541"])),
    "amr_age_4_not_in_either": (4, (4, 0), (4, 0), None),
    "amr_age_5_child": (5, (4, 0), (4, 0), None),
    "amr_age_18_child": (18, (4, 0), (4, 0), None),
    "amr_age_19_adult": (19, (4, 0), (4, 0), None),
    "amr_age_64_adult": (64, (4, 0), (4, 0), None),
    "amr_age_65_not_in_either": (65, (4, 0), (4, 0), None),
}
EXPECTED = {  # (measure, person) -> (num, den)
    ("AMR-AD", "amr_ratio_exactly_half_met"): (1, 1), ("AMR-AD", "amr_ratio_below_half_not_met"): (0, 1),
    ("AMR-AD", "amr_four_visits_and_two_fills_persistent"): (1, 1),
    ("AMR-AD", "amr_ed_visit_in_prior_year_persistent"): (1, 1),
    ("AMR-CH", "amr_age_5_child"): (1, 1), ("AMR-CH", "amr_age_18_child"): (1, 1),
    ("AMR-AD", "amr_age_19_adult"): (1, 1), ("AMR-AD", "amr_age_64_adult"): (1, 1),
}


@pytest.fixture(scope="module")
def result(module_wh, tmp_path_factory):
    folder = licensed_folder(tmp_path_factory, VSD)
    wh = module_wh
    for pid, (age, prior, my, extra) in CASES.items():
        wh.person(pid, birth=D(Y - age, 3, 15))
        wh.enroll(pid, D(Y - 1, 1, 1), D(Y, 12, 31))
        _fills(wh, pid, Y - 1, *prior)
        _fills(wh, pid, Y, *my)
        if extra:
            extra(wh, pid)
    rows = wh.compute(Y, "AMR-CH", "AMR-AD", licensed_dir=folder)
    return rows, wh.per_person(Y), {r["person_id"]: r for r in wh.detail("AMR-AD", Y)}


def test_amr_cases(result):
    _, per_person, _ = result
    assert {(m, p): v for (m, _, p), v in per_person.items()} == EXPECTED


@pytest.mark.parametrize("pid,reason", [("amr_copd_excluded", "COPD/emphysema/other respiratory condition"),
                                        ("amr_no_fill_in_my_excluded", "no asthma medication dispensed in MY")])
def test_amr_exclusions(result, pid, reason):
    _, _, detail = result
    assert detail[pid]["excluded"] and detail[pid]["exclusion_reason"] == reason


def test_amr_status_ok_with_licensed_files(result):
    rows, _, _ = result
    assert {r["status"] for r in rows} == {"ok"}

