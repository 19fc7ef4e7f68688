"""Planted DUR cases and their near misses in one small warehouse per backend (one DUR run per backend), with a
named test per boundary: 89.9 vs 90 MME, 14 vs 15 days, age 17 vs 18, 3 vs 4 prescribers."""
from __future__ import annotations

import pytest

from tests.pharmacy.conftest import empty_warehouse
from tests.pharmacy.scenario import (ALPRAZOLAM, ARIPIPRAZOLE, BUPRENORPHINE, CLARITHROMYCIN, CLONAZEPAM, D,
                                     DIPHENHYDRAMINE, FENTANYL_BUCCAL_200, FENTANYL_PATCH_25, GABAPENTIN,
                                     HYDROCODONE_10, LORAZEPAM, METHADONE_10, OXYBUTYNIN, OXYCODONE_10, OXYCODONE_30,
                                     OXYCODONE_BAD_STRENGTH, QUETIAPINE, RISPERIDONE, SERTRALINE, SIMVASTATIN,
                                     ZOLPIDEM, RxWarehouse)

OLD = D(1950, 3, 1)  # 75 in 2025


def _plant(w: RxWarehouse) -> None:
    m, f = w.member, w.fill
    # high dose: hydrocodone 10 mg x 270 / 30 days = 90.0 MME/day; x 269.7 = 89.9
    f(m("mme_90"), HYDROCODONE_10, D(2025, 3, 1), 30, 270)
    f(m("mme_89_9"), HYDROCODONE_10, D(2025, 3, 1), 30, 269.7)
    # overlapping fills: oxycodone 10 mg x 60 / 30 = 30 MME/day each; 15 days overlap at 60
    f(m("overlap"), OXYCODONE_10, D(2025, 3, 1), 30, 60)
    f("overlap", OXYCODONE_10, D(2025, 3, 16), 30, 60, claim_id="OV2")
    # fentanyl patch 25 mcg/hr, 10 patches / 30 days = 25 x 2.4 = 60 MME/day; methadone 10 mg x 2/day x 4.7 = 94;
    # buccal fentanyl 200 mcg x 1/day x 0.13 = 26
    f(m("patch"), FENTANYL_PATCH_25, D(2025, 4, 1), 30, 10)
    f(m("methadone"), METHADONE_10, D(2025, 4, 1), 30, 60)
    f(m("buccal"), FENTANYL_BUCCAL_200, D(2025, 4, 1), 30, 30)
    f(m("bup_only"), BUPRENORPHINE, D(2025, 4, 1), 30, 60)
    # long-term: 14 vs 15 days of supply in a 30-day window (hydrocodone 20 MME/day)
    f(m("lt_14"), HYDROCODONE_10, D(2025, 5, 1), 14, 28)
    f(m("lt_15"), HYDROCODONE_10, D(2025, 5, 1), 15, 30)
    # children: 17 the day before the 18th birthday vs 18 on it
    f(m("child_17", birth=D(2007, 6, 2)), RISPERIDONE, D(2025, 6, 1), 1, 1)
    f(m("child_18", birth=D(2007, 6, 1)), RISPERIDONE, D(2025, 6, 1), 1, 1)
    f(m("foster", birth=D(2012, 1, 1), eligibility_group="foster_care"), RISPERIDONE, D(2025, 2, 1), 30, 30)
    # two antipsychotics for 90 days (Jan 1 - Mar 31) vs 89 days
    for pid, last in (("ap_poly_90", 30), ("ap_poly_89", 29)):
        m(pid, birth=D(2012, 1, 1))
        for ndc in (RISPERIDONE, ARIPIPRAZOLE):
            f(pid, ndc, D(2025, 1, 1), 30, 30)
            f(pid, ndc, D(2025, 1, 31), 30, 30)
            f(pid, ndc, D(2025, 3, 2), last, last)
    # multiple prescribers and pharmacies: 4 fills of oxycodone 30 mg (180 MME/day) in 4 months
    for pid, prescribers in (("presc_4", ("P1", "P2", "P3", "P4")), ("presc_3", ("P1", "P2", "P3", "P3"))):
        m(pid)
        for i, prescriber in enumerate(prescribers):
            f(pid, OXYCODONE_30, D(2025, 2 + i, 1), 30, 120, prescriber=prescriber, pharmacy=f"F{i + 1}")
    # concurrent use
    f(m("op_benzo"), HYDROCODONE_10, D(2025, 3, 1), 30, 60)
    f("op_benzo", ALPRAZOLAM, D(2025, 3, 30), 30, 60)
    f(m("op_benzo_miss"), HYDROCODONE_10, D(2025, 3, 1), 30, 60)
    f("op_benzo_miss", ALPRAZOLAM, D(2025, 3, 31), 30, 60)  # the day after the opioid's last day
    f(m("op_ap"), HYDROCODONE_10, D(2025, 3, 1), 30, 60)
    f("op_ap", QUETIAPINE, D(2025, 3, 10), 30, 30)
    f(m("op_gaba"), HYDROCODONE_10, D(2025, 3, 1), 30, 60)
    f("op_gaba", GABAPENTIN, D(2025, 3, 10), 30, 90)
    f(m("bup_op"), BUPRENORPHINE, D(2025, 3, 1), 30, 60)
    f("bup_op", OXYCODONE_10, D(2025, 3, 20), 5, 10)
    # older adults: two anticholinergics, each with 2 fills, 45 days overlap; near miss: one of them filled once
    for pid, birth, second_fill in (("ach", OLD, True), ("ach_one_fill", OLD, False), ("ach_64", D(1960, 6, 1), True)):
        m(pid, birth=birth)
        f(pid, OXYBUTYNIN, D(2025, 1, 1), 30, 30)
        f(pid, OXYBUTYNIN, D(2025, 1, 31), 30, 30)
        f(pid, DIPHENHYDRAMINE, D(2025, 1, 15), 30, 30)
        if second_fill:
            f(pid, DIPHENHYDRAMINE, D(2025, 2, 14), 30, 30)
    m("cns", birth=OLD)
    for ndc in (SERTRALINE, ZOLPIDEM, CLONAZEPAM):
        f("cns", ndc, D(2025, 1, 1), 30, 30)
        f("cns", ndc, D(2025, 1, 31), 30, 30)
    # early refill: 19 of 30 days elapsed (63 %) vs 23 of 30 (77 %, threshold 75 %)
    f(m("early"), HYDROCODONE_10, D(2025, 3, 1), 30, 60)
    f("early", HYDROCODONE_10, D(2025, 3, 20), 30, 60)
    f(m("early_miss"), HYDROCODONE_10, D(2025, 3, 1), 30, 60)
    f("early_miss", HYDROCODONE_10, D(2025, 3, 24), 30, 60)
    # therapeutic duplication: two benzodiazepines 30 days vs 29 days
    f(m("dup_30"), ALPRAZOLAM, D(2025, 6, 1), 30, 60)
    f("dup_30", LORAZEPAM, D(2025, 6, 1), 30, 60)
    f(m("dup_29"), ALPRAZOLAM, D(2025, 6, 1), 30, 60)
    f("dup_29", LORAZEPAM, D(2025, 6, 2), 29, 58)
    # high-priority interaction (simvastatin + strong CYP3A4 inhibitor)
    f(m("ddi"), SIMVASTATIN, D(2025, 7, 1), 30, 30)
    f("ddi", CLARITHROMYCIN, D(2025, 7, 10), 10, 20)
    # exempt populations (SUPPORT Act / PQA): hospice, cancer; same 180 MME/day fill as presc_4's
    w.person("hospice_pt")
    w.enroll("hospice_pt", D(2024, 1, 1), D(2025, 12, 31), hospice=True)
    f("hospice_pt", OXYCODONE_30, D(2025, 3, 1), 30, 120)
    f(m("cancer_pt"), OXYCODONE_30, D(2025, 3, 1), 30, 120)
    w.claim("cancer_pt", D(2025, 2, 1), dx=("C50911",))
    # bad input next to a valid high-dose fill: never guessed, never a crash, flagged on the trace
    f(m("bad"), OXYCODONE_30, D(2025, 8, 1), 30, 120)
    f("bad", HYDROCODONE_10, D(2025, 8, 5), None, 30)          # no days supply
    f("bad", HYDROCODONE_10, D(2025, 8, 6), 30, None)          # no quantity
    f("bad", "12345678901", D(2025, 8, 7), 30, 30)             # NDC not in the reference
    f("bad", OXYCODONE_BAD_STRENGTH, D(2025, 8, 8), 30, 30)    # strength "five"
    f("bad", OXYCODONE_10, D(2025, 8, 9), 30, 60, claim_id="DUP")
    f("bad", OXYCODONE_10, D(2025, 8, 9), 30, 60, claim_id="DUP", line=2)  # same claim id again


