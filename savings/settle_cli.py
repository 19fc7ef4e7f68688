"""`icm settle`: settle a performance year on the warehouse and print one row per program x entity x payer.

    icm settle --methodology FILE|PRESET --year 2024 [--population FILE] [--warehouse URL] [--format json|csv]

--methodology  a methodology YAML (our population format, or the settlement engine's) or a preset name
--population   attribution / cost / risk rules (YAML) to use with a settlement-engine methodology
Errors print one line naming the field. Checks that fail are listed on stderr and the exit code is 1.
Also runnable as `python -m savings.settle_cli ...`.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys

from savings.population.uncertainty import FLAT_COLUMNS

COLUMNS = ["year", "methodology_id", "program_id", "entity_id", "payer", "risk_arrangement", "person_years",
           "benchmark", "expenditure", "savings", "savings_rate", "msr", "mlr", "generated", "quality_score",
           "sharing_rate", "earned", "owed", "binding", *FLAT_COLUMNS]    # + the settlement's uncertainty


def _round(v):
    return round(v, 6) if isinstance(v, float) else v


def cmd_settle(args) -> int:
    from pydantic import ValidationError

    from savings.population import check_settlement, settle_year
    from warehouse.engine import default_url, make_engine

    engine = make_engine(args.warehouse or default_url())
    try:
        rows = settle_year(engine, args.methodology, args.year, population=args.population,
                           prepare=not args.no_prepare)
        checks = check_settlement(engine, args.year, rows[0]["methodology_id"] if rows else None)
    except ValidationError as exc:
        err = exc.errors()[0]
        print(f"icm: error: invalid {'.'.join(str(p) for p in err['loc'])}: {err['msg']}", file=sys.stderr)
        return 2
    except (ValueError, FileNotFoundError) as exc:
        print(f"icm: error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    out = [{c: _round(r.get(c)) for c in COLUMNS} for r in rows]
    if args.format == "csv":
        w = csv.DictWriter(sys.stdout, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(out)
    else:
        json.dump(out, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    failed = [c for c in checks if not c.passed]
    for c in failed:
        print(f"icm: check failed: {c.name}: {c.detail}", file=sys.stderr)
    return 1 if failed else 0


def add_commands(subparsers) -> None:
    p = subparsers.add_parser("settle", help="settle a performance year on the warehouse (attribution, cost, risk, "
                                             "benchmark, settlement) and print one row per program x entity x payer")
    p.add_argument("--methodology", required=True, metavar="FILE|PRESET")
    p.add_argument("--year", required=True, type=int, help="performance year")
    p.add_argument("--population", metavar="FILE", help="attribution/cost/risk rules for an engine methodology")
    p.add_argument("--warehouse", metavar="URL", help="SQLAlchemy URL (default: $WAREHOUSE_URL or .icm/warehouse.duckdb)")
    p.add_argument("--format", choices=["json", "csv"], default="json")
    p.add_argument("--no-prepare", action="store_true",
                   help="reuse attribution/cost/risk/inputs already in the warehouse")
    p.set_defaults(func=cmd_settle)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="icm")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
