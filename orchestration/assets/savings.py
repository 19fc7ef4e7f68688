"""Shared-savings assets: attribution -> cost -> risk -> benchmark -> settlement for one performance year.

The methodology (a YAML path or preset name) comes from run config or ICM_METHODOLOGY. The asset reports its
checks (entity totals add up to program totals, caps respected, no entity both earning and owing, one entity per
person-month per program, no repeated key in the attribution / cost / risk work tables) from the same step so results carry the year.
"""
import os
from decimal import Decimal
from pathlib import Path

import dagster as dg
from pydantic import Field

import savings.population

from orchestration.assets.ingest import DUCKDB_POOL, final_action_claims, member_months
from orchestration.partitions import FOLLOWS_NEW_DATA, yearly, yearly_check
from orchestration.resources import WarehouseResource

_DEMO = Path(savings.population.__file__).parent / "methodologies"
# settlement methodology (engine format, Decimal) + population rules (attribution, cost, risk)
DEFAULT_METHODOLOGY = os.environ.get("ICM_METHODOLOGY", str(_DEMO / "aco-demo.yaml"))
DEFAULT_POPULATION = os.environ.get("ICM_POPULATION", str(_DEMO / "aco-demo-population.yaml"))
SETTLEMENT_CHECK = "settlement_consistent"
KEY = dg.AssetKey(["savings", "settlement"])


class SettlementConfig(dg.Config):
    methodology: str = Field(
        DEFAULT_METHODOLOGY, description="Settlement methodology: a YAML file (savings/population/methodologies/"
                                         "aco-demo.yaml) or a preset name (icm settle-table --list-presets).")
    population: str | None = Field(
        DEFAULT_POPULATION, description="Attribution, cost and risk rules (YAML) used with a settlement-engine "
                                        "methodology, which carries none of its own; empty = the methodology's.")


def _measure_keys() -> list[dg.AssetKey]:
    try:
        from orchestration.assets.measures import MEASURE_KEYS
    except ImportError:
        return []
    return list(MEASURE_KEYS.values())


RATE_METADATA = ("rate_low_analytic", "rate_high_analytic", "chance_probability")


