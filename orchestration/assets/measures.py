"""Quality-measure assets: one per measure, partitioned by measurement year, grouped `measures`.

The measures are one subsettable multi-asset: a run computes the selected measures for its year in one
measures.engine.compute call and reports each measure's checks (consistency, blocking; plausibility
against the published Core Set state quartiles, warning) from the same step, so check results carry the year.
"""
import json

import dagster as dg

from orchestration.assets.ingest import DUCKDB_POOL, final_action_claims, member_months
from orchestration.partitions import FOLLOWS_NEW_DATA, yearly, yearly_check
from orchestration.resources import WarehouseResource
from measures.registry import all_measures

CONSISTENCY = "consistency"
PLAUSIBILITY = "plausibility"


def asset_name(measure_id: str) -> str:
    return measure_id.lower().replace("-", "_")


def _total_rows(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["stratum"] == {"total": "all"} or r["stratum"].get("type", "total") == "total"]


def _rate_table(rows: list[dict]) -> dg.MetadataValue:
    """State-level rates in the unit every output uses (measures.units: proportions in percent, ...)."""
    from measures.units import rate_unit, reported_rate

    lines = ["| rate | numerator | denominator | exclusions | rate value | unit | status |",
             "|---|---|---|---|---|---|---|"]
    for r in _total_rows(rows):
        value = reported_rate(r["rate_type"], r["numerator"], r["denominator"])
        lines.append(f"| {r['rate_id']} | {r['numerator']} | {r['denominator']} | {r['exclusions']} | "
                     f"{'' if value is None else value} | {rate_unit(r['rate_type'])} | {r['status']} |")
    return dg.MetadataValue.md("\n".join(lines))


def _rate_values(rows: list[dict]) -> dict[str, dg.MetadataValue]:
    """Typed numbers per state-level rate, so the UI plots them across materializations: the rate in its
    reported unit (named in the key) and its numerator and denominator."""
    from measures.units import rate_unit, reported_rate

    out: dict[str, dg.MetadataValue] = {}
    for r in _total_rows(rows):
        value = reported_rate(r["rate_type"], r["numerator"], r["denominator"])
        if value is not None:
            out[f"{r['rate_id']} ({rate_unit(r['rate_type'])})"] = dg.MetadataValue.float(float(value))
        for part in ("numerator", "denominator"):
            if r[part] is not None:
                out[f"{r['rate_id']} {part}"] = dg.MetadataValue.float(float(r[part]))
    return out


def _check_results(engine, year: int, measure_id: str, key: dg.AssetKey) -> list[dg.AssetCheckResult]:
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
        dg.AssetCheckResult(asset_key=key, check_name=CONSISTENCY, passed=all(o.passed for o in blocking),
                            severity=dg.AssetCheckSeverity.ERROR, metadata=md(blocking) or {"checks": "none"}),
        dg.AssetCheckResult(asset_key=key, check_name=PLAUSIBILITY, passed=all(o.passed for o in advisory),
                            severity=dg.AssetCheckSeverity.WARN, metadata=md(advisory) or {"checks": "none"}),
    ]


MEASURES = all_measures()
MEASURE_KEYS = {m.id: dg.AssetKey(["measures", asset_name(m.id)]) for m in MEASURES}


def _specs():
    specs, checks = [], []
    for m in MEASURES:
        key = MEASURE_KEYS[m.id]
        specs.append(dg.AssetSpec(key, group_name="measures", deps=[final_action_claims, member_months],
                                  kinds={"duckdb", "postgres"}, skippable=True, automation_condition=FOLLOWS_NEW_DATA,
                                  description=f"{m.id} — {m.title} ({m.steward})."))
        checks += [
            yearly_check(CONSISTENCY, asset=key, blocking=True,
                         description="0 <= numerator <= denominator, proportions in [0,1], detail and "
                                     "aggregate agree, every denominator unit meets the enrollment rule"),
            yearly_check(PLAUSIBILITY, asset=key, blocking=False,
                         description="state-level rate within the published Core Set state range (warning)"),
        ]
    return specs, checks


_SPECS, _CHECK_SPECS = _specs()


class MeasuresConfig(dg.Config):
    """Run options of the measures (measures.options.MeasureOptions validates them; a bad value fails the run
    naming the field)."""
    pqi_payer_scope: str = "all_payers"

    def options(self):
        from measures.options import MeasureOptions

        return MeasureOptions(pqi_payer_scope=self.pqi_payer_scope)


# One asset per measure, computed together: a run materialises the selected measures in one step and one
# measures.engine.compute call, so the blocks they share (diagnosis unpivots, stays, member months, ...) are built
# once per run rather than once per measure. Any subset can be materialised on its own.
@dg.multi_asset(name="quality_measures", specs=_SPECS, check_specs=_CHECK_SPECS, can_subset=True,
                partitions_def=yearly, pool=DUCKDB_POOL)
def quality_measures(context: dg.AssetExecutionContext, warehouse: WarehouseResource, config: MeasuresConfig):
    from measures.engine import compute

    year = int(context.partition_key)
    selected = [m for m in MEASURES if MEASURE_KEYS[m.id] in context.selected_asset_keys]
    engine = warehouse.get_engine()
    # the whole set also writes a row, with its reason, for every Core Set measure not computed (measures/catalog.py)
    rows = compute(engine, year, None if len(selected) == len(MEASURES) else [m.id for m in selected],
                   options=config.options())
    try:
        from measures.valuesets import default_registry

        registry = default_registry()
    except Exception:  # noqa: BLE001 - metadata only
        registry = None
    for m in selected:
        key = MEASURE_KEYS[m.id]
        mine = [r for r in rows if r["measure"] == m.id]
        versions = {}
        if registry is not None:
            try:
                versions = registry.versions(m.value_sets)
            except Exception:  # noqa: BLE001 - metadata only
                versions = {}
        yield dg.MaterializeResult(asset_key=key, metadata={
            "measurement_year": dg.MetadataValue.int(year), "rows": dg.MetadataValue.int(len(mine)),
            "rates": _rate_table(mine), **_rate_values(mine),
            "status": ", ".join(sorted({r["status"] for r in mine})) or "no rows",
            "core_set_status": ", ".join(sorted({r.get("core_set_status") or "" for r in mine} - {""})) or "-",
            "lookback_status": ", ".join(sorted({r.get("lookback_status") or "" for r in mine} - {""})) or "-",
            "value_set_versions": dg.MetadataValue.json(versions or {})})
        specs = {CONSISTENCY, PLAUSIBILITY}
        for result in _check_results(engine, year, m.id, key):
            specs.discard(result.check_name)
            yield result
        for missing in sorted(specs):
            yield dg.AssetCheckResult(asset_key=key, check_name=missing, passed=True,
                                      metadata={"note": "no checks available"})


ASSETS = [quality_measures]
CHECKS: list = []
measures_job = dg.define_asset_job("measures_job", selection=dg.AssetSelection.groups("measures"),
                                   partitions_def=yearly,
                                   description="All quality measures for one measurement year.")
JOBS = [measures_job]
