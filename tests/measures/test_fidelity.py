"""Issue 19: age rules, enrollment at admission, AMB exclusions, card statements, result status (named cases)."""
from __future__ import annotations

import pytest

from measures.registry import get_measures
from tests.measures.scenario import D

Y = 2024


def _member(wh, pid, birth=D(1980, 6, 15), start=D(Y, 1, 1), end=D(Y, 12, 31), **kw):
    wh.person(pid, birth=birth)
    wh.enroll(pid, start, end, **kw)
    return pid


def _total(rows, rate_id):
    return next(r for r in rows if r["rate_id"] == rate_id and r["stratum"] == {"type": "total", "value": "total"})


def _stratum(rows, rate_id, stype):
    return {r["stratum"]["value"]: (r["numerator"], r["denominator"]) for r in rows
            if r["rate_id"] == rate_id and r["stratum"]["type"] == stype}


# --- 1. PQI age at admission: every age boundary of every PQI (birthday 10 May 2024) ------------------------------

DKA, COPD, ASTHMA = "E1010", "J441", "J4541"
PQI_AGE_CASES = [
    # id, measure, age reached on 10 May 2024, principal dx, admission date, admissions counted, denominator months
    ("pqi01_admitted_day_before_18th_birthday_not_counted", "PQI01-AD", 18, DKA, D(Y, 5, 9), 0, 7),
    ("pqi01_admitted_on_18th_birthday_counts", "PQI01-AD", 18, DKA, D(Y, 5, 10), 1, 7),
    ("pqi01_admitted_after_18th_birthday_in_birthday_month_counts", "PQI01-AD", 18, DKA, D(Y, 5, 20), 1, 7),
    ("pqi08_admitted_after_18th_birthday_in_birthday_month_counts", "PQI08-AD", 18, "I5020", D(Y, 5, 20), 1, 7),
    ("pqi92_admitted_after_18th_birthday_in_birthday_month_counts", "PQI92-HH", 18, DKA, D(Y, 5, 20), 1, 7),
    ("pqi92_admitted_day_before_18th_birthday_not_counted", "PQI92-HH", 18, DKA, D(Y, 5, 9), 0, 7),
    ("pqi05_admitted_day_before_40th_birthday_not_counted", "PQI05-AD", 40, COPD, D(Y, 5, 9), 0, 7),
    ("pqi05_admitted_on_40th_birthday_counts", "PQI05-AD", 40, COPD, D(Y, 5, 10), 1, 7),
    ("pqi05_admitted_after_40th_birthday_in_birthday_month_counts", "PQI05-AD", 40, COPD, D(Y, 5, 20), 1, 7),
    ("pqi15_admitted_day_before_40th_birthday_counts", "PQI15-AD", 40, ASTHMA, D(Y, 5, 9), 1, 5),
    ("pqi15_admitted_on_40th_birthday_not_counted", "PQI15-AD", 40, ASTHMA, D(Y, 5, 10), 0, 5),
    ("pqi15_admitted_day_before_18th_birthday_not_counted", "PQI15-AD", 18, ASTHMA, D(Y, 5, 9), 0, 7),
    ("pqi15_admitted_after_18th_birthday_in_birthday_month_counts", "PQI15-AD", 18, ASTHMA, D(Y, 5, 20), 1, 7),
]


@pytest.fixture(scope="module")
def pqi_units(module_wh):
    for case_id, _, age, dx, admit, _, _ in PQI_AGE_CASES:
        _member(module_wh, case_id, birth=D(Y - age, 5, 10))
        module_wh.inpatient(case_id, admit, D.fromordinal(admit.toordinal() + 2), [dx])  # discharged in that month
    module_wh.compute(Y, *sorted({c[1] for c in PQI_AGE_CASES}))
    return {(m, p): v for (m, _, p), v in module_wh.per_person(Y, "admissions").items()}


@pytest.mark.parametrize("case_id,measure,num,den", [(c[0], c[1], c[5], c[6]) for c in PQI_AGE_CASES],
                         ids=[c[0] for c in PQI_AGE_CASES])
def test_pqi_age_at_admission_boundaries(pqi_units, case_id, measure, num, den):
    """AHRQ PQI: age at admission (the AGE of the discharge record); denominator months by age at month start
    (the birthday month starts below the limit: 7 months Jun-Dec at 18+/40+, 5 months Jan-May at <= 39)."""
    assert pqi_units.get((measure, case_id), (0, 0)) == (num, den)