def _table(rows: list[dict]) -> dg.MetadataValue:
    cols = ["program_id", "entity_id", "payer", "binding", "benchmark", "expenditure", "savings_rate", "msr",
            "generated", "quality_score", "earned", "owed",
            # uncertainty (savings.population.uncertainty): 90 % interval of the rate, chance, MSR protects?
            "rate_low_analytic", "rate_high_analytic", "chance_probability", "msr_protects"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c)                      # settlement rows hold Decimal money and rates; float only to display
            v = float(v) if isinstance(v, Decimal) else v
            cells.append(f"{v:.4f}" if isinstance(v, float) and c in ("savings_rate", "msr", "quality_score",
                                                                       *RATE_METADATA)
                         else f"{v:,.0f}" if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return dg.MetadataValue.md("\n".join(lines))


@dg.asset(key=KEY, group_name="savings", partitions_def=yearly, automation_condition=FOLLOWS_NEW_DATA,
          deps=[final_action_claims, member_months, *_measure_keys()], pool=DUCKDB_POOL, kinds={"duckdb", "postgres"},
          description="Attribution, total cost of care, CMS-HCC risk, benchmark and shared-savings settlement per "
                      "program x entity x payer for the performance year, with an itemised breakdown per row.",
          check_specs=[yearly_check(SETTLEMENT_CHECK, asset=KEY, blocking=True,
                                    description="entity totals add up to program totals, caps respected, no "
                                                "entity both earns and owes, one entity per person-month per "
                                                "program, attribution/cost/risk keys unique")])
def settlement(context: dg.AssetExecutionContext, config: SettlementConfig, warehouse: WarehouseResource):
    from savings.paying import settlement_totals
    from savings.population import PopulationConfig, check_settlement, settle_year
    from savings.population.run import methodology_version

    year = int(context.partition_key)
    engine = warehouse.get_engine()
    cfg = PopulationConfig.from_any(config.methodology).with_population(config.population)
    base_years = cfg.benchmark.years_for(year)          # refuses base years not before the performance year
    rows = settle_year(engine, cfg, year)
    outcomes = check_settlement(engine, year, cfg.id)
    totals = settlement_totals(rows)                    # the paying rows only (savings/paying.py)
    yield dg.MaterializeResult(metadata={
        "performance_year": dg.MetadataValue.int(year),
        "methodology": dg.MetadataValue.text(cfg.id), "methodology_version": methodology_version(cfg),
        "base_years": dg.MetadataValue.text(", ".join(map(str, base_years))),
        "rows": dg.MetadataValue.int(len(rows)), "paying_rows": dg.MetadataValue.int(totals["paying_rows"]),
        "earned_total": dg.MetadataValue.float(float(totals["earned"])),
        "owed_total": dg.MetadataValue.float(float(totals["owed"])),
        "net_total": dg.MetadataValue.float(float(totals["net"])),
        "rows_msr_below_random_variation": dg.MetadataValue.int(
            sum(1 for r in rows if r.get("msr_protects") is False)),
        "settlement": _table(rows)})
    yield dg.AssetCheckResult(
        check_name=SETTLEMENT_CHECK, passed=all(o.passed for o in outcomes), severity=dg.AssetCheckSeverity.ERROR,
        metadata={o.name: f"{'passed' if o.passed else 'FAILED'}: {getattr(o, 'detail', '')}"[:500] for o in outcomes}
        or {"checks": "none"})


EVALUATION_KEY = dg.AssetKey(["savings", "evaluation"])


@dg.asset(key=EVALUATION_KEY, group_name="savings", partitions_def=yearly, deps=[KEY], pool=DUCKDB_POOL,
          kinds={"duckdb", "postgres"},
          description="Did the ICM save money? Per entity: propensity-matched non-ICM comparison group and a "
                      "difference-in-differences on PMPM cost, ED visits and admissions with 95% intervals, a "
                      "parallel-trend placebo and a regression-to-the-mean diagnostic (evaluation.icm).")
def evaluation(context: dg.AssetExecutionContext, config: SettlementConfig, warehouse: WarehouseResource):
    from evaluation.icm import evaluate
    from savings.population import PopulationConfig

    year = int(context.partition_key)
    cfg = PopulationConfig.from_any(config.methodology).with_population(config.population)
    result = evaluate(warehouse.get_engine(), cfg, year)
    return dg.MaterializeResult(metadata={
        "performance_year": dg.MetadataValue.int(year), "method": dg.MetadataValue.text(result["method"]),
        "assignment": dg.MetadataValue.text(result["assignment"]),
        "entities_with_significant_cost_effect": dg.MetadataValue.int(
            sum(1 for e in result["entities"] if e.get("outcomes", {}).get("pmpm_total", {}).get("significant"))),
        "evaluation": _evaluation_table(result["entities"])})


def _evaluation_table(entities: list[dict]) -> dg.MetadataValue:
    """Aggregates only (counts of persons per group, no member ids)."""
    cols = ["entity_id", "treated_matched", "comparison_matched", "pmpm_did", "ci_low", "ci_high", "relative",
            "parallel_trends", "verdict"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for e in entities:
        cost = e.get("outcomes", {}).get("pmpm_total", {})
        cells = [e["entity_id"], e.get("treated_matched", ""), e.get("comparison_matched", ""),
                 cost.get("estimate", ""), cost.get("ci_low", ""), cost.get("ci_high", ""),
                 (cost.get("relative") or {}).get("estimate", ""),
                 {True: "holds", False: "VIOLATED"}.get(e.get("parallel_trends", {}).get("holds"), "n/a"),
                 e.get("verdict", "")]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return dg.MetadataValue.md("\n".join(lines))


ASSETS = [settlement, evaluation]
CHECKS: list = []
savings_job = dg.define_asset_job("savings_job", selection=dg.AssetSelection.groups("savings"),
                                  partitions_def=yearly,
                                  description="Shared-savings settlement for one performance year.")
JOBS = [savings_job]
