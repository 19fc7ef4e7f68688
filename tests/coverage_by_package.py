"""Line coverage per package from coverage.py's JSON report (`make coverage`): one line per top-level package,
lowest first, then the total.

    python -m tests.coverage_by_package .icm/coverage/coverage.json
"""
from __future__ import annotations

import json
import sys
from collections import defaultdict


def by_package(report: dict) -> dict[str, tuple[int, int]]:
    """package -> (statements, statements run)."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for path, data in report["files"].items():
        summary = data["summary"]
        package = path.replace("\\", "/").split("/")[0]
        totals[package][0] += summary["num_statements"]
        totals[package][1] += summary["covered_lines"]
    return {p: (n, run) for p, (n, run) in totals.items()}


def lines(report: dict) -> list[str]:
    packages = by_package(report)
    out = [f"{p:<16}{n:>7} statements {100 * run / n:6.1f} %"
           for p, (n, run) in sorted(packages.items(), key=lambda item: item[1][1] / max(item[1][0], 1))]
    total = report["totals"]
    out.append(f"{'total':<16}{total['num_statements']:>7} statements {total['percent_covered']:6.1f} %")
    return out


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as fh:
        print("\n".join(lines(json.load(fh))))