def test_pqi_age_band_of_a_birthday_month_admission_is_age_at_admission(wh):
    p = _member(wh, "p", birth=D(Y - 65, 5, 10))
    wh.inpatient(p, D(Y, 5, 20), D(Y, 5, 22), [DKA])
    assert _stratum(wh.compute(Y, "PQI01-AD"), "admissions", "age_band") == {"18-64": (0, 5), "65+": (1, 7)}


# --- 2. stays ending after enrollment ends -------------------------------------------------------------------------

def test_pqi05_copd_admission_enrolled_at_admission_discharged_after_enrollment_end_counts(wh):
    p = _member(wh, "p", birth=D(1960, 1, 1), end=D(Y, 5, 31))
    wh.inpatient(p, D(Y, 5, 29), D(Y, 6, 2), [COPD])
    rows = wh.compute(Y, "PQI05-AD", "PQI92-HH")
    for mid in ("PQI05-AD", "PQI92-HH"):
        r = _total([x for x in rows if x["measure"] == mid], "admissions")
        assert (r["numerator"], r["denominator"]) == (1, 5), mid


def test_pqi_admission_before_enrollment_starts_not_counted(wh):
    p = _member(wh, "p", birth=D(1960, 1, 1), start=D(Y, 6, 1))
    wh.inpatient(p, D(Y, 5, 29), D(Y, 6, 2), [COPD])
    r = _total(wh.compute(Y, "PQI05-AD"), "admissions")
    assert (r["numerator"], r["denominator"]) == (0, 7)


def test_pqi_december_admission_discharged_in_my_counts_in_my(wh):
    p = _member(wh, "p", birth=D(1960, 1, 1), start=D(Y - 1, 1, 1))
    wh.inpatient(p, D(Y - 1, 12, 30), D(Y, 1, 2), [COPD])
    assert _total(wh.compute(Y, "PQI05-AD"), "admissions")["numerator"] == 1
    assert _total(wh.compute(Y - 1, "PQI05-AD"), "admissions")["numerator"] == 0


def test_iu_discharge_in_a_month_without_enrollment_not_counted(wh):
    """IU keeps its card's rule: a discharge counts in the member month it occurs."""
    p = _member(wh, "p", end=D(Y, 5, 31))
    wh.inpatient(p, D(Y, 5, 29), D(Y, 6, 2), ["I509"])
    assert _total(wh.compute(Y, "IU-HH"), "total_discharges")["numerator"] == 0


# --- 6. MDC 14 and payer scope ------------------------------------------------------------------------------------

def test_pqi16_amputation_with_pregnancy_principal_dx_not_in_pqi92(wh):
    a = _member(wh, "a")
    wh.inpatient(a, D(Y, 3, 1), D(Y, 3, 5), ["E1152", "E1152"], px=["0Y620ZZ"])
    b = _member(wh, "b")
    wh.inpatient(b, D(Y, 3, 1), D(Y, 3, 5), ["O24011", "E1152"], px=["0Y620ZZ"])
    assert _total(wh.compute(Y, "PQI92-HH"), "admissions")["numerator"] == 1


def test_pqi_payer_stratum_follows_the_claim_payer(wh):
    p = _member(wh, "p", birth=D(1950, 1, 1))
    wh.enroll(p, D(Y, 1, 1), D(Y, 12, 31), payer="medicare", plan="ffs", payer_type="medicare")
    wh.inpatient(p, D(Y, 3, 1), D(Y, 3, 4), [COPD], payer="medicare")
    rows = wh.compute(Y, "PQI05-AD")
    payers = _stratum(rows, "admissions", "payer")
    assert payers["medicare"][0] == 1 and payers.get("medicaid_ffs", (0, 0))[0] == 0


def test_iu_payer_stratum_follows_the_claim_payer(wh):
    p = _member(wh, "p", birth=D(1950, 1, 1))
    wh.enroll(p, D(Y, 1, 1), D(Y, 6, 30), payer="medicare", plan="ffs", payer_type="medicare")
    wh.inpatient(p, D(Y, 3, 1), D(Y, 3, 4), ["I509"], payer="medicare")
    payers = _stratum(wh.compute(Y, "IU-HH"), "total_discharges", "payer")
    assert payers == {"medicaid_ffs": (0, 12), "medicare": (1, 0)}


