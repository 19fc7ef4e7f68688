"""Ingest layer: landing files -> staged (canonical) -> warehouse core tables -> final-action claims -> member-months.

Asset functions are thin: the work is in warehouse.pipeline / warehouse.derive, the checks in warehouse.quality.
"""

import dagster as dg

from orchestration.resources import LandingResource, WarehouseResource
from warehouse import duck, pipeline
from warehouse.derive import rebuild_final_action, rebuild_member_months
from warehouse.loading import already_loaded
from warehouse.quality import CheckOutcome, run_staged_suites, run_suite

DUCKDB_POOL = "duckdb"


def _md_table(rows: list[dict], columns: list[str]) -> dg.MetadataValue:
    head = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n"
    body = "".join("| " + " | ".join(str(r.get(c, "")) for c in columns) + " |\n" for r in rows)
    return dg.MetadataValue.md(head + body)


@dg.asset(group_name="landing", kinds={"file"},
          description="Payer files in the landing folder, one sub-folder per feed, with the format detected for each.")
def landing_files(context: dg.AssetExecutionContext, landing: LandingResource,
                  warehouse: WarehouseResource) -> dg.MaterializeResult:
    sources = pipeline.discover_landing(landing.landing)
    engine = warehouse.get_engine(migrate=True)
    rows = [{"folder": s.path.parent.name, "file": s.path.name, "target": s.target, "format": s.file_format,
             "bytes": s.path.stat().st_size, "loaded": already_loaded(engine, s)} for s in sources]
    return dg.MaterializeResult(metadata={
        "files": len(rows), "new_files": sum(not r["loaded"] for r in rows),
        "landing_files": _md_table(rows, ["folder", "file", "target", "format", "bytes", "loaded"])})


@dg.asset(group_name="staging", deps=[landing_files], pool=DUCKDB_POOL, kinds={"duckdb"},
          description="New landing files mapped to the canonical (Tuva-compatible) layout and typed; rows that "
                      "break a row-level rule are set aside with their reason.")
def staged_files(context: dg.AssetExecutionContext, landing: LandingResource,
                 warehouse: WarehouseResource) -> dg.MaterializeResult:
    pipeline.clear_staging(landing.staging_db)
    sources = pipeline.discover_landing(landing.landing)
    staged = pipeline.stage_landing(warehouse.get_engine(migrate=True), sources, landing.staging_db)
    quarantined = {}
    for s in staged:
        for reason, n in s["quarantine_reasons"].items():
            quarantined[reason] = quarantined.get(reason, 0) + n
    return dg.MaterializeResult(metadata={
        "files_staged": len(staged), "rows_read": sum(s["rows_read"] for s in staged),
        "rows_staged": sum(s["rows_staged"] for s in staged),
        "rows_quarantined": sum(s["rows_quarantined"] for s in staged),
        "quarantine_reasons": dg.MetadataValue.json(quarantined)})


@dg.asset(group_name="warehouse", deps=[staged_files], pool=DUCKDB_POOL, kinds={"duckdb", "postgres"},
          description="Core tables: person, enrollment_span, provider, icm_program/entity, medical_claim(+_line), "
                      "pharmacy_claim, load_batch, quarantine. One atomic batch per file; re-loads are no-ops.")
def warehouse_core(context: dg.AssetExecutionContext, landing: LandingResource,
                   warehouse: WarehouseResource) -> dg.MaterializeResult:
    sources = pipeline.discover_landing(landing.landing)
    reports = pipeline.load_staged_batches(warehouse.get_engine(migrate=True), sources, landing.staging_db)
    rows = [{**r.as_dict(), "format_version": r.notes.get("format_version", "")} for r in reports]
    enrollment_match: dict[str, int] = {}   # claim rows loaded by enrollment_match (counts only)
    for r in reports:
        for flag, n in r.enrollment_match.items():
            enrollment_match[flag] = enrollment_match.get(flag, 0) + n
    return dg.MaterializeResult(metadata={
        "batches_loaded": sum(r.status == "loaded" for r in reports),
        "rows_loaded": sum(r.rows_loaded for r in reports if r.status == "loaded"),
        "rows_quarantined": sum(r.rows_quarantined for r in reports if r.status == "loaded"),
        "enrollment_match": dg.MetadataValue.json(enrollment_match),
        "batches": _md_table(rows, ["target_table", "status", "format_version", "rows_read", "rows_loaded",
                                    "rows_quarantined", "batch_id"])})


