"""Pharmacy assets (group `pharmacy`): retrospective DUR alerts for one year, with GX checks on the result tables.

Metadata carries counts only (alerts per rule, NDC coverage), never member ids."""
import dagster as dg

from orchestration.assets.ingest import DUCKDB_POOL, final_action_claims, member_months
from orchestration.partitions import yearly
from orchestration.resources import WarehouseResource

KEY = dg.AssetKey(["pharmacy", "dur_alerts"])
VALID = "dur_tables_valid"
COVERAGE = "opioid_mme_coverage"
MIN_COVERAGE = 0.9  # warn when MME cannot be computed for more than 10 % of opioid fills


class DurConfig(dg.Config):
    rules: str | None = None  # rule set YAML; default pharmacy/rules/dur_rules.yaml
    products: str | None = None  # user NDC product table extending the shipped reference


@dg.asset(key=KEY, group_name="pharmacy", partitions_def=yearly, deps=[final_action_claims, member_months],
          pool=DUCKDB_POOL, kinds={"duckdb", "postgres"},
          description="Retrospective DUR: alerts per rule with the claim-level trace of the fills that fired them, "
                      "daily MME per person under three labelled definitions, NDC coverage report.",
          check_specs=[dg.AssetCheckSpec(VALID, asset=KEY, blocking=True,
                                         description="alert/trace/MME tables: keys unique, every alert traced to "
                                                     "contributing fills, MME averages ordered (GX)"),
                       dg.AssetCheckSpec(COVERAGE, asset=KEY, blocking=False,
                                         description=f"MME computable for >= {MIN_COVERAGE:.0%} of opioid fills")])
def dur_alerts(context: dg.AssetExecutionContext, config: DurConfig, warehouse: WarehouseResource):
    from pharmacy.checks import run_dur_checks
    from pharmacy.engine import run_dur

    year = int(context.partition_key)
    engine = warehouse.get_engine()
    result = run_dur(engine, year, config.rules, products_file=config.products)
    cov = result["coverage"]
    yield dg.MaterializeResult(metadata={
        "year": year, "rule_set_version": result["rule_set_version"], "factor_set": result["factor_set"],
        "alerts": dg.MetadataValue.json(result["alerts"]), "fills": cov["fills"],
        "fills_by_quality_flag": dg.MetadataValue.json(cov["fills_by_quality_flag"]),
        "opioid_mme_coverage": cov["opioid_mme_coverage"]})
    outcomes = run_dur_checks(warehouse.url)
    yield dg.AssetCheckResult(check_name=VALID, passed=all(o.passed for o in outcomes),
                              severity=dg.AssetCheckSeverity.ERROR,
                              metadata={f"{o.name}.{k}": v for o in outcomes for k, v in o.metadata().items()})
    share = cov["opioid_mme_coverage"]
    yield dg.AssetCheckResult(check_name=COVERAGE, passed=share is None or share >= MIN_COVERAGE,
                              severity=dg.AssetCheckSeverity.WARN,
                              metadata={"opioid_fills": cov["opioid_fills"], "share": share})


ASSETS = [dur_alerts]
CHECKS: list = []
pharmacy_job = dg.define_asset_job("pharmacy_job", selection=dg.AssetSelection.groups("pharmacy"),
                                   partitions_def=yearly, description="Retrospective DUR for one year.")
JOBS = [pharmacy_job]