def test_pqi_payer_scope_medicaid_paid_drops_medicare_paid_stays_of_duals(wh):
    from measures.options import MeasureOptions

    p = _member(wh, "p", birth=D(1950, 1, 1))
    wh.enroll(p, D(Y, 1, 1), D(Y, 12, 31), payer="medicare", plan="ffs", payer_type="medicare")
    wh.inpatient(p, D(Y, 3, 1), D(Y, 3, 4), [COPD], payer="medicare")
    wh.inpatient(p, D(Y, 8, 1), D(Y, 8, 4), [COPD], payer="medicaid_ffs")
    assert _total(wh.compute(Y, "PQI05-AD"), "admissions")["numerator"] == 2
    scoped = wh.compute(Y, "PQI05-AD", options=MeasureOptions(pqi_payer_scope="medicaid_paid"))
    assert _total(scoped, "admissions")["numerator"] == 1


@pytest.mark.parametrize("how", ["flag", "options_file", "flag_over_file"])
def test_icm_measures_pqi_payer_scope_from_the_command_line(wh, tmp_path, how):
    """`icm measures --pqi-payer-scope medicaid_paid` (or `pqi_payer_scope:` in an --options YAML file; the flag
    wins over the file) drops the dual's Medicare-paid stay, as MeasureOptions does."""
    import json

    from tests.cli.conftest import run_icm

    p = _member(wh, "p", birth=D(1950, 1, 1))
    wh.enroll(p, D(Y, 1, 1), D(Y, 12, 31), payer="medicare", plan="ffs", payer_type="medicare")
    wh.inpatient(p, D(Y, 3, 1), D(Y, 3, 4), [COPD], payer="medicare")
    wh.inpatient(p, D(Y, 8, 1), D(Y, 8, 4), [COPD], payer="medicaid_ffs")
    if wh.engine.dialect.name != "duckdb":
        pytest.skip("the command line is tested on DuckDB")
    wh.engine.dispose()  # the command opens the DuckDB file itself
    options = tmp_path / "options.yaml"
    options.write_text(f"pqi_payer_scope: {'all_payers' if how == 'flag_over_file' else 'medicaid_paid'}\n")
    extra = {"flag": ["--pqi-payer-scope", "medicaid_paid"], "options_file": ["--options", str(options)],
             "flag_over_file": ["--options", str(options), "--pqi-payer-scope", "medicaid_paid"]}[how]
    run = run_icm("measures", "--year", str(Y), "--measure", "PQI05-AD", "--warehouse", wh.url, *extra)
    assert run.code == 0, run.err
    assert _total(json.loads(run.out), "admissions")["numerator"] == 1


def test_payer_scope_option_rejects_an_unknown_value_by_field_name(tmp_path):
    from pydantic import ValidationError

    from measures.options import load_options

    f = tmp_path / "options.yaml"
    f.write_text("pqi_payer_scope: medicare_only\n")
    with pytest.raises(ValidationError, match="pqi_payer_scope"):
        load_options(f)
    f.write_text("pqi_payer_scop: all_payers\n")
    with pytest.raises(ValidationError, match="pqi_payer_scop"):
        load_options(f)


# --- 3. AMB-HH exclusions -----------------------------------------------------------------------------------------

def test_amb_ed_visit_with_same_day_nursing_facility_admission_not_counted(wh):
    p = _member(wh, "p")
    wh.ed(p, D(Y, 4, 1), ["J449"])
    wh.claim(p, D(Y, 4, 1), D(Y, 4, 20), claim_type="institutional", tob="0211", dx=["J449"], admit=D(Y, 4, 1),
             discharge=D(Y, 4, 20), lines=[dict(rev="0022")])
    wh.ed(p, D(Y, 6, 1), ["J449"])
    assert _total(wh.compute(Y, "AMB-HH"), "ed_visits")["numerator"] == 1


def test_amb_psychiatry_on_the_ed_claim_excludes_the_visit(wh):
    p = _member(wh, "p")
    wh.claim(p, D(Y, 4, 1), claim_type="institutional", tob="0131", dx=["R45851"],
             lines=[dict(rev="0450", hcpcs="99283"), dict(rev="0900", hcpcs="90792")])
    assert _total(wh.compute(Y, "AMB-HH"), "ed_visits")["numerator"] == 0


def test_amb_psychiatry_on_another_claim_the_same_day_does_not_exclude_the_visit(wh):
    p = _member(wh, "p")
    wh.ed(p, D(Y, 4, 1), ["R51"])
    wh.visit(p, D(Y, 4, 1), hcpcs="90834", dx=("F329",))
    assert _total(wh.compute(Y, "AMB-HH"), "ed_visits")["numerator"] == 1


