"""The comparison-group evaluation of what an ICM entity saved (evaluation.icm) and the shared difference-in-
differences (evaluation.did): checked against a plain 2x2 of weighted means and a cluster-robust sandwich written
here from the textbook formula, a hand-built state with a planted effect for one entity and none for another, and
the synthetic generator's planted entity drifts."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evaluation.did import fit_did
from evaluation.icm import evaluate, match_nearest
from savings.population.config import PopulationConfig
from savings.population.cost import build_cost
from tests.conftest import backends, new_pg_database
from tests.savings_population.scenario import Feed

YEARS = (2023, 2024, 2025)


# --- the shared DiD against an independent computation -------------------------------------------------------------

def _random_panel(seed: int = 5, persons: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(persons):
        treated = i % 3 == 0
        level = rng.normal(100, 20)
        weight_pre, weight_post = rng.integers(6, 13), rng.integers(6, 13)
        rows.append({"person_id": f"P{i}", "treated": int(treated), "post": 0, "y": level + rng.normal(0, 10),
                     "w": float(weight_pre)})
        rows.append({"person_id": f"P{i}", "treated": int(treated), "post": 1,
                     "y": level + 5 - (12 if treated else 0) + rng.normal(0, 10), "w": float(weight_post)})
    return pd.DataFrame(rows)


def _sandwich(panel: pd.DataFrame, weights: np.ndarray) -> tuple[float, float, int]:
    """WLS coefficient of treated:post and its CR1 cluster-robust standard error, from the formulas:
    b = (X'WX)^-1 X'Wy; V = c (X'WX)^-1 [sum_g (X_g' W_g e_g)(X_g' W_g e_g)'] (X'WX)^-1, c = G/(G-1) (N-1)/(N-K)."""
    x = np.column_stack([np.ones(len(panel)), panel.treated, panel.post, panel.treated * panel.post]).astype(float)
    y = panel.y.to_numpy(float)
    xtwx_inv = np.linalg.inv(x.T @ (x * weights[:, None]))
    b = xtwx_inv @ (x.T @ (weights * y))
    e = y - x @ b
    groups = pd.factorize(panel.person_id)[0]
    meat = np.zeros((4, 4))
    for g in np.unique(groups):
        s = groups == g
        u = x[s].T @ (weights[s] * e[s])
        meat += np.outer(u, u)
    n, k, g = len(panel), 4, len(np.unique(groups))
    v = g / (g - 1) * (n - 1) / (n - k) * xtwx_inv @ meat @ xtwx_inv
    return float(b[3]), float(np.sqrt(v[3, 3])), g


@pytest.mark.parametrize("weighted", [False, True])
def test_did_equals_the_weighted_2x2_and_the_textbook_cluster_sandwich(weighted):
    panel = _random_panel()
    w = panel.w.to_numpy(float) if weighted else np.ones(len(panel))
    got = fit_did(panel, "y", weights="w" if weighted else None)

    def mean(t, p):
        s = (panel.treated == t) & (panel.post == p)
        return np.average(panel.y[s], weights=w[s])
    two_by_two = (mean(1, 1) - mean(1, 0)) - (mean(0, 1) - mean(0, 0))
    b, se, g = _sandwich(panel, w)
    assert got["estimate"] == pytest.approx(two_by_two, abs=1e-4) == pytest.approx(b, abs=1e-4)
    # the interval is b -/+ z(0.975) x se (the normal approximation of a clustered statsmodels fit)
    half = stats.norm.ppf(0.975) * se
    assert g == 60
    assert got["ci_low"] == pytest.approx(b - half, abs=1e-3)
    assert got["ci_high"] == pytest.approx(b + half, abs=1e-3)
    assert got["significant"] is (not got["ci_low"] <= 0 <= got["ci_high"])


def test_did_without_variation_reports_no_interval():
    panel = _random_panel().assign(y=3.0)
    assert fit_did(panel, "y") == {"estimate": 0.0, "ci_low": None, "ci_high": None, "p_value": None,
                                   "significant": False, "note": "no variation in this outcome"}
    same_change = _random_panel().assign(y=lambda p: p.person_id.str[1:].astype(float) + p.post)
    got = fit_did(same_change, "y")
    assert got["ci_low"] is None and not got["significant"] and got["note"].startswith("no variation in the within")


def test_matching_takes_the_nearest_within_stratum_and_caliper():
    logit = np.array([0.0, 0.1, 0.5, 0.12, 0.9, 0.0])
    treated = np.array([True, False, False, False, False, True])
    stratum = np.array(["a", "a", "a", "b", "a", "b"])
    weight, matched = match_nearest(logit, treated, stratum, caliper=0.2, k=2)
    # row 0 (a): only row 1 is within 0.2 -> weight 1; row 5 (b): row 3 (0.12) -> weight 1; rows 2 and 4 unused
    assert weight.tolist() == [0, 1, 0, 1, 0, 0]
    assert matched.tolist() == [True, False, False, False, False, True]
    weight, matched = match_nearest(logit, treated, stratum, caliper=0.05, k=2)
    assert not matched.any() and not weight.any()


# --- a hand-built state with a planted effect -----------------------------------------------------------------------

PLANTED = -0.30          # entity E1's cost in 2025 relative to what it would have been; E2: no effect


def _planted_state(feed: Feed) -> None:
    """200 Medicaid enrollees 2023-2025: 40 on entity E1's roster, 40 on E2's, 120 in no ICM. One professional
    claim per quarter; a person's level varies, costs trend 3 % a year for everyone, E1's 2025 claims cost 30 %
    less. A third of the persons have an ED visit in a given year (no effect planted on ED visits)."""
    for i in range(200):
        person = f"P{i:03d}"
        entity = "E1" if i < 40 else "E2" if i < 80 else None
        roster = {"icm_program_id": "ICM1", "icm_entity_id": entity} if entity else {}
        feed.member(person, start="2023-01-01", end="2025-12-31", birth=f"{1950 + i % 40}-03-01",
                    gender="female" if i % 2 else "male", eligibility_group="adult" if i % 4 else "disabled",
                    **roster)
        level = 90 + 7 * (i % 9) + 3 * (i % 5)
        for y in YEARS:
            factor = 1.03 ** (y - 2023) * (1 + PLANTED if (entity == "E1" and y == 2025) else 1)
            for q in range(4):
                noise = ((i * 37 + y * 11 + q * 5) % 13) - 6
                feed.claim(person, f"{y}-{3 * q + 2:02d}-10", f"{(level + noise) * 3 * factor:.2f}")
            if (i + y) % 3 == 0:
                feed.claim(person, f"{y}-06-20", "150.00", hcpcs_code="99283", place_of_service_code="23")


@pytest.fixture(scope="module", params=backends())
def planted(request, tmp_path_factory):
    """The planted state, loaded once per backend (the last test using it changes its roster)."""
    from warehouse.engine import upgrade

    folder = tmp_path_factory.mktemp(f"planted_{request.param}")
    url = f"duckdb:///{folder / 'warehouse.duckdb'}" if request.param == "duckdb" else new_pg_database()
    upgrade(url)
    feed = Feed(folder)
    feed.program("ICM1")
    for e in ("E1", "E2"):
        feed.entity(e, program_id="ICM1")
    _planted_state(feed)
    engine = feed.load(url)
    cfg = PopulationConfig(program_id="ICM1", payer_scope=["medicaid"])
    for y in YEARS:
        build_cost(engine, cfg, y)
    yield engine, cfg
    engine.dispose()


def test_planted_effect_is_recovered_and_no_effect_is_reported_where_none_was_planted(planted):
    engine, cfg = planted
    result = evaluate(engine, cfg, 2025)
    assert result["assignment"].startswith("roster")
    by = {e["entity_id"]: e for e in result["entities"]}
    assert set(by) == {"E1", "E2"}
    e1, e2 = by["E1"], by["E2"]
    assert (e1["treated"], e1["comparison_pool"]) == (40, 120)
    assert e1["treated_matched"] + e1["treated_unmatched"] == 40 and e1["treated_matched"] >= 35   # 0.2 SD caliper
    cost1 = e1["outcomes"]["pmpm_total"]
    assert cost1["significant"] and cost1["ci_high"] < 0
    assert cost1["relative"]["ci_low"] <= PLANTED <= cost1["relative"]["ci_high"]
    assert cost1["relative"]["estimate"] == pytest.approx(PLANTED, abs=0.03)
    assert "pmpm_total" in e1["verdict"]
    cost2 = e2["outcomes"]["pmpm_total"]
    assert not cost2["significant"] and cost2["ci_low"] <= 0 <= cost2["ci_high"]
    assert e2["verdict"].startswith("no statistically significant effect")
    for e in (e1, e2):
        assert not e["outcomes"]["ed_visits_per_1000"]["significant"]      # nothing planted on ED visits
        assert e["parallel_trends"]["holds"]                               # 2023 -> 2024: no difference
        assert abs(e["regression_to_mean"]["expected_drift_matched"]) < 0.1 * abs(cost1["estimate"])


def _methodology_file(tmp_path) -> str:
    import yaml

    path = tmp_path / "icm1.yaml"
    path.write_text(yaml.safe_dump({"methodology": {"id": "icm1", "program_id": "ICM1",
                                                    "payer_scope": ["medicaid"]}}))
    return str(path)


def test_icm_evaluate_prints_the_did_per_entity_and_refuses_an_unsettled_year(planted, tmp_path, capsys):
    import json

    from icm.cli import main

    engine, _ = planted
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()              # the command opens the warehouse read-only (DuckDB refuses beside a writer)
    method = _methodology_file(tmp_path)
    assert main(["evaluate", "--year", "2025", "--methodology", method, "--entity", "E1", "--warehouse", url]) == 0
    out = json.loads(capsys.readouterr().out)
    (e1,) = out["entities"]
    assert e1["entity_id"] == "E1" and e1["outcomes"]["pmpm_total"]["significant"]
    assert out["method"].startswith("comparison-group difference-in-differences")
    assert main(["evaluate", "--year", "2023", "--methodology", method, "--warehouse", url]) == 2   # no 2022 cost
    err = capsys.readouterr().err.strip()
    assert err == ("icm: error: --year 2023: no cost_person_month rows for 2022; settle the year first "
                   "(`icm settle --methodology ... --year 2023`)")


def test_evaluation_asset_reports_aggregates_only(planted, tmp_path):
    import dagster as dg

    from orchestration.assets.savings import EVALUATION_KEY, evaluation
    from orchestration.resources import WarehouseResource

    engine, _ = planted
    url = engine.url.render_as_string(hide_password=False)
    with dg.instance_for_test() as instance:
        result = dg.materialize([evaluation], partition_key="2025", instance=instance, selection=[EVALUATION_KEY],
                                resources={"warehouse": WarehouseResource(url=url)},
                                run_config={"ops": {"savings__evaluation": {"config": {
                                    "methodology": _methodology_file(tmp_path), "population": None}}}})
    meta = result.asset_materializations_for_node("savings__evaluation")[0].metadata
    assert meta["entities_with_significant_cost_effect"].value == 1          # E1 only
    table = meta["evaluation"].value
    assert "| E1 |" in table and "| E2 |" in table and "P0" not in table    # no person ids in the metadata


# --- the synthetic generator's planted entity drifts -----------------------------------------------------------------

def test_generated_state_entity_drifts_lie_in_their_intervals(synthetic_engine):
    """The generator calibrates each ACO entity's 2025 PMPM to its planted drift relative to the non-ACO enrollees
    of the same payer x eligibility group x dual status (codes.ACO_ENTITIES; 2023 and 2024 equal). At 1,500 members
    an entity has 40-85 matched enrollees, so the intervals are wide (about +-50 % of PMPM): every planted drift
    (-11 % to +9 %) must lie inside its entity's interval, the near-zero drifts of E03 (-0.5 %) and E04 (+1 %) must
    not be reported as significant, and the 2023 -> 2024 placebo must hold (nothing was planted before 2025)."""
    from pathlib import Path

    from warehouse.synthetic.codes import ACO_ENTITIES

    demo = Path(__file__).resolve().parents[2] / "savings" / "population" / "methodologies"
    cfg = PopulationConfig.from_any(str(demo / "aco-demo-population.yaml"))
    cfg = cfg.model_copy(update={"cost": cfg.cost.model_copy(update={"completion_factor": 1})})   # raw costs
    for y in YEARS:
        build_cost(synthetic_engine, cfg, y)
    result = evaluate(synthetic_engine, cfg, 2025)
    assert result["assignment"].startswith("roster")
    by = {e["entity_id"]: e for e in result["entities"]}
    assert set(by) == {e[0] for e in ACO_ENTITIES}
    for entity_id, _, _, drift in ACO_ENTITIES:
        e = by[entity_id]
        relative = e["outcomes"]["pmpm_total"]["relative"]
        assert e["treated_matched"] >= 30, entity_id
        assert relative["ci_low"] <= drift <= relative["ci_high"], (entity_id, relative)
        assert e["parallel_trends"]["holds"], entity_id
    for entity_id in ("ACO-1-E03", "ACO-1-E04"):
        assert not by[entity_id]["outcomes"]["pmpm_total"]["significant"]


def test_without_a_roster_the_prior_year_attribution_assigns_entities(planted):
    """(Last in the module: it clears the planted state's roster.)"""
    from sqlalchemy import insert, update

    from savings.work_tables import attribution
    from warehouse import models

    engine, cfg = planted
    mm = models.MemberMonth.__table__
    with engine.begin() as conn:
        conn.execute(update(mm).values(icm_program_id=None, icm_entity_id=None))
        conn.execute(insert(attribution), [
            {"year": 2024, "program_id": "ICM1", "person_id": f"P{i:03d}", "month_start": pd.Timestamp(2024, m, 1).date(),
             "payer": "medicaid", "entity_id": "E1", "method": "roster", "reason": "test"}
            for i in range(40) for m in (1, 2)])
    result = evaluate(engine, cfg, 2025)
    assert result["assignment"].startswith("attribution")
    (e1,) = result["entities"]
    assert e1["entity_id"] == "E1" and e1["treated"] == 40 and e1["outcomes"]["pmpm_total"]["significant"]
