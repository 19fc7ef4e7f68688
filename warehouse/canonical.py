"""The canonical input layout: the Tuva Project input layer plus optional ICM columns.

Files already mapped for Tuva (`medical_claim`, `pharmacy_claim`, `eligibility`) load unchanged.
Columns marked EXTRA are ours; every EXTRA column is optional and has a documented default.
"""
from __future__ import annotations

from warehouse.models import N_DIAGNOSES, N_MODIFIERS, N_PROCEDURES

TUVA_MEDICAL_CLAIM = (
    ["claim_id", "claim_line_number", "claim_type", "person_id", "member_id", "payer", "plan",
     "claim_start_date", "claim_end_date", "claim_line_start_date", "claim_line_end_date",
     "admission_date", "discharge_date", "admit_source_code", "admit_type_code",
     "discharge_disposition_code", "place_of_service_code", "bill_type_code", "drg_code_type", "drg_code",
     "revenue_center_code", "service_unit_quantity", "hcpcs_code"]
    + [f"hcpcs_modifier_{i}" for i in range(1, N_MODIFIERS + 1)]
    + ["rendering_npi", "rendering_tin", "billing_npi", "billing_tin", "facility_npi", "paid_date",
       "paid_amount", "allowed_amount", "charge_amount", "coinsurance_amount", "copayment_amount",
       "deductible_amount", "total_cost_amount", "diagnosis_code_type"]
    + [f"diagnosis_code_{i}" for i in range(1, N_DIAGNOSES + 1)]
    + [f"diagnosis_poa_{i}" for i in range(1, N_DIAGNOSES + 1)]
    + ["procedure_code_type"]
    + [f"procedure_code_{i}" for i in range(1, N_PROCEDURES + 1)]
    + [f"procedure_date_{i}" for i in range(1, N_PROCEDURES + 1)]
    + ["in_network_flag", "data_source", "file_name", "file_date", "ingest_datetime"]
)

TUVA_PHARMACY_CLAIM = [
    "claim_id", "claim_line_number", "person_id", "member_id", "payer", "plan", "prescribing_provider_npi",
    "dispensing_provider_npi", "dispensing_date", "ndc_code", "quantity", "days_supply", "refills", "paid_date",
    "paid_amount", "allowed_amount", "charge_amount", "coinsurance_amount", "copayment_amount",
    "deductible_amount", "in_network_flag", "data_source", "file_name", "file_date", "ingest_datetime",
]

TUVA_ELIGIBILITY = [
    "person_id", "member_id", "subscriber_id", "gender", "race", "birth_date", "death_date", "death_flag",
    "enrollment_start_date", "enrollment_end_date", "payer", "payer_type", "plan",
    "original_reason_entitlement_code", "dual_status_code", "medicare_status_code", "group_id", "group_name",
    "name_suffix", "first_name", "middle_name", "last_name", "social_security_number", "subscriber_relation",
    "address", "city", "state", "zip_code", "phone", "email", "ethnicity", "data_source", "file_name",
    "file_date", "ingest_datetime", "enrollment_status", "hospice_flag", "institutional_snp_flag",
    "long_term_institutional_flag",
]

# EXTRA columns (optional). Defaults apply when a column is absent or blank.
EXTRA_CLAIM_COLUMNS = {
    "claim_adjustment_type": "original",   # original | replacement | void
    "original_claim_id": None,             # family key; defaults to claim_id
    "adjustment_sequence": None,           # defaults to 0 for originals, 1 for replacements/voids
}
EXTRA_MEDICAL_COLUMNS = {**EXTRA_CLAIM_COLUMNS, "service_code_type": "hcpcs"}
EXTRA_PHARMACY_COLUMNS = {**EXTRA_CLAIM_COLUMNS, "drug_code_type": "ndc"}
EXTRA_ELIGIBILITY_COLUMNS = {
    "eligibility_group": None,        # e.g. adult_expansion, aged, blind_disabled, child, parent_caretaker
    "delivery_system": None,          # FFS | MCO | PCCM | ICM
    "health_home_program_id": None,   # icm_program.program_id of a health home
    "icm_program_id": None,           # icm_program.program_id of an ACO-like program
    "icm_entity_id": None,            # icm_entity.entity_id the member is enrolled with
    "county_fips": None,              # 5-digit state+county FIPS
}

# Reference files (our own, no Tuva equivalent): icm_program.csv, icm_entity.csv, provider.csv,
# with exactly the columns of the warehouse tables of the same names (minus batch_id).
REFERENCE_FILES = ("icm_program", "icm_entity", "provider")

# Input-layer columns accepted but not kept by the warehouse (no field for them: file lineage, personal
# identifiers and eligibility details no measure uses). The load report lists them as ignored.
_LINEAGE = {"file_name", "file_date", "ingest_datetime"}
NOT_STORED = {
    "medical_claim": _LINEAGE | {"total_cost_amount"},
    "pharmacy_claim": _LINEAGE,
    "eligibility": _LINEAGE | {
        "subscriber_id", "death_flag", "original_reason_entitlement_code", "group_id", "group_name", "name_suffix",
        "first_name", "middle_name", "last_name", "social_security_number", "subscriber_relation", "address", "city",
        "phone", "email", "enrollment_status", "institutional_snp_flag"},
}
