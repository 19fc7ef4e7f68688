"""Small shared pieces: check outcomes, temporary tables, month arithmetic, code sets used by several steps, and
the Decimal helpers of the warehouse settlement path (money and rates are `decimal.Decimal`, see `savings/README.md`,
"Warehouse path rounding").
"""
from __future__ import annotations

import datetime as dt
import itertools
import math
import numbers
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal

from sqlalchemy import Column, Connection, MetaData, String, Table, and_, case, func, insert, literal, or_

# Dual status (CMS MMA codes): 00/NA/blank = not dual; full benefit 02, 04, 08; partial 01, 03, 05, 06.
NON_DUAL_CODES = ("00", "NA", "")
FULL_DUAL_CODES = ("02", "04", "08")
# Medicare status (Tuva): 10 aged, 11 aged+ESRD, 20 disabled, 21 disabled+ESRD, 31 ESRD only.
ESRD_STATUS_CODES = ("11", "21", "31")
DISABLED_STATUS_CODES = ("20", "21")

_tmp_ids = itertools.count(1)

# --- Decimal money -------------------------------------------------------------------------------------------
# Intermediates (per-capita, trend factors, risk ratios, weighted benchmarks, savings, shared amounts) are exact
# Decimals in this context: 34 significant digits (IEEE decimal128), so sums and products of cents and rates are
# exact and only divisions (per-capita, risk ratios, savings rate) round, 30+ digits below a cent. Money is rounded
# only at the documented points with `money()` (cents, half-up); rates stored in the settlement table with `rate()`.
DECIMAL_CONTEXT = Context(prec=34, rounding=ROUND_HALF_EVEN)
ZERO = Decimal(0)
ONE = Decimal(1)
CENT = Decimal("0.01")
RATE_QUANTUM = Decimal("0.00000001")      # savings tables' RATE columns: NUMERIC(18, 8)


def to_decimal(x) -> Decimal | None:
    """An exact Decimal for a value read from the database, YAML, a DataFrame or a caller: None/NaN -> None,
    Decimal as is, integers exactly, floats through their shortest repr (0.1 -> Decimal('0.1'), not the binary
    0.1000000000000000055...), strings parsed."""
    kind = type(x)
    if x is None or kind is Decimal:
        return x
    if kind is int:
        return Decimal(x)
    if kind is float:
        return None if x != x else Decimal(str(x))
    if isinstance(x, Decimal):
        return x
    if isinstance(x, bool):
        return Decimal(int(x))
    if isinstance(x, numbers.Integral):
        return Decimal(int(x))
    if isinstance(x, numbers.Real):
        f = float(x)
        return None if math.isnan(f) else Decimal(str(f))
    if isinstance(x, str):
        return Decimal(x.strip())
    raise TypeError(f"not a number: {x!r}")


def money(x) -> Decimal | None:
    """Round money to cents, half-up (ROUND_HALF_UP: 0.005 -> 0.01, -0.005 -> -0.01); never a negative zero."""
    d = to_decimal(x)
    if d is None:
        return None
    return DECIMAL_CONTEXT.add(d.quantize(CENT, rounding=ROUND_HALF_UP, context=DECIMAL_CONTEXT), ZERO)


def rate(x) -> Decimal | None:
    """Round a rate / per-capita / person-years value to the RATE columns' 8 d.p., half-up."""
    d = to_decimal(x)
    if d is None:
        return None
    return DECIMAL_CONTEXT.add(d.quantize(RATE_QUANTUM, rounding=ROUND_HALF_UP, context=DECIMAL_CONTEXT), ZERO)


def decimal_json(x):
    """`json.dumps(default=decimal_json)`: Decimals as plain fixed-point strings ('0.1', '1234.5'), no exponent."""
    if isinstance(x, Decimal):
        s = format(x.normalize(DECIMAL_CONTEXT), "f")
        return "0" if s in ("-0", "0") else s
    return str(x)


@dataclass
class CheckOutcome:
    name: str
    passed: bool
    detail: str = ""
    failures: list = field(default_factory=list)   # a few offending keys, for the report

    def __bool__(self) -> bool:
        return self.passed


def month_add(d: dt.date, months: int) -> dt.date:
    m = d.year * 12 + d.month - 1 + months
    return dt.date(m // 12, m % 12 + 1, 1)


def year_bounds(year: int) -> tuple[dt.date, dt.date]:
    """First and last month_start of a calendar year."""
    return dt.date(year, 1, 1), dt.date(year, 12, 1)


def temp_table(conn: Connection, prefix: str, columns: list[Column], rows: list[dict]) -> Table:
    """A TEMPORARY table filled with a few Python rows (reference lists, rosters); drop it when done."""
    t = Table(f"_{prefix}_{next(_tmp_ids)}", MetaData(), *columns, prefixes=["TEMPORARY"])
    t.create(conn)
    if rows:
        conn.execute(insert(t), rows)
    return t


def is_dual(dual_status_code):
    return func.coalesce(dual_status_code, "00").notin_(NON_DUAL_CODES)


def medicare_enrollment_type(payer_type, medicare_status_code, dual_status_code, age, eligibility_group):
    """ESRD | DIS | AGDU | AGND for Medicare months; the Medicaid eligibility group (or 'unknown') otherwise."""
    return case(
        (and_(payer_type == "medicare", medicare_status_code.in_(ESRD_STATUS_CODES)), literal("ESRD")),
        (and_(payer_type == "medicare", or_(medicare_status_code.in_(DISABLED_STATUS_CODES),
                                            and_(medicare_status_code.is_(None), age < 65))), literal("DIS")),
        (and_(payer_type == "medicare", is_dual(dual_status_code)), literal("AGDU")),
        (payer_type == "medicare", literal("AGND")),
        else_=func.coalesce(eligibility_group, literal("unknown")),
    )


def string_columns(*names: str) -> list[Column]:
    return [Column(n, String) for n in names]
