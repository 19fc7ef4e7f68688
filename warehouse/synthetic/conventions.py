"""Conventions every module of the synthetic generator shares: window defaults, payer codes and their landing
layouts, claim and adjustment types, dirty-row kinds, and the blank-date marker."""
from __future__ import annotations

import numpy as np

DEFAULT_FIRST_YEAR = 2023
DEFAULT_YEARS = 3
TREND = 1.035   # statewide Medicaid PMPM trend per year (calibrated exactly)

# payer codes
FFS, AUR, BLS, COM, MCR = 1, 2, 3, 4, 5
PAYERS = {
    FFS: dict(folder="medicaid_ffs", data_source="medicaid_ffs", payer="medicaid", plan="medicaid_ffs",
              payer_type="medicaid", mid_prefix="MCD", mid_mult=48271, claim_prefix="MF", price=1.00),
    AUR: dict(folder="mco_a", data_source="mco_aurora", payer="aurora_health_plan", plan="aurora_medicaid",
              payer_type="medicaid", mid_prefix="AUR", mid_mult=69621, claim_prefix="AU", price=1.08),
    BLS: dict(folder="mco_b", data_source="mco_bluestem", payer="bluestem", plan="bluestem_medicaid",
              payer_type="medicaid", mid_prefix="BLS", mid_mult=39373, claim_prefix="BL", price=1.03),
    COM: dict(folder="commercial", data_source="commercial_acme", payer="acme_health", plan="acme_ppo",
              payer_type="commercial", mid_prefix="ACM", mid_mult=40692, claim_prefix="AC", price=1.90),
    MCR: dict(folder="medicare", data_source="medicare_ffs", payer="medicare", plan="medicare_ffs",
              payer_type="medicare", mid_prefix="MBI", mid_mult=950706376, claim_prefix="MC", price=1.35),
}
PRIME = 2147483647
INST, PROF = 1, 2
ADJ_ORIGINAL, ADJ_REPLACEMENT, ADJ_VOID = 0, 1, 2
DIRTY_MEDICAL = ["bad_date", "end_before_start", "bad_icd", "bad_hcpcs", "duplicate", "no_enrollment",
                 "negative_paid", "blank_claim_id", "blank_person_id"]
DIRTY_PHARMACY = ["bad_date", "bad_ndc", "duplicate", "no_enrollment", "negative_paid", "blank_claim_id",
                  "blank_person_id"]
DIRTY_ELIGIBILITY = ["bad_date", "end_before_start", "death_before_birth"]
DIRTY_CODE = {k: i + 1 for i, k in enumerate(dict.fromkeys(DIRTY_MEDICAL + DIRTY_PHARMACY + DIRTY_ELIGIBILITY))}
EXTRACT_TAG = "extract"

NULL_DAY = int(np.iinfo(np.int32).min)   # a blank date (days since 1970 are negative before 1970)
