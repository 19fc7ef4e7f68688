"""Bad files give a clear one-line error or a full quarantine; a failed load leaves the warehouse as it was."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from tests.conftest import FIXTURES, REPO
from tests.warehouse.helpers import MEDICAL_COLUMNS, eligibility_row, medical_row, write_csv, write_feed
from warehouse import models
from warehouse.engine import make_engine, upgrade
from warehouse.formats import discover
from warehouse.loading import load_sources

ICM = str(Path(sys.executable).parent / "icm")
CORE = ("person", "enrollment_span", "medical_claim", "medical_claim_line", "pharmacy_claim", "load_batch", "quarantine")


def counts(url: str) -> dict:
    engine = make_engine(url)
    with engine.connect() as conn:
        out = {t: conn.execute(select(func.count()).select_from(models.metadata.tables[t])).scalar_one() for t in CORE}
    engine.dispose()
    return out


def run_icm(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([ICM, *args], capture_output=True, text=True, cwd=REPO, env={**os.environ, **(env or {})},
                          timeout=300)


def _bad_file_cases(tmp: Path) -> dict[str, tuple[Path, str]]:
    header = ",".join(MEDICAL_COLUMNS)
    cases = {
        "zero_bytes": (b"", "file is empty (0 bytes)"),
        "header_only": ((header + "\n").encode(), "has a header but no data rows"),
        "wrong_columns": (b"foo,bar,baz\n1,2,3\n", "missing required column(s) for medical_claim"),
        "binary_garbage": (bytes(range(256)) * 40, "binary content"),
        "wrong_encoding_header": ("claim_id,claim_line_number,clâim_type\n1,1,x\n".encode("latin-1"), "not UTF-8"),
    }
    out = {}
    for name, (content, message) in cases.items():
        folder = tmp / name
        folder.mkdir(parents=True)
        (folder / "medical_claim.csv").write_bytes(content)
        out[name] = (folder, message)
    return out


@pytest.mark.parametrize("case", ["zero_bytes", "header_only", "wrong_columns", "binary_garbage", "wrong_encoding_header"])
def test_unloadable_file_gives_one_line_error_and_leaves_warehouse_unchanged(case, tmp_path, empty_warehouse_url):
    folder, message = _bad_file_cases(tmp_path)[case]
    upgrade(empty_warehouse_url)
    before = counts(empty_warehouse_url)
    proc = run_icm("load", "--format", "tuva", str(folder), "--warehouse", empty_warehouse_url)
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.strip().splitlines() if ln.startswith("icm: error")]
    assert len(lines) == 1 and message in lines[0] and "medical_claim.csv" in lines[0]
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert counts(empty_warehouse_url) == before


@pytest.mark.parametrize("case", ["garbage", "truncated"])
def test_unreadable_parquet_gives_one_line_error(case, tmp_path, empty_warehouse_url):
    import duckdb

    folder = tmp_path / case
    folder.mkdir()
    path = folder / "medical_claim.parquet"
    if case == "garbage":
        path.write_bytes(b"PAR1" + bytes(range(256)) * 8)
    else:
        write_feed(tmp_path / "feed", medical=[medical_row(f"C{i}", 1) for i in range(50)])
        duckdb.execute(f"COPY (SELECT * FROM read_csv('{tmp_path / 'feed' / 'medical_claim.csv'}')) TO '{path}' (FORMAT parquet)")
        path.write_bytes(path.read_bytes()[:-100])          # the footer is gone
    upgrade(empty_warehouse_url)
    before = counts(empty_warehouse_url)
    proc = run_icm("load", "--format", "tuva", str(folder), "--warehouse", empty_warehouse_url)
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.strip().splitlines() if ln.startswith("icm: error")]
    assert len(lines) == 1 and "medical_claim.parquet" in lines[0] and "Parquet" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert counts(empty_warehouse_url) == before


def test_truncated_file_and_bad_encoding_in_rows_are_quarantined_not_dropped(warehouse_url, tmp_path):
    folder = write_feed(tmp_path / "feed", eligibility=[eligibility_row("P1")],
                        medical=[medical_row(f"C{i}", 1) for i in range(5)])
    path = folder / "medical_claim.csv"
    data = path.read_bytes()
    lines = data.split(b"\n")
    lines[2] = lines[2].replace(b"I10", b"I1\xe9")          # a latin-1 byte inside a data row
    truncated = b"\n".join(lines).rstrip(b"\n")
    truncated = truncated[: len(truncated) - 40]             # cut the last row mid-way
    path.write_bytes(truncated)
    engine = make_engine(warehouse_url)
    report = {r.target_table: r for r in load_sources(engine, discover(folder, "tuva"))}["medical_claim"]
    assert report.rows_read == 5
    assert report.rows_loaded + report.rows_quarantined == 5
    assert report.rows_quarantined == 2
    assert any("malformed CSV row" in r for r in report.quarantine_reasons)


@pytest.mark.parametrize("fault", ["after_rules", "after_insert", "before_commit"])
def test_exception_mid_load_leaves_warehouse_as_before(warehouse_url, tmp_path, monkeypatch, fault):
    folder = shutil.copytree(FIXTURES / "tuva", tmp_path / "tuva")
    engine = make_engine(warehouse_url)
    sources = discover(folder, "tuva")
    load_sources(engine, [s for s in sources if s.target == "eligibility"])
    before = counts(warehouse_url)
    monkeypatch.setenv("ICM_FAULT", fault)
    with pytest.raises(RuntimeError, match="injected fault"):
        load_sources(engine, [s for s in sources if s.target == "medical_claim"])
    assert counts(warehouse_url) == before
    monkeypatch.delenv("ICM_FAULT")
    report = load_sources(engine, [s for s in sources if s.target == "medical_claim"])[0]
    assert report.status == "loaded"          # the failed batch left no trace, so it loads now


def test_killed_process_mid_load_leaves_warehouse_as_before(warehouse_url, tmp_path):
    folder = shutil.copytree(FIXTURES / "tuva", tmp_path / "tuva")
    (folder / "pharmacy_claim.csv").unlink()
    proc = run_icm("load", "--format", "tuva", str(folder), "--warehouse", warehouse_url, "--no-derive",
                   env={"ICM_FAULT": "kill:before_commit"})
    assert proc.returncode == -9                   # SIGKILL inside the first batch's transaction
    assert counts(warehouse_url) == {t: 0 for t in CORE}
    proc = run_icm("load", "--format", "tuva", str(folder), "--warehouse", warehouse_url)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert [f["status"] for f in report["files"]] == ["loaded", "loaded"]


def test_cli_load_prints_json_report_with_batch_ids(tmp_path):
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    proc = run_icm("load", "--format", "tuva", str(FIXTURES / "tuva"), "--warehouse", url)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    files = {Path(f["file"]).name: f for f in report["files"]}
    assert set(files) == {"eligibility.csv", "medical_claim.csv", "pharmacy_claim.csv"}
    for f in files.values():
        assert f["rows_read"] == f["rows_loaded"] + f["rows_quarantined"]
        assert sum(f["quarantine_reasons"].values()) == f["rows_quarantined"]
        assert len(f["batch_id"]) == 24
    assert report["derived_rows"]["member_month"] > 0


# --- property: every input row ends up loaded or quarantined with a reason ------------------------------

MUTATIONS = {
    "none": lambda r: r,
    "bad_date": lambda r: {**r, "claim_start_date": "2024-02-31"},
    "bad_dx": lambda r: {**r, "diagnosis_code_1": "Q"},
    "blank_id": lambda r: {**r, "claim_id": ""},
    "bad_amount": lambda r: {**r, "paid_amount": "ten"},
    "unknown_person": lambda r: {**r, "person_id": "NOBODY"},
    "end_before_start": lambda r: {**r, "claim_end_date": "2023-12-31"},
    "comma_in_text": lambda r: {**r, "admit_source_code": "a,b"},
    "bad_hcpcs": lambda r: {**r, "hcpcs_code": "12"},
}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=st.lists(st.tuples(st.sampled_from(sorted(MUTATIONS)), st.integers(1, 3), st.booleans()),
                     min_size=1, max_size=25))
def test_every_row_is_loaded_or_quarantined_with_a_reason(tmp_path_factory, plan):
    folder = tmp_path_factory.mktemp("prop")
    rows = []
    for i, (mutation, n_lines, duplicate) in enumerate(plan):
        for line in range(1, n_lines + 1):
            row = MUTATIONS[mutation](medical_row(f"C{i}", line, "P1", start="2024-03-01"))
            rows.append(row)
            if duplicate and line == 1:
                rows.append(dict(row))
    write_feed(folder, eligibility=[eligibility_row("P1")], medical=rows)
    url = f"duckdb:///{folder / 'w.duckdb'}"
    upgrade(url)
    engine = make_engine(url)
    report = {r.target_table: r for r in load_sources(engine, discover(folder, "tuva"))}["medical_claim"]
    with engine.connect() as conn:
        quarantined = conn.execute(text("SELECT row_number, reason FROM quarantine WHERE target_table = 'medical_claim'")).all()
        loaded = conn.execute(text("SELECT count(*) FROM medical_claim_line")).scalar_one()
    engine.dispose()
    assert report.rows_read == len(rows)
    assert loaded + len(quarantined) == len(rows)
    assert all(reason for _, reason in quarantined)
    assert len({n for n, _ in quarantined}) == len(quarantined)          # one quarantine row per input row
    assert all(1 <= n <= len(rows) for n, _ in quarantined)
