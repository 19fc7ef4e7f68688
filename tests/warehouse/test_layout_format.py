"""A payer's own layout, described in YAML, is mapped to the canonical layout (dates, scaling, value maps, constants)."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from warehouse.engine import make_engine
from warehouse.formats import discover
from warehouse.formats.layout import load_layout
from warehouse.loading import load_sources
from warehouse.staging import LoadError

LAYOUT = """
layout: test_mco
data_source: mco_test
delimiter: "|"
date_format: "%m/%d/%Y"
files:
  eligibility:
    pattern: "members_*.txt"
    columns:
      person_id: MPI
      member_id: MBR
      gender: {column: SEX, map: {"1": male, "2": female}}
      birth_date: DOB
      enrollment_start_date: EFF
      enrollment_end_date: TERM
      payer: {const: testplan}
      payer_type: {const: medicaid}
  medical_claim:
    pattern: "enc_*.txt"
    columns:
      claim_id: ENC
      claim_line_number: LN
      claim_type: {column: KIND, map: {P: professional, I: institutional}}
      person_id: MPI
      payer: {const: testplan}
      claim_start_date: FROM_DT
      claim_end_date: THRU_DT
      hcpcs_code: PROC
      diagnosis_code_1: DX1
      paid_amount: {column: PAID_CENTS, scale: 0.01}
"""


def test_layout_maps_columns_dates_values_and_cents(warehouse_url, tmp_path):
    (tmp_path / "test_mco.yaml").write_text(LAYOUT)
    (tmp_path / "members_2024.txt").write_text("MPI|MBR|SEX|DOB|EFF|TERM\nP1|B1|2|05/17/1980|01/01/2024|12/31/2024\n")
    (tmp_path / "enc_2024.txt").write_text(
        "ENC|LN|KIND|MPI|FROM_DT|THRU_DT|PROC|DX1|PAID_CENTS\n"
        "E1|1|P|P1|03/02/2024|03/02/2024|99213|F32.9|12345\n"
        "E2|1|P|P1|02/30/2024|03/02/2024|99213|F329|100\n")
    sources = discover(tmp_path, f"layout:{tmp_path / 'test_mco.yaml'}")
    reports = {r.target_table: r for r in load_sources(make_engine(warehouse_url), sources)}
    assert reports["eligibility"].rows_loaded == 1
    assert reports["medical_claim"].rows_loaded == 1
    assert reports["medical_claim"].quarantine_reasons == {"missing or invalid claim_start_date": 1}
    engine = make_engine(warehouse_url)
    with engine.connect() as conn:
        claim = conn.execute(text("SELECT claim_start_date, diagnosis_code_1, paid_amount, payer, data_source "
                                  "FROM medical_claim")).one()
        person = conn.execute(text("SELECT sex, birth_date FROM person")).one()
    assert (str(claim.claim_start_date), claim.diagnosis_code_1, str(claim.paid_amount), claim.payer,
            claim.data_source) == ("2024-03-02", "F329", "123.45", "testplan", "mco_test")
    assert (person.sex, str(person.birth_date)) == ("female", "1980-05-17")


def test_invalid_layout_is_rejected_with_the_field_name(tmp_path):
    (tmp_path / "bad.yaml").write_text(LAYOUT.replace("date_format", "date_fmt"))
    with pytest.raises(LoadError, match="date_fmt"):
        load_layout(str(tmp_path / "bad.yaml"))
    with pytest.raises(LoadError, match="unknown layout"):
        load_layout("no_such_layout")
