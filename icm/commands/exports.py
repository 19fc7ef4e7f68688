"""`icm export`: the CMS-facing files of a year. Reads the warehouse only, so it opens it read-only."""
from __future__ import annotations

import os
from pathlib import Path

from icm.errors import UserError
from icm.options import year
from icm.output import print_json
from icm.warehouse_access import add_warehouse_option, open_warehouse


def cmd_export(args) -> int:
    from exports import export_year, verify_export
    from icm.years import require_year_with_enrollment

    out_dir = Path(args.out or Path(os.environ.get("ICM_HOME", ".icm")) / "exports" / str(args.year))
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"--out {out_dir}: is a file, expected a folder")
    engine = open_warehouse(args, read_only=True)
    try:
        require_year_with_enrollment(engine, args.year)
        manifest = export_year(engine, args.year, out_dir)
    finally:
        engine.dispose()
    problems = verify_export(out_dir, args.year)
    if problems:
        raise UserError(f"export in {out_dir} failed its suppression check: {problems[0]}")
    print_json({"out_dir": str(out_dir), **manifest})
    return 0


def add_commands(subparsers) -> None:
    p = add_warehouse_option(subparsers.add_parser(
        "export", help="write the CMS-facing exports of a year with small-cell suppression",
        description="Write the CMS-facing exports of a year (QMR measure rates, settlement statements, Health "
                    "Home qualifier) with small-cell suppression, from the measures and settlement already in the "
                    "warehouse (opened read-only), and print the manifest."))
    p.add_argument("--year", type=year, required=True, help="measurement / performance year; must hold enrollment")
    p.add_argument("--out", metavar="DIR", help="output folder (default: $ICM_HOME/exports/YEAR)")
    p.set_defaults(func=cmd_export)
