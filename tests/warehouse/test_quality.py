"""GX suites run inside the database (DuckDB through the buffered adapter, PostgreSQL natively) and fail on bad data."""
from __future__ import annotations

import shutil

import duckdb
import pytest
from sqlalchemy import create_engine, text

from tests.conftest import FIXTURES
from warehouse.derive import rebuild_final_action, rebuild_member_months
from warehouse.engine import make_engine
from warehouse.formats import discover
from warehouse.loading import load_sources
from warehouse.quality import SUITES, run_suite, validate_table


@pytest.fixture
def loaded_url(warehouse_url, tmp_path):
    engine = make_engine(warehouse_url)
    load_sources(engine, discover(shutil.copytree(FIXTURES / "tuva", tmp_path / "tuva"), "tuva"))
    rebuild_final_action(engine)
    rebuild_member_months(engine)
    engine.dispose()
    return warehouse_url


def test_buffered_duckdb_adapter_lets_gx_fetch_results(tmp_path):
    import great_expectations as gx

    path = tmp_path / "a.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE t AS SELECT range AS x, CASE WHEN range = 7 THEN NULL ELSE 'v' END AS y FROM range(100)")
    outcome = validate_table(f"duckdb:///{path}", "t", [
        gx.expectations.ExpectColumnValuesToNotBeNull(column="y"),
        gx.expectations.ExpectColumnValuesToBeBetween(column="x", min_value=0, max_value=99),
        gx.expectations.ExpectTableRowCountToEqual(value=100)])
    assert outcome.evaluated == 3
    assert outcome.failed == ["expect_column_values_to_not_be_null(y)"]
    assert outcome.counts["expect_column_values_to_not_be_null(y)"] == 1


def test_all_suites_pass_on_a_clean_load(loaded_url):
    for suite in SUITES:
        outcome = run_suite(loaded_url, suite)
        assert outcome.passed, (suite, outcome.failed, outcome.examples)
        assert outcome.evaluated >= 3


def _execute(url, sql):
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(sql))
    engine.dispose()


def test_overlapping_spans_fail_the_enrollment_suite(loaded_url):
    _execute(loaded_url, "INSERT INTO enrollment_span (span_id, person_id, member_id, data_source, payer, plan, payer_type, "
                         "start_date, end_date) SELECT span_id || '-dup', person_id, member_id, data_source, payer, plan, "
                         "payer_type, start_date, end_date FROM enrollment_span WHERE span_id = (SELECT min(span_id) FROM enrollment_span)")
    outcome = run_suite(loaded_url, "enrollment")
    assert not outcome.passed
    assert "enrollment spans of one payer do not overlap" in outcome.failed


def test_claim_of_unknown_person_and_reconciliation_gap_fail(loaded_url):
    _execute(loaded_url, "UPDATE medical_claim SET person_id = 'GHOST' WHERE claim_id = (SELECT min(claim_id) FROM medical_claim)")
    assert "every claim's person exists" in run_suite(loaded_url, "medical_claim").failed
    _execute(loaded_url, "UPDATE load_batch SET rows_loaded = rows_loaded - 1 WHERE target_table = 'pharmacy_claim'")
    failed = run_suite(loaded_url, "load_reconciliation").failed
    assert "rows in = rows loaded + rows quarantined, for every batch" in failed


def test_format_checks_catch_bad_codes_in_both_dialects(loaded_url):
    _execute(loaded_url, "UPDATE medical_claim_line SET revenue_center_code = '45' WHERE claim_line_number = 1")
    outcome = run_suite(loaded_url, "medical_claim_line")
    assert any(f.startswith("revenue_center_code matches") for f in outcome.failed)
