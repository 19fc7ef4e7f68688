"""Data-quality suites run with Great Expectations 1.x inside the database (no pandas pull).

Each suite is a list of GX expectations for one table. `validate_table` runs it through GX's SQL
datasource (DuckDB via the buffered adapter in warehouse.gx_duckdb, PostgreSQL natively) and returns a
plain `CheckOutcome` that Dagster asset checks, the CLI and tests all use. GX is imported lazily: it costs
seconds to import.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy.engine import make_url

from warehouse.staging import BILL_TYPE, HCPCS, ICD10CM, NDC11, NPI, POS, REVENUE

log = logging.getLogger(__name__)


@dataclass
class CheckOutcome:
    name: str
    passed: bool
    evaluated: int
    failed: list[str] = field(default_factory=list)
    examples: dict[str, list] = field(default_factory=dict)   # expectation -> a few failing values
    counts: dict[str, int] = field(default_factory=dict)

    def metadata(self) -> dict:
        return {"evaluated_expectations": self.evaluated, "failed_expectations": ", ".join(self.failed) or "none",
                **{f"unexpected_count[{k}]": v for k, v in self.counts.items()},
                **{f"examples[{k}]": str(v)[:300] for k, v in self.examples.items()}}


def _datasource(ctx, url: str):
    parsed = make_url(url)
    name = "warehouse"
    if parsed.get_backend_name() == "duckdb":
        from warehouse.gx_duckdb import gx_duckdb_kwargs

        return ctx.data_sources.add_sql(name, connection_string=f"duckdb:///{parsed.database}",
                                        kwargs=gx_duckdb_kwargs(parsed.database))
    return ctx.data_sources.add_postgres(name, connection_string=parsed.render_as_string(hide_password=False))


def validate_table(url: str, table: str, expectations: list, name: str | None = None) -> CheckOutcome:
    """Run `expectations` against `table` inside the database; never raises for failing data."""
    import great_expectations as gx

    from great_expectations.data_context.types.base import ProgressBarsConfig

    # that module pins its own logger to INFO and announces a temporary directory for every ephemeral context
    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    datasource = _datasource(ctx, url)
    asset = datasource.add_table_asset(name=table, table_name=table)
    batch = asset.add_batch_definition_whole_table("all").get_batch()
    suite = gx.ExpectationSuite(name=name or f"{table}_suite", expectations=expectations)
    try:
        result = batch.validate(suite, result_format="SUMMARY")
    finally:
        # close GX's connections: DuckDB refuses a second in-process connection with another configuration
        datasource.get_execution_engine().engine.dispose()
    failed, examples, counts = [], {}, {}
    for r in result.results:
        label = _label(r.expectation_config)
        if not r.success:
            failed.append(label)
            res = r.result or {}
            if "unexpected_count" in res:
                counts[label] = int(res["unexpected_count"] or 0)
            sample = res.get("partial_unexpected_list") or res.get("details", {}).get("unexpected_rows")
            if sample is not None:
                values = list(sample)[:5] if not hasattr(sample, "head") else sample.head(5).values.tolist()
                examples[label] = [masked(v) for v in values]
            if "observed_value" in res:
                examples[label] = [masked(res["observed_value"])]
    return CheckOutcome(name or table, bool(result.success), int(result.statistics["evaluated_expectations"]),
                        failed, examples, counts)


def masked(value) -> str | int | float | None:
    """A failing value as it may appear in Dagster metadata and logs: numbers (counts, observed aggregates) as they
    are, text only by its shape (letters -> A/a, digits -> 9, at most 12 characters, then its length), so a
    malformed code's pattern shows but no member id or claim content does. Rows (lists) are masked field by field."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(str(masked(v)) for v in value) + ")"
    text = str(value)
    shape = "".join("9" if ch.isdigit() else ("A" if ch.isupper() else "a") if ch.isalpha() else ch
                    for ch in text[:12])
    return shape + (f"... ({len(text)} chars)" if len(text) > 12 else "")


