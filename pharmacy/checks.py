"""Great Expectations suites on the DUR result tables, run inside the database (warehouse.quality.validate_table).

Failing rows are reported by rule id and year only (never member ids: the metadata reaches Dagster)."""
from __future__ import annotations

from sqlalchemy.engine import make_url

from warehouse.quality import CheckOutcome, gx_expectations, unexpected_rows, validate_table


def suite_dur_alert(dialect: str) -> list:
    e = gx_expectations()
    return [
        e.ExpectCompoundColumnsToBeUnique(column_list=["year", "rule_id", "person_id"]),
        e.ExpectColumnValuesToBeBetween(column="qualifying_days", min_value=1),
        e.ExpectColumnValuesToNotBeNull(column="alert_date"),
        unexpected_rows("SELECT b.rule_id, b.year FROM b WHERE NOT EXISTS (SELECT 1 FROM dur_alert_trace t WHERE "
                        "t.year = b.year AND t.rule_id = b.rule_id AND t.person_id = b.person_id "
                        "AND t.role = 'contributing')",
                        "every alert has at least one contributing fill on its trace", dialect),
        unexpected_rows("SELECT b.rule_id, b.year FROM b WHERE EXTRACT(YEAR FROM b.alert_date) <> b.year",
                        "every alert's first qualifying day is in its year", dialect),
    ]


def suite_dur_alert_trace(dialect: str) -> list:
    e = gx_expectations()
    return [
        e.ExpectCompoundColumnsToBeUnique(column_list=["year", "rule_id", "person_id", "claim_id", "data_source"]),
        e.ExpectColumnValuesToBeInSet(column="role", value_set=["contributing", "not_counted"]),
        unexpected_rows("SELECT b.rule_id, b.year FROM b WHERE b.role = 'not_counted' AND b.quality_flag IS NULL",
                        "a not_counted fill always says why", dialect),
    ]


def suite_dur_mme_person(dialect: str) -> list:
    e = gx_expectations()
    return [
        e.ExpectCompoundColumnsToBeUnique(column_list=["year", "person_id"]),
        e.ExpectColumnValuesToBeBetween(column="mme_episode", min_value=0),
        unexpected_rows("SELECT b.year FROM b WHERE b.max_daily_mme < b.mme_daily_sum - 0.001 "
                        "OR b.mme_daily_sum < b.mme_calendar - 0.001",
                        "calendar average <= daily-sum average <= maximum daily MME", dialect),
    ]


def suite_mtm_eligible(dialect: str) -> list:
    e = gx_expectations()
    return [
        e.ExpectCompoundColumnsToBeUnique(column_list=["year", "preset", "month_start", "person_id"]),
        e.ExpectColumnValuesToBeBetween(column="chronic_diseases", min_value=1),
        e.ExpectColumnValuesToBeBetween(column="drugs", min_value=1),
        e.ExpectColumnValuesToBeBetween(column="annualized_drug_cost", min_value=0),
    ]


SUITES = {"dur_alert": suite_dur_alert, "dur_alert_trace": suite_dur_alert_trace,
          "dur_mme_person": suite_dur_mme_person}


def run_dur_checks(url: str) -> list[CheckOutcome]:
    dialect = make_url(url).get_backend_name()
    return [validate_table(url, table, build(dialect), name=f"{table}_valid") for table, build in SUITES.items()]


def run_mtm_checks(url: str) -> list[CheckOutcome]:
    dialect = make_url(url).get_backend_name()
    return [validate_table(url, "mtm_eligible", suite_mtm_eligible(dialect), name="mtm_eligible_valid")]
