"""Result and reference tables of the shared-savings calculator (warehouse side), on the warehouse metadata.

Created by migration 0003. Row counts stay small: attribution and cost are one row per person-month (no
per-claim copies); risk is one row per person-year and model; settlement inputs and results are per
program x entity x payer (x enrollment type) x year.
"""
from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, Integer, Numeric, String, Table, Text

from warehouse.models import metadata

MONEY = Numeric(14, 2)
# DuckDB reflects DOUBLE as FLOAT (4-byte REAL) and Alembic would see drift; decimals keep precision portable.
RATE = Numeric(18, 8)

# --- results -------------------------------------------------------------------------------------

# attribution, cost_person_month, cost_person_year and risk_score have no PRIMARY KEY (migration 0006): they are
# rebuilt per year, unique by construction, and check_settlement verifies it.
attribution = Table(
    "attribution", metadata,
    Column("year", Integer, nullable=False),            # attribution (performance or base) year
    Column("program_id", String, nullable=False),
    Column("person_id", String, nullable=False),
    Column("month_start", Date, nullable=False),
    Column("payer", String, nullable=False),
    Column("entity_id", String, nullable=False),
    Column("method", String, nullable=False),                # enrollment | plurality_primary_care | geographic | roster
    Column("reason", String, nullable=False),                # the rule step that assigned the person
)

cost_person_month = Table(
    "cost_person_month", metadata,
    Column("year", Integer, nullable=False),
    Column("person_id", String, nullable=False),
    Column("month_start", Date, nullable=False),
    Column("payer", String, nullable=False),
    Column("payer_type", String),
    Column("enrollment_type", String, nullable=False),       # ESRD | DIS | AGDU | AGND | Medicaid eligibility group
    Column("inpatient", MONEY, nullable=False),
    Column("outpatient", MONEY, nullable=False),
    Column("professional", MONEY, nullable=False),
    Column("pharmacy", MONEY, nullable=False),
    Column("behavioral_health", MONEY, nullable=False),
    Column("ltss", MONEY, nullable=False),
    Column("ed", MONEY, nullable=False),
    Column("other", MONEY, nullable=False),
)

cost_person_year = Table(
    "cost_person_year", metadata,
    Column("year", Integer, nullable=False),
    Column("person_id", String, nullable=False),
    Column("payer", String, nullable=False),
    Column("enrollment_type", String, nullable=False),
    Column("member_months", Integer, nullable=False),
    Column("cost", Numeric(16, 2), nullable=False),          # included categories, divided by the completion factor
    Column("annualized_cost", Numeric(16, 2), nullable=False),
    Column("truncation_threshold", Numeric(16, 2)),          # annualized dollars; NULL = no truncation
    Column("truncated_cost", Numeric(16, 2), nullable=False),
)

risk_score = Table(
    "risk_score", metadata,
    Column("year", Integer, nullable=False),            # payment year (diagnoses from year - 1)
    Column("person_id", String, nullable=False),
    Column("model_version", String, nullable=False),    # CMS-HCC-V24 | CMS-HCC-V28 | BLEND | custom:<name>
    Column("segment", String),
    Column("demographic_score", RATE, nullable=False),
    Column("disease_score", RATE, nullable=False),
    Column("interaction_score", RATE, nullable=False),
    Column("count_score", RATE, nullable=False),
    Column("raw_score", RATE, nullable=False),
    Column("normalized_score", RATE, nullable=False),
)

savings_input = Table(
    "savings_input", metadata,
    Column("year", Integer, primary_key=True),
    Column("program_id", String, primary_key=True),
    Column("entity_id", String, primary_key=True),
    Column("payer", String, primary_key=True),
    Column("enrollment_type", String, primary_key=True),
    Column("persons", Integer, nullable=False),
    Column("member_months", Integer, nullable=False),
    Column("person_years", RATE, nullable=False),
    Column("expenditure", Numeric(18, 2), nullable=False),           # truncated, completed
    Column("expenditure_untruncated", Numeric(18, 2), nullable=False),
    Column("risk_score", RATE),                                      # member-month weighted mean
)

settlement = Table(
    "settlement", metadata,
    Column("year", Integer, primary_key=True),
    Column("methodology_id", String, primary_key=True),
    Column("program_id", String, primary_key=True),
    Column("entity_id", String, primary_key=True),
    Column("payer", String, primary_key=True),               # a payer, or 'combined'
    Column("risk_arrangement", String),
    Column("person_years", RATE),
    Column("benchmark_pc", RATE),
    Column("benchmark", Numeric(18, 2)),
    Column("expenditure_pc", RATE),
    Column("expenditure", Numeric(18, 2)),
    Column("savings", Numeric(18, 2)),
    Column("savings_rate", RATE),
    Column("msr", RATE),
    Column("mlr", RATE),
    Column("generated", Numeric(18, 2)),
    Column("quality_score", RATE),
    Column("sharing_rate", RATE),
    Column("earned", Numeric(18, 2)),                        # >= 0, paid to the entity
    Column("owed", Numeric(18, 2)),                          # >= 0, paid by the entity
    Column("binding", Integer, nullable=False),              # 1 = the row that pays (per settle_by)
    Column("breakdown", String),                             # JSON: every step with its inputs
    Column("computed_at", DateTime, nullable=False),
)

# --- risk-model reference (loaded by savings.population.risk.load_reference) ------------------------

ref_risk_dx = Table(
    "ref_risk_dx", metadata,
    Column("model_version", String, primary_key=True),
    Column("diagnosis_code", String, primary_key=True),
    Column("category", String, primary_key=True),
)

ref_risk_hierarchy = Table(
    "ref_risk_hierarchy", metadata,
    Column("model_version", String, primary_key=True),
    Column("parent", String, primary_key=True),
    Column("child", String, primary_key=True),
)

ref_risk_factor = Table(
    "ref_risk_factor", metadata,
    Column("model_version", String, primary_key=True),
    Column("segment", String, primary_key=True),
    Column("variable", String, primary_key=True),            # a category, an interaction name or D1..D10P
    Column("coefficient", RATE, nullable=False),
)

ref_risk_demographic = Table(
    "ref_risk_demographic", metadata,
    Column("model_version", String, primary_key=True),
    Column("segment", String, primary_key=True),
    Column("sex", String, primary_key=True),                 # F | M
    Column("age_min", Integer, primary_key=True),
    Column("age_max", Integer, nullable=False),
    Column("coefficient", RATE, nullable=False),
)

ref_risk_interaction = Table(
    "ref_risk_interaction", metadata,
    Column("model_version", String, primary_key=True),
    Column("interaction", String, primary_key=True),
    Column("side", String, primary_key=True),                # a | b: the interaction is present when both sides are
    Column("category", String, primary_key=True),
)

RESULT_TABLES = ("attribution", "cost_person_month", "cost_person_year", "risk_score", "savings_input", "settlement")
REFERENCE_TABLES = ("ref_risk_dx", "ref_risk_hierarchy", "ref_risk_factor", "ref_risk_demographic",
                    "ref_risk_interaction")