def test_amb_card_states_both_exclusion_readings():
    card = get_measures(["AMB-HH"])[0].card["numerator"]
    assert "inpatient stay of any kind" in card and "psychiatry billed on another claim the same day" in card


# --- 4. card statements -------------------------------------------------------------------------------------------

STATIN = "00071015523"


def _statin_member(wh, pid, birth, first_fill):
    _member(wh, pid, birth=birth)
    wh.rx(pid, STATIN, first_fill, days_supply=30)
    wh.rx(pid, STATIN, D(Y, 12, 1), days_supply=30)


def test_pdc_first_fill_on_2_october_is_in_the_denominator(wh):
    _statin_member(wh, "p", D(1970, 1, 1), D(Y, 10, 2))
    assert _total(wh.compute(Y, "PDC-STA"), "adherent")["denominator"] == 1


def test_pdc_first_fill_on_3_october_is_not_in_the_denominator(wh):
    _statin_member(wh, "p", D(1970, 1, 1), D(Y, 10, 3))
    assert _total(wh.compute(Y, "PDC-STA"), "adherent")["denominator"] == 0


def test_pdc_age_18_on_1_january_is_in_the_denominator(wh):
    _statin_member(wh, "p", D(Y - 18, 1, 1), D(Y, 3, 1))
    assert _total(wh.compute(Y, "PDC-STA"), "adherent")["denominator"] == 1


def test_pdc_turning_18_on_2_january_is_not_in_the_denominator(wh):
    _statin_member(wh, "p", D(Y - 18, 1, 2), D(Y, 3, 1))
    assert _total(wh.compute(Y, "PDC-STA"), "adherent")["denominator"] == 0


def test_pdc_card_states_the_91_day_and_age_rules():
    m = get_measures(["PDC-STA"])[0]
    assert "on or before 2 October" in m.card["denominator"] and "counting both days" in m.card["denominator"]
    assert "Age >= 18 on 1 January of MY" in m.card["denominator"] and m.age_rule() == "age on 1 Jan of MY"


def test_pcr_outlier_denominator_applies_age_hospice_and_death_as_the_card_states(wh):
    _member(wh, "adult", birth=D(1980, 1, 1))
    _member(wh, "senior", birth=D(1950, 1, 1))           # 74 on 31 Dec: not an enrollee of the outlier rate
    wh.person("dead", birth=D(1980, 1, 1), death=D(Y, 9, 1))
    wh.enroll("dead", D(Y, 1, 1), D(Y, 9, 1))
    _member(wh, "hospice", birth=D(1980, 1, 1), start=D(Y, 1, 1), end=D(Y, 1, 31))
    wh.enroll("hospice", D(Y, 2, 1), D(Y, 12, 31), hospice=True, plan="hospice")
    r = _total(wh.compute(Y, "PCR-HH"), "outliers")
    assert r["denominator"] == 1
    card = get_measures(["PCR-HH"])[0].card["exclusions"]
    assert "age 18-64 on 31 Dec of MY, not in hospice and not dead in MY" in card


def test_every_card_states_its_age_rule():
    from measures.docs import render
    from measures.registry import all_measures

    text = render()
    for m in all_measures():
        section = text.split(f"### {m.id} ")[1].split("### ")[0]
        assert f"* **Age rule**: {m.age_rule()}" in section, m.id


# --- 5. status on every result ------------------------------------------------------------------------------------

def test_amb_and_pqi92_for_2025_are_not_in_the_ffy2026_health_home_core_set(wh):
    _member(wh, "p", start=D(2025, 1, 1), end=D(2025, 12, 31))
    rows = wh.compute(2025, "AMB-HH", "PQI92-HH", "IU-HH")
    for mid in ("AMB-HH", "PQI92-HH"):
        assert all(r["core_set_status"].startswith("not in the FFY2026 Core Sets") for r in rows
                   if r["measure"] == mid)
    assert _total([r for r in rows if r["measure"] == "IU-HH"], "total_days")["core_set_status"] == \
        "in the FFY2026 Health Home Core Set"


def test_ohd_in_ffy2025_adult_core_set_and_not_in_ffy2026():
    from measures.status import core_set_status

    ohd = get_measures(["OHD-AD"])[0]
    assert core_set_status(ohd, 2024) == "in the FFY2025 Adult Core Set"
    assert core_set_status(ohd, 2025).startswith("not in the FFY2026 Core Sets")
    assert core_set_status(get_measures(["PDC-STA"])[0], 2025).startswith("not a Medicaid Core Set measure")


