"""Result and input tables of utilization management, on the warehouse metadata (created by migrations 0009 and 0010).

utilization_person_month  one row per person x month of the year (the person's plan with most days that month):
                          strata, the person's assigned billing NPI / practice, and the month's utilization
                          counts and paid amounts by service category. Person-level under-use flags sit on the
                          person's last enrolled month of the year (`person_anchor` = 1).
utilization_unit_metric   per unit (billing NPI, practice, ICM entity, payer) x metric: exposure, observed,
                          expected by indirect standardisation, peer group. Small.
utilization_outlier_flag  per unit x metric x method: the statistic, the limits, the threshold and the verdict.
verification_sample       the monthly service-verification sample with its seed, method and services to verify.
verification_result       imported verification results, one row per sampled enrollee (re-import replaces).
verification_import_row   every row of every import, accepted or rejected with its reason (nothing dropped).
enrollee_outreach         input: outreach made to enrollees (for the annual no-utilization report).
ref_ed_classification     the NYU/Johnston ED classification per ICD-10-CM code (utilization/reference/).
ref_ed_classification_icd9  the same per ICD-9-CM code (migration 0010).
"""
from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, Integer, Numeric, String, Table

from warehouse.models import metadata

MONEY = Numeric(14, 2)
VALUE = Numeric(18, 6)

COUNT_METRICS = (
    "ip_admissions", "ip_days", "readmissions", "ed_visits", "lab_services", "imaging_services", "dme_services",
    "outpatient_visits", "primary_care_visits", "preventive_visits", "bh_ip_admissions", "bh_op_visits",
    "rx_fills", "out_of_network_claims", "out_of_area_claims", "discharges_without_followup",
)
PAID_METRICS = ("paid_inpatient", "paid_outpatient", "paid_professional", "paid_pharmacy", "paid_behavioral_health",
                "paid_ltss", "paid_ed", "paid_other")
PERSON_METRICS = ("persons_without_primary_care", "persons_without_preventive")
# NYU/Johnston ED classification: expected visits of each class (sums of per-visit probabilities)
ED_CLASS_METRICS = ("ed_nonemergent", "ed_primary_care_treatable", "ed_preventable", "ed_not_preventable",
                    "ed_injury", "ed_behavioral", "ed_unclassified")

utilization_person_month = Table(
    "utilization_person_month", metadata,
    Column("year", Integer, nullable=False),
    Column("person_id", String, nullable=False),
    Column("month_start", Date, nullable=False),
    Column("payer", String, nullable=False),
    Column("icm_entity_id", String),
    Column("program_id", String),
    Column("billing_npi", String),          # plurality of the person's primary-care visits in the year
    Column("practice_id", String),          # that NPI's TIN
    Column("stratum", String, nullable=False),
    Column("person_anchor", Integer, nullable=False),   # 1 on the last month of a person eligible for person metrics
    *[Column(m, Integer, nullable=False) for m in COUNT_METRICS],
    *[Column(m, MONEY, nullable=False) for m in PAID_METRICS],
    *[Column(m, Integer, nullable=False) for m in PERSON_METRICS],
    *[Column(m, VALUE, nullable=False) for m in ED_CLASS_METRICS],
)

utilization_unit_metric = Table(
    "utilization_unit_metric", metadata,
    Column("year", Integer, nullable=False),
    Column("unit_type", String, nullable=False),
    Column("unit_id", String, nullable=False),
    Column("metric", String, nullable=False),
    Column("peer_group", String, nullable=False),
    Column("persons", Integer, nullable=False),
    Column("member_months", Integer, nullable=False),
    Column("exposure", VALUE, nullable=False),         # member-months, or eligible persons for person metrics
    Column("observed", VALUE, nullable=False),
    Column("expected", VALUE, nullable=False),         # indirect standardisation on the strata
    Column("rate", VALUE),                             # per 1,000 member-months / per person / PMPM dollars
    Column("expected_rate", VALUE),
)

utilization_outlier_flag = Table(
    "utilization_outlier_flag", metadata,
    Column("year", Integer, nullable=False),
    Column("unit_type", String, nullable=False),
    Column("unit_id", String, nullable=False),
    Column("metric", String, nullable=False),
    Column("peer_group", String, nullable=False),
    Column("method", String, nullable=False),
    Column("verdict", String, nullable=False),        # high | low | within | not_assessable
    Column("statistic", VALUE),                       # the method's number (percentile, z, O/E, shrunk O/E, q)
    Column("lower_limit", VALUE),
    Column("upper_limit", VALUE),
    Column("threshold", String, nullable=False),      # the rule and its parameters, spelled out
    Column("detail", String),
)

verification_sample = Table(
    "verification_sample", metadata,
    Column("sample_month", Date, nullable=False),
    Column("person_id", String, nullable=False),
    Column("stratum", String, nullable=False),
    Column("sample_rank", Integer, nullable=False),
    Column("seed", Integer, nullable=False),
    Column("method", String, nullable=False),
    Column("services", String, nullable=False),        # JSON list of the services to verify
    Column("created_at", DateTime, nullable=False),
)

verification_result = Table(
    "verification_result", metadata,
    Column("sample_month", Date, nullable=False),
    Column("person_id", String, nullable=False),
    Column("contact_date", Date, nullable=False),
    Column("contact_method", String, nullable=False),
    Column("response", String, nullable=False),        # confirmed | not_confirmed | no_response | referred
    Column("service_received", String),                # yes | no | blank
    Column("source_file", String, nullable=False),
    Column("source_row", Integer, nullable=False),
)

verification_import_row = Table(
    "verification_import_row", metadata,
    Column("import_id", String, nullable=False),       # sha256 of the file's bytes
    Column("source_file", String, nullable=False),
    Column("source_row", Integer, nullable=False),
    Column("sample_month", Date),
    Column("status", String, nullable=False),          # accepted | rejected
    Column("reason", String),
    Column("imported_at", DateTime, nullable=False),
)

ED_CLASS_COLUMNS = ("edcnnpa", "edcnpa", "epct", "noner", "injury", "psych", "alcohol", "drug")
ref_ed_classification = Table(
    "ref_ed_classification", metadata,       # utilization/reference/ed_classification_johnston_icd10.csv
    Column("icd10", String, nullable=False),
    *[Column(c, VALUE, nullable=False) for c in ED_CLASS_COLUMNS],
)
ref_ed_classification_icd9 = Table(
    "ref_ed_classification_icd9", metadata,  # utilization/reference/ed_classification_johnston_icd9.csv
    Column("icd9", String, nullable=False),
    *[Column(c, VALUE, nullable=False) for c in ED_CLASS_COLUMNS],
)

enrollee_outreach = Table(
    "enrollee_outreach", metadata,
    Column("person_id", String, nullable=False),
    Column("outreach_date", Date, nullable=False),
    Column("outreach_method", String, nullable=False),   # letter | phone | home_visit | care_coordinator | ...
    Column("outcome", String),
)
