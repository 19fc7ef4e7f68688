"""Fixtures of the CLI tests: one small loaded DuckDB warehouse per session, and a helper that runs `icm`
in-process and captures its exit code and output."""
from __future__ import annotations

import contextlib
import io
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@dataclass
class Run:
    code: int
    out: str
    err: str


def run_icm(*argv: str) -> Run:
    """`icm ARGV` through icm.cli.main in this process (a usage error exits through SystemExit)."""
    from icm.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 2
    return Run(code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="session")
def loaded_warehouse(tmp_path_factory) -> Path:
    """The Tuva fixture (2016-2018 enrollment) loaded into a DuckDB file; tests copy it before they write."""
    path = tmp_path_factory.mktemp("loaded") / "warehouse.duckdb"
    result = run_icm("load", "--format", "tuva", str(FIXTURES / "tuva"), "--warehouse", f"duckdb:///{path}")
    assert result.code == 0, result.err
    (path.parent / "load_report.json").write_text(result.out)
    return path


@pytest.fixture
def warehouse_copy(loaded_warehouse, tmp_path) -> Path:
    path = tmp_path / "copy" / "warehouse.duckdb"
    path.parent.mkdir()
    shutil.copy(loaded_warehouse, path)
    return path
