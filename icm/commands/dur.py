"""`icm dur --year Y` (retrospective DUR alerts) and `icm mtm --year Y` (MTM eligibility and CMR rate); JSON."""
from __future__ import annotations

import json
import sys


def _user_errors():
    from icm.cli import UserError
    from pharmacy.config import RuleFileError
    from pharmacy.reference import ProductTableError

    return UserError, (RuleFileError, ProductTableError)


def cmd_dur(args) -> int:
    from icm.cli import _engine
    from pharmacy.config import load_rules
    from pharmacy.engine import run_dur

    UserError, errors = _user_errors()
    try:
        rules = load_rules(args.rules)
        engine = _engine(args)
        try:
            result = run_dur(engine, args.year, rules, products_file=args.products)
        finally:
            engine.dispose()
    except errors as exc:
        raise UserError(str(exc)) from exc
    json.dump(result, sys.stdout, indent=1, default=str)
    sys.stdout.write("\n")
    return 0


def add_commands(subparsers) -> None:
    p = subparsers.add_parser("dur", help="retrospective drug utilization review: alerts, traces and MME for a year")
    p.add_argument("--year", type=int, required=True, help="calendar year of the review")
    p.add_argument("--rules", metavar="FILE", help="rule set YAML (default: pharmacy/rules/dur_rules.yaml)")
    p.add_argument("--products", metavar="FILE",
                   help="CSV of NDC products (ndc, ingredient, strength, strength_unit, dose_form) extending the "
                        "shipped reference")
    p.add_argument("--warehouse", metavar="URL", help="SQLAlchemy URL (default: $WAREHOUSE_URL or .icm/warehouse.duckdb)")
    p.set_defaults(func=cmd_dur)
