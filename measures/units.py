"""The one unit in which each measure rate type is shown to users: the QMR CSV, the Dagster metadata and checks,
the export data dictionary (measures -> exports read it from here). The warehouse keeps `measure_result.rate` in
its computing unit (a proportion as a fraction 0-1, utilisation per 1,000 or 100,000 member months); everything a
person reads goes through here.

The units follow what the Medicaid & CHIP Quality Measure Reporting system (QMR) displays, rounded half-up:

| rate_type         | shown as                                  | scale | decimals |
|-------------------|-------------------------------------------|-------|----------|
| proportion        | percent (N / D x 100)                     | 100   | 1        |
| per_1000_mm       | per 1,000 member months (N / D x 1,000)   | 1000  | 1        |
| per_100000_mm     | per 100,000 member months                 | 1e5   | 1        |
| per_1000_members  | per 1,000 members                         | 1000  | 1        |
| alos              | days per discharge                        | 1     | 1        |
| ratio             | observed / expected ratio                 | 1     | 4        |
| count             | count                                     | -     | 1        |
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple


class RateUnit(NamedTuple):
    name: str            # what the value means, e.g. "percent"
    scale: Decimal | None
    quantum: Decimal


ONE_DECIMAL, FOUR_DECIMALS = Decimal("0.1"), Decimal("0.0001")
RATE_UNITS: dict[str, RateUnit] = {
    "proportion": RateUnit("percent", Decimal(100), ONE_DECIMAL),
    "per_1000_mm": RateUnit("per 1,000 member months", Decimal(1000), ONE_DECIMAL),
    "per_100000_mm": RateUnit("per 100,000 member months", Decimal(100000), ONE_DECIMAL),
    "per_1000_members": RateUnit("per 1,000 members", Decimal(1000), ONE_DECIMAL),
    "alos": RateUnit("days per discharge", Decimal(1), ONE_DECIMAL),
    "ratio": RateUnit("observed / expected ratio", Decimal(1), FOUR_DECIMALS),
    "count": RateUnit("count", None, ONE_DECIMAL),
}


def rate_unit(rate_type: str) -> str:
    """The unit name shown beside a rate of this type (unknown types: 'ratio')."""
    return RATE_UNITS.get(rate_type, RATE_UNITS["ratio"]).name


def reported_rate(rate_type: str, numerator, denominator) -> Decimal | None:
    """The rate in its reported unit, computed exactly from the counts and rounded half-up once."""
    if numerator is None:
        return None
    unit = RATE_UNITS.get(rate_type, RATE_UNITS["ratio"])
    n = Decimal(str(numerator))
    if unit.scale is None:
        return n.quantize(unit.quantum, ROUND_HALF_UP)
    if denominator is None or Decimal(str(denominator)) == 0:
        return None
    return (n * unit.scale / Decimal(str(denominator))).quantize(unit.quantum, ROUND_HALF_UP)


def stored_rate_in_reported_unit(rate_type: str, stored_rate) -> float | None:
    """A `measure_result.rate` (computing unit) in the reported unit, unrounded (for comparisons with published
    figures in the same unit, e.g. the Core Set quartiles, which are percentages for proportions)."""
    if stored_rate is None:
        return None
    return float(stored_rate) * 100 if rate_type == "proportion" else float(stored_rate)
