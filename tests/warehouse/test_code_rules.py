"""Code rules as the code systems define them: valid codes that look unusual pass, invalid ones still fail.

Sources: NUBC UB-04 type of bill (facility type, bill classification, frequency code; frequency codes include
letters, e.g. I/G of the 1xx series' adjustment codes in CMS claims), NUBC revenue codes (4 digits, 0001 total),
CMS place-of-service code set (2 digits), CDC/NCHS ICD-10-CM (U07.1, U09.9 emergency codes), CPT category II/III
and HCPCS level II (5 characters), FDA NDC 4-4-2 / 5-3-2 / 5-4-1 to NDC-11.
Staging only (no warehouse): each row is its own claim, the reason is read back per claim.
"""
from __future__ import annotations

import json

import pytest

from tests.warehouse.helpers import MEDICAL_COLUMNS, PHARMACY_COLUMNS, medical_row, pharmacy_row, write_csv
from warehouse.staging import SourceFile, stage_file


def _stage(tmp_path, target, rows, field="claim_id"):
    """(claim_id -> quarantine reason, claim_id -> staged value of `field`) for one staged file."""
    columns = MEDICAL_COLUMNS if target == "medical_claim" else PHARMACY_COLUMNS
    path = write_csv(tmp_path / f"{target}.csv", columns, rows)
    staged = stage_file(SourceFile(path=path, target=target, file_format="tuva", data_source="t"))
    try:
        reasons = {json.loads(raw)["claim_id"]: reason for reason, raw in
                   staged.con.execute("SELECT reason, _raw FROM quarantined").fetchall()}
        values = dict(staged.con.execute(f"SELECT claim_id, {field} FROM {staged.table}").fetchall())
    finally:
        staged.con.close()
    return reasons, values


def _assert_rule(tmp_path, field, reason, valid, invalid):
    """Each code is its own claim: the valid ones pass, each invalid one is quarantined with `reason`."""
    codes = valid + invalid
    rows = [medical_row(claim=f"C{i}", claim_type="institutional", **{field: code}) for i, code in enumerate(codes)]
    reasons, _ = _stage(tmp_path, "medical_claim", rows)
    verdicts = {code: reasons.get(f"C{i}") for i, code in enumerate(codes)}
    assert {c: verdicts[c] for c in valid} == {c: None for c in valid}
    assert {c: verdicts[c] for c in invalid} == {c: reason for c in invalid}


def _stage_medical_values(tmp_path, field, codes):
    rows = [medical_row(claim=f"C{i}", **{field: code}) for i, code in enumerate(codes)]
    reasons, values = _stage(tmp_path, "medical_claim", rows, field)
    assert reasons == {}
    return [values[f"C{i}"] for i in range(len(codes))]


def test_type_of_bill_with_alphanumeric_frequency_codes_is_valid(tmp_path):
    _assert_rule(tmp_path, "bill_type_code", "malformed bill_type_code",
                 valid=["13I", "13G", "11I", "0131", "0111", "111", "0327", "081A", "0210"],
                 invalid=["11", "00111", "0011", "1A1", "1311", "0X11"])


def test_revenue_codes_from_0001_to_3999_are_valid(tmp_path):
    _assert_rule(tmp_path, "revenue_center_code", "malformed revenue_center_code",
                 valid=["0001", "450", "0450", "3101", "0999", "1000"],
                 invalid=["45A0", "04500", "R450"])


def test_place_of_service_one_digit_is_padded_and_two_digits_are_valid(tmp_path):
    _assert_rule(tmp_path, "place_of_service_code", "malformed place_of_service_code",
                 valid=["1", "02", "99", "11"],
                 invalid=["1A", "111", "O2"])


def test_hcpcs_category_ii_iii_level_ii_and_cdt_codes_are_valid(tmp_path):
    _assert_rule(tmp_path, "hcpcs_code", "malformed hcpcs_code",
                 valid=["99213", "0042T", "1036F", "G0008", "J3490", "D0120", "U0003", "g0008"],
                 invalid=["9921", "99213X", "G00O8", "0042-T"])


def test_icd10cm_emergency_u_codes_are_valid(tmp_path):
    _assert_rule(tmp_path, "dx", "malformed diagnosis_code_1",
                 valid=["U07.1", "U071", "U09.9", "Z20.822", "S72.001A", "A00"],
                 invalid=["1234", "U0712345", "I1"])


def test_drg_and_discharge_status_are_padded_not_quarantined(tmp_path):
    # MS-DRG / APR-DRG are 3 digits and patient discharge status 2 digits; there is no format rule, only padding
    assert _stage_medical_values(tmp_path, "drg_code", ["70", "001", "720"]) == ["070", "001", "720"]
    assert _stage_medical_values(tmp_path, "discharge_disposition_code", ["1", "30", "06"]) == ["01", "30", "06"]


def test_hcpcs_modifiers_are_kept_upper_case_without_a_format_rule(tmp_path):
    assert _stage_medical_values(tmp_path, "hcpcs_modifier_1", ["25", "gt", "XU", "95"]) == ["25", "GT", "XU", "95"]


def test_ndc_hyphenated_forms_become_ndc11_and_ambiguous_ten_digits_fail(tmp_path):
    valid = {"0002-1433-80": "00002143380", "50090-123-01": "50090012301", "12345-6789-1": "12345678901",
             "00093104801": "00093104801"}
    invalid = ["0002143380", "1234567890123", "0002-1433-8"]
    rows = [pharmacy_row(claim=f"R{i}", ndc=c) for i, c in enumerate([*valid, *invalid])]
    reasons, values = _stage(tmp_path, "pharmacy_claim", rows, "ndc_code")
    assert [values[f"R{i}"] for i in range(len(valid))] == list(valid.values())
    assert [reasons.get(f"R{len(valid) + i}") for i in range(len(invalid))] == \
        ["malformed ndc_code (expected NDC-11)"] * len(invalid)
