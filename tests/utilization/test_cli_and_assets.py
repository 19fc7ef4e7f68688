"""The commands and the Dagster assets call the same functions; bad input gives one line and exit code 2."""
from __future__ import annotations

import json

import pytest

from icm.cli import main


def _run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_utilization_sample_no_utilization_feedback(planted_url, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ICM_HOME", str(tmp_path))
    code, out, _ = _run(capsys, "utilization", "--year", "2025", "--warehouse", planted_url)
    assert code == 0 and json.loads(out)["unit_metrics"]["unit_metrics"] > 0
    code, out, _ = _run(capsys, "sample", "--month", "2025-03", "--warehouse", planted_url)
    assert code == 0 and json.loads(out)["sampled"] == 500
    assert (tmp_path / "utilization" / "verification_sample_2025-03.csv").exists()
    code, out, _ = _run(capsys, "sample", "--month", "2025-03", "--report", "--warehouse", planted_url)
    assert code == 0 and json.loads(out)["sampled"] == 500
    code, out, _ = _run(capsys, "no-utilization", "--year", "2025", "--warehouse", planted_url)
    assert code == 0 and json.loads(out)["enrollees"] == 0
    code, out, _ = _run(capsys, "feedback", "--year", "2025", "--out", str(tmp_path / "fb"), "--warehouse", planted_url)
    assert code == 0 and json.loads(out)["pages"] == 14


@pytest.mark.parametrize("argv, message", [
    (("sample", "--month", "2025-13"), "month must be YYYY-MM"),
    (("feedback", "--year", "2019", "--out", "x"), "no enrollment in 2019"),
])
def test_cli_user_errors_are_one_line_exit_2(planted_url, capsys, argv, message):
    code, _, err = _run(capsys, *argv, "--warehouse", planted_url)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_cli_bad_config_names_the_field(planted_url, tmp_path, capsys):
    cfg = tmp_path / "u.yaml"
    cfg.write_text("outliers:\n  fdr_q: 2\n")
    code, _, err = _run(capsys, "utilization", "--year", "2025", "--config", str(cfg), "--warehouse", planted_url)
    assert code == 2 and "outliers.fdr_q" in err


def test_profiles_asset_materializes_with_passing_gx_check(planted_url, tmp_path, monkeypatch):
    import dagster as dg

    from orchestration.assets.utilization import profiles, verification_sample
    from orchestration.resources import WarehouseResource

    monkeypatch.setenv("ICM_HOME", str(tmp_path))
    resources = {"warehouse": WarehouseResource(url=planted_url)}
    result = dg.materialize([profiles], partition_key="2025", resources=resources)
    assert result.success
    checks = result.get_asset_check_evaluations()
    assert checks and all(c.passed for c in checks)
    result = dg.materialize([verification_sample], partition_key="2025-03-01", resources=resources)
    assert result.success and all(c.passed for c in result.get_asset_check_evaluations())


def test_bench_part_reports_each_step_and_the_ratio_to_the_measure_suite(planted_url):
    from utilization.bench import run

    out = run(planted_url, 2025, measure_suite_seconds=10.0)
    assert set(out["seconds"]) == {"person_months", "unit_metrics", "outliers", "verification_sample",
                                   "no_utilization"}
    assert out["ratio_to_measure_suite"] == round(out["total_seconds"] / 10.0, 2)
    assert out["figures"]["person_months"]["person_months"] == 14 * 40 * 12