def test_col_lookback_partial_when_the_warehouse_holds_less_than_nine_prior_years(wh):
    _member(wh, "p", birth=D(1960, 1, 1), start=D(Y - 2, 1, 1))
    r = _total(wh.compute(Y, "COL-HH"), "screened")
    assert r["lookback_status"] == ("partial: needs 9 prior years from 2015-01-01; data from 2022-01-01 "
                                    "(3 of 10 calendar years complete)")


def test_col_lookback_full_with_nine_prior_years(wh):
    _member(wh, "p", birth=D(1960, 1, 1), start=D(Y - 9, 1, 1))
    r = _total(wh.compute(Y, "COL-HH"), "screened")
    assert r["lookback_status"] == "full (9 prior years, from 2015-01-01)"


def test_warnings_name_out_of_set_partial_lookback_and_not_computable():
    from measures.status import warnings

    tot = {"type": "total", "value": "total"}
    rows = [dict(measure="AMB-HH", stratum=tot, status="ok", lookback_status="none needed",
                 core_set_status="not in the FFY2026 Core Sets (was in Health Home FFY2024-FFY2024); computed ..."),
            dict(measure="COL-HH", stratum=tot, status="ok", lookback_status="partial: needs 9 prior years",
                 core_set_status="in the FFY2026 Health Home Core Set"),
            dict(measure="FUH-HH", stratum=tot, status="ok", lookback_status="none needed",
                 core_set_status="in the FFY2026 Health Home Core Set")]
    out = warnings(rows)
    assert len(out) == 2 and out[0].startswith("AMB-HH: not in the FFY2026") and out[1].startswith("COL-HH: partial")


def test_iu_unknown_birth_date_goes_to_the_unknown_age_stratum(wh):
    wh.person("p", birth=None)
    wh.enroll("p", D(Y, 1, 1), D(Y, 12, 31))
    wh.inpatient("p", D(Y, 3, 1), D(Y, 3, 3), ["I509"])
    got = _stratum(wh.compute(Y, "IU-HH"), "total_discharges", "age_band")
    assert got["unknown"] == (1, 12) and got["0-17"] == (0, 0)


# --- 7. coverage: counterparts and the Core Set catalogue -----------------------------------------------------------

def _fuh_people(wh):
    wh.provider("1111111111", mh=True)
    for pid, birth in (("child", D(Y - 10, 1, 1)), ("adult", D(Y - 30, 1, 1)), ("senior", D(Y - 70, 1, 1))):
        _member(wh, pid, birth=birth)
        wh.inpatient(pid, D(Y, 3, 1), D(Y, 3, 5), ["F329"])
    wh.visit("adult", D(Y, 3, 8), npi="1111111111")


def test_fuh_ad_and_fuh_ch_are_fuh_hh_restricted_to_their_ages(wh):
    _fuh_people(wh)
    rows = wh.compute(Y, "FUH-HH", "FUH-AD", "FUH-CH")
    by = {m: _total([r for r in rows if r["measure"] == m], "7_day") for m in ("FUH-HH", "FUH-AD", "FUH-CH")}
    assert [(by[m]["numerator"], by[m]["denominator"]) for m in ("FUH-HH", "FUH-AD", "FUH-CH")] == \
        [(1, 3), (1, 2), (0, 1)]
    assert _stratum([r for r in rows if r["measure"] == "FUH-AD"], "7_day", "age_band") == \
        {"18-64": (1, 1), "65+": (0, 1)}


def test_counterpart_computed_alone_matches_the_copy_from_its_parent(wh):
    _fuh_people(wh)
    alone = _total(wh.compute(Y, "FUH-AD"), "7_day")
    assert (alone["numerator"], alone["denominator"]) == (1, 2)


