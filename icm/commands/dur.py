"""`icm dur --year Y` (retrospective DUR alerts) and `icm mtm --year Y` (MTM eligibility and CMR rate); JSON.

Both write their result tables (dur_*, mtm_*), so they open the warehouse for writing, never migrating it.
"""
from __future__ import annotations

from icm.errors import UserError
from icm.options import dollars, year
from icm.output import print_json
from icm.warehouse_access import add_warehouse_option, open_warehouse


def _package_errors() -> tuple[type[Exception], ...]:
    from pharmacy.config import RuleFileError
    from pharmacy.inputs import InputFileError
    from pharmacy.mtm.eligibility import PresetError
    from pharmacy.reference import ProductTableError

    return RuleFileError, ProductTableError, PresetError, InputFileError


def _run(args, work) -> int:
    """work(engine) on an existing warehouse at head that holds enrollment in the year; the user's file and option
    errors become one-line user errors."""
    from icm.years import require_year_with_enrollment

    engine = open_warehouse(args, read_only=False)
    try:
        require_year_with_enrollment(engine, args.year)
        result = work(engine)
    except _package_errors() as exc:
        raise UserError(str(exc)) from None
    finally:
        engine.dispose()
    print_json(result)
    return 0


def _checked(load):
    """load() with the package's own input errors as one-line user errors (before the warehouse is opened)."""
    try:
        return load()
    except _package_errors() as exc:
        raise UserError(str(exc)) from None


def cmd_dur(args) -> int:
    from pharmacy.config import load_rules
    from pharmacy.engine import run_dur

    rules = _checked(lambda: load_rules(args.rules))

    def work(engine):
        result = run_dur(engine, args.year, rules, products_file=args.products)
        if args.profiles:
            from pharmacy.profiles import pharmacy_profiles, prescriber_profiles

            result["prescriber_outliers"] = [r for r in prescriber_profiles(engine, args.year) if r["outlier"]]
            result["pharmacy_outliers"] = [r for r in pharmacy_profiles(engine, args.year) if r["outlier"]]
        if args.survey_ffy:
            from pharmacy.survey import write_survey

            result["survey_file"] = str(write_survey(engine, args.survey_ffy, args.out))
        return result
    return _run(args, work)


def cmd_mtm(args) -> int:
    """Eligible list for the year under the preset (part_d_<year> by default), CMR completion rate and, with
    --evaluate, the difference-in-differences of enrolled versus eligible-not-enrolled."""
    from pharmacy.mtm.eligibility import default_preset_for, run_eligibility
    from pharmacy.mtm.evaluation import evaluate_targeting
    from pharmacy.mtm.services import cmr_rate, load_services

    from pharmacy.mtm.eligibility import load_preset

    preset = args.preset or default_preset_for(args.year)
    _checked(lambda: load_preset(preset, args.threshold))

    def work(engine):
        if args.services:
            load_services(engine, args.services)
        result = {"eligibility": run_eligibility(engine, args.year, preset, args.threshold),
                  "cmr_completion": cmr_rate(engine, args.year)}
        if args.evaluate:
            result["evaluation"] = evaluate_targeting(engine, args.year, preset)
        return result
    return _run(args, work)


def cmd_dur_products(args) -> int:
    """Convert the user's copy of the FDA NDC Directory or of RxNorm into the DUR product table (CSV) for
    `icm dur --products`."""
    from pathlib import Path

    from pharmacy.ndc_directory import write_products_csv
    from pharmacy.reference import read_product_folder

    folder = Path(args.ndc_directory or args.rxnorm)
    if not folder.is_dir():
        raise UserError(f"{folder}: not a folder (--{'ndc-directory' if args.ndc_directory else 'rxnorm'})")
    rows = _checked(lambda: read_product_folder(folder, rxnorm=bool(args.rxnorm)))
    out = write_products_csv(rows, args.out)
    print_json({"file": str(out), "rows": len(rows), "ndcs": len({r.ndc for r in rows}),
                "ingredients": len({r.ingredient for r in rows}),
                "rows_without_strength": sum(1 for r in rows if not r.strength)})
    return 0


