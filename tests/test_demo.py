"""`icm demo` end to end on a small synthetic state: every layer materializes, checks pass, reruns change nothing."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

from exports import verify_export
from icm.demo import demo_measurement_year

from tests.conftest import REPO


def _demo(home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "ICM_HOME": str(home)}
    env.pop("WAREHOUSE_URL", None)
    return subprocess.run([str(Path(sys.executable).parent / "icm"), "demo", "--members", "1500", "--seed", "3"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=900)


def test_demo_runs_twice_with_same_result(tmp_path):
    home = tmp_path / ".icm"
    first = _demo(home)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "demo (OK)" in first.stdout and "checks" in first.stdout
    db = home / "warehouse.duckdb"
    with duckdb.connect(str(db), read_only=True) as con:
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("person", "medical_claim_line", "pharmacy_claim", "member_month", "load_batch", "quarantine")}
        reasons = con.execute("SELECT count(DISTINCT reason) FROM quarantine").fetchone()[0]
        payers = con.execute("SELECT count(DISTINCT payer) FROM enrollment_span").fetchone()[0]
        multi = con.execute("SELECT count(*) FROM (SELECT person_id FROM enrollment_span GROUP BY person_id "
                            "HAVING count(DISTINCT payer) > 1)").fetchone()[0]
        unreconciled = con.execute("SELECT count(*) FROM load_batch WHERE rows_read <> rows_loaded + rows_quarantined").fetchone()[0]
        formats = {r[0] for r in con.execute("SELECT DISTINCT file_format FROM load_batch").fetchall()}
    assert all(n > 0 for n in counts.values()), counts
    assert reasons >= 5                       # the dirty rows exercise several quarantine rules
    assert payers >= 5 and multi > 0          # multi-payer, with people in two payers
    assert unreconciled == 0
    assert any(f.startswith("layout:") for f in formats)   # one feed needed the mapping step
    exports = home / "exports" / str(demo_measurement_year())
    manifest = json.loads((exports / "manifest.json").read_text())
    assert manifest["files"]["qmr_measures"]["rows"] > 100 and manifest["files"]["settlement_statements"]["rows"] > 0
    assert manifest["files"]["qmr_measures"]["suppressed_rows"] > 0   # a small state has small cells
    assert verify_export(exports, demo_measurement_year()) == []
    assert "CMS-facing exports" in first.stdout
    stages = json.loads((home / "demo_summary.json").read_text())["stage_seconds"]
    assert {"generate", "migrate", "ingest_job", "measures_job"} <= set(stages)   # timings in the report
    assert "seconds per stage: generate" in first.stdout                          # and printed at the end
    from measures.registry import all_measures

    measure_seconds = json.loads((home / "demo_summary.json").read_text())["measure_seconds"]
    assert set(measure_seconds) == {m.id for m in all_measures()}                 # one timing per measure
    assert "slowest of" in first.stdout
    second = _demo(home)
    assert second.returncode == 0, second.stderr[-3000:]
    with duckdb.connect(str(db), read_only=True) as con:
        again = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in counts}
    assert again == counts
