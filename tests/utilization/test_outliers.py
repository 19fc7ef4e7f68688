"""Which methods flag the planted outliers, and that risk adjustment clears the sick panel (scenario.py)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from sqlalchemy import select

from tests.utilization.scenario import OVER, PRACTICES, SICK, UNDER
from utilization.config import OutlierConfig, UtilizationConfig
from utilization.outliers import METHODS, garwood_interval, gamma_prior, judge_group, overdispersion
from utilization.tables import utilization_outlier_flag as FLAG, utilization_unit_metric as UUM

RISK_ADJUSTED = ("poisson_ci", "funnel_multiplicative", "funnel_additive", "empirical_bayes", "fdr")


def verdicts(engine, npi, metric="ed_visits"):
    with engine.connect() as conn:
        rows = conn.execute(select(FLAG.c.method, FLAG.c.verdict).where(
            FLAG.c.unit_type == "billing_npi", FLAG.c.unit_id == npi, FLAG.c.metric == metric)).all()
    return dict(rows)


def test_every_method_records_a_verdict_with_its_threshold(planted_engine):
    with planted_engine.connect() as conn:
        rows = conn.execute(select(FLAG).where(FLAG.c.unit_type == "billing_npi", FLAG.c.metric == "ed_visits")).all()
    assert len(rows) == len(PRACTICES) * len(METHODS)
    assert all(r.threshold for r in rows if r.verdict != "not_assessable")


def test_over_utilizer_flagged_high_by_the_risk_adjusted_methods_and_percentile(planted_engine):
    v = verdicts(planted_engine, OVER)
    assert {m: v[m] for m in RISK_ADJUSTED + ("percentile",)} == dict.fromkeys(RISK_ADJUSTED + ("percentile",), "high")


def test_zscore_misses_the_over_utilizer_because_outliers_inflate_the_peer_sd(planted_engine):
    # a finding, not a wish: true SR 2.5, but the planted outliers widen the peer SD so z stays just under 3
    assert verdicts(planted_engine, OVER)["zscore"] == "within"


def test_under_utilizer_flagged_low(planted_engine):
    v = verdicts(planted_engine, UNDER)
    assert {m: v[m] for m in RISK_ADJUSTED + ("percentile",)} == dict.fromkeys(RISK_ADJUSTED + ("percentile",), "low")


def test_percentile_rule_without_risk_adjustment_flags_the_sick_panel(planted_engine):
    assert verdicts(planted_engine, SICK)["percentile"] == "high"


def test_risk_adjustment_removes_the_false_flag_from_the_sick_panel(planted_engine):
    v = verdicts(planted_engine, SICK)
    assert {m: v[m] for m in RISK_ADJUSTED + ("zscore",)} == dict.fromkeys(RISK_ADJUSTED + ("zscore",), "within")
    with planted_engine.connect() as conn:
        o, e = conn.execute(select(UUM.c.observed, UUM.c.expected).where(
            UUM.c.unit_type == "billing_npi", UUM.c.unit_id == SICK, UUM.c.metric == "ed_visits")).one()
    assert float(o) == pytest.approx(float(e))   # its panel is all high-risk: the norm for high-risk members


def test_ordinary_panels_are_not_flagged_by_the_risk_adjusted_methods(planted_engine):
    for npi in PRACTICES[3:]:
        v = verdicts(planted_engine, npi)
        assert all(v[m] == "within" for m in RISK_ADJUSTED), (npi, v)


def _unit(i, observed, expected, member_months=480, metric="ed_visits"):
    return dict(year=2025, unit_type="billing_npi", unit_id=f"N{i}", metric=metric, peer_group="g",
                member_months=member_months, observed=observed, expected=expected, rate=observed / member_months * 1000)


def test_peer_group_too_small_is_not_assessable_never_flagged():
    units = [_unit(i, 60 if i == 0 else 20, 20.0) for i in range(4)]
    rows = judge_group(units, OutlierConfig(min_peers=5))
    assert {r["verdict"] for r in rows} == {"not_assessable"}
    assert "4 assessable units" in rows[0]["detail"]


def test_unit_below_minimum_exposure_is_not_assessable_never_flagged():
    units = [_unit(i, 20, 20.0) for i in range(6)] + [_unit(9, 40, 4.0, member_months=100)]
    rows = [r for r in judge_group(units, OutlierConfig()) if r["unit_id"] == "N9"]
    assert {r["verdict"] for r in rows} == {"not_assessable"}
    assert "member_months 100 < minimum 120" in rows[0]["detail"]


def test_expected_4_99_is_not_assessable_5_is():
    base = [_unit(i, 20, 20.0) for i in range(6)]
    below = judge_group(base + [_unit(9, 30, 4.99)], OutlierConfig())
    at = judge_group(base + [_unit(9, 30, 5.0)], OutlierConfig())
    assert {r["verdict"] for r in below if r["unit_id"] == "N9"} == {"not_assessable"}
    assert "not_assessable" not in {r["verdict"] for r in at if r["unit_id"] == "N9"}


def test_dollar_metrics_judged_only_by_percentile_and_zscore():
    units = [_unit(i, 1000.0 + i, 1000.0, metric="paid_ed") for i in range(6)]
    rows = judge_group(units, OutlierConfig())
    judged = {r["method"] for r in rows if r["verdict"] != "not_assessable"}
    assert judged == {"percentile", "zscore"}


def test_garwood_interval_matches_published_values():
    # exact Poisson 95 % limits tabulated for O = 0 and O = 10 (e.g. Ulm 1990 / Breslow & Day table)
    assert garwood_interval(0, 0.95) == pytest.approx((0.0, 3.689), abs=1e-3)
    assert garwood_interval(10, 0.95) == pytest.approx((4.795, 18.390), abs=1e-3)


def test_overdispersion_matches_a_hand_computation():
    o = np.array([10.0, 20.0, 30.0, 50.0])
    e = np.array([20.0, 20.0, 20.0, 20.0])
    phi, tau2, s = overdispersion(o, e, winsor=0.0)
    z = (np.sqrt(o / e) - 1) * 2 * math.sqrt(20)
    assert phi == pytest.approx(float(np.mean(z ** 2)))
    w = np.full(4, 80.0)
    assert tau2 == pytest.approx((4 * phi - 3) / (w.sum() - (w ** 2).sum() / w.sum()))


def test_gamma_prior_mean_is_pooled_ratio():
    o = np.array([10.0, 20.0, 30.0, 50.0])
    e = np.array([20.0, 20.0, 20.0, 20.0])
    a, b = gamma_prior(o, e)
    assert a / b == pytest.approx(o.sum() / e.sum())


def test_bad_config_names_its_field():
    with pytest.raises(ValueError, match="percentile_low"):
        UtilizationConfig.load({"outliers": {"percentile_low": 0.9, "percentile_high": 0.8}})
    with pytest.raises(ValueError, match="unknown_key"):
        UtilizationConfig.load({"outliers": {"unknown_key": 1}})
