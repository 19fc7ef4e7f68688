"""PPC2-AD / PPC2-CH on licensed value sets (a VSD-layout file written by the test): named boundary cases, one
warehouse, computed once."""
from __future__ import annotations

import pytest

from tests.measures.scenario import D, add_days, licensed_folder

Y = 2024
VSD = """Measure ID,Value Set Name,Value Set OID,Code,Code System
PPC,Deliveries,1,59400,CPT
PPC,Non-live Births,2,Z371,ICD10CM
PPC,Prenatal Visits,3,99213,CPT
PPC,Stand Alone Prenatal Visits,4,99500,CPT
PPC,Prenatal Bundled Services,5,59425,CPT
PPC,Postpartum Care,6,59430,CPT
PPC,Cervical Cytology Lab Test,7,88142,CPT
"""
DELIVERY = D(Y, 6, 1)


# id -> (age on delivery, delivery date, enrolled from, [(offset from delivery, cpt)], extra dx on the delivery claim)
CASES = {
    "ppc_prenatal_280_days_before_timely": (25, DELIVERY, D(Y - 2, 1, 1), [(-280, "99500")], ()),
    "ppc_prenatal_281_days_before_not_timely": (25, DELIVERY, D(Y - 2, 1, 1), [(-281, "99500")], ()),
    "ppc_prenatal_176_days_before_timely": (25, DELIVERY, D(Y - 2, 1, 1), [(-176, "99213")], ()),
    "ppc_prenatal_175_days_before_not_timely": (25, DELIVERY, D(Y - 2, 1, 1), [(-175, "99213")], ()),
    "ppc_late_enrollee_visit_42_days_after_enrollment_timely": (25, DELIVERY, add_days(DELIVERY, -100),
                                                               [(-58, "59425")], ()),
    "ppc_late_enrollee_visit_43_days_after_enrollment_not_timely": (25, DELIVERY, add_days(DELIVERY, -100),
                                                                   [(-57, "59425")], ()),
    "ppc_postpartum_day_7": (25, DELIVERY, D(Y - 2, 1, 1), [(7, "59430")], ()),
    "ppc_postpartum_day_6_not_counted": (25, DELIVERY, D(Y - 2, 1, 1), [(6, "59430")], ()),
    "ppc_postpartum_cytology_day_84": (25, DELIVERY, D(Y - 2, 1, 1), [(84, "88142")], ()),
    "ppc_postpartum_day_85_not_counted": (25, DELIVERY, D(Y - 2, 1, 1), [(85, "59430")], ()),
    "ppc_delivery_7_oct_in": (25, D(Y, 10, 7), D(Y - 2, 1, 1), [], ()),
    "ppc_delivery_8_oct_out": (25, D(Y, 10, 8), D(Y - 2, 1, 1), [], ()),
    "ppc_delivery_8_oct_prior_year_in": (25, D(Y - 1, 10, 8), D(Y - 2, 1, 1), [], ()),
    "ppc_enrolled_from_43_days_before_in": (25, DELIVERY, add_days(DELIVERY, -43), [], ()),
    "ppc_enrolled_from_42_days_before_out": (25, DELIVERY, add_days(DELIVERY, -42), [], ()),
    "ppc_non_live_birth_out": (25, DELIVERY, D(Y - 2, 1, 1), [], ("Z371",)),
    "ppc_age_20_child": (20, DELIVERY, D(Y - 2, 1, 1), [], ()),
    "ppc_age_21_adult": (21, DELIVERY, D(Y - 2, 1, 1), [], ()),
}
EXPECTED = {  # (measure, rate, person) -> numerator (denominator 1)
    **{("PPC2-AD", "timely_prenatal", p): n for p, n in (
        ("ppc_prenatal_280_days_before_timely", 1), ("ppc_prenatal_281_days_before_not_timely", 0),
        ("ppc_prenatal_176_days_before_timely", 1), ("ppc_prenatal_175_days_before_not_timely", 0),
        ("ppc_late_enrollee_visit_42_days_after_enrollment_timely", 1),
        ("ppc_late_enrollee_visit_43_days_after_enrollment_not_timely", 0))},
    **{("PPC2-AD", "postpartum", p): n for p, n in (
        ("ppc_postpartum_day_7", 1), ("ppc_postpartum_day_6_not_counted", 0), ("ppc_postpartum_cytology_day_84", 1),
        ("ppc_postpartum_day_85_not_counted", 0))},
}
IN_DENOMINATOR = {"PPC2-AD": {p for p in CASES if p not in ("ppc_delivery_8_oct_out", "ppc_enrolled_from_42_days_before_out",
                                                          "ppc_non_live_birth_out", "ppc_age_20_child")},
                  "PPC2-CH": {"ppc_age_20_child"}}


@pytest.fixture(scope="module")
def per_person(module_wh, tmp_path_factory):
    folder = licensed_folder(tmp_path_factory, VSD)
    wh = module_wh
    for pid, (age, delivery, start, visits, dx) in CASES.items():
        wh.person(pid, birth=D(delivery.year - age, 1, 1))
        wh.enroll(pid, start, D(Y + 1, 3, 31))
        wh.visit(pid, delivery, hcpcs="59400", dx=("O80",) + dx)
        for offset, cpt in visits:
            wh.visit(pid, add_days(delivery, offset), hcpcs=cpt, dx=("Z3401",))
    rows = wh.compute(Y, "PPC2-AD", "PPC2-CH", licensed_dir=folder)
    assert {r["status"] for r in rows} == {"ok"}
    return wh.per_person(Y)


def test_ppc_denominators(per_person):
    for measure, persons in IN_DENOMINATOR.items():
        got = {p for (m, r, p), (_, den) in per_person.items() if m == measure and r == "postpartum" and den}
        assert got == persons, measure


@pytest.mark.parametrize("key", sorted(EXPECTED), ids=[k[2] + "_" + k[1] for k in sorted(EXPECTED)])
def test_ppc_numerators(per_person, key):
    assert per_person[key] == (EXPECTED[key], 1)
