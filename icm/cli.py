"""`icm`: the command line. It calls the same functions the Dagster assets call.

Errors a user can fix are printed as one line on stderr with exit code 2; nothing prints a traceback
unless --debug is given.
"""
from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
from pathlib import Path

log = logging.getLogger("icm")


class UserError(Exception):
    """An error the user can fix; printed as one line."""


def _engine(args, *, migrate: bool = True):
    from warehouse.engine import default_url, make_engine, upgrade

    url = getattr(args, "warehouse", None) or default_url()
    if migrate:
        upgrade(url)
    return make_engine(url)


# --- load ------------------------------------------------------------------------------------------

def cmd_load(args) -> int:
    from warehouse.formats import discover
    from warehouse.loading import load_sources
    from warehouse.preflight import preflight

    fmt = args.format if not args.layout else f"layout:{args.layout}"
    sources = discover(args.path, fmt, payer=args.payer)
    for source in sources:  # every file must be readable before any is written
        preflight(source)
    engine = _engine(args)
    reports = load_sources(engine, sources, require_enrollment=not args.no_enrollment_check)
    derived, note = {}, None
    if not args.no_derive and not any(r.status == "loaded" for r in reports):
        note = "skipped: every file was already loaded, the derived tables are current"
    elif not args.no_derive:
        from warehouse.derive import rebuild_final_action, rebuild_member_months

        derived = {**rebuild_final_action(engine), **rebuild_member_months(engine)}
    json.dump({"files": [r.as_dict() for r in reports], "derived_rows": derived, **({"derived": note} if note else {})},
              sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
    return 0


# --- demo ------------------------------------------------------------------------------------------

def cmd_demo(args) -> int:
    from icm.demo import run_demo

    summary = run_demo(members=args.members, seed=args.seed, warehouse_url=args.warehouse)
    from icm.demo import print_summary

    print_summary(summary)
    return 0 if summary["success"] else 1


def cmd_migrate(args) -> int:
    from warehouse.engine import default_url, downgrade, upgrade

    url = args.warehouse or default_url()
    (downgrade if args.revision == "base" else upgrade)(url, args.revision)
    print(f"warehouse at {args.revision}: {url}")
    return 0


def cmd_ui(args) -> int:
    import subprocess

    home = Path(os.environ.get("DAGSTER_HOME", ".icm/dagster_home")).resolve()
    home.mkdir(parents=True, exist_ok=True)
    from orchestration.instance import ensure_instance_yaml

    ensure_instance_yaml(home)
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    cmd = [str(Path(sys.executable).parent / "dagster"), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1",
           "-p", str(args.port)]
    return subprocess.call(cmd, env=env)


def cmd_export(args) -> int:
    from exports import NothingToExport, export_year, verify_export

    engine = _engine(args)
    out_dir = Path(args.out or Path(os.environ.get("ICM_HOME", ".icm")) / "exports" / str(args.year))
    try:
        manifest = export_year(engine, args.year, out_dir)
    except NothingToExport as exc:
        raise UserError(str(exc)) from None
    finally:
        engine.dispose()
    problems = verify_export(out_dir, args.year)
    if problems:
        raise UserError(f"export in {out_dir} failed its suppression check: {problems[0]}")
    json.dump({"out_dir": str(out_dir), **manifest}, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
    return 0


def cmd_bench(args) -> int:
    from icm.bench import run_bench

    json.dump(run_bench(members=args.members, seed=args.seed, parts=args.parts), sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="icm", description="ICM Calculator: claims warehouse, quality measures "
                                                             "and shared-savings settlement")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and DEBUG logs")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_warehouse(p):
        p.add_argument("--warehouse", metavar="URL", help="SQLAlchemy URL (default: $WAREHOUSE_URL or .icm/warehouse.duckdb)")
        return p

    p = with_warehouse(sub.add_parser("demo", help="generate a synthetic state and run the whole pipeline"))
    p.add_argument("--members", type=int, default=20_000)
    p.add_argument("--seed", type=int, default=42)
    p.set_defaults(func=cmd_demo)

    p = with_warehouse(sub.add_parser("load", help="load a folder (or file) of claims/eligibility into the warehouse"))
    p.add_argument("--format", required=True, choices=["tuva", "desynpuf", "synthea", "layout"])
    p.add_argument("--layout", help="layout name or YAML path (for --format layout)")
    p.add_argument("--payer", help="payer name for files that carry none")
    p.add_argument("--no-enrollment-check", action="store_true",
                   help="load claims even when the member has no enrollment with the payer on the service date")
    p.add_argument("--no-derive", action="store_true", help="skip rebuilding final-action claims and member-months")
    p.add_argument("path")
    p.set_defaults(func=cmd_load)

    p = with_warehouse(sub.add_parser("migrate", help="upgrade (or downgrade) the warehouse schema"))
    p.add_argument("revision", nargs="?", default="head")
    p.set_defaults(func=cmd_migrate)

    p = with_warehouse(sub.add_parser("export", help="write the CMS-facing exports of a year (QMR measure rates, "
                                                     "settlement statements, Health Home qualifier) with "
                                                     "small-cell suppression"))
    p.add_argument("--year", type=int, required=True, help="measurement / performance year")
    p.add_argument("--out", help="output folder (default: $ICM_HOME/exports/YEAR)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("ui", help="start the Dagster UI on 127.0.0.1")
    p.add_argument("--port", type=int, default=3000)
    p.set_defaults(func=cmd_ui)

    p = sub.add_parser("bench", help="benchmark generation, loading, measures and settlement; prints JSON")
    p.add_argument("--members", default="200000", type=_member_counts,
                   help="members, or a comma list (e.g. 1000000,2000000) to also report the scaling ratios")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--parts", default="load,measures,settle,sweep",
                   help="comma list of load, measures, settle (warehouse settlement path), sweep (1,000 entities "
                        "x 1,000 parameter sets)")
    p.set_defaults(func=cmd_bench)

    # Domain packages add their own commands (measures, settle-table, settle).
    for module in ("measures.cli", "savings.cli", "savings.settle_cli"):
        try:
            mod = importlib.import_module(module)
        except ImportError:
            continue
        if hasattr(mod, "add_commands"):
            mod.add_commands(sub)
    return parser


def _member_counts(text: str) -> str:
    """argparse type for `bench --members`: a positive integer or a comma list of them."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError(f"expected a positive number of members or a comma list of them, got {text!r}")
    return ",".join(parts)


def _configure_logging(debug: bool) -> None:
    # Member identifiers and claim contents are only ever logged at DEBUG.
    logging.basicConfig(level=logging.DEBUG if debug else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("alembic", "great_expectations", "dagster", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if debug else logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    import warnings

    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.debug)
    if not args.debug:
        warnings.filterwarnings("ignore")
    from pydantic import ValidationError

    from warehouse.staging import LoadError

    try:
        return int(args.func(args) or 0)
    except (UserError, LoadError, FileNotFoundError) as exc:
        print(f"icm: error: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        err = exc.errors()[0]
        print(f"icm: error: invalid {'.'.join(str(p) for p in err['loc'])}: {err['msg']}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("icm: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the user sees one line; --debug shows the traceback
        if args.debug:
            raise
        first = str(exc).splitlines()[0] if str(exc) else ""
        print(f"icm: error: {type(exc).__name__}: {first[:300]} (run with --debug for details)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
