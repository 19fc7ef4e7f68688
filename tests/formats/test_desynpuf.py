"""DE-SynPUF (ICD-9 era, Medicare FFS): beneficiary years become spans, segments and carrier line groups lines."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from tests.conftest import FIXTURES, REPO
from warehouse.derive import rebuild_final_action, rebuild_member_months
from warehouse.engine import make_engine
from warehouse.formats import discover
from warehouse.loading import load_sources


def _load(url, folder):
    engine = make_engine(url)
    reports = load_sources(engine, discover(folder, "desynpuf"))
    rebuild_final_action(engine)
    rebuild_member_months(engine)
    return engine, reports


def test_all_five_file_types_load_with_rows_accounted(warehouse_url, tmp_path):
    folder = shutil.copytree(FIXTURES / "desynpuf", tmp_path / "d")
    engine, reports = _load(warehouse_url, folder)
    assert len(reports) == 8
    for r in reports:
        assert r.rows_loaded + r.rows_quarantined == r.rows_read
    with engine.connect() as conn:
        spans = conn.execute(text("SELECT person_id, start_date, end_date, payer, medicare_status_code "
                                  "FROM enrollment_span ORDER BY person_id, start_date")).all()
        dx = conn.execute(text("SELECT diagnosis_code_type, diagnosis_code_1, bill_type_code, drg_code FROM medical_claim "
                               "WHERE claim_id = '744651196200598'")).one()
        carrier_lines = conn.execute(text("SELECT claim_line_number, hcpcs_code, paid_amount FROM medical_claim_line "
                                          "WHERE claim_id = '436463304724170' ORDER BY 1")).all()
        rx = conn.execute(text("SELECT ndc_code, days_supply FROM pharmacy_claim ORDER BY claim_id")).all()
        mm = conn.execute(text("SELECT count(*) FROM member_month")).scalar_one()
    assert len(spans) == 6 and {s.payer for s in spans} == {"medicare"}
    first = spans[0]
    assert (str(first.start_date), str(first.end_date)) == ("2008-01-01", "2008-12-31")
    assert first.medicare_status_code == "10"          # born 1920: aged, no ESRD in 2008
    assert (dx.diagnosis_code_type, dx.diagnosis_code_1, dx.bill_type_code, dx.drg_code) == ("icd-9-cm", "71537", "0111", "494")
    # the carrier claim's three line groups became three lines with their own amounts
    assert [(r.claim_line_number, r.hcpcs_code, str(r.paid_amount)) for r in carrier_lines] == \
        [(1, "99337", "50.00"), (2, "90775", "10.00"), (3, "17003", "20.00")]
    assert ("61392018345", 30) in [(r.ndc_code, r.days_supply) for r in rx]
    assert mm == 6 * 12


def test_cli_loads_desynpuf_and_prints_json(tmp_path):
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    proc = subprocess.run([str(Path(sys.executable).parent / "icm"), "load", "--format", "desynpuf",
                           str(FIXTURES / "desynpuf"), "--warehouse", url], capture_output=True, text=True,
                          cwd=REPO, timeout=300, env=os.environ.copy())
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert {f["target_table"] for f in report["files"]} == {"eligibility", "medical_claim", "pharmacy_claim"}
    assert all(f["rows_read"] == f["rows_loaded"] + f["rows_quarantined"] for f in report["files"])


def test_icd9_era_measures_report_not_computable(warehouse_url, tmp_path):
    from measures.engine import compute

    engine, _ = _load(warehouse_url, shutil.copytree(FIXTURES / "desynpuf", tmp_path / "d"))
    rows = compute(engine, 2009, ["FUH-HH"])
    assert rows and all("coding era" in r["status"] for r in rows)


def test_ten_thousand_bene_sample(shared_data, tmp_path):
    folder = shared_data / "de_synpuf" / "milwaukeedata_10k_bene_subsets" / "sample_1"
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    from warehouse.engine import upgrade

    upgrade(url)
    engine, reports = _load(url, folder)
    assert sum(r.rows_read for r in reports if r.target_table == "medical_claim") == 5775
    for r in reports:
        assert r.rows_loaded + r.rows_quarantined == r.rows_read
        assert r.rows_loaded > 0.9 * r.rows_read


def test_zero_coverage_bene_years_give_no_span_and_are_not_quarantined(warehouse_url, tmp_path):
    """Beneficiary years with 0 Part A and 0 Part B months (death, loss of entitlement) are counted as no coverage."""
    folder = shutil.copytree(FIXTURES / "desynpuf", tmp_path / "d")
    bene = folder / "DE1_0_2010_Beneficiary_Summary_File_Sample_0.csv"
    lines = bene.read_text().splitlines()
    fields = lines[1].split(",")
    extra = []
    for person, months, death in (("00000000ZERO0001", ("0", "0"), ""), ("00000000ZERO0002", ("0", "0"), "20091130"),
                                  ("00000000PART0003", ("0", "7"), "")):
        row = list(fields)
        row[0], (row[8], row[9]), row[2] = person, months, death
        extra.append(",".join(row))
    bene.write_text("\n".join(lines + extra) + "\n")
    engine, reports = _load(warehouse_url, folder)
    report = next(r for r in reports if r.file == str(bene))
    assert report.notes["no_coverage"] == 2
    assert report.notes["format_version"] == "CMS DE-SynPUF DE1.0, 2010, sample 0"
    assert report.rows_read == len(lines) - 1 + 1 and report.rows_quarantined == 0
    with engine.connect() as conn:
        spans = conn.execute(text("SELECT person_id, start_date, end_date FROM enrollment_span "
                                  "WHERE person_id LIKE '00000000%' ORDER BY 1")).all()
        quarantined = conn.execute(text("SELECT count(*) FROM quarantine WHERE reason LIKE 'enrollment_end_date%'")).scalar_one()
    assert [(p, str(s), str(e)) for p, s, e in spans] == [("00000000PART0003", "2010-01-01", "2010-07-31")]
    assert quarantined == 0


def test_beneficiary_file_without_a_coverage_column_is_one_line_naming_it(tmp_path):
    """Found by `make fuzz` (drop_header_name on the beneficiary file): a missing column the mapping uses gave
    DuckDB's binder error; now one line, exit 2, naming the file and the column, and nothing is written."""
    folder = tmp_path / "desynpuf"
    shutil.copytree(FIXTURES / "desynpuf", folder)
    bene = next(folder.glob("*Beneficiary*"))
    header, rest = bene.read_text().split("\n", 1)
    bene.write_text(header.replace('"BENE_HI_CVRAGE_TOT_MONS"', '"X"').replace("BENE_HI_CVRAGE_TOT_MONS", "X")
                    + "\n" + rest)
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    proc = subprocess.run([str(Path(sys.executable).parent / "icm"), "load", "--format", "desynpuf", str(folder),
                           "--warehouse", url], capture_output=True, text=True, cwd=REPO, timeout=300,
                          env=os.environ.copy())
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "BENE_HI_CVRAGE_TOT_MONS" in lines[0] and bene.name in lines[0], proc.stderr
    assert "Binder" not in proc.stderr
