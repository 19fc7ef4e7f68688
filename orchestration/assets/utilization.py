"""Utilization-management assets (group `utilization`): yearly profiles with outlier verdicts, the monthly
service-verification sample (monthly partitions: the contract's review is monthly), the annual no-utilization
report and the practice feedback pages. Thin wrappers over utilization/."""

import os
from pathlib import Path

import dagster as dg

from orchestration.assets.ingest import DUCKDB_POOL, final_action_claims, member_months
from orchestration.partitions import yearly
from orchestration.resources import WarehouseResource

monthly = dg.MonthlyPartitionsDefinition(start_date="2023-01-01", end_offset=0)
PROFILES = dg.AssetKey(["utilization", "profiles"])
SAMPLE = dg.AssetKey(["utilization", "verification_sample"])
NO_USE = dg.AssetKey(["utilization", "no_utilization_report"])
FEEDBACK = dg.AssetKey(["utilization", "practice_feedback"])
PROFILE_CHECK, SAMPLE_CHECK = "utilization_valid", "sample_valid"


def _out(*parts: str) -> Path:
    return Path(os.environ.get("ICM_HOME", ".icm"), "utilization", *parts)


def _config() -> str | None:
    return os.environ.get("ICM_UTILIZATION_CONFIG")


def _check(name: str, outcomes) -> dg.AssetCheckResult:
    meta = {}
    for o in outcomes:
        meta.update({f"{o.name}.{k}": v for k, v in o.metadata().items()})
    return dg.AssetCheckResult(check_name=name, passed=all(o.passed for o in outcomes),
                               severity=dg.AssetCheckSeverity.ERROR, metadata=meta)


@dg.asset(key=PROFILES, group_name="utilization", partitions_def=yearly, deps=[final_action_claims, member_months],
          pool=DUCKDB_POOL, kinds={"duckdb", "postgres"},
          description="Utilization per person-month and per billing NPI / practice / ICM entity / payer, expected "
                      "values by indirect standardisation, outlier verdicts of every method.",
          check_specs=[dg.AssetCheckSpec(PROFILE_CHECK, asset=PROFILES, blocking=True,
                                         description="GX: keys unique, counts non-negative, verdicts known, every "
                                                     "flag records its threshold")])
def profiles(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    from utilization.run import check_utilization, run_year

    year = int(context.partition_key)
    out = run_year(warehouse.get_engine(), year, _config())
    flagged = {m: v.get("high", 0) + v.get("low", 0) for m, v in out["outliers"]["verdicts"].items()}
    yield dg.MaterializeResult(metadata={"year": year, "person_months": out["person_months"]["person_months"],
                                         "unit_metrics": out["unit_metrics"]["unit_metrics"],
                                         **{f"flagged[{m}]": n for m, n in flagged.items()}})
    yield _check(PROFILE_CHECK, check_utilization(warehouse.url))


@dg.asset(key=SAMPLE, group_name="utilization", partitions_def=monthly, deps=[final_action_claims],
          pool=DUCKDB_POOL, kinds={"duckdb", "postgres"},
          description="Monthly service-verification sample (42 CFR 455.20; >= 500 enrollees with services billed in "
                      "the month, or all), seeded and stratified, with its mailing export.",
          check_specs=[dg.AssetCheckSpec(SAMPLE_CHECK, asset=SAMPLE, blocking=True,
                                         description="GX: one row per month and enrollee, seed and method stored")])
def verification_sample(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    from utilization.run import check_sample
    from utilization.sample import draw_sample, export_mailing, parse_month

    month = parse_month(context.partition_key[:7])
    engine = warehouse.get_engine()
    out = draw_sample(engine, month, _config())
    export = export_mailing(engine, month, _out(f"verification_sample_{month:%Y-%m}.csv"))
    yield dg.MaterializeResult(metadata={"population": out["population"], "sampled": out["sampled"],
                                         "seed": out["seed"], "export": export["file"]})
    yield _check(SAMPLE_CHECK, [check_sample(warehouse.url)])


@dg.asset(key=NO_USE, group_name="utilization", partitions_def=yearly, deps=[final_action_claims, member_months],
          pool=DUCKDB_POOL, kinds={"duckdb", "postgres"},
          description="Annual report of enrollees enrolled all year with no claim, with the outreach made to each.")
def no_utilization_report(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    from utilization.no_use import no_utilization_report as report

    year = int(context.partition_key)
    out = report(warehouse.get_engine(), year, _out(str(year)), _config())
    return dg.MaterializeResult(metadata={"enrollees": out["enrollees"], "with_outreach": out["with_outreach"]})


def _measure_keys() -> list[dg.AssetKey]:
    try:
        from orchestration.assets.measures import MEASURE_KEYS
    except ImportError:
        return []
    return list(MEASURE_KEYS.values())


@dg.asset(key=FEEDBACK, group_name="utilization", partitions_def=yearly, deps=[PROFILES, *_measure_keys()],
          pool=DUCKDB_POOL, kinds={"html"},
          description="Practice peer-comparison pages: quality measures and utilization against peers, funnel plots, "
                      "ranks, trend; small cells suppressed; no member ids.")
def practice_feedback(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    from utilization.feedback import write_feedback

    year = int(context.partition_key)
    out = write_feedback(warehouse.get_engine(), year, _out(str(year), "feedback"), _config())
    return dg.MaterializeResult(metadata={"pages": out["pages"], "index": out["index"]})


ASSETS = [profiles, verification_sample, no_utilization_report, practice_feedback]
CHECKS: list = []
utilization_job = dg.define_asset_job(
    "utilization_job", selection=dg.AssetSelection.assets(PROFILES, NO_USE, FEEDBACK), partitions_def=yearly,
    description="Utilization profiles, outlier verdicts, no-utilization report and practice feedback for a year.")
verification_sample_job = dg.define_asset_job(
    "verification_sample_job", selection=dg.AssetSelection.assets(SAMPLE), partitions_def=monthly,
    description="The month's service-verification sample and its mailing export.")
JOBS = [utilization_job, verification_sample_job]
