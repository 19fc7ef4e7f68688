"""`icm evaluate`: the comparison-group difference-in-differences evaluation of what each ICM entity saved
(evaluation.icm). Reads only: it uses the attribution and cost work tables a settlement of the year wrote
(`icm settle`), so it opens the warehouse read-only."""
from __future__ import annotations

import argparse

from icm.errors import UserError
from icm.options import year
from icm.output import print_json
from icm.warehouse_access import add_warehouse_option, open_warehouse


def _alpha(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < 0.5:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 0.5 (e.g. 0.05), got {text!r}")
    return value


def _require_settled(engine, performance_year: int) -> None:
    from sqlalchemy import func, select

    from savings.work_tables import cost_person_month as cost

    with engine.connect() as conn:
        for what in (performance_year, performance_year - 1):
            if not conn.execute(select(func.count()).select_from(cost).where(cost.c.year == what)).scalar_one():
                raise UserError(f"--year {performance_year}: no cost_person_month rows for {what}; settle the year "
                                f"first (`icm settle --methodology ... --year {performance_year}`)")


def cmd_evaluate(args) -> int:
    from evaluation.icm import evaluate
    from icm.commands.savings import _methodology_source, _settlement_config
    from icm.years import require_year_with_enrollment

    population = _methodology_source(args.population, "--population") if args.population else None
    config = _settlement_config(_methodology_source(args.methodology, "--methodology"), population)
    engine = open_warehouse(args, read_only=True)
    try:
        require_year_with_enrollment(engine, args.year)
        _require_settled(engine, args.year)
        result = evaluate(engine, config, args.year, entities=args.entity, alpha=args.alpha)
    finally:
        engine.dispose()
    known = {e["entity_id"] for e in result["entities"] if "treated" in e and e["treated"]}
    missing = [e for e in (args.entity or []) if e not in known]
    if missing:
        raise UserError(f"--entity {missing[0]}: no enrollee attributed to it in {args.year}")
    print_json(result)
    return 0


def add_commands(subparsers) -> None:
    p = add_warehouse_option(subparsers.add_parser(
        "evaluate", help="did the ICM save money? matched comparison-group difference-in-differences per entity",
        description="For each entity attributed in the performance year: a propensity-score matched comparison "
                    "group of non-ICM enrollees, a difference-in-differences on PMPM cost, ED visits and "
                    "admissions (year before -> performance year) with 95 % intervals clustered by person, a "
                    "parallel-trend placebo on the base years and a regression-to-the-mean diagnostic "
                    "(evaluation.icm). Uses the work tables of `icm settle` for the year; reads only."))
    p.add_argument("--year", required=True, type=year, help="performance year (settled with icm settle)")
    p.add_argument("--methodology", required=True, metavar="FILE|PRESET",
                   help="the methodology the year was settled with (program, payers, cost categories)")
    p.add_argument("--population", metavar="FILE",
                   help="attribution/cost rules (YAML) to use with a settlement-engine methodology")
    p.add_argument("--entity", action="append", metavar="ENTITY_ID", help="evaluate only this entity (repeatable)")
    p.add_argument("--alpha", type=_alpha, default=0.05, help="1 - confidence level of the intervals (default 0.05)")
    p.set_defaults(func=cmd_evaluate)
