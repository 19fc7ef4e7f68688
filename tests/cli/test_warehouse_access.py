"""Read-only use (issue 21 item 11) and a second process on the same DuckDB file (issue 24 item 7)."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import run_icm

ICM = str(Path(sys.executable).parent / "icm")
HOLD = ("import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == 'ro'); "
        "print('holding', flush=True); sys.stdin.readline()")


class Holder:
    """Another process holding the DuckDB file open (read-only or for writing) until released."""

    def __init__(self, path: Path, mode: str):
        self.proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path), mode], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "holding"

    def release(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.write("\n")
            self.proc.stdin.flush()
            self.proc.wait(timeout=60)


@pytest.fixture
def holder():
    held: list[Holder] = []
    yield lambda path, mode: held.append(Holder(path, mode)) or held[-1]
    for h in held:
        h.release()


def _sha(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


@pytest.fixture
def measured_warehouse(warehouse_copy) -> Path:
    """The loaded warehouse with FUH-HH computed for 2017 (enough for an export)."""
    assert run_icm("measures", "--year", "2017", "--measure", "FUH-HH", "--warehouse",
                   f"duckdb:///{warehouse_copy}").code == 0
    return warehouse_copy


def test_reading_commands_work_while_another_process_reads(measured_warehouse, holder, tmp_path):
    """A second reader excludes writers: export, measures --stored and settle --stored open read-only, so they run
    beside it, and leave the file as it was."""
    url = f"duckdb:///{measured_warehouse}"
    before = _sha(measured_warehouse)
    holder(measured_warehouse, "ro")
    export = run_icm("export", "--year", "2017", "--warehouse", url, "--out", str(tmp_path / "x"))
    assert export.code == 0, export.err
    assert json.loads(export.out)["files"]["qmr_measures"]["rows"] > 0
    stored = run_icm("measures", "--year", "2017", "--measure", "FUH-HH", "--stored", "--warehouse", url)
    assert stored.code == 0, stored.err
    assert {r["measure"] for r in json.loads(stored.out)} == {"FUH-HH"}
    settled = run_icm("settle", "--stored", "--year", "2017", "--warehouse", url)
    assert settled.code == 2 and "no stored settlement" in settled.err, settled.err
    writing = run_icm("measures", "--year", "2017", "--measure", "FUH-HH", "--lock-timeout", "0", "--warehouse", url)
    assert writing.code == 2 and "in use by another process" in writing.err, writing.err
    assert _sha(measured_warehouse) == before


def test_second_writer_is_refused_with_one_line_after_the_timeout(warehouse_copy, holder):
    held = holder(warehouse_copy, "rw")
    result = run_icm("measures", "--year", "2017", "--lock-timeout", "0", "--warehouse", f"duckdb:///{warehouse_copy}")
    lines = result.err.strip().splitlines()
    assert result.code == 2 and len(lines) == 1, result.err
    assert f"in use by another process (process {held.proc.pid})" in lines[0] and "--lock-timeout" in lines[0]
    assert "IOException" not in result.err and "Conflicting lock" not in result.err


def test_second_writer_waits_for_the_lock_then_runs(warehouse_copy, holder):
    """Two processes: `icm migrate` says it waits while another process writes, and runs once it is released."""
    held = holder(warehouse_copy, "rw")
    proc = subprocess.Popen([ICM, "migrate", "--warehouse", f"duckdb:///{warehouse_copy}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**__import__("os").environ, "ICM_LOCK_TIMEOUT": "120"})
    waiting = proc.stderr.readline()
    assert "in use by another process" in waiting and "waiting up to 120 s" in waiting
    held.release()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert out.startswith("warehouse at head:")


def test_schema_behind_says_run_migrate_and_migrate_fixes_it(warehouse_copy):
    from warehouse.engine import downgrade

    url = f"duckdb:///{warehouse_copy}"
    downgrade(url, "0005")
    before = _sha(warehouse_copy)
    result = run_icm("export", "--year", "2017", "--warehouse", url)
    assert result.code == 2 and "is at 0005" in result.err and "run `icm migrate`" in result.err
    assert _sha(warehouse_copy) == before, "a reading command never migrates"
    assert run_icm("migrate", "--warehouse", url).code == 0
    assert run_icm("measures", "--year", "2017", "--measure", "FUH-HH", "--warehouse", url).code == 0


def test_load_reports_the_seconds_of_each_stage(loaded_warehouse):
    report = json.loads((loaded_warehouse.parent / "load_report.json").read_text())
    assert list(report["stage_seconds"]) == ["find files", "check files", "migrate", "load", "derive"]
    assert report["derived_rows"]["member_month"] > 0
