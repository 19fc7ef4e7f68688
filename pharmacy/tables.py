"""Result tables of the DUR engine (created by migration 0007; defined on the warehouse metadata).

No PRIMARY KEY on the result tables: they are replaced wholesale per year by set-based inserts that are unique by
construction (like measure_detail, migration 0004)."""
from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, Integer, Numeric, String, Table

from warehouse.models import metadata

dur_alert = Table(
    "dur_alert", metadata,
    Column("year", Integer, nullable=False),
    Column("rule_id", String, nullable=False),
    Column("rule_version", Integer, nullable=False),
    Column("rule_set_version", String, nullable=False),
    Column("person_id", String, nullable=False),
    Column("alert_date", Date, nullable=False),  # first qualifying day (or fill) in the year
    Column("qualifying_days", Integer, nullable=False),  # days (or fills) that met the rule
    Column("value", Numeric(18, 4)),  # rule-specific: max daily MME, overlap days, prescribers, ...
    Column("computed_at", DateTime, nullable=False),
)

dur_alert_trace = Table(
    "dur_alert_trace", metadata,
    Column("year", Integer, nullable=False),
    Column("rule_id", String, nullable=False),
    Column("person_id", String, nullable=False),
    Column("claim_id", String, nullable=False),
    Column("data_source", String, nullable=False),
    Column("fill_date", Date, nullable=False),
    Column("ndc", String),
    Column("ingredient", String),
    Column("prescriber_npi", String),
    Column("pharmacy_npi", String),
    Column("role", String, nullable=False),  # contributing | not_counted (a fill of the rule's drugs the engine could not use)
    Column("quality_flag", String),  # NULL when the fill is clean; otherwise why it could not be used fully
)

dur_mme_person = Table(
    "dur_mme_person", metadata,
    Column("year", Integer, nullable=False),
    Column("person_id", String, nullable=False),
    Column("factor_set", String, nullable=False),
    Column("mme_episode", Numeric(18, 4)),  # A: sum of fill MME / sum of days supply (fills in the year)
    Column("mme_daily_sum", Numeric(18, 4)),  # B: mean over covered days of the summed daily MME
    Column("mme_calendar", Numeric(18, 4)),  # C: sum of daily MME in the year / days in the year
    Column("max_daily_mme", Numeric(18, 4)),  # D: highest summed daily MME
    Column("covered_days", Integer, nullable=False),
    Column("opioid_fills", Integer, nullable=False),
    Column("fills_not_computable", Integer, nullable=False),
)

dur_run = Table(
    "dur_run", metadata,  # one row per reviewed year (replaced at each run): tells "not reviewed" from "no alerts"
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("rule_set_version", String, nullable=False),
    Column("factor_set", String, nullable=False),
    Column("fills", Integer, nullable=False),
    Column("opioid_mme_coverage", Numeric(8, 4)),
    Column("computed_at", DateTime, nullable=False),
)

dur_intervention = Table(
    "dur_intervention", metadata,
    Column("intervention_id", String, primary_key=True),
    Column("year", Integer, nullable=False),
    Column("rule_id", String, nullable=False),
    Column("person_id", String, nullable=False),
    Column("prescriber_npi", String),
    Column("action", String, nullable=False),  # letter_sent | prescriber_contacted | pharmacy_contacted
    Column("action_date", Date, nullable=False),
    Column("outcome", String),  # free text or a state code (e.g. therapy_changed, no_change)
)

mtm_eligible = Table(
    "mtm_eligible", metadata,  # replaced per (year, preset); one row per person and month they meet the criteria
    Column("year", Integer, nullable=False),
    Column("preset", String, nullable=False),
    Column("month_start", Date, nullable=False),
    Column("person_id", String, nullable=False),
    Column("chronic_diseases", Integer, nullable=False),
    Column("drugs", Integer, nullable=False),
    Column("annualized_drug_cost", Numeric(14, 2), nullable=False),
)

mtm_service = Table(
    "mtm_service", metadata,  # input: the MTM program's service record (loaded from the program's file)
    Column("record_id", String, primary_key=True),
    Column("person_id", String, nullable=False),
    Column("record_type", String, nullable=False),  # enrollment | cmr | tmr
    Column("start_date", Date, nullable=False),  # enrollment start, or the service date
    Column("end_date", Date),  # enrollment end (NULL = still enrolled); NULL for services
    Column("provider_npi", String),
)
