"""`icm completion --year Y`: paid-lag triangles and chain-ladder completion factors of a performance year (JSON).

    icm completion --year 2024 [--methodology FILE|PRESET] [--runout MONTHS] [--warehouse URL]

The methodology (default: the population defaults) gives the run-out, the payers in scope, the included cost
categories and the estimation settings (`cost.completion`); --runout overrides the run-out. The triangles are
valued at the end of the run-out of the year (savings.population.completion). Money and factors are printed as
decimal strings. Errors print one line naming the field or option (exit code 2).
"""
from __future__ import annotations

import json
import sys


def cmd_completion(args) -> int:
    from pydantic import ValidationError

    from icm.cli import UserError
    from savings.population.common import decimal_json
    from savings.population.completion import factors_for_years
    from savings.population.config import PopulationConfig
    from warehouse.engine import default_url, make_engine

    try:
        cfg = PopulationConfig.from_any(args.methodology) if args.methodology else PopulationConfig()
    except ValidationError as exc:
        err = exc.errors()[0]
        raise UserError(f"--methodology: invalid {'.'.join(str(p) for p in err['loc'])}: {err['msg']}") from None
    except ValueError as exc:
        raise UserError(f"--methodology: {str(exc).splitlines()[0]}") from None
    if args.runout is not None:
        if not 0 <= args.runout <= 24:
            raise UserError(f"--runout: expected 0 to 24 months, got {args.runout}")
        cfg = cfg.model_copy(update={"cost": cfg.cost.model_copy(update={"runout_months": args.runout})})
    if cfg.cost.completion_factor != "estimated":     # the command always estimates
        cfg = cfg.model_copy(update={"cost": cfg.cost.model_copy(update={"completion_factor": "estimated"})})
    years = sorted(set(cfg.benchmark.years_for(args.year)) | {args.year})
    engine = make_engine(args.warehouse or default_url())
    try:
        record = factors_for_years(engine, cfg, args.year, years)
    finally:
        engine.dispose()
    json.dump(record, sys.stdout, indent=2, default=decimal_json)
    sys.stdout.write("\n")
    return 0


def add_commands(subparsers) -> None:
    p = subparsers.add_parser("completion", help="paid-lag triangles and chain-ladder completion factors of a "
                                                 "performance year and its base years (JSON)")
    p.add_argument("--year", required=True, type=int, help="performance year")
    p.add_argument("--methodology", metavar="FILE|PRESET", help="run-out, payers and estimation settings")
    p.add_argument("--runout", type=int, metavar="MONTHS", help="run-out months (overrides the methodology)")
    p.add_argument("--warehouse", metavar="URL", help="SQLAlchemy URL (default: $WAREHOUSE_URL or .icm/warehouse.duckdb)")
    p.set_defaults(func=cmd_completion)
