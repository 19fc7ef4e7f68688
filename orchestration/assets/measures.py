"""Quality-measure assets: one per measure, partitioned by measurement year, grouped `measures`.

Each asset runs measures.engine.compute for its year and reports its checks (consistency, blocking; plausibility
against the published Core Set state quartiles, warning) from the same step, so check results carry the year.
"""
import json

import dagster as dg

from orchestration.assets.ingest import DUCKDB_POOL, final_action_claims, member_months
from orchestration.partitions import yearly
from orchestration.resources import WarehouseResource
from measures.registry import all_measures

CONSISTENCY = "consistency"
PLAUSIBILITY = "plausibility"


def asset_name(measure_id: str) -> str:
    return measure_id.lower().replace("-", "_")


def _rate_table(rows: list[dict]) -> dg.MetadataValue:
    lines = ["| rate | numerator | denominator | exclusions | rate value | status |", "|---|---|---|---|---|---|"]
    for r in rows:
        if r["stratum"] != {"total": "all"} and r["stratum"].get("type", "total") != "total":
            continue
        rate = "" if r["rate"] is None else f"{r['rate']:.4f}"
        lines.append(f"| {r['rate_id']} | {r['numerator']} | {r['denominator']} | {r['exclusions']} | {rate} | {r['status']} |")
    return dg.MetadataValue.md("\n".join(lines))


def _check_results(engine, year: int, measure_id: str) -> list[dg.AssetCheckResult]:
    try:
        from measures.checks import run_checks
    except ImportError:
        return []
    outcomes = run_checks(engine, year, measure_id)
    blocking = [o for o in outcomes if getattr(o, "blocking", True)]
    advisory = [o for o in outcomes if not getattr(o, "blocking", True)]

    def md(items):
        return {f"{o.name}": f"{'passed' if o.passed else 'FAILED'}: {getattr(o, 'detail', '')}"[:500] for o in items}

    return [
        dg.AssetCheckResult(check_name=CONSISTENCY, passed=all(o.passed for o in blocking),
                            severity=dg.AssetCheckSeverity.ERROR, metadata=md(blocking) or {"checks": "none"}),
        dg.AssetCheckResult(check_name=PLAUSIBILITY, passed=all(o.passed for o in advisory),
                            severity=dg.AssetCheckSeverity.WARN, metadata=md(advisory) or {"checks": "none"}),
    ]


def build_measure_asset(measure):
    name = asset_name(measure.id)
    key = dg.AssetKey(["measures", name])

    @dg.asset(
        key=key, group_name="measures", partitions_def=yearly, deps=[final_action_claims, member_months],
        pool=DUCKDB_POOL, kinds={"duckdb", "postgres"},
        description=f"{measure.id} — {measure.title} ({measure.steward}).",
        check_specs=[
            dg.AssetCheckSpec(CONSISTENCY, asset=key, blocking=True,
                              description="0 <= numerator <= denominator, proportions in [0,1], detail and "
                                          "aggregate agree, every denominator unit meets the enrollment rule"),
            dg.AssetCheckSpec(PLAUSIBILITY, asset=key, blocking=False,
                              description="state-level rate within the published Core Set state range (warning)"),
        ],
    )
    def _asset(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        from measures.engine import compute

        year = int(context.partition_key)
        engine = warehouse.get_engine()
        rows = compute(engine, year, [measure.id])
        versions = {}
        try:
            from measures.valuesets import default_registry

            versions = default_registry().versions(measure.value_sets)
        except Exception:  # noqa: BLE001 - metadata only
            pass
        checks = _check_results(engine, year, measure.id)
        yield dg.MaterializeResult(metadata={
            "measurement_year": year, "rows": len(rows), "rates": _rate_table(rows),
            "status": ", ".join(sorted({r["status"] for r in rows})) or "no rows",
            "value_set_versions": dg.MetadataValue.json(versions or {})})
        specs = {CONSISTENCY, PLAUSIBILITY}
        for result in checks:
            specs.discard(result.check_name)
            yield result
        for missing in sorted(specs):
            yield dg.AssetCheckResult(check_name=missing, passed=True, metadata={"note": "no checks available"})

    return _asset


ASSETS = [build_measure_asset(m) for m in all_measures()]
CHECKS: list = []
measures_job = dg.define_asset_job("measures_job", selection=dg.AssetSelection.groups("measures"),
                                   partitions_def=yearly,
                                   description="All quality measures for one measurement year.")
JOBS = [measures_job]