def _label(cfg) -> str:
    kw = cfg.kwargs
    if getattr(cfg, "description", None):
        return cfg.description
    target = kw.get("column") or kw.get("column_list") or kw.get("column_A") or kw.get("description") or ""
    if isinstance(target, list):
        target = "+".join(target)
    return f"{cfg.type}({target})" if target else cfg.type


# --- suites ---------------------------------------------------------------------------------------

def gx_expectations():
    """GX's expectation classes (imported on first use: GX is slow to import)."""
    import great_expectations as gx

    return gx.expectations


def unexpected_rows(query: str, description: str, dialect: str):
    """Rows returned by `query` are failures; `b` is the validated table (GX substitutes {batch})."""
    # GX aliases the {batch} subquery itself unless the query contains a JOIN; then the alias is ours.
    batch = "{batch} AS batch_rows" if re.search(r"\bjoin\b", query, re.IGNORECASE) else "{batch}"
    return _gx().UnexpectedRowsExpectation(
        # GX fills {batch} with str.format, so braces of regex quantifiers must be doubled.
        unexpected_rows_query=f"WITH b AS (SELECT * FROM {batch}) " + query.replace("{", "{{").replace("}", "}}"),
        description=description)


_gx, _rows = gx_expectations, unexpected_rows   # the short names the suites below use


def _matches(expr: str, pattern: str, dialect: str) -> str:
    # GX's regex expectations do not support DuckDB, so format checks are SQL written per dialect.
    return f"regexp_matches({expr}, '{pattern}')" if dialect == "duckdb" else f"({expr} ~ '{pattern}')"


def _format_rows(column: str, pattern: str, dialect: str, condition: str = "TRUE"):
    return _rows(f"SELECT b.{column} FROM b WHERE b.{column} IS NOT NULL AND {condition} "
                 f"AND NOT {_matches('b.' + column, pattern, dialect)}", f"{column} matches {pattern}", dialect)


def _person_exists(key: str, what: str, dialect: str):
    return _rows(f"SELECT b.{key} FROM b LEFT JOIN person p ON p.person_id = b.person_id WHERE p.person_id IS NULL",
                 f"every {what}'s person exists", dialect)


def suite_enrollment(dialect: str) -> list:
    e = _gx()
    return [
        e.ExpectColumnValuesToNotBeNull(column="person_id"),
        e.ExpectColumnValuesToBeUnique(column="span_id"),
        e.ExpectColumnValuesToBeInSet(column="payer_type", value_set=["medicaid", "medicare", "commercial",
                                                                      "self-insured", "dual", "uninsured", "other"]),
        e.ExpectColumnPairValuesAToBeGreaterThanB(column_A="end_date", column_B="start_date", or_equal=True),
        _rows("SELECT b.span_id FROM b JOIN enrollment_span o ON b.person_id = o.person_id "
              "AND b.data_source = o.data_source AND b.payer = o.payer AND b.span_id < o.span_id "
              "AND b.start_date <= o.end_date AND o.start_date <= b.end_date",
              "enrollment spans of one payer do not overlap", dialect),
        _person_exists("span_id", "enrollment span", dialect),
    ]


def suite_medical_claim(dialect: str) -> list:
    e = _gx()
    return [
        e.ExpectCompoundColumnsToBeUnique(column_list=["claim_id", "data_source"]),
        e.ExpectColumnValuesToNotBeNull(column="person_id"),
        e.ExpectColumnValuesToBeInSet(column="claim_type", value_set=["institutional", "professional", "undetermined"]),
        e.ExpectColumnValuesToBeInSet(column="adjustment_type", value_set=["original", "replacement", "void"]),
        e.ExpectColumnPairValuesAToBeGreaterThanB(column_A="claim_end_date", column_B="claim_start_date", or_equal=True),
        _format_rows("bill_type_code", BILL_TYPE, dialect),
        _format_rows("billing_npi", NPI, dialect),
        _format_rows("diagnosis_code_1", ICD10CM, dialect, "b.diagnosis_code_type = 'icd-10-cm'"),
        _person_exists("claim_id", "claim", dialect),
    ]


