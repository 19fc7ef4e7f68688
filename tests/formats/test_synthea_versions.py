"""Synthea exports of every published shape load (tests/fixtures/synthea_versions/SOURCE.md): no crash, every
row accounted for, spans and claims as each version's columns define them."""
from __future__ import annotations

import csv
import shutil

import pytest
from sqlalchemy import text

from tests.conftest import FIXTURES
from warehouse.engine import make_engine
from warehouse.formats import discover
from warehouse.loading import load_sources

VERSIONS = FIXTURES / "synthea_versions"
PERSON_A = "a0000000-0000-4000-8000-00000000000a"
# person A: Medicaid 2019-2020 then Medicare 2021 in every shape (the end day is the day before the END bound)
EXPECTED_SPANS_A = [("Medicaid", "2019-01-01", "2020-12-31"), ("Medicare", "2021-01-01", "2021-12-31")]


def _load(warehouse_url, folder):
    engine = make_engine(warehouse_url)
    reports = {r.target_table: r for r in load_sources(engine, discover(folder, "synthea"))}
    for r in reports.values():
        assert r.rows_loaded + r.rows_quarantined == r.rows_read
    return engine, reports


def _spans(engine, person):
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT payer, start_date, end_date FROM enrollment_span WHERE person_id = :p "
                                 "ORDER BY start_date"), {"p": person}).all()
    return [(p, str(s), str(e)) for p, s, e in rows]


def _claims(engine):
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT c.claim_id, c.payer, count(*) AS lines, sum(l.paid_amount) AS paid, sum(l.charge_amount) AS charged "
            "FROM medical_claim c JOIN medical_claim_line l ON l.claim_id = c.claim_id AND l.data_source = c.data_source "
            "GROUP BY 1, 2 ORDER BY 1")).all()


@pytest.mark.parametrize("version", ["v2_7", "v3_0_claims_only", "v3_1"])
def test_payer_transition_shapes_give_the_same_spans(warehouse_url, tmp_path, version):
    engine, reports = _load(warehouse_url, shutil.copytree(VERSIONS / version, tmp_path / version))
    assert reports["eligibility"].rows_quarantined == 0
    assert _spans(engine, PERSON_A) == EXPECTED_SPANS_A


def test_v2_7_export_without_claims_loads_enrollment_and_pharmacy(warehouse_url, tmp_path):
    _, reports = _load(warehouse_url, shutil.copytree(VERSIONS / "v2_7", tmp_path / "v"))
    assert set(reports) == {"eligibility", "pharmacy_claim"}
    assert reports["pharmacy_claim"].rows_loaded == 1


def test_claims_without_transactions_load_one_line_per_claim_from_the_encounter(warehouse_url, tmp_path):
    engine, reports = _load(warehouse_url, shutil.copytree(VERSIONS / "v3_0_claims_only", tmp_path / "v"))
    assert reports["medical_claim"].rows_read == 3 and reports["medical_claim"].rows_quarantined == 0
    claims = _claims(engine)
    assert [(c.payer, c.lines, float(c.paid), float(c.charged)) for c in claims] == [
        ("Medicaid", 1, 150.0, 185.55), ("Medicare", 1, 8000.0, 9000.0), ("Medicaid", 1, 136.8, 136.8)]
    with engine.connect() as conn:
        inpatient = conn.execute(text("SELECT admission_date, discharge_date, bill_type_code, diagnosis_code_2 "
                                      "FROM medical_claim WHERE claim_id LIKE 'c%2'")).one()
    assert (str(inpatient[0]), str(inpatient[1]), inpatient[2], inpatient[3]) == ("2021-06-01", "2021-06-04", "0111", "44054006")


def test_claims_with_transactions_paid_equals_the_claims_only_shape(warehouse_url, tmp_path):
    engine, reports = _load(warehouse_url, shutil.copytree(VERSIONS / "v3_1", tmp_path / "v"))
    claims = _claims(engine)
    assert reports["medical_claim"].rows_quarantined == 0
    assert [(c.payer, c.lines, float(c.paid), float(c.charged)) for c in claims] == [
        ("Medicaid", 2, 150.0, 185.55), ("Medicare", 2, 8000.0, 9000.0), ("Medicaid", 1, 136.8, 136.8)]


def test_encounters_without_the_later_columns_take_the_claims_primary_insurance(warehouse_url, tmp_path):
    folder = shutil.copytree(VERSIONS / "v3_0_claims_only", tmp_path / "v")
    early = ["Id", "START", "STOP", "PATIENT", "PROVIDER", "ENCOUNTERCLASS", "CODE", "DESCRIPTION", "COST",
             "REASONCODE", "REASONDESCRIPTION"]
    with open(folder / "encounters.csv", newline="") as fh:
        rows = [dict(r, COST=r["BASE_ENCOUNTER_COST"]) for r in csv.DictReader(fh)]
    with open(folder / "encounters.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, early, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    engine, reports = _load(warehouse_url, folder)
    assert reports["medical_claim"].rows_loaded == 3
    assert [(c.payer, c.lines, float(c.paid)) for c in _claims(engine)] == [
        ("Medicaid", 1, 0.0), ("Medicare", 1, 0.0), ("Medicaid", 1, 0.0)]