def add_commands(subparsers) -> None:
    p = add_warehouse_option(subparsers.add_parser(
        "dur", help="retrospective drug utilization review: alerts, traces and MME for a year",
        description="Run the DUR rule set on a calendar year's pharmacy claims (pharmacy/): alerts with the fills "
                    "that fired them, daily MME, an NDC coverage report; optionally prescriber/pharmacy outliers "
                    "and the CMS DUR survey counts of a federal fiscal year."))
    p.add_argument("--year", type=year, required=True, help="calendar year of the review; must hold enrollment")
    p.add_argument("--rules", metavar="FILE", help="rule set YAML (default: pharmacy/rules/dur_rules.yaml)")
    p.add_argument("--products", metavar="FILE",
                   help="CSV of NDC products (ndc, ingredient, strength, strength_unit, dose_form), or a folder "
                        "with the FDA NDC Directory's product.txt and package.txt or RxNorm's RXNCONSO.RRF and "
                        "RXNSAT.RRF; replaces the shipped reference's rows of the same NDCs")
    p.add_argument("--profiles", action="store_true",
                   help="add prescriber and pharmacy outliers against specialty peers (pharmacy/profiles.py)")
    p.add_argument("--survey-ffy", type=int, metavar="FFY",
                   help="also write the DUR survey SUPPORT Act counts for this federal fiscal year (needs the "
                        "calendar years FFY-1 and FFY reviewed)")
    p.add_argument("--out", default=".icm/exports/dur", help="folder for the survey file (default .icm/exports/dur)")
    p.set_defaults(func=cmd_dur)

    p = subparsers.add_parser(
        "dur-products", help="convert your copy of the FDA NDC Directory or RxNorm into the DUR product table",
        description="Read product.txt and package.txt of the FDA National Drug Code Directory (tab-delimited, as "
                    "published; pharmacy/ndc_directory.py) or RXNCONSO.RRF and RXNSAT.RRF of the RxNorm full "
                    "release (pharmacy/rxnorm.py) and write one row per NDC and active ingredient that a DUR rule "
                    "looks at, for `icm dur --products FILE`.")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--ndc-directory", metavar="DIR",
                        help="folder holding the FDA NDC Directory's product.txt and package.txt")
    source.add_argument("--rxnorm", metavar="DIR", help="folder holding RxNorm's RXNCONSO.RRF and RXNSAT.RRF")
    p.add_argument("--out", required=True, metavar="FILE", help="CSV to write")
    p.set_defaults(func=cmd_dur_products)

    p = add_warehouse_option(subparsers.add_parser(
        "mtm", help="medication therapy management: monthly eligible list, CMR completion rate, targeting evaluation",
        description="MTM eligibility by contract year under a targeting preset (pharmacy/mtm/presets.yaml), the "
                    "CMR completion rate from loaded MTM service records and, with --evaluate, a difference-in-"
                    "differences of enrolled versus eligible-not-enrolled."))
    p.add_argument("--year", type=year, required=True, help="contract (calendar) year; must hold enrollment")
    p.add_argument("--preset", help="targeting preset in pharmacy/mtm/presets.yaml (default part_d_<year>; "
                                    "e.g. minnesota_medicaid)")
    p.add_argument("--threshold", type=dollars, help="annual drug cost threshold in dollars, overriding the preset's")
    p.add_argument("--services", metavar="FILE", help="MTM service record CSV to load first (record_id, person_id, "
                                                      "record_type, start_date, end_date, provider_npi)")
    p.add_argument("--evaluate", action="store_true",
                   help="difference-in-differences of enrolled vs eligible-not-enrolled (needs the year before)")
    p.set_defaults(func=cmd_mtm)
