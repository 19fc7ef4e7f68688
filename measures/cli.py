"""`icm measures --year Y [--measure ID ...] [--format json|csv] [--warehouse URL]`."""
from __future__ import annotations

import csv
import json
import sys

KEYS = ("measure", "rate_id", "stratum", "numerator", "denominator", "exclusions", "rate", "small_cell", "status")


def cmd_measures(args) -> int:
    from measures.engine import compute
    from measures.registry import all_measures
    from warehouse.engine import make_engine

    if args.list:
        for m in all_measures():
            print(f"{m.id}\t{m.title}")
        return 0
    engine = make_engine(args.warehouse)
    try:
        rows = compute(engine, args.year, args.measure or None, licensed_dir=args.licensed_value_sets)
    finally:
        engine.dispose()
    out = [{k: r[k] for k in KEYS} for r in rows]
    if args.format == "csv":
        w = csv.writer(sys.stdout)
        w.writerow(["measure", "rate_id", "stratum_type", "stratum_value", "numerator", "denominator", "exclusions",
                    "rate", "small_cell", "status"])
        for r in out:
            w.writerow([r["measure"], r["rate_id"], r["stratum"]["type"], r["stratum"]["value"], r["numerator"],
                        r["denominator"], r["exclusions"], r["rate"], r["small_cell"], r["status"]])
    else:
        json.dump(out, sys.stdout, indent=1, default=str)
        sys.stdout.write("\n")
    return 0


def add_commands(subparsers) -> None:
    p = subparsers.add_parser("measures", help="compute quality measures for a measurement year")
    p.add_argument("--year", type=int, required=False, help="measurement year (calendar year)")
    p.add_argument("--measure", action="extend", nargs="+", metavar="ID", help="measure id(s), e.g. FUH-HH")
    p.add_argument("--format", choices=["json", "csv"], default="json")
    p.add_argument("--warehouse", metavar="URL", help="SQLAlchemy URL (default: $WAREHOUSE_URL or .icm/warehouse.duckdb)")
    p.add_argument("--licensed-value-sets", metavar="DIR",
                   help="directory of licensed value-set files (HEDIS VSD / CMS Non-HEDIS VSD layout)")
    p.add_argument("--list", action="store_true", help="list the registered measures and exit")
    p.set_defaults(func=_run)


def _run(args) -> int:
    if not args.list and args.year is None:
        raise SystemExit("icm measures: --year is required")
    return cmd_measures(args)
