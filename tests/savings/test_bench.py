"""The vectorised sweep (savings.bench.settle_fast) and the Decimal engine both reproduce hand-computed
settlements; timings belong to `python -m savings.bench`, not to tests."""
from decimal import Decimal

import numpy as np
import pytest

from savings.bench import methodology_for, settle_fast, sweep
from savings.settlement import SettlementInput, settle

# One entity, benchmark $1,000,000, n = 10,000, quality 0.9 (met), under four parameter sets (hand figures from
# the settlement order in savings/README.md):
#   A  5 % savings, fixed 2 % MSR, first dollar, 50 % x 0.9, 2 % sequestration: 50,000 x 0.45 x 0.98 = 22,050
#   B  same, beyond the threshold: (50,000 - 20,000) x 0.45 x 0.98                               = 13,230
#   C  5 % savings, 10 % cap binding at 2 %: 50,000 x 0.45 x 0.98 = 22,050 > 20,000               = 20,000
#   D  3 % losses, two-sided, 50 % loss rate, 5 % limit, half PHE mitigation: 30,000 x 0.5 x 0.5  = -7,500
PARAMS = {"fixed_msr": [True] * 4, "msr_value": [0.02] * 4, "first_dollar": [True, False, True, True],
          "max_rate": [0.5] * 4, "cap": [0.15, 0.15, 0.02, 0.15], "seq": [0.02, 0.02, 0.02, 0.0],
          "two_sided": [False, False, False, True], "loss_rate": [0.5] * 4, "loss_cap": [0.05] * 4,
          "phe": [0.0, 0.0, 0.0, 0.5]}
EXPENDITURE = [950_000, 950_000, 950_000, 1_030_000]
EXPECTED = [Decimal("22050.00"), Decimal("13230.00"), Decimal("20000.00"), Decimal("-7500.00")]


@pytest.mark.parametrize("k", range(4))
def test_fast_path_and_decimal_engine_match_hand_figures(k):
    par = {name: np.array(v) for name, v in PARAMS.items()}
    ent = {"n": np.array([10_000.0]), "bench": np.array([1_000_000.0]), "exp": np.array([float(EXPENDITURE[k])]),
           "q": np.array([0.9]), "met": np.array([True])}
    assert Decimal(str(settle_fast(ent, par)[k, 0])).quantize(Decimal("0.01")) == EXPECTED[k]
    r = settle(methodology_for(par, k), SettlementInput(
        entity_id="e", performance_year=2020, track="x", assigned_beneficiaries=10_000,
        total_benchmark=Decimal(1_000_000), total_expenditure=Decimal(EXPENDITURE[k]),
        quality_score=Decimal("0.9"), met_quality_standard=True))
    assert r.earned == EXPECTED[k]


def test_sweep_reports_the_grid_and_its_sample_difference():
    res = sweep(n_entities=200, n_params=50, sample=100, seed=11)
    assert res["settlements"] == 10_000 and res["decimal_sample"] == 100
    assert res["max_abs_diff_fast_vs_decimal"] <= 0.01
