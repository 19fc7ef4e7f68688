"""`icm migrate` and `icm load`: the commands that create the warehouse and change its schema and contents."""
from __future__ import annotations

from icm.files import looks_like_path, require_yaml_mapping
from icm.output import print_json
from icm.progress import Stages, print_timings
from icm.warehouse_access import add_warehouse_option, migrate_warehouse


def cmd_migrate(args) -> int:
    from warehouse.engine import display_url, is_duckdb

    url = migrate_warehouse(args, args.revision)
    print(f"warehouse at {args.revision}: {display_url(url)}")
    if not is_duckdb(url) and args.revision != "base" and not args.no_roles:
        _grant_roles(url)
    return 0


def _grant_roles(url: str) -> None:
    """PostgreSQL: the least-privilege roles (warehouse/roles.py), when this user may create roles."""
    import sys

    from warehouse.engine import make_engine
    from warehouse.roles import grant_roles, may_create_roles

    engine = make_engine(url)
    try:
        if not may_create_roles(engine):
            print("icm: roles icm_loader/icm_analyst/icm_reporter not created: this user may not create roles; "
                  "a database administrator can run `icm migrate` to create them", file=sys.stderr)
            return
        readable = grant_roles(engine)
    finally:
        engine.dispose()
    print("roles: " + ", ".join(f"{role} reads {n} tables" for role, n in readable.items()))


LOAD_STAGES = ["find files", "check files", "migrate", "load", "derive"]


def cmd_load(args) -> int:
    from warehouse.engine import make_engine
    from warehouse.formats import discover
    from warehouse.loading import load_sources
    from warehouse.preflight import preflight

    if args.layout and looks_like_path(args.layout):
        require_yaml_mapping(args.layout, "--layout")
    fmt = args.format if not args.layout else f"layout:{args.layout}"
    with Stages("load", LOAD_STAGES if not args.no_derive else LOAD_STAGES[:-1]) as stages:
        with stages.stage("find files"):
            sources = discover(args.path, fmt, payer=args.payer)
        with stages.stage("check files"):
            for source in sources:  # every file must be readable before any is written
                preflight(source)
        with stages.stage("migrate"):
            url = migrate_warehouse(args)
        engine = make_engine(url)
        try:
            with stages.stage("load"):
                reports = load_sources(engine, sources, require_enrollment=not args.no_enrollment_check)
            derived, note = {}, None
            if not args.no_derive and not any(r.status == "loaded" for r in reports):
                note = "skipped: every file was already loaded, the derived tables are current"
            elif not args.no_derive:
                from warehouse.derive import rebuild_final_action, rebuild_member_months

                with stages.stage("derive"):
                    derived = {**rebuild_final_action(engine), **rebuild_member_months(engine)}
        finally:
            engine.dispose()
    print_json({"files": [r.as_dict() for r in reports], "derived_rows": derived, **({"derived": note} if note else {}),
                "stage_seconds": stages.seconds})
    print_timings(stages)
    return 0


def add_commands(subparsers) -> None:
    p = add_warehouse_option(subparsers.add_parser(
        "migrate", help="create the warehouse or upgrade (downgrade) its schema",
        description="Bring the warehouse schema to REVISION through Alembic (the only way tables are created or "
                    "changed). Creates an embedded DuckDB file when it does not exist."))
    p.add_argument("revision", nargs="?", default="head",
                   help="Alembic revision: 'head' (default) upgrades to the latest, 'base' removes every table, "
                        "or a revision id such as 0003")
    p.add_argument("--no-roles", action="store_true",
                   help="PostgreSQL: do not create/grant the icm_loader, icm_analyst and icm_reporter roles")
    p.set_defaults(func=cmd_migrate)

    p = add_warehouse_option(subparsers.add_parser(
        "load", help="load a folder (or file) of claims/eligibility into the warehouse",
        description="Check every file, then load them into the warehouse (migrating it first) and rebuild "
                    "final-action claims and member-months. Prints a JSON report per file and table."))
    p.add_argument("--format", required=True, choices=["tuva", "desynpuf", "synthea", "layout"],
                   help="input format: Tuva input layer CSVs, CMS DE-SynPUF, Synthea CSV, or a payer layout")
    p.add_argument("--layout", metavar="NAME|YAML", help="layout name or YAML path (for --format layout)")
    p.add_argument("--payer", help="payer name for files that carry none")
    p.add_argument("--no-enrollment-check", action="store_true",
                   help="do not match claims to enrollment: every claim is flagged 'not checked' and counts in cost and "
                        "measures (by default a claim without enrollment is loaded, flagged and left out until "
                        "eligibility covers it)")
    p.add_argument("--no-derive", action="store_true", help="skip rebuilding final-action claims and member-months")
    p.add_argument("path", help="folder of input files (or one file)")
    p.set_defaults(func=cmd_load)
