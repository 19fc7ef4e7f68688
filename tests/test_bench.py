"""`icm bench` end to end on a tiny state: every part reports figures, two sizes report scaling ratios."""
from __future__ import annotations

from icm.bench import run_bench
from measures.registry import all_measures


def test_bench_reports_load_measures_settlement_and_scaling():
    out = run_bench(members="300,600", seed=5, parts="load,measures,settle")
    assert set(out["runs"]) == {"300", "600"}
    for n, run in out["runs"].items():
        load = run["load"]
        assert load["members"] == int(n) and load["claim_lines_loaded_or_quarantined"] > 0
        # timings are the benchmark's output, not something a test can pin; what it measured can be
        assert set(run["measures"]["measures"]) == {m.id for m in all_measures()}, "every measure timed"
        assert run["settlement_warehouse_path"]["settlement_rows"] > 0
    (scaling,) = out["scaling"]
    assert scaling["members"] == [300, 600] and scaling["member_ratio"] == 2.0
    assert {"load_seconds_ratio", "measures_total_seconds_ratio", "settlement_seconds_ratio"} <= set(scaling)
    assert "savings_sweep" not in out


def test_bench_rejects_a_member_count_that_is_not_a_number(capsys):
    import pytest

    from icm.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["bench", "--members", "abc"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "--members" in err and "'abc'" in err and "Traceback" not in err