def suite_medical_claim_line(dialect: str) -> list:
    e = _gx()
    return [
        e.ExpectCompoundColumnsToBeUnique(column_list=["claim_id", "data_source", "claim_line_number"]),
        _format_rows("hcpcs_code", HCPCS, dialect, "b.service_code_type = 'hcpcs'"),
        _format_rows("revenue_center_code", REVENUE, dialect),
        _format_rows("place_of_service_code", POS, dialect),
        _rows("SELECT b.claim_id FROM b LEFT JOIN medical_claim h ON h.claim_id = b.claim_id "
              "AND h.data_source = b.data_source WHERE h.claim_id IS NULL", "every claim line has its header", dialect),
    ]


def suite_pharmacy_claim(dialect: str) -> list:
    e = _gx()
    return [
        e.ExpectCompoundColumnsToBeUnique(column_list=["claim_id", "claim_line_number", "data_source"]),
        _format_rows("ndc_code", NDC11, dialect, "b.drug_code_type = 'ndc'"),
        e.ExpectColumnValuesToBeBetween(column="days_supply", min_value=0, max_value=365),
        _person_exists("claim_id", "pharmacy claim", dialect),
    ]


def suite_load_batch(dialect: str) -> list:
    e = _gx()
    return [
        e.ExpectColumnValuesToBeUnique(column="batch_id"),
        _rows("SELECT b.batch_id FROM b WHERE b.rows_read <> b.rows_loaded + b.rows_quarantined",
              "rows in = rows loaded + rows quarantined, for every batch", dialect),
        _rows("SELECT b.batch_id FROM b LEFT JOIN (SELECT batch_id, count(*) AS n FROM quarantine GROUP BY batch_id) q "
              "ON q.batch_id = b.batch_id WHERE coalesce(q.n, 0) <> b.rows_quarantined",
              "every quarantined row of a batch is in the quarantine table", dialect),
        _rows("SELECT b.batch_id FROM b LEFT JOIN (SELECT batch_id, count(*) AS n, sum(paid_amount) AS paid "
              "FROM medical_claim_line GROUP BY batch_id) l ON l.batch_id = b.batch_id "
              "WHERE b.target_table = 'medical_claim' AND (coalesce(l.n, 0) <> b.rows_loaded "
              "OR coalesce(l.paid, 0) <> coalesce(b.paid_amount_loaded, 0))",
              "medical claim lines and paid amounts in the warehouse reconcile to the staged files", dialect),
        _rows("SELECT b.batch_id FROM b LEFT JOIN (SELECT batch_id, count(*) AS n, sum(paid_amount) AS paid "
              "FROM pharmacy_claim GROUP BY batch_id) l ON l.batch_id = b.batch_id "
              "WHERE b.target_table = 'pharmacy_claim' AND (coalesce(l.n, 0) <> b.rows_loaded "
              "OR coalesce(l.paid, 0) <> coalesce(b.paid_amount_loaded, 0))",
              "pharmacy claims and paid amounts in the warehouse reconcile to the staged files", dialect),
    ]


def suite_final_action(dialect: str) -> list:
    e = _gx()
    return [
        e.ExpectCompoundColumnsToBeUnique(column_list=["data_source", "claim_family_id"]),
        e.ExpectColumnValuesToNotBeInSet(column="adjustment_type", value_set=["void"]),
        e.ExpectColumnValuesToNotBeNull(column="enrollment_span_id", mostly=0.95),
    ]