@pytest.fixture(scope="module")
def planted(_module_warehouse):
    empty_warehouse(_module_warehouse)
    w = RxWarehouse(_module_warehouse)
    _plant(w)
    w.report = w.dur()
    yield w
    w.engine.dispose()


def test_mme_90_fires(planted):
    assert "mme_90" in planted.fired("high_dose_90")


def test_mme_89_9_does_not_fire(planted):
    assert "mme_89_9" not in planted.fired("high_dose_90")
    assert "mme_89_9" in planted.fired("high_dose_50")


def test_three_mme_definitions_side_by_side(planted):
    row = planted.mme("overlap")
    assert float(row["mme_episode"]) == pytest.approx(30.0)  # 1,800 MME / 60 days supply
    assert float(row["mme_daily_sum"]) == pytest.approx(40.0)  # 1,800 MME / 45 covered days
    assert float(row["mme_calendar"]) == pytest.approx(1800 / 365, abs=1e-4)  # stored to 4 d.p.
    assert float(row["max_daily_mme"]) == pytest.approx(60.0)
    assert "overlap" in planted.fired("high_dose_50") and "overlap" not in planted.fired("high_dose_90")


def test_fentanyl_patch_methadone_buccal_and_buprenorphine_mme(planted):
    assert float(planted.mme("patch")["max_daily_mme"]) == pytest.approx(60.0)  # 25 mcg/hr x 2.4
    assert float(planted.mme("methadone")["max_daily_mme"]) == pytest.approx(94.0)  # 20 mg x 4.7
    assert float(planted.mme("buccal")["max_daily_mme"]) == pytest.approx(26.0)  # 200 mcg x 0.13
    assert "methadone" in planted.fired("high_dose_90") and "patch" not in planted.fired("high_dose_90")
    assert "bup_only" not in planted.fired("high_dose_50")


