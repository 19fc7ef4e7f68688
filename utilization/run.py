"""One year of utilization management: person-months -> unit metrics with norms -> outlier verdicts, and the checks
(Great Expectations suites in the database) the Dagster assets and tests run on the results."""
from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from utilization.metrics import build_person_months, build_unit_metrics
from utilization.outliers import judge_year
from warehouse.quality import CheckOutcome, gx_expectations, unexpected_rows, validate_table


def run_year(engine: Engine, year: int, config=None) -> dict:
    return {"person_months": build_person_months(engine, year, config),
            "unit_metrics": build_unit_metrics(engine, year, config),
            "outliers": judge_year(engine, year, config)}


def _suites() -> dict:
    e = gx_expectations()
    return {
        "utilization_person_month": [
            e.ExpectCompoundColumnsToBeUnique(column_list=["year", "person_id", "month_start"]),
            e.ExpectColumnValuesToBeInSet(column="person_anchor", value_set=[0, 1]),
            *[e.ExpectColumnValuesToBeBetween(column=c, min_value=0)
              for c in ("ip_admissions", "ip_days", "ed_visits", "readmissions", "primary_care_visits", "rx_fills")],
        ],
        "utilization_unit_metric": [
            e.ExpectCompoundColumnsToBeUnique(column_list=["year", "unit_type", "unit_id", "metric"]),
            e.ExpectColumnValuesToBeBetween(column="member_months", min_value=1),
            e.ExpectColumnValuesToBeBetween(column="expected", min_value=0),
            e.ExpectColumnValuesToNotBeNull(column="peer_group"),
        ],
        "utilization_outlier_flag": [
            e.ExpectCompoundColumnsToBeUnique(column_list=["year", "unit_type", "unit_id", "metric", "method"]),
            e.ExpectColumnValuesToBeInSet(column="verdict", value_set=["high", "low", "within", "not_assessable"]),
            unexpected_rows("SELECT b.unit_id FROM b WHERE b.verdict IN ('high', 'low') AND (b.threshold IS NULL OR "
                            "b.threshold = '')", "every flag records its threshold", ""),
        ],
    }


def check_utilization(url: str) -> list[CheckOutcome]:
    """Run the utilization suites; each outcome names its table."""
    make_url(url)  # a bad URL fails here, before GX starts
    return [validate_table(url, table, expectations, name=table) for table, expectations in _suites().items()]


def check_sample(url: str) -> CheckOutcome:
    e = gx_expectations()
    return validate_table(url, "verification_sample", [
        e.ExpectCompoundColumnsToBeUnique(column_list=["sample_month", "person_id"]),
        e.ExpectColumnValuesToNotBeNull(column="seed"),
        e.ExpectColumnValuesToNotBeNull(column="method"),
    ], name="verification_sample")
