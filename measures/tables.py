"""Result tables of the quality-measure engine (created by migration 0002; defined on the warehouse metadata)."""
from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, DateTime, Integer, Numeric, String, Table

from warehouse.models import metadata

# No PRIMARY KEY: replaced wholesale per measure and year, unique on (measure_id, measurement_year, rate_id,
# unit_id) by construction and checked (measures.checks `detail_unique`); DuckDB's index upkeep cost more than
# the measure query on member-month measures (migration 0004).
measure_detail = Table(
    "measure_detail", metadata,
    Column("measure_id", String, nullable=False),
    Column("measurement_year", Integer, nullable=False),
    Column("rate_id", String, nullable=False),
    Column("unit_id", String, nullable=False),  # discharge / visit / episode / member / member-month group
    Column("unit_type", String, nullable=False),
    Column("person_id", String, nullable=False),
    Column("anchor_date", Date),
    Column("age", Integer),
    Column("age_band", String),
    Column("sex", String),
    Column("race", String),
    Column("ethnicity", String),
    Column("payer", String),
    Column("delivery_system", String),
    Column("program_id", String),
    Column("entity_id", String),
    Column("county_fips", String),
    Column("excluded", Boolean, nullable=False),
    Column("exclusion_reason", String),
    Column("numerator_met", Boolean, nullable=False),
    Column("numerator_value", Numeric(18, 4), nullable=False),
    Column("denominator_value", Numeric(18, 4), nullable=False),
    Column("numerator_claim_id", String),
)

measure_result = Table(
    "measure_result", metadata,
    Column("measure_id", String, primary_key=True),
    Column("measurement_year", Integer, primary_key=True),
    Column("rate_id", String, primary_key=True),
    Column("stratum_type", String, primary_key=True),
    Column("stratum_value", String, primary_key=True),
    Column("rate_type", String, nullable=False),  # proportion | per_1000_mm | per_100000_mm | alos | count | per_1000_members | ratio
    Column("numerator", Numeric(18, 4)),
    Column("denominator", Numeric(18, 4)),
    Column("exclusions", Integer),
    Column("rate", Numeric(24, 8)),
    Column("small_cell", Boolean),
    Column("status", String, nullable=False),
    Column("value_set_versions", String),  # JSON {value set: version}
    Column("computed_at", DateTime, nullable=False),
    # migration 0007: "in FFY<Y+1> <core set> Core Set" / "not in the FFY<Y+1> Core Sets (...)"; "full" / "partial: ..."
    Column("core_set_status", String),
    Column("lookback_status", String),
)
