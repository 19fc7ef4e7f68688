"""`icm measures`: compute (or, with --stored, print) the quality measures of a measurement year.

Computing writes `measure_result`/`measure_detail`, so it opens the warehouse for writing (never migrating it);
`--stored` only reads the results computed earlier (by this command or Dagster) and opens it read-only.
"""
from __future__ import annotations

import sys

from icm.errors import UserError
from icm.options import year
from icm.output import print_csv, print_json
from icm.progress import Stages, print_timings
from icm.warehouse_access import add_warehouse_option, open_warehouse

# `rate` is shown in its reported unit (measures/units.py: a proportion as a percent, ...), named by `rate_unit`,
# the same unit as the QMR export and the Dagster metadata.
KEYS = ("measure", "rate_id", "stratum", "numerator", "denominator", "exclusions", "rate", "rate_unit", "small_cell",
        "status", "core_set_status", "lookback_status")
CSV_COLUMNS = ["measure", "rate_id", "stratum_type", "stratum_value", "numerator", "denominator", "exclusions",
               "rate", "rate_unit", "small_cell", "status", "core_set_status", "lookback_status"]


def selected_measures(ids: list[str] | None) -> list:
    """The measures named on the command line (all when none); an unknown id is refused with the known ids."""
    from measures.registry import all_measures

    known = {m.id.upper(): m for m in all_measures()}
    if not ids:
        return list(known.values())
    missing = [i for i in ids if i.upper() not in known]
    if missing:
        raise UserError(f"--measure: unknown measure id(s) {', '.join(missing)}; known ids: "
                        f"{', '.join(sorted(known))} (icm measures --list)")
    return [known[i.upper()] for i in ids]


def _rate_in_reported_unit(row: dict) -> dict:
    from measures.units import rate_unit, reported_rate

    rate = reported_rate(row["rate_type"], row["numerator"], row["denominator"])
    return {"rate": None if rate is None else float(rate), "rate_unit": rate_unit(row["rate_type"])}


def measure_options(args):
    """The run options: the --options YAML file (validated; an unknown or bad field is refused by name), then the
    flags given on the command line over it."""
    from pydantic import ValidationError

    from icm.failures import validation_message
    from measures.options import load_options

    if args.options:
        from icm.files import require_file, require_utf8_text

        require_utf8_text(require_file(args.options, "--options"), "--options")
    try:
        options = load_options(args.options)
    except ValidationError as exc:
        raise UserError(f"--options: {validation_message(exc, args.options)}") from None
    if args.pqi_payer_scope:
        options = options.model_copy(update={"pqi_payer_scope": args.pqi_payer_scope})
    return options


def cmd_measures(args) -> int:
    from icm.years import require_year_with_enrollment
    from measures.engine import compute, results
    from measures.progress import listening

    if args.list:
        for m in selected_measures(None):
            print(f"{m.id}\t{m.title}")
        return 0
    ids = [m.id for m in selected_measures(args.measure)]
    options = measure_options(args)
    if args.licensed_value_sets:
        from icm.files import require_folder

        require_folder(args.licensed_value_sets, "--licensed-value-sets")
    engine = open_warehouse(args, read_only=args.stored)
    try:
        if args.stored:  # reads the results table only (enough for the icm_reporter role)
            with engine.connect() as conn:
                rows = results(conn, args.year, ids)
            if not rows:
                raise UserError(f"--year {args.year}: no stored results for these measures; compute them with "
                                f"`icm measures --year {args.year}`")
        else:
            require_year_with_enrollment(engine, args.year)
            with Stages("measures", ["compute"]) as stages, stages.stage("compute"), \
                    listening(stages.items("measures")):
                rows = compute(engine, args.year, ids if args.measure else None,
                               licensed_dir=args.licensed_value_sets, options=options)
            print_timings(stages)
    finally:
        engine.dispose()
    from measures.status import warnings

    for line in warnings(rows):  # out of that FFY's Core Set, partial look-back, not computable: said on stderr
        print(f"icm: warning: {line}", file=sys.stderr)
    out = [{k: r.get(k) for k in KEYS} | _rate_in_reported_unit(r) for r in rows]
    if args.format == "csv":
        print_csv([{**{k: r[k] for k in KEYS if k != "stratum"}, "stratum_type": r["stratum"]["type"],
                    "stratum_value": r["stratum"]["value"]} for r in out], CSV_COLUMNS)
    else:
        print_json(out)
    return 0


def add_commands(subparsers) -> None:
    p = add_warehouse_option(subparsers.add_parser(
        "measures", help="compute quality measures for a measurement year",
        description="Compute the quality measures of a measurement year on the warehouse (replacing that year's "
                    "results) and print one row per measure, rate and stratum. With --stored, print the results "
                    "already in the warehouse without computing (read-only)."))
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--year", type=year, help="measurement year (calendar year); must hold enrollment")
    what.add_argument("--list", action="store_true", help="list the registered measures and exit")
    p.add_argument("--measure", action="extend", nargs="+", metavar="ID",
                   help="measure id(s), e.g. FUH-HH (default: every measure; see --list)")
    p.add_argument("--format", choices=["json", "csv"], default="json", help="output format (default json)")
    p.add_argument("--stored", action="store_true",
                   help="print the results stored earlier instead of computing (opens the warehouse read-only)")
    p.add_argument("--licensed-value-sets", metavar="DIR",
                   help="directory of licensed value-set files (HEDIS VSD / CMS Non-HEDIS VSD layout)")
    from measures.options import PQI_PAYER_SCOPES

    p.add_argument("--pqi-payer-scope", choices=PQI_PAYER_SCOPES,
                   help="which stays the PQI measures count: all_payers (default; a dual's Medicare-paid stay "
                        "counts, stratified under its payer) or medicaid_paid (stays paid by a Medicaid payer)")
    p.add_argument("--options", metavar="FILE",
                   help="YAML file of measure run options (e.g. `pqi_payer_scope: medicaid_paid`); flags win")
    p.set_defaults(func=cmd_measures)
