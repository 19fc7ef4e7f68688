"""Tuva input-layer releases: version detected from the header, legacy columns mapped (never dropped), every column
accounted for in the load report. Column lists: Tuva's published seeds (tuva-health/tuva_demo seeds at 0e4363b5
for the pre-v0.6 layout; shared/spec/medicaid-feeds.md section 4 for the release history)."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.warehouse.helpers import write_csv
from warehouse import canonical
from warehouse.engine import make_engine
from warehouse.formats import discover
from warehouse.formats.tuva import detect_version
from warehouse.loading import load_sources

# tuva_demo seeds (Tuva v0.4/v0.5 input layer): patient_id, ms_drg_code, no payer/plan on claims
DEMO_MEDICAL = (["claim_id", "claim_line_number", "claim_type", "patient_id", "member_id", "claim_start_date",
                 "claim_end_date", "claim_line_start_date", "claim_line_end_date", "admission_date", "discharge_date",
                 "admit_source_code", "admit_type_code", "discharge_disposition_code", "place_of_service_code",
                 "bill_type_code", "ms_drg_code", "revenue_center_code", "service_unit_quantity", "hcpcs_code"]
                + [f"hcpcs_modifier_{i}" for i in range(1, 6)]
                + ["rendering_npi", "billing_npi", "facility_npi", "paid_date", "paid_amount", "allowed_amount",
                   "charge_amount", "diagnosis_code_type"]
                + [f"diagnosis_code_{i}" for i in range(1, 26)] + [f"diagnosis_poa_{i}" for i in range(1, 26)]
                + ["procedure_code_type"] + [f"procedure_code_{i}" for i in range(1, 26)]
                + [f"procedure_date_{i}" for i in range(1, 26)] + ["data_source"])
DEMO_ELIGIBILITY = ["patient_id", "member_id", "gender", "race", "birth_date", "death_date", "death_flag",
                    "enrollment_start_date", "enrollment_end_date", "payer", "payer_type", "dual_status_code",
                    "medicare_status_code", "first_name", "last_name", "address", "city", "state", "zip_code", "phone",
                    "data_source"]
# v0.6-v0.12 claims: payer/plan added, DRG still split in two columns, file lineage from v0.9
V0_9_MEDICAL = ([c for c in DEMO_MEDICAL if c != "data_source"][:5] + ["payer", "plan"]
                + [c for c in DEMO_MEDICAL if c != "data_source"][5:] + ["apr_drg_code", "in_network_flag",
                                                                         "data_source", "file_name", "ingest_datetime"])


@pytest.mark.parametrize("target, header, version", [
    ("medical_claim", DEMO_MEDICAL, "v0.4-v0.5"),
    ("eligibility", DEMO_ELIGIBILITY, "v0.4-v0.7"),
    ("medical_claim", V0_9_MEDICAL, "v0.9-v0.12"),
    ("medical_claim", ["person_id" if c == "patient_id" else c for c in V0_9_MEDICAL], "v0.13"),
    ("medical_claim", canonical.TUVA_MEDICAL_CLAIM, "v0.14+"),
    ("eligibility", canonical.TUVA_ELIGIBILITY, "v0.17+"),
])
def test_release_is_detected_from_the_header(target, header, version):
    assert detect_version(target, header) == version


def _demo_feed(folder, medical_columns=DEMO_MEDICAL, drg_column="ms_drg_code"):
    claim = {"claim_id": "1405846", "claim_type": "institutional", "patient_id": "10114", "claim_start_date": "2018-01-15",
             "claim_end_date": "2018-01-16", "admission_date": "2018-01-15", "discharge_date": "2018-01-16",
             "discharge_disposition_code": "01", "bill_type_code": "11I", drg_column: "460",
             "diagnosis_code_type": "icd-10-cm", "diagnosis_code_1": "M4316", "data_source": "cclf",
             "file_name": "medical_claim.csv", "ingest_datetime": "2023-05-08 10:00:00"}
    lines = [dict(claim, claim_line_number=str(n), revenue_center_code=rev, paid_amount=paid)
             for n, rev, paid in ((1, "0110", "9000.00"), (2, "0272", "0.00"))]
    write_csv(folder / "medical_claim.csv", medical_columns, [{k: v for k, v in r.items() if k in medical_columns}
                                                              for r in lines])
    write_csv(folder / "eligibility.csv", DEMO_ELIGIBILITY, [
        {"patient_id": "10114", "gender": "female", "race": "white", "birth_date": "1955-03-13", "death_flag": "0",
         "enrollment_start_date": "2018-01-01", "enrollment_end_date": "2018-05-31", "payer": "medicare",
         "payer_type": "medicare", "medicare_status_code": "20", "state": "Vermont", "data_source": "cclf"}])
    return folder


def _load(url, folder, payer="medicare"):
    engine = make_engine(url)
    reports = {r.target_table: r for r in load_sources(engine, discover(folder, "tuva", payer=payer))}
    return engine, reports


def test_pre_v0_6_demo_layout_loads_with_drg_and_patient_id_mapped(warehouse_url, tmp_path):
    engine, reports = _load(warehouse_url, _demo_feed(tmp_path / "demo"))
    medical = reports["medical_claim"]
    assert (medical.rows_loaded, medical.rows_quarantined) == (2, 0)
    assert medical.notes["format_version"] == "Tuva input layer v0.4-v0.5"
    assert medical.notes["columns_mapped"]["patient_id"] == "person_id"
    assert medical.notes["columns_mapped"]["ms_drg_code"] == "drg_code (drg_code_type ms-drg)"
    assert medical.notes["payer_source"] == "--payer"
    assert "drg_code" not in medical.notes["canonical_columns_empty"]
    assert {"payer", "plan"} <= set(medical.notes["canonical_columns_empty"])
    assert reports["eligibility"].notes["columns_ignored"] == ["death_flag", "first_name", "last_name", "address",
                                                               "city", "phone"]
    with engine.connect() as conn:
        row = conn.execute(text("SELECT person_id, drg_code_type, drg_code, bill_type_code FROM medical_claim")).one()
    assert tuple(row) == ("10114", "ms-drg", "460", "11I")


def test_apr_drg_only_maps_to_apr_drg_and_lineage_columns_are_tolerated(warehouse_url, tmp_path):
    columns = [c for c in V0_9_MEDICAL if c != "ms_drg_code"]
    engine, reports = _load(warehouse_url, _demo_feed(tmp_path / "v09", columns, drg_column="apr_drg_code"))
    medical = reports["medical_claim"]
    assert medical.rows_quarantined == 0
    assert medical.notes["columns_mapped"]["apr_drg_code"] == "drg_code (drg_code_type apr-drg)"
    assert medical.notes["columns_ignored"] == ["file_name", "ingest_datetime"]
    assert "payer_source" not in medical.notes
    with engine.connect() as conn:
        assert tuple(conn.execute(text("SELECT drg_code_type, drg_code FROM medical_claim")).one()) == ("apr-drg", "460")


def test_claims_without_payer_and_without_payer_option_say_where_the_payer_came_from(tmp_path):
    sources = discover(_demo_feed(tmp_path / "demo"), "tuva")
    medical = next(s for s in sources if s.target == "medical_claim")
    assert medical.notes["payer_source"].startswith("enrollment (the file has no payer column")
    assert medical.payer_from_enrollment


@pytest.mark.shared_data
def test_published_tuva_ci_seed_reports_its_release_and_no_unknown_column(shared_data):
    sources = discover(shared_data / "tuva" / "synthetic_claims_ci_seed_10pt", "tuva")
    versions = {s.target: s.notes["format_version"] for s in sources}
    assert versions == {"eligibility": "Tuva input layer v0.17+", "medical_claim": "Tuva input layer v0.14+",
                        "pharmacy_claim": "Tuva input layer v0.14+"}
    for source in sources:   # only the columns the warehouse has no field for (lineage, personal identifiers)
        assert set(source.notes["columns_ignored"]) == canonical.NOT_STORED[source.target]