def suite_member_month(dialect: str) -> list:
    e = _gx()
    return [
        e.ExpectCompoundColumnsToBeUnique(column_list=["person_id", "month_start", "data_source", "payer", "plan"]),
        e.ExpectColumnValuesToBeBetween(column="days_enrolled", min_value=1, max_value=31),
        e.ExpectColumnValuesToNotBeNull(column="enrollment_span_id"),
        e.ExpectColumnValuesToBeBetween(column="age_at_month_start", min_value=0, max_value=125),
    ]


SUITES: dict[str, tuple[str, Callable[[str], list]]] = {
    "enrollment": ("enrollment_span", suite_enrollment),
    "medical_claim": ("medical_claim", suite_medical_claim),
    "medical_claim_line": ("medical_claim_line", suite_medical_claim_line),
    "pharmacy_claim": ("pharmacy_claim", suite_pharmacy_claim),
    "load_reconciliation": ("load_batch", suite_load_batch),
    "final_action": ("medical_claim_final", suite_final_action),
    "member_month": ("member_month", suite_member_month),
}


def run_suite(url: str, suite: str) -> CheckOutcome:
    table, build = SUITES[suite]
    return validate_table(url, table, build(make_url(url).get_backend_name()), name=suite)


# --- file-level suites on the staging database (what staging produced from the landing files) --------

def suite_staged_medical_claim(dialect: str) -> list:
    e = _gx()
    required = ["claim_id", "claim_line_number", "person_id", "claim_type", "claim_start_date", "claim_end_date"]
    return [
        *[e.ExpectColumnToExist(column=c) for c in required],
        *[e.ExpectColumnValuesToNotBeNull(column=c) for c in required],
        e.ExpectColumnValuesToBeOfType(column="claim_start_date", type_="DATE"),
        e.ExpectCompoundColumnsToBeUnique(column_list=["_batch_id", "claim_id", "claim_line_number", "data_source"]),
        e.ExpectColumnPairValuesAToBeGreaterThanB(column_A="claim_end_date", column_B="claim_start_date", or_equal=True),
        _format_rows("diagnosis_code_1", ICD10CM, dialect, "b.diagnosis_code_type = 'icd-10-cm'"),
        _format_rows("hcpcs_code", HCPCS, dialect, "b.service_code_type = 'hcpcs'"),
        _format_rows("revenue_center_code", REVENUE, dialect),
        _rows("SELECT b.claim_id FROM b WHERE b.discharge_date < b.admission_date", "admission before discharge", dialect),
    ]


def suite_staged_pharmacy_claim(dialect: str) -> list:
    e = _gx()
    required = ["claim_id", "claim_line_number", "person_id", "dispensing_date", "ndc_code"]
    return [
        *[e.ExpectColumnToExist(column=c) for c in required],
        *[e.ExpectColumnValuesToNotBeNull(column=c) for c in required],
        _format_rows("ndc_code", NDC11, dialect, "b.drug_code_type = 'ndc'"),
        e.ExpectColumnValuesToBeBetween(column="days_supply", min_value=0, max_value=365),
    ]


def suite_staged_eligibility(dialect: str) -> list:
    e = _gx()
    required = ["person_id", "member_id", "payer", "start_date", "end_date"]
    return [
        *[e.ExpectColumnToExist(column=c) for c in required],
        *[e.ExpectColumnValuesToNotBeNull(column=c) for c in required],
        e.ExpectColumnPairValuesAToBeGreaterThanB(column_A="end_date", column_B="start_date", or_equal=True),
    ]


STAGED_SUITES = {
    "staged_medical_claim": suite_staged_medical_claim,
    "staged_pharmacy_claim": suite_staged_pharmacy_claim,
    "staged_eligibility": suite_staged_eligibility,
}


def run_staged_suites(staging_db: str) -> list[CheckOutcome]:
    """Validate every staged table present in the staging database (an absent table has nothing to check)."""


    from warehouse import duck

    with duck.connect(staging_db) as con:
        present = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    url = f"duckdb:///{staging_db}"
    return [validate_table(url, table, build("duckdb"), name=table)
            for table, build in STAGED_SUITES.items() if table in present]
