"""Small shared pieces: check outcomes, temporary tables, month arithmetic, code sets used by several steps."""
from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

from sqlalchemy import Column, Connection, MetaData, String, Table, and_, case, func, insert, literal, or_

# Dual status (CMS MMA codes): 00/NA/blank = not dual; full benefit 02, 04, 08; partial 01, 03, 05, 06.
NON_DUAL_CODES = ("00", "NA", "")
FULL_DUAL_CODES = ("02", "04", "08")
# Medicare status (Tuva): 10 aged, 11 aged+ESRD, 20 disabled, 21 disabled+ESRD, 31 ESRD only.
ESRD_STATUS_CODES = ("11", "21", "31")
DISABLED_STATUS_CODES = ("20", "21")

_tmp_ids = itertools.count(1)


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
