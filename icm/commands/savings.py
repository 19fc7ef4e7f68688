"""`icm settle` (settle a performance year on the warehouse), `icm settle-table` (settle a CSV of entities) and
`icm completion` (paid-lag triangles and completion factors; reads only).

`settle` writes the `settlement` table (and, unless --no-prepare, the attribution/cost/risk/input work tables),
so it opens the warehouse for writing, never migrating it; `settle --stored` prints the settlement rows already
in the warehouse and opens it read-only. `settle-table` does not touch the warehouse.
"""
from __future__ import annotations

import sys
from decimal import Decimal

from icm.errors import UserError
from icm.options import runout_months, year
from icm.output import print_csv, print_json
from icm.progress import Stages
from icm.warehouse_access import add_warehouse_option, open_warehouse
from savings.population.uncertainty import FLAT_COLUMNS

COLUMNS = ["year", "methodology_id", "program_id", "entity_id", "payer", "risk_arrangement", "person_years",
           "benchmark", "expenditure", "savings", "savings_rate", "msr", "mlr", "generated", "quality_score",
           "sharing_rate", "earned", "owed", "binding", *FLAT_COLUMNS]    # + the settlement's uncertainty


def _round(v):
    return round(v, 6) if isinstance(v, float) else v


def _methodology_source(text: str, option: str) -> str:
    """A methodology option is a preset name or a YAML file; a file must parse to a mapping (file and line if not)."""
    from icm.files import looks_like_path, require_yaml_mapping

    return str(require_yaml_mapping(text, option)) if looks_like_path(text) else text


def _validated(option: str, source, build):
    """build(), with a bad field named (and the file it came from) and the package's own sentences
    ("methodology: ...", "preset: ...") passed on as one line."""
    from pydantic import ValidationError

    from icm.failures import validation_message

    try:
        return build()
    except ValidationError as exc:
        raise UserError(validation_message(exc, f"{option} {source}")) from None
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _settlement_config(methodology: str, population: str | None):
    """The methodology and population rules, validated before the warehouse is opened."""
    from savings.population.config import PopulationConfig

    config = _validated("--methodology", methodology, lambda: PopulationConfig.from_any(methodology))
    return _validated("--population", population, lambda: config.with_population(population))


def _stored_settlement(engine, performance_year: int) -> list[dict]:
    from sqlalchemy import select

    from savings.work_tables import settlement

    with engine.connect() as conn:
        rows = conn.execute(select(settlement).where(settlement.c.year == performance_year)
                            .order_by(settlement.c.methodology_id, settlement.c.program_id,
                                      settlement.c.entity_id, settlement.c.payer)).mappings().all()
    return [dict(r) for r in rows]


def cmd_settle(args) -> int:
    from icm.years import require_year_with_enrollment
    from savings.population import check_settlement, settle_year

    if not args.stored and not args.methodology:
        raise UserError("settle: --methodology is required (a preset name or a methodology YAML) unless --stored")
    config = None
    if not args.stored:
        population = _methodology_source(args.population, "--population") if args.population else None
        config = _settlement_config(_methodology_source(args.methodology, "--methodology"), population)
    engine = open_warehouse(args, read_only=args.stored)
    try:
        if args.stored:  # reads the settlement table only (enough for the icm_reporter role)
            rows, checks = _stored_settlement(engine, args.year), []
            if not rows:
                raise UserError(f"--year {args.year}: no stored settlement; settle it with "
                                f"`icm settle --methodology ... --year {args.year}`")
        else:
            require_year_with_enrollment(engine, args.year)
            with Stages("settle", ["settle", "check"]) as stages:
                with stages.stage("settle"):
                    rows = settle_year(engine, config, args.year, prepare=not args.no_prepare)
                with stages.stage("check"):
                    checks = check_settlement(engine, args.year, rows[0]["methodology_id"] if rows else None)
    finally:
        engine.dispose()
    out = [{c: _round(r.get(c)) for c in COLUMNS} for r in rows]
    if args.format == "csv":
        print_csv(out, COLUMNS)
    else:
        print_json(out)
    failed = [c for c in checks if not c.passed]
    for c in failed:
        print(f"icm: check failed: {c.name}: {c.detail}", file=sys.stderr)
    return 1 if failed else 0


def cmd_settle_table(args) -> int:
    from icm.files import require_file, require_utf8_text, require_writable_target
    from savings.methodology import preset_names
    from savings.settle_csv import settle_table

    if args.list_presets:
        print("\n".join(preset_names()))
        return 0
    if not args.in_csv or not args.out_csv:
        raise UserError("settle-table needs IN.csv and OUT.csv after --preset (icm settle-table --help)")
    source = require_file(args.in_csv, "IN.csv")
    require_utf8_text(source, "IN.csv")
    target = require_writable_target(args.out_csv, "OUT.csv")
    if target.resolve() == source.resolve():
        raise UserError(f"OUT.csv {target}: is the input file; choose another output file")
    preset = _methodology_source(args.preset, "--preset")
    results = settle_table(preset, source, target)
    earned = sum((r.earned for r in results if r.earned > 0), Decimal(0))
    owed = -sum((r.earned for r in results if r.earned < 0), Decimal(0))
    print(f"settled {len(results)} rows -> {target}: earned savings ${earned:,.0f}, owed losses ${owed:,.0f}")
    return 0


