"""`icm bench`: benchmark generation, loading, measures and settlement (icm/bench.py); prints JSON."""
from __future__ import annotations

import argparse

from icm.options import non_negative_int
from icm.output import print_json


def member_counts(text: str) -> str:
    """argparse type for `bench --members`: a positive integer or a comma list of them."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError(f"expected a positive number of members or a comma list of them, got {text!r}")
    return ",".join(parts)


def cmd_bench(args) -> int:
    from icm.bench import run_bench

    print_json(run_bench(members=args.members, seed=args.seed, parts=args.parts))
    return 0


def add_commands(subparsers) -> None:
    p = subparsers.add_parser(
        "bench", help="benchmark generation, loading, measures and settlement; prints JSON",
        description="Generate synthetic states of the given sizes in a temporary folder and time loading, "
                    "measures and settlement against DuckDB's own read of the same files.")
    p.add_argument("--members", default="200000", type=member_counts,
                   help="members, or a comma list (e.g. 1000000,2000000) to also report the scaling ratios")
    p.add_argument("--seed", type=non_negative_int, default=7, help="random seed of the synthetic state (default 7)")
    p.add_argument("--parts", default="load,measures,settle,utilization,sweep,dur",
                   help="comma list of load, measures, settle (warehouse settlement path), sweep (1,000 entities "
                        "x 1,000 parameter sets), utilization (profiles and outlier methods of the last year), dur "
                        "(DUR + MTM for the last year, with a pandas ratio)")
    p.set_defaults(func=cmd_bench)
