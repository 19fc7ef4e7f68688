"""A year a command works on must hold enrollment: `--year 1800` is refused naming the years the warehouse holds,
before anything is written."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, func, select

from icm.errors import UserError


# Enrollment is read from both the loaded spans and the member-months derived from them: a warehouse loaded
# with --no-derive has spans only; one filled by a test or another tool may carry member-months only.
def enrollment_years(engine: Engine) -> tuple[int, int] | None:
    """First and last calendar year any enrollment covers; None for a warehouse without enrollment."""
    from warehouse.models import EnrollmentSpan, MemberMonth

    span, month = EnrollmentSpan.__table__, MemberMonth.__table__
    with engine.connect() as conn:
        bounds = [conn.execute(select(func.min(span.c.start_date), func.max(span.c.end_date))).one(),
                  conn.execute(select(func.min(month.c.month_start), func.max(month.c.month_start))).one()]
    bounds = [b for b in bounds if b[0] is not None]
    if not bounds:
        return None
    return min(b[0].year for b in bounds), max(b[1].year for b in bounds)


def year_has_enrollment(engine: Engine, year: int) -> bool:
    from warehouse.models import EnrollmentSpan, MemberMonth

    span, month = EnrollmentSpan.__table__, MemberMonth.__table__
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    queries = [select(span.c.start_date).where(span.c.start_date <= last, span.c.end_date >= first).limit(1),
               select(month.c.month_start).where(month.c.month_start.between(first, last)).limit(1)]
    with engine.connect() as conn:
        return any(conn.execute(q).first() is not None for q in queries)


def require_year_with_enrollment(engine: Engine, year: int, option: str = "--year") -> None:
    if year_has_enrollment(engine, year):
        return
    held = enrollment_years(engine)
    if held is None:
        raise UserError(f"{option} {year}: the warehouse holds no enrollment yet; load eligibility first (icm load)")
    first, last = held
    years = str(first) if first == last else f"{first}-{last}"
    raise UserError(f"{option} {year}: the warehouse has no enrollment in {year}; it holds {years}")