def test_ffy2026_catalogue_gives_every_unregistered_core_set_measure_a_reason():
    from measures.catalog import FFY2026, missing_rows
    from measures.registry import all_measures

    registered = {m.id for m in all_measures()}
    rows = {r["measure_id"]: r for r in missing_rows(2025, registered)}
    wanted = {mid for ids in FFY2026.values() for mid in ids}
    assert wanted == registered & wanted | set(rows)
    assert rows["CPA-AD"]["status"].startswith("not computable from claims: survey")
    assert rows["WCC-CH"]["status"].startswith("not computable from claims: hybrid")
    assert rows["CIS-CH"]["status"].startswith("not implemented")
    assert rows["CIS-CH"]["core_set_status"] == "in the FFY2026 Child Core Set"
    for computed in ("CCW-AD", "CCP-CH", "BCS-AD", "CCS-AD", "W30-CH", "ADD-CH", "AMR-AD", "AMR-CH", "APM-CH",
                     "APP-CH", "SSD-AD", "PPC2-AD", "PPC2-CH"):
        assert computed in registered and computed not in rows
    assert all(r["status"] != "not implemented" for r in rows.values()), "a Core Set measure without its reason"


def test_chl_not_computable_without_the_licensed_value_sets(wh):
    _member(wh, "p", birth=D(Y - 18, 1, 1))
    r = _total(wh.compute(Y, "CHL-CH"), "screened")
    assert r["status"].startswith("not computable: missing value sets") and "chlamydia_tests" in r["status"]


def test_chl_with_licensed_value_sets_screens_sexually_active_women_by_age(wh, tmp_path):
    (tmp_path / "vsd.csv").write_text(
        "Measure ID,Value Set Name,Value Set OID,Code,Code System\n"
        "CHL,Chlamydia Tests,1,87491,CPT\nCHL,Sexual Activity,2,Z3000,ICD10CM\nCHL,Pregnancy Tests,3,81025,CPT\n"
        "CHL,Contraceptive Medications,4,99999000002,NDC\n")
    for pid, age, sex in (("tested", 18, "F"), ("untested", 20, "F"), ("adult", 22, "F"), ("male", 18, "M"),
                          ("too_old", 25, "F")):
        wh.person(pid, birth=D(Y - age, 6, 1), sex=sex)
        wh.enroll(pid, D(Y, 1, 1), D(Y, 12, 31))
        wh.visit(pid, D(Y, 3, 1), hcpcs="99213", dx=("Z3000",))
    wh.visit("tested", D(Y, 4, 1), hcpcs="87491", dx=("Z113",))
    wh.person("rx_only", birth=D(Y - 17, 6, 1))
    wh.enroll("rx_only", D(Y, 1, 1), D(Y, 12, 31))
    wh.rx("rx_only", "99999000002", D(Y, 2, 1))
    rows = wh.compute(Y, "CHL-CH", "CHL-AD", licensed_dir=str(tmp_path))
    ch = _total([r for r in rows if r["measure"] == "CHL-CH"], "screened")
    ad = _total([r for r in rows if r["measure"] == "CHL-AD"], "screened")
    assert (ch["numerator"], ch["denominator"], ch["status"]) == (1, 3, "ok")
    assert (ad["numerator"], ad["denominator"]) == (0, 1)


def test_wcv_ch_well_care_visit_from_a_licensed_value_set(wh, tmp_path):
    (tmp_path / "vsd.csv").write_text("Measure ID,Value Set Name,Value Set OID,Code,Code System\n"
                                      "WCV,Well-Care,1,99393,CPT\nWCV,Well-Care,1,Z00121,ICD10CM\n")
    for pid, age in (("cpt", 10), ("dx", 15), ("none", 20), ("too_young", 2)):
        _member(wh, pid, birth=D(Y - age, 6, 1))
    wh.visit("cpt", D(Y, 4, 1), hcpcs="99393", dx=("Z0000",))
    wh.visit("dx", D(Y, 4, 1), hcpcs="99213", dx=("Z00121",))
    rows = wh.compute(Y, "WCV-CH", licensed_dir=str(tmp_path))
    r = _total(rows, "well_care_visit")
    assert (r["numerator"], r["denominator"], r["status"]) == (2, 3, "ok")
    assert _stratum(rows, "well_care_visit", "age_band") == {"3-11": (1, 1), "12-17": (1, 1), "18-21": (0, 1)}


def test_dagster_measures_config_carries_and_validates_the_payer_scope():
    from pydantic import ValidationError

    from orchestration.assets.measures import MeasuresConfig

    assert MeasuresConfig().options().pqi_payer_scope == "all_payers"
    assert MeasuresConfig(pqi_payer_scope="medicaid_paid").options().pqi_payer_scope == "medicaid_paid"
    with pytest.raises(ValidationError, match="pqi_payer_scope"):
        MeasuresConfig(pqi_payer_scope="medicare_only").options()
