"""The synthetic generator's planted utilization cases (warehouse/synthetic/utilization_cases.py) on a small
generated state loaded through the normal pipeline: the ED over-utilizers (no extra risk) stay flagged after risk
adjustment, the high-risk panel (sick through conditions CMS-HCC sees) is flagged only by the unadjusted
percentile rule, and the preventive-care under-utilizers are flagged low while comparable panels are not."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from utilization.run import run_year
from utilization.tables import utilization_outlier_flag as FLAG, utilization_unit_metric as UUM
from warehouse.derive import rebuild_final_action, rebuild_member_months
from warehouse.engine import make_engine, upgrade
from warehouse.loading import load_sources
from warehouse.pipeline import discover_landing
from warehouse.synthetic import DEFAULT_FIRST_YEAR, DEFAULT_YEARS, generate

YEAR = DEFAULT_FIRST_YEAR + DEFAULT_YEARS - 1
MEMBERS, SEED = 4000, 42
# the methods that adjust for risk and allow for the peers' overdispersion: what a state would act on
ADJUSTED = ("funnel_additive", "empirical_bayes", "fdr")


@pytest.fixture(scope="module")
def state(tmp_path_factory):
    root = tmp_path_factory.mktemp("util_state")
    cases = generate(root / "landing", members=MEMBERS, seed=SEED)["utilization_cases"]
    url = f"duckdb:///{root / 'warehouse.duckdb'}"
    upgrade(url)
    engine = make_engine(url)
    load_sources(engine, discover_landing(root / "landing"))
    rebuild_final_action(engine)
    rebuild_member_months(engine)
    run_year(engine, YEAR)
    with engine.connect() as conn:
        units = {(r.metric, r.unit_id): r for r in conn.execute(select(UUM).where(
            UUM.c.year == YEAR, UUM.c.unit_type == "billing_npi"))}
        verdicts: dict = {}
        for r in conn.execute(select(FLAG.c.metric, FLAG.c.unit_id, FLAG.c.method, FLAG.c.verdict).where(
                FLAG.c.year == YEAR, FLAG.c.unit_type == "billing_npi")):
            verdicts.setdefault((r.metric, r.unit_id), {})[r.method] = r.verdict
    engine.dispose()
    return cases, units, verdicts


def _sr(units, metric, npi) -> float:
    u = units[(metric, npi)]
    return float(u.observed) / float(u.expected)


def test_generator_reports_every_planted_case(state):
    cases = state[0]
    assert len(cases["over_utilizers"]) == 2 and len(cases["under_utilizers"]) == 2
    npis = [cases["high_risk_panel"]["npi"], *[c["npi"] for c in cases["over_utilizers"] + cases["under_utilizers"]]]
    assert len(set(npis)) == 5
    assert cases["high_risk_panel"]["mean_visible_conditions"] >= 1.5
    assert cases["high_risk_panel"]["mean_generator_risk"] > 1.5 * cases["high_risk_panel"]["population_mean_risk"]


def test_ed_over_utilizers_without_extra_risk_stay_flagged_after_risk_adjustment(state):
    cases, units, verdicts = state
    for case in cases["over_utilizers"]:
        v = verdicts[("ed_visits", case["npi"])]
        assert all(v[m] == "high" for m in ("percentile", "poisson_ci", *ADJUSTED)), (case["npi"], v)
        assert _sr(units, "ed_visits", case["npi"]) > 1.8


def test_high_risk_panel_uses_more_than_its_peers_before_risk_adjustment(state):
    cases, units, verdicts = state
    npi = cases["high_risk_panel"]["npi"]
    rate = {unit: float(u.observed) / u.member_months for (metric, unit), u in units.items() if metric == "ed_visits"}
    others = sorted(r for unit, r in rate.items() if unit != npi)
    assert rate[npi] > others[len(others) // 2] * 1.3     # its raw ED rate is well above the peers' median


def test_risk_adjustment_clears_the_high_risk_panel(state):
    cases, units, verdicts = state
    npi = cases["high_risk_panel"]["npi"]
    v = verdicts[("ed_visits", npi)]
    assert v["percentile"] == "high"          # the unadjusted rule flags it, no other method does
    assert all(v[m] == "within" for m in ("zscore", "poisson_ci", "funnel_multiplicative", *ADJUSTED)), v
    assert 0.8 < _sr(units, "ed_visits", npi) < 1.25


def test_preventive_under_utilizers_flagged_low(state):
    cases, units, verdicts = state
    flagged_with_overdispersion = 0
    for case in cases["under_utilizers"]:
        v = verdicts[("preventive_visits", case["npi"])]
        assert v["percentile"] == "low" and v["poisson_ci"] == "low", (case["npi"], v)
        assert _sr(units, "preventive_visits", case["npi"]) < 0.5
        flagged_with_overdispersion += all(v[m] == "low" for m in ("funnel_additive", "fdr"))
    # panels of ~60 members: the overdispersion-adjusted limits are wide; both are flagged at 20,000 members (README)
    assert flagged_with_overdispersion >= 1


def test_comparable_panels_not_flagged_low_on_preventive_visits(state):
    cases, units, verdicts = state
    under = {c["npi"] for c in cases["under_utilizers"]}
    others = [unit for (metric, unit) in verdicts if metric == "preventive_visits" and unit not in under]
    assert len(others) > 20
    for unit in others:
        v = verdicts[("preventive_visits", unit)]
        assert not any(v[m] == "low" for m in ADJUSTED), (unit, v)
