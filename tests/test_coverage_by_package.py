"""The per-package coverage summary `make coverage` prints (tests/coverage_by_package.py)."""
from __future__ import annotations

from tests.coverage_by_package import lines


def test_packages_lowest_first_then_the_total():
    report = {"files": {"icm/cli.py": {"summary": {"num_statements": 10, "covered_lines": 9}},
                        "icm/options.py": {"summary": {"num_statements": 10, "covered_lines": 7}},
                        "exports/qmr.py": {"summary": {"num_statements": 20, "covered_lines": 5}}},
              "totals": {"num_statements": 40, "percent_covered": 52.5}}
    assert lines(report) == ["exports              20 statements   25.0 %",
                             "icm                  20 statements   80.0 %",
                             "total                40 statements   52.5 %"]
