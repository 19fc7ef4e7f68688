"""Dialect-specific date arithmetic, kept in a few @compiles helpers (DuckDB and PostgreSQL).

Spark note: add_days -> date_add(d, n); add_months -> add_months(d, n); days_between -> datediff(b, a); month_start -> trunc(d, 'MM');
make_date -> make_date(y, m, d). Register them with @compiles(..., "spark") / "databricks" the same way.
"""
from __future__ import annotations

from sqlalchemy import Date, Integer, case, cast, extract
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement


class add_days(FunctionElement):
    """add_days(date, n) -> date n days later (n may be an expression or negative)."""
    type = Date()
    inherit_cache = True
    name = "add_days"


@compiles(add_days)
def _add_days_default(element, compiler, **kw):  # PostgreSQL: date + integer = date
    d, n = list(element.clauses)
    return f"(CAST({compiler.process(d, **kw)} AS DATE) + CAST({compiler.process(n, **kw)} AS INTEGER))"


@compiles(add_days, "duckdb")
def _add_days_duckdb(element, compiler, **kw):
    d, n = list(element.clauses)
    return (f"CAST(CAST({compiler.process(d, **kw)} AS DATE) + "
            f"to_days(CAST({compiler.process(n, **kw)} AS INTEGER)) AS DATE)")


class days_between(FunctionElement):
    """days_between(a, b) -> b - a in whole days (positive when b is later)."""
    type = Integer()
    inherit_cache = True
    name = "days_between"


@compiles(days_between)
def _days_between_default(element, compiler, **kw):
    a, b = list(element.clauses)
    return f"(CAST({compiler.process(b, **kw)} AS DATE) - CAST({compiler.process(a, **kw)} AS DATE))"


@compiles(days_between, "duckdb")
def _days_between_duckdb(element, compiler, **kw):
    a, b = list(element.clauses)
    return f"date_diff('day', CAST({compiler.process(a, **kw)} AS DATE), CAST({compiler.process(b, **kw)} AS DATE))"


class month_start(FunctionElement):
    type = Date()
    inherit_cache = True
    name = "month_start"


@compiles(month_start)
def _month_start_default(element, compiler, **kw):
    (d,) = list(element.clauses)
    return f"CAST(date_trunc('month', CAST({compiler.process(d, **kw)} AS DATE)) AS DATE)"


class add_months(FunctionElement):
    """add_months(date, n) -> the same day n calendar months later (clamped to the month's last day: 31 Jan + 1
    month = 29 Feb in a leap year), as HEDIS birthdays in months ("the 15-month birthday") are counted."""
    type = Date()
    inherit_cache = True
    name = "add_months"


@compiles(add_months)
def _add_months_default(element, compiler, **kw):  # PostgreSQL: date + interval, truncated back to a date
    d, n = list(element.clauses)
    return (f"CAST(CAST({compiler.process(d, **kw)} AS DATE) + make_interval(months => "
            f"CAST({compiler.process(n, **kw)} AS INTEGER)) AS DATE)")


@compiles(add_months, "duckdb")
def _add_months_duckdb(element, compiler, **kw):
    d, n = list(element.clauses)
    return (f"CAST(CAST({compiler.process(d, **kw)} AS DATE) + to_months(CAST({compiler.process(n, **kw)} AS "
            f"INTEGER)) AS DATE)")


def age_at(birth, anchor):
    """Completed years of age on `anchor` (portable: EXTRACT works on both dialects)."""
    years = extract("year", anchor) - extract("year", birth)
    before_birthday = (extract("month", anchor) * 100 + extract("day", anchor)) < (
        extract("month", birth) * 100 + extract("day", birth))
    return cast(years - case((before_birthday, 1), else_=0), Integer)
