"""`icm utilization`, `icm sample`, `icm no-utilization`, `icm feedback`: utilization management commands. They call
the same functions as the Dagster assets (utilization/). All write their result tables, so they open an existing
warehouse for writing, never migrating it; a year (or month) without enrollment is refused before anything runs.
"""
from __future__ import annotations

import os
from pathlib import Path

from icm.errors import UserError
from icm.options import year
from icm.output import print_json
from icm.warehouse_access import add_warehouse_option, open_warehouse


def _home() -> Path:
    return Path(os.environ.get("ICM_HOME", ".icm"))


def _user_errors(fn):
    """Errors a user can fix in the command's input (a month, a results file, a config value) as one line."""
    def wrapper(args):
        if args.config:
            from icm.files import require_yaml_mapping

            require_yaml_mapping(args.config, "--config")
        try:
            return fn(args)
        except ValueError as exc:
            if type(exc).__name__ == "ValidationError":   # pydantic: icm.cli names the field
                raise
            raise UserError(str(exc).splitlines()[0]) from None
    return wrapper


def _on_warehouse(args, work, year_with_enrollment: int) -> int:
    """Open the existing warehouse, refuse a year without enrollment, print work(engine) as JSON, release it."""
    from icm.years import require_year_with_enrollment

    engine = open_warehouse(args, read_only=False)
    try:
        require_year_with_enrollment(engine, year_with_enrollment)
        print_json(work(engine))
        return 0
    finally:
        engine.dispose()


@_user_errors
def cmd_utilization(args) -> int:
    from utilization.run import run_year

    return _on_warehouse(args, lambda engine: run_year(engine, args.year, args.config), args.year)


@_user_errors
def cmd_sample(args) -> int:
    from utilization.sample import draw_sample, export_mailing, import_results, monthly_report, parse_month

    month = parse_month(args.month)

    def work(engine):
        if args.import_results:
            return import_results(engine, Path(args.import_results))
        if args.report:
            return monthly_report(engine, month)
        out = draw_sample(engine, month, args.config)
        target = Path(args.out or _home() / "utilization" / f"verification_sample_{month:%Y-%m}.csv")
        return {**out, "export": export_mailing(engine, month, target)}
    return _on_warehouse(args, work, month.year)


@_user_errors
def cmd_no_utilization(args) -> int:
    from utilization.no_use import load_outreach, no_utilization_report

    def work(engine):
        loaded = load_outreach(engine, Path(args.outreach)) if args.outreach else None
        report = no_utilization_report(engine, args.year, Path(args.out or _home() / "utilization" / str(args.year)),
                                       args.config)
        return {**report, "outreach_loaded": loaded} if loaded else report
    return _on_warehouse(args, work, args.year)


@_user_errors
def cmd_feedback(args) -> int:
    from utilization.feedback import write_feedback

    return _on_warehouse(args, lambda engine: write_feedback(engine, args.year, Path(args.out), args.config,
                                                             pdf=args.pdf), args.year)


def add_commands(sub) -> None:
    def common(p):
        add_warehouse_option(p)
        p.add_argument("--config", metavar="FILE",
                       help="utilization configuration YAML (default: utilization/default.yaml)")
        return p

    p = common(sub.add_parser(
        "utilization", help="utilization per person-month and per provider, risk-adjusted norms and outlier flags of "
                            "every method for a year",
        description="Count utilization per person-month and per unit (billing NPI, practice, ICM entity, payer), "
                    "compute expected counts by indirect standardisation and flag outliers with every configured "
                    "method side by side (utilization/README.md); writes the utilization tables and prints a "
                    "summary."))
    p.add_argument("--year", type=year, required=True, help="calendar year; must hold enrollment")
    p.set_defaults(func=cmd_utilization)

    p = common(sub.add_parser(
        "sample", help="monthly service-verification sample (>= 500 enrollees, seeded), its mailing export, results "
                       "import and report",
        description="Draw the month's service-verification sample (42 CFR 455.20: at least 500 enrollees with "
                    "services billed, or all when fewer; seeded and stratified) and write its mailing export; or "
                    "import verification results, or print the month's results report."))
    p.add_argument("--month", required=True, help="the month sampled, YYYY-MM; its year must hold enrollment")
    p.add_argument("--out", help="mailing CSV (default: $ICM_HOME/utilization/verification_sample_YYYY-MM.csv)")
    p.add_argument("--import-results", metavar="CSV", help="import verification results instead of drawing")
    p.add_argument("--report", action="store_true", help="print the month's results report instead of drawing")
    p.set_defaults(func=cmd_sample)

    p = common(sub.add_parser(
        "no-utilization", help="annual report of enrollees enrolled all year with no claim, with the outreach made "
                               "to each",
        description="Enrollees continuously enrolled for the whole year with no claim, fill or encounter of any "
                    "kind, by plan, program and demographic group, with the outreach recorded for each; writes CSV "
                    "files and prints the counts."))
    p.add_argument("--year", type=year, required=True, help="calendar year; must hold enrollment")
    p.add_argument("--outreach", metavar="CSV", help="load outreach records (person_id, outreach_date, "
                                                     "outreach_method, outcome) first")
    p.add_argument("--out", help="folder for the CSV files (default: $ICM_HOME/utilization/YEAR)")
    p.set_defaults(func=cmd_no_utilization)

    p = common(sub.add_parser(
        "feedback", help="practice peer-comparison pages (HTML, one per practice, and an index)",
        description="Write one HTML page per practice with its quality measures and utilization against its peers "
                    "(funnel plots, ranks, trend; counts 1-10 suppressed, no member ids) and an index page; with "
                    "--pdf also PDFs through WeasyPrint."))
    p.add_argument("--year", type=year, required=True, help="calendar year; must hold enrollment")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--pdf", action="store_true", help="also write PDFs (needs WeasyPrint)")
    p.set_defaults(func=cmd_feedback)
