"""`icm demo`: generate a synthetic state and run the whole pipeline on it."""
from __future__ import annotations

from icm.options import non_negative_int, positive_int
from icm.warehouse_access import add_warehouse_option, check_url, wait_for_warehouse, warehouse_url


def cmd_demo(args) -> int:
    from icm.demo import print_summary, run_demo

    url = warehouse_url(args)
    check_url(url)
    wait_for_warehouse(args, url, read_only=False)
    summary = run_demo(members=args.members, seed=args.seed, warehouse_url=url)
    print_summary(summary)
    return 0 if summary["success"] else 1


def add_commands(subparsers) -> None:
    p = add_warehouse_option(subparsers.add_parser(
        "demo", help="generate a synthetic state and run the whole pipeline",
        description="Generate a synthetic multi-payer state under $ICM_HOME/landing (default .icm), load it, "
                    "compute measures, settle and export, then print a summary. Exit code 1 if a job failed."))
    p.add_argument("--members", type=positive_int, default=20_000,
                   help="number of synthetic members to generate (default 20000)")
    p.add_argument("--seed", type=non_negative_int, default=42,
                   help="random seed; the same members and seed generate the same files (default 42)")
    p.set_defaults(func=cmd_demo)
