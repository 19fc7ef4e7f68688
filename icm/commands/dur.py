"""`icm dur --year Y` (retrospective DUR alerts) and `icm mtm --year Y` (MTM eligibility and CMR rate); JSON."""
from __future__ import annotations

import json
import sys
from decimal import Decimal


def _user_errors():
    from icm.cli import UserError
    from pharmacy.config import RuleFileError
    from pharmacy.mtm.eligibility import PresetError
    from pharmacy.inputs import InputFileError
    from pharmacy.reference import ProductTableError

    return UserError, (RuleFileError, ProductTableError, PresetError, InputFileError)


def _run(args, work) -> int:
    """work(engine) on the migrated warehouse; the user's file and option errors become one-line user errors."""
    from icm.cli import _engine

    UserError, errors = _user_errors()
    try:
        engine = _engine(args)
        try:
            result = work(engine)
        finally:
            engine.dispose()
    except errors as exc:
        raise UserError(str(exc)) from exc
    _print(result)
    return 0


def _print(result) -> None:
    json.dump(result, sys.stdout, indent=1, default=str)
    sys.stdout.write("\n")


def cmd_dur(args) -> int:
    from pharmacy.config import load_rules
    from pharmacy.engine import run_dur

    def work(engine):
        result = run_dur(engine, args.year, load_rules(args.rules), products_file=args.products)
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

    preset = args.preset or default_preset_for(args.year)

    def work(engine):
        if args.services:
            load_services(engine, args.services)
        result = {"eligibility": run_eligibility(engine, args.year, preset, args.threshold),
                  "cmr_completion": cmr_rate(engine, args.year)}
        if args.evaluate:
            result["evaluation"] = evaluate_targeting(engine, args.year, preset)
        return result
    return _run(args, work)


def add_commands(subparsers) -> None:
    p = subparsers.add_parser("dur", help="retrospective drug utilization review: alerts, traces and MME for a year")
    p.add_argument("--year", type=int, required=True, help="calendar year of the review")
    p.add_argument("--rules", metavar="FILE", help="rule set YAML (default: pharmacy/rules/dur_rules.yaml)")
    p.add_argument("--products", metavar="FILE",
                   help="CSV of NDC products (ndc, ingredient, strength, strength_unit, dose_form) extending the "
                        "shipped reference")
    p.add_argument("--profiles", action="store_true",
                   help="add prescriber and pharmacy outliers against specialty peers (pharmacy/profiles.py)")
    p.add_argument("--survey-ffy", type=int, metavar="FFY",
                   help="also write the DUR survey SUPPORT Act counts for this federal fiscal year (needs the "
                        "calendar years FFY-1 and FFY reviewed)")
    p.add_argument("--out", default=".icm/exports/dur", help="folder for the survey file (default .icm/exports/dur)")
    p.add_argument("--warehouse", metavar="URL", help="SQLAlchemy URL (default: $WAREHOUSE_URL or .icm/warehouse.duckdb)")
    p.set_defaults(func=cmd_dur)

    p = subparsers.add_parser("mtm", help="medication therapy management: monthly eligible list, CMR completion "
                                          "rate, targeting evaluation")
    p.add_argument("--year", type=int, required=True, help="contract (calendar) year")
    p.add_argument("--preset", help="targeting preset in pharmacy/mtm/presets.yaml (default part_d_<year>; "
                                    "e.g. minnesota_medicaid)")
    p.add_argument("--threshold", type=Decimal, help="annual drug cost threshold in dollars, overriding the preset's")
    p.add_argument("--services", metavar="FILE", help="MTM service record CSV to load first (record_id, person_id, "
                                                      "record_type, start_date, end_date, provider_npi)")
    p.add_argument("--evaluate", action="store_true",
                   help="difference-in-differences of enrolled vs eligible-not-enrolled (needs the year before)")
    p.add_argument("--warehouse", metavar="URL", help="SQLAlchemy URL (default: $WAREHOUSE_URL or .icm/warehouse.duckdb)")
    p.set_defaults(func=cmd_mtm)
