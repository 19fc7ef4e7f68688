"""The synthetic generator's planted DUR cases (warehouse/synthetic/pharmacy_cases.py): a small generated state is
loaded through the normal pipeline; every planted case fires its rules, its near misses stay quiet, and the
independent pandas reference reproduces every rule's alerted persons on the whole state."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

import pandas as pd

from pharmacy.config import load_rules
from pharmacy.engine import run_dur
from pharmacy.mtm.services import cmr_rate, load_services
from pharmacy.rules import exempt_person_ids
from pharmacy.tables import dur_alert
from warehouse import pipeline
from warehouse.derive import rebuild_final_action, rebuild_member_months
from tests.pharmacy.reference_pandas import reference_alerts
from warehouse.engine import make_engine, upgrade
from warehouse.models import MemberMonth, Person, PharmacyClaimFinal
from warehouse.synthetic import DEFAULT_FIRST_YEAR, DEFAULT_YEARS, generate

YEAR = DEFAULT_FIRST_YEAR + DEFAULT_YEARS - 1


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    root = tmp_path_factory.mktemp("planted")
    summary = generate(root / "landing", members=800, seed=3)
    url = f"duckdb:///{root / 'warehouse.duckdb'}"
    upgrade(url)
    engine = make_engine(url)
    sources = pipeline.discover_landing(root / "landing")
    pipeline.stage_landing(engine, sources, root / "staging.duckdb")
    pipeline.load_staged_batches(engine, sources, root / "staging.duckdb")
    rebuild_final_action(engine)
    rebuild_member_months(engine)
    report = run_dur(engine, YEAR)
    with engine.connect() as conn:
        fired = {(r.rule_id, r.person_id) for r in conn.execute(select(dur_alert.c.rule_id, dur_alert.c.person_id)
                                                                .where(dur_alert.c.year == YEAR))}
        foster_persons = conn.execute(select(func.count(func.distinct(MemberMonth.__table__.c.person_id))).where(
            MemberMonth.__table__.c.eligibility_group == "foster_care")).scalar_one()
    expected = _pandas_reference(engine)
    # the MTM program's service record the generator delivers in the landing folder
    loaded = load_services(engine, root / "landing" / "mtm" / "mtm_services.csv")
    cmr = cmr_rate(engine, YEAR)
    engine.dispose()
    EXTRAS[:] = [summary["mtm_services"], loaded, cmr, foster_persons]
    return summary["pharmacy_cases"], fired, report, expected


EXTRAS: list = []  # (generator's MTM summary, rows loaded, CMR rate, persons with a foster-care month) of the fixture


def _pandas_reference(engine):
    rx, p, mm = PharmacyClaimFinal.__table__, Person.__table__, MemberMonth.__table__
    with engine.connect() as conn:
        fills = pd.DataFrame(conn.execute(select(
            rx.c.claim_id, rx.c.person_id, rx.c.dispensing_date.label("fill_date"), rx.c.ndc_code.label("ndc"),
            rx.c.days_supply, rx.c.quantity, rx.c.prescribing_provider_npi.label("prescriber"),
            rx.c.dispensing_provider_npi.label("pharmacy"))).mappings().all())
        persons = pd.DataFrame(conn.execute(select(p.c.person_id, p.c.birth_date)).mappings().all())
        foster = {(r.person_id, r.month_start) for r in conn.execute(
            select(mm.c.person_id, mm.c.month_start).where(mm.c.eligibility_group == "foster_care"))}
    fills["quantity"] = fills["quantity"].astype(float)
    rules = load_rules()
    exempt = {r.id: exempt_person_ids(engine, YEAR, r.exempt) for r in rules.enabled()}
    return reference_alerts(fills, persons, foster, rules, YEAR, None, exempt)


def test_planted_cases_fire_and_near_misses_do_not(generated):
    cases, fired, _, _ = generated
    assert len(cases) >= 10, [c["case"] for c in cases]
    for c in cases:
        for rule in c["fires"]:
            assert (rule, c["person_id"]) in fired, (c["case"], rule)
        for rule in c["quiet"]:
            assert (rule, c["person_id"]) not in fired, (c["case"], rule)


def test_named_boundaries_are_planted(generated):
    names = {c["case"] for c in generated[0]}
    assert {"mme_90", "mme_89_67", "long_term_15_days", "long_term_14_days", "prescribers_4", "prescribers_3",
            "antipsychotic_age_17", "antipsychotic_age_18", "foster_child_antipsychotic",
            "child_antipsychotic_not_in_foster_care"} <= names


def test_foster_care_children_in_the_demo_state(generated):
    cases, fired, _, _ = generated
    foster_persons = EXTRAS[3]
    assert foster_persons >= 2  # the planted foster child plus the background share
    assert any(rule == "antipsychotic_foster_child" for rule, _ in fired)


def test_generated_mtm_service_record_loads_and_gives_a_cmr_rate(generated):
    summary, loaded, cmr, _ = EXTRAS
    assert summary["enrolled"] > 0 and loaded == summary["enrolled"] + summary["cmr"] + summary["tmr"]
    assert 0 < cmr["numerator"] <= cmr["denominator"] <= summary["enrolled"]


def test_background_rates_fire_beyond_the_planted_cases(generated):
    cases, fired, report, _ = generated
    planted = {c["person_id"] for c in cases}
    background = {(r, p) for r, p in fired if p not in planted}
    # >= 90 MME outside the planted cases is rare at 800 members since the generator's opioid mix was calibrated
    # to the Core Set's OHD rates (warehouse/synthetic/calibration.py); >= 50 MME is the background check
    for rule in ("high_dose_50", "opioid_benzodiazepine", "long_term_opioid"):
        assert any(r == rule for r, _ in background), rule
    assert report["coverage"]["opioid_mme_coverage"] > 0.9


def test_pandas_reference_reproduces_every_alert_count_on_the_generated_state(generated):
    _, fired, report, expected = generated
    for rule_id, persons in expected.items():
        assert {p for r, p in fired if r == rule_id} == persons, rule_id
        assert report["alerts"][rule_id] == len(persons)