@dg.asset(group_name="warehouse", deps=[warehouse_core], pool=DUCKDB_POOL, kinds={"duckdb", "postgres"},
          description="Final-action claims: the last non-void version of every claim family, matched to the "
                      "enrollment span of the claim's own payer.")
def final_action_claims(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata=rebuild_final_action(warehouse.get_engine(migrate=True)))


@dg.asset(group_name="warehouse", deps=[warehouse_core], pool=DUCKDB_POOL, kinds={"duckdb", "postgres"},
          description="Member-months: person x month x payer/plan with eligibility, program and entity attributes; "
                      "the base of every per-1,000-member-month rate and of cost of care.")
def member_months(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata=rebuild_member_months(warehouse.get_engine(migrate=True)))


# --- checks ----------------------------------------------------------------------------------------

def _result(outcomes: list[CheckOutcome], blocking_severity=dg.AssetCheckSeverity.ERROR) -> dg.AssetCheckResult:
    metadata = {}
    for o in outcomes:
        metadata.update({f"{o.name}.{k}": v for k, v in o.metadata().items()})
    return dg.AssetCheckResult(passed=all(o.passed for o in outcomes), severity=blocking_severity,
                               metadata=metadata or {"suites": "nothing to validate"})


@dg.asset_check(asset=staged_files, blocking=True,
                description="GX on the staged files: required columns present and non-null, types parsed, "
                            "ICD-10-CM / NDC-11 / HCPCS / revenue-code formats, dates in order.")
def staged_files_valid(landing: LandingResource) -> dg.AssetCheckResult:
    if not landing.staging_db.exists():
        return dg.AssetCheckResult(passed=True, metadata={"suites": "no new files staged"})
    return _result(run_staged_suites(str(landing.staging_db)))


@dg.asset_check(asset=staged_files, blocking=False,
                description="Share of rows quarantined in staging stays under 5% (warning only).")
def staged_quarantine_rate(landing: LandingResource) -> dg.AssetCheckResult:
    if not landing.staging_db.exists():
        return dg.AssetCheckResult(passed=True, metadata={"rows_read": 0})
    with duck.connect(landing.staging_db) as con:
        read, quarantined = con.execute("SELECT coalesce(sum(rows_read), 0), coalesce(sum(rows_quarantined), 0) "
                                        "FROM staged_batch").fetchone()
    share = quarantined / read if read else 0.0
    return dg.AssetCheckResult(passed=share <= 0.05, severity=dg.AssetCheckSeverity.WARN,
                               metadata={"rows_read": int(read), "rows_quarantined": int(quarantined),
                                         "share": round(share, 5)})


def _suite_check(asset, name: str, suites: list[str], description: str):
    @dg.asset_check(asset=asset, name=name, blocking=True, description=description)
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        warehouse.get_engine(migrate=True)
        return _result([run_suite(warehouse.url, s) for s in suites])

    return _check


warehouse_keys_and_references = _suite_check(
    warehouse_core, "keys_and_references", ["enrollment", "medical_claim", "medical_claim_line", "pharmacy_claim"],
    "GX: keys unique, every claim's person exists, spans of one payer do not overlap, code formats.")
load_reconciliation = _suite_check(
    warehouse_core, "load_reconciliation", ["load_reconciliation"],
    "GX: for every batch, rows in = rows loaded + rows quarantined, and paid amounts reconcile to the staged files.")
final_action_valid = _suite_check(
    final_action_claims, "final_action_valid", ["final_action"],
    "GX: one final claim per family, no voids, claims matched to an enrollment span.")
member_months_valid = _suite_check(
    member_months, "member_months_valid", ["member_month"],
    "GX: one row per person-month-payer-plan, 1-31 enrolled days, ages plausible.")

ASSETS = [landing_files, staged_files, warehouse_core, final_action_claims, member_months]
CHECKS = [staged_files_valid, staged_quarantine_rate, warehouse_keys_and_references, load_reconciliation,
          final_action_valid, member_months_valid]
