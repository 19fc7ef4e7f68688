"""Small builders of canonical (Tuva-layout) CSV files for loader tests."""
from __future__ import annotations

import csv
from pathlib import Path

from warehouse import canonical

MEDICAL_COLUMNS = canonical.TUVA_MEDICAL_CLAIM + list(canonical.EXTRA_MEDICAL_COLUMNS)
PHARMACY_COLUMNS = canonical.TUVA_PHARMACY_CLAIM + list(canonical.EXTRA_PHARMACY_COLUMNS)
ELIGIBILITY_COLUMNS = canonical.TUVA_ELIGIBILITY + list(canonical.EXTRA_ELIGIBILITY_COLUMNS)


def eligibility_row(person="P1", payer="medicaid", start="2024-01-01", end="2024-12-31", **kw) -> dict:
    row = {"person_id": person, "member_id": kw.pop("member_id", f"M-{payer}-{person}"), "payer": payer,
           "plan": kw.pop("plan", payer), "payer_type": kw.pop("payer_type", "medicaid"),
           "enrollment_start_date": start, "enrollment_end_date": end, "gender": "female",
           "birth_date": "1980-05-17", "data_source": kw.pop("data_source", "test_feed")}
    row.update(kw)
    return row


def medical_row(claim="C1", line=1, person="P1", payer="medicaid", start="2024-03-01", **kw) -> dict:
    row = {"claim_id": claim, "claim_line_number": line, "claim_type": kw.pop("claim_type", "professional"),
           "person_id": person, "member_id": kw.pop("member_id", f"M-{payer}-{person}"), "payer": payer,
           "plan": kw.pop("plan", payer), "claim_start_date": start, "claim_end_date": kw.pop("end", start),
           "hcpcs_code": kw.pop("hcpcs_code", "99213"), "place_of_service_code": "11",
           "diagnosis_code_type": "icd-10-cm", "diagnosis_code_1": kw.pop("dx", "I10"),
           "paid_amount": kw.pop("paid", "100.00"), "allowed_amount": kw.pop("allowed", "120.00"),
           "data_source": kw.pop("data_source", "test_feed")}
    row.update(kw)
    return row


def pharmacy_row(claim="R1", line=1, person="P1", payer="medicaid", date="2024-03-05", **kw) -> dict:
    row = {"claim_id": claim, "claim_line_number": line, "person_id": person,
           "member_id": kw.pop("member_id", f"M-{payer}-{person}"), "payer": payer, "plan": payer,
           "dispensing_date": date, "ndc_code": kw.pop("ndc", "00093104801"), "days_supply": "30",
           "quantity": "60", "paid_amount": kw.pop("paid", "12.50"), "data_source": kw.pop("data_source", "test_feed")}
    row.update(kw)
    return row


def write_csv(path: Path, columns: list[str], rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="raise")
        writer.writeheader()
        for r in rows:
            writer.writerow({c: r.get(c, "") for c in columns})
    return path


def write_feed(folder: Path, eligibility=(), medical=(), pharmacy=()) -> Path:
    if eligibility:
        write_csv(folder / "eligibility.csv", ELIGIBILITY_COLUMNS, list(eligibility))
    if medical:
        write_csv(folder / "medical_claim.csv", MEDICAL_COLUMNS, list(medical))
    if pharmacy:
        write_csv(folder / "pharmacy_claim.csv", PHARMACY_COLUMNS, list(pharmacy))
    return folder
