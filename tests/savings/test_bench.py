"""The vectorised sweep agrees with the Decimal engine within a cent and meets the time budget."""
import json

from savings.bench import sweep


def test_sweep_agrees_with_decimal_engine_and_is_fast():
    res = sweep(n_entities=1000, n_params=1000, sample=400, seed=11)
    json.dumps(res)                                   # JSON-able
    assert res["settlements"] == 1_000_000
    assert res["agree_within_cent"] and res["max_abs_diff_fast_vs_decimal"] <= 0.01
    assert res["fast_seconds"] < 10.0
