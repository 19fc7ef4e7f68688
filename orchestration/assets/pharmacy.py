"""Pharmacy assets (group `pharmacy`): retrospective DUR alerts and MTM targeting for one year, with GX checks on
the result tables.

Metadata carries counts only (alerts per rule, NDC coverage), never member ids."""
import dagster as dg

from orchestration.assets.ingest import DUCKDB_POOL, final_action_claims, member_months
from orchestration.partitions import yearly
from orchestration.resources import LandingResource, WarehouseResource

MTM_SERVICES = ("mtm", "mtm_services.csv")  # the MTM program's service record in the landing folder, if delivered

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


MTM_KEY = dg.AssetKey(["pharmacy", "mtm_eligible"])
MTM_VALID = "mtm_eligible_valid"


class MtmConfig(dg.Config):
    preset: str | None = None  # default part_d_<year> (pharmacy/mtm/presets.yaml)
    threshold: str | None = None  # annual drug cost threshold overriding the preset's


@dg.asset(key=MTM_KEY, group_name="pharmacy", partitions_def=yearly, deps=[final_action_claims, member_months],
          pool=DUCKDB_POOL, kinds={"duckdb", "postgres"},
          description="MTM targeting: persons meeting the preset's criteria per month, with the CMR completion "
                      "rate from the MTM service record (landing/mtm/mtm_services.csv, loaded when present).",
          check_specs=[dg.AssetCheckSpec(MTM_VALID, asset=MTM_KEY, blocking=True,
                                         description="one row per year x preset x month x person, counts >= 1 (GX)")])
def mtm_eligible(context: dg.AssetExecutionContext, config: MtmConfig, warehouse: WarehouseResource,
                 landing: LandingResource):
    from decimal import Decimal

    from pharmacy.checks import run_mtm_checks
    from pharmacy.mtm.eligibility import default_preset_for, run_eligibility
    from pharmacy.mtm.services import cmr_rate, load_services

    year = int(context.partition_key)
    engine = warehouse.get_engine()
    services = landing.landing.joinpath(*MTM_SERVICES)
    if services.is_file():
        load_services(engine, services)
    preset = config.preset or default_preset_for(year)
    threshold = Decimal(config.threshold) if config.threshold else None
    result = run_eligibility(engine, year, preset, threshold)
    cmr = cmr_rate(engine, year)
    yield dg.MaterializeResult(metadata={
        "year": year, "preset": preset, "eligible_persons": result["eligible_persons"],
        "eligible_by_month": dg.MetadataValue.json(result["eligible_by_month"]),
        "cmr_denominator": cmr["denominator"], "cmr_rate": cmr["rate"], "cmr_status": cmr["status"]})
    outcomes = run_mtm_checks(warehouse.url)
    yield dg.AssetCheckResult(check_name=MTM_VALID, passed=all(o.passed for o in outcomes),
                              severity=dg.AssetCheckSeverity.ERROR,
                              metadata={f"{o.name}.{k}": v for o in outcomes for k, v in o.metadata().items()})


ASSETS = [dur_alerts, mtm_eligible]
CHECKS: list = []
pharmacy_job = dg.define_asset_job("pharmacy_job", selection=dg.AssetSelection.groups("pharmacy"),
                                   partitions_def=yearly, description="Retrospective DUR and MTM targeting for one year.")
JOBS = [pharmacy_job]