def cmd_completion(args) -> int:
    """Paid-lag triangles and chain-ladder completion factors of a performance year and its base years (JSON).
    Reads only (opens the warehouse read-only); the methodology gives run-out, payers and estimation settings."""
    import json

    from icm.years import require_year_with_enrollment
    from savings.population.common import decimal_json
    from savings.population.completion import factors_for_years
    from savings.population.config import PopulationConfig

    if args.methodology:
        source = _methodology_source(args.methodology, "--methodology")
        cfg = _validated("--methodology", source, lambda: PopulationConfig.from_any(source))
    else:
        cfg = PopulationConfig()
    cost_update = {"completion_factor": "estimated"}     # the command always estimates
    if args.runout is not None:
        cost_update["runout_months"] = args.runout
    cfg = cfg.model_copy(update={"cost": cfg.cost.model_copy(update=cost_update)})
    years = _validated("--methodology", args.methodology or "defaults",
                       lambda: sorted(set(cfg.benchmark.years_for(args.year)) | {args.year}))
    engine = open_warehouse(args, read_only=True)
    try:
        require_year_with_enrollment(engine, args.year)
        record = factors_for_years(engine, cfg, args.year, years)
    finally:
        engine.dispose()
    json.dump(record, sys.stdout, indent=2, default=decimal_json)
    sys.stdout.write("\n")
    return 0


def add_commands(subparsers) -> None:
    p = add_warehouse_option(subparsers.add_parser(
        "settle", help="settle a performance year on the warehouse and print one row per program x entity x payer",
        description="Attribution, cost, risk, benchmark and settlement of a performance year on the warehouse; "
                    "replaces the methodology's settlement rows of that year and prints them. Checks that fail "
                    "are listed on stderr and the exit code is 1."))
    p.add_argument("--methodology", metavar="FILE|PRESET",
                   help="methodology YAML (population format or the settlement engine's) or a preset name "
                        "(icm settle-table --list-presets); required unless --stored")
    p.add_argument("--year", required=True, type=year, help="performance year; must hold enrollment")
    p.add_argument("--population", metavar="FILE",
                   help="attribution/cost/risk rules (YAML) to use with a settlement-engine methodology")
    p.add_argument("--format", choices=["json", "csv"], default="json", help="output format (default json)")
    p.add_argument("--no-prepare", action="store_true",
                   help="reuse attribution/cost/risk/inputs already in the warehouse (still writes the settlement)")
    p.add_argument("--stored", action="store_true",
                   help="print the settlement rows already in the warehouse (opens it read-only; no --methodology)")
    p.set_defaults(func=cmd_settle)

    p = subparsers.add_parser(
        "settle-table", help="settle a CSV of entities with a savings methodology preset",
        description="Settle every row of IN.csv (entity_id, performance_year, track, assigned_beneficiaries, "
                    "total_benchmark, total_expenditure, quality_score, met_quality_standard[, msr_choice, "
                    "disaster_adjustment, revenue, agreement_year, payer]) and write OUT.csv with the itemised "
                    "settlement (msr, savings_rate, generated, final_sharing_rate, earned, ...).")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--preset", metavar="PRESET|YAML",
                      help="preset name (e.g. mssp-2018, mssp-2021-basic-c, mn-ihp-track1) or methodology YAML path")
    what.add_argument("--list-presets", action="store_true", help="list the preset names and exit")
    p.add_argument("in_csv", nargs="?", metavar="IN.csv", help="input CSV, one row per entity (UTF-8)")
    p.add_argument("out_csv", nargs="?", metavar="OUT.csv", help="output CSV to write (its folder must exist)")
    p.set_defaults(func=cmd_settle_table)

    p = add_warehouse_option(subparsers.add_parser(
        "completion", help="paid-lag triangles and chain-ladder completion factors of a performance year (JSON)",
        description="Build the paid-lag triangles (service month x months to payment, per payer and service "
                    "category) of a performance year and its base years, valued at the end of the run-out, and "
                    "print them with the chain-ladder completion factors (savings.population.completion). Reads "
                    "only; opens the warehouse read-only."))
    p.add_argument("--year", required=True, type=year, help="performance year; must hold enrollment")
    p.add_argument("--methodology", metavar="FILE|PRESET",
                   help="run-out, payers in scope and estimation settings (default: the population defaults)")
    p.add_argument("--runout", type=runout_months, metavar="MONTHS",
                   help="run-out months, 0 to 24 (overrides the methodology)")
    p.set_defaults(func=cmd_completion)