def test_long_term_14_days_does_not_fire(planted):
    assert "lt_14" not in planted.fired("long_term_opioid")


def test_long_term_15_days_fires(planted):
    assert "lt_15" in planted.fired("long_term_opioid")


def test_antipsychotic_age_17_fires(planted):
    assert "child_17" in planted.fired("antipsychotic_child")


def test_antipsychotic_age_18_does_not_fire(planted):
    assert "child_18" not in planted.fired("antipsychotic_child")


def test_foster_care_child_only_in_foster_rule(planted):
    assert planted.fired("antipsychotic_foster_child") == {"foster"}
    assert "foster" in planted.fired("antipsychotic_child")


def test_antipsychotic_polypharmacy_90_vs_89_days(planted):
    fired = planted.fired("antipsychotic_child_polypharmacy")
    assert "ap_poly_90" in fired and "ap_poly_89" not in fired


def test_4_prescribers_fires(planted):
    assert "presc_4" in planted.fired("multiple_prescribers_pharmacies")
    assert {r["prescriber_npi"] for r in planted.trace("multiple_prescribers_pharmacies")} == {"P1", "P2", "P3", "P4"}


def test_3_prescribers_does_not_fire(planted):
    assert "presc_3" not in planted.fired("multiple_prescribers_pharmacies")


def test_concurrent_use_pairs(planted):
    assert "op_benzo" in planted.fired("opioid_benzodiazepine")
    assert "op_benzo_miss" not in planted.fired("opioid_benzodiazepine")
    assert planted.fired("opioid_antipsychotic") == {"op_ap"}
    assert planted.fired("opioid_gabapentinoid") == {"op_gaba"}
    assert planted.fired("buprenorphine_opioid") == {"bup_op"}
    (alert,) = planted.alerts("opioid_benzodiazepine")
    assert alert["qualifying_days"] == 1 and alert["alert_date"] == D(2025, 3, 30)


def test_poly_ach_and_poly_cns(planted):
    assert planted.fired("poly_ach") == {"ach"}  # not with one fill of the second drug, not at 64
    assert planted.fired("poly_cns") == {"cns"}


def test_early_refill(planted):
    fired = planted.fired("early_refill")
    assert "early" in fired and "early_miss" not in fired
    assert len([t for t in planted.trace("early_refill") if t["person_id"] == "early"]) == 2


def test_therapeutic_duplication_30_vs_29_days(planted):
    fired = planted.fired("therapeutic_duplication")
    assert "dup_30" in fired and "dup_29" not in fired


def test_drug_interaction(planted):
    assert planted.fired("drug_interaction") == {"ddi"}
    assert {t["ingredient"] for t in planted.trace("drug_interaction")} == {"simvastatin", "clarithromycin"}


def test_hospice_and_cancer_are_exempt_from_opioid_rules(planted):
    for rule in ("high_dose_90", "long_term_opioid"):
        assert not {"hospice_pt", "cancer_pt"} & planted.fired(rule), rule
    assert float(planted.mme("cancer_pt")["max_daily_mme"]) == pytest.approx(180.0)  # MME is still reported


def test_bad_input_counted_and_flagged_never_guessed(planted):
    cov = planted.report["coverage"]["fills_by_quality_flag"]
    for flag in ("no_days_supply", "no_quantity", "ndc_not_in_reference", "strength_unparsable",
                 "duplicate_claim_id"):
        assert cov.get(flag, 0) >= 1, flag
    flags = {t["quality_flag"] for t in planted.trace("high_dose_90") if t["person_id"] == "bad"}
    assert {"no_days_supply", "no_quantity", "ndc_not_in_reference", "strength_unparsable",
            "duplicate_claim_id"} <= flags
    # only the valid 180-MME fill (and the duplicate's first line) count; the bad fills add no MME
    assert float(planted.mme("bad")["max_daily_mme"]) == pytest.approx(180 + 30)
    assert planted.mme("bad")["fills_not_computable"] >= 3
    assert 0 < planted.report["coverage"]["opioid_mme_coverage"] < 1
