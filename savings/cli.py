"""``icm settle-table`` subcommand (registered by icm/cli.py via :func:`add_commands`).

    icm settle-table --preset mssp-2018 IN.csv OUT.csv
    icm settle-table --list-presets

Errors are printed as one line on stderr (``error: row 7 (entity A1234): column 'total_benchmark': ...``)
with exit code 2; never a traceback.
"""
from __future__ import annotations

import argparse
import sys
from decimal import Decimal

from .methodology import MethodologyError, preset_names
from .settlement import SettlementError
from .settle_csv import TableError, settle_table


def add_commands(subparsers) -> None:
    p = subparsers.add_parser(
        "settle-table", help="settle a CSV of entities with a savings methodology preset",
        description="Settle every row of IN.csv (entity_id, performance_year, track, assigned_beneficiaries, "
                    "total_benchmark, total_expenditure, quality_score, met_quality_standard[, msr_choice, "
                    "disaster_adjustment, revenue, agreement_year, payer]) and write OUT.csv with the itemised "
                    "settlement (msr, savings_rate, generated, final_sharing_rate, earned, ...).")
    p.add_argument("--preset", help="preset name (e.g. mssp-2018, mssp-2021-basic-c, mn-ihp) or methodology YAML path")
    p.add_argument("--list-presets", action="store_true", help="list the preset names and exit")
    p.add_argument("in_csv", nargs="?", metavar="IN.csv")
    p.add_argument("out_csv", nargs="?", metavar="OUT.csv")
    p.set_defaults(func=run_settle_table)


def run_settle_table(args) -> int:
    if getattr(args, "list_presets", False):
        print("\n".join(preset_names()))
        return 0
    if not args.preset or not args.in_csv or not args.out_csv:
        print("error: settle-table needs --preset PRESET IN.csv OUT.csv", file=sys.stderr)
        return 2
    try:
        results = settle_table(args.preset, args.in_csv, args.out_csv)
    except (TableError, MethodologyError, SettlementError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}", file=sys.stderr)
        return 2
    earned = sum((r.earned for r in results if r.earned > 0), Decimal(0))
    owed = -sum((r.earned for r in results if r.earned < 0), Decimal(0))
    print(f"settled {len(results)} rows -> {args.out_csv}: earned savings ${earned:,.0f}, owed losses ${owed:,.0f}")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="icm")
    sub = ap.add_subparsers(dest="command", required=True)
    add_commands(sub)
    args = ap.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
