"""Synthea: multi-payer enrollment streams, claims matched to their own payer, SNOMED/RxNorm kept as such."""
from __future__ import annotations

import shutil

import pytest
from sqlalchemy import text

from tests.conftest import FIXTURES
from warehouse.derive import rebuild_final_action, rebuild_member_months
from warehouse.engine import make_engine
from warehouse.formats import discover
from warehouse.loading import load_sources
from warehouse.staging import LoadError


@pytest.fixture
def synthea_warehouse(warehouse_url, tmp_path):
    engine = make_engine(warehouse_url)
    reports = load_sources(engine, discover(shutil.copytree(FIXTURES / "synthea", tmp_path / "s"), "synthea"))
    rebuild_final_action(engine)
    rebuild_member_months(engine)
    return engine, {r.target_table: r for r in reports}


def test_rows_accounted_and_code_systems_kept(synthea_warehouse):
    engine, reports = synthea_warehouse
    assert reports["eligibility"].rows_read == 1051 and reports["medical_claim"].rows_read == 1545
    for r in reports.values():
        assert r.rows_loaded + r.rows_quarantined == r.rows_read
        assert r.rows_loaded > 0.98 * r.rows_read
    with engine.connect() as conn:
        dx = conn.execute(text("SELECT DISTINCT diagnosis_code_type FROM medical_claim")).scalars().all()
        lines = conn.execute(text("SELECT DISTINCT service_code_type FROM medical_claim_line")).scalars().all()
        drugs = conn.execute(text("SELECT DISTINCT drug_code_type FROM pharmacy_claim")).scalars().all()
        first = conn.execute(text("SELECT diagnosis_code_1, claim_type FROM medical_claim "
                                  "WHERE claim_id = '9120543f-28b9-96ae-09eb-d54f6d918234'")).one()
        paid, charged = conn.execute(text("SELECT sum(paid_amount), sum(charge_amount) FROM medical_claim_line")).one()
    assert dx == ["snomed-ct"] and lines == ["snomed-ct"] and drugs == ["rxnorm"]
    assert (first.diagnosis_code_1, first.claim_type) == ("195662009", "institutional")
    assert 0 < paid < charged


def test_person_with_several_payers_has_one_stream_each_and_claims_match_their_payer(synthea_warehouse):
    engine, _ = synthea_warehouse
    with engine.connect() as conn:
        multi = conn.execute(text("SELECT person_id, count(DISTINCT payer) FROM enrollment_span GROUP BY 1 "
                                  "HAVING count(DISTINCT payer) >= 2")).all()
        persons = conn.execute(text("SELECT count(*) FROM person")).scalar_one()
        mismatched = conn.execute(text(
            "SELECT count(*) FROM medical_claim_final c JOIN enrollment_span s ON s.span_id = c.enrollment_span_id "
            "WHERE s.payer <> c.payer OR s.person_id <> c.person_id")).scalar_one()
        matched = conn.execute(text("SELECT count(enrollment_span_id), count(*) FROM medical_claim_final")).one()
        overlapping = conn.execute(text(
            "SELECT count(*) FROM enrollment_span a JOIN enrollment_span b ON a.person_id = b.person_id "
            "AND a.payer = b.payer AND a.span_id < b.span_id AND a.start_date <= b.end_date AND b.start_date <= a.end_date")).scalar_one()
        payer_types = set(conn.execute(text("SELECT DISTINCT payer_type FROM enrollment_span")).scalars())
    assert persons == 27 and len(multi) >= 10
    assert mismatched == 0 and matched[0] == matched[1]
    assert overlapping == 0
    assert {"medicare", "medicaid", "commercial", "uninsured"} <= payer_types


def test_incomplete_export_is_a_clear_error(tmp_path):
    folder = shutil.copytree(FIXTURES / "synthea", tmp_path / "s")
    (folder / "payers.csv").unlink()
    with pytest.raises(LoadError, match="missing payers.csv"):
        discover(folder, "synthea")
