"""Status of a measure result beyond "ok / not computable": Core Set membership of the FFY the measurement year
reports to, and whether the warehouse holds the measure's whole look-back.

Columns of `measure_result` (migration 0007) and keys of the measures API JSON: `core_set_status`,
`lookback_status`. `warnings(rows)` turns them (and `status`) into one line per measure for a command line.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from measures.definition import MeasureDefinition
from warehouse.models import EnrollmentSpan

CORE_SETS = ("Adult", "Child", "Health Home")


def ffy_of(year: int) -> int:
    """Core Set reporting of FFY N covers measurement year N - 1."""
    return year + 1


def core_set_status(m: MeasureDefinition, year: int) -> str:
    ffy = ffy_of(year)
    sets = {k: v for k, v in m.core_sets.items() if k in CORE_SETS}
    if not sets:
        return f"not a Medicaid Core Set measure ({', '.join(m.core_sets) or 'state-specific'})"
    current = [k for k, ffys in sets.items() if ffy in ffys]
    if current:
        return f"in the FFY{ffy} {' and '.join(current)} Core Set"
    spans = "; ".join(f"{k} FFY{min(v)}-FFY{max(v)}" for k, v in sets.items())
    return f"not in the FFY{ffy} Core Sets (was in {spans}); computed because states still use it"


def first_enrolled(conn) -> dt.date | None:
    """Earliest enrollment date in the warehouse; claims before it are quarantined at load, so no claim history
    is older."""
    return conn.execute(select(func.min(EnrollmentSpan.__table__.c.start_date))).scalar()


def lookback_status(m: MeasureDefinition, year: int, first: dt.date | None) -> str:
    years = m.lookback_years
    if years == 0:
        return "none needed"
    need = dt.date(year - years, 1, 1)
    if first is not None and first <= need:
        return f"full ({years} prior years, from {need.isoformat()})"
    if first is None or first.year > year:
        return f"partial: needs {years} prior years from {need.isoformat()}; no enrollment data before MY"
    have = year - first.year + (1 if first == dt.date(first.year, 1, 1) else 0)
    return (f"partial: needs {years} prior years from {need.isoformat()}; data from {first.isoformat()} "
            f"({have} of {years + 1} calendar years complete)")


def warnings(rows: list[dict]) -> list[str]:
    """One line per measure whose results a reader must not take at face value: out of that FFY's Core Set,
    partial look-back, or not computable (rows: the dicts of measures.engine.results / compute)."""
    out: dict[str, list[str]] = {}
    for r in rows:
        if r["stratum"] != {"type": "total", "value": "total"}:
            continue
        notes = out.setdefault(r["measure"], [])
        for text in (r.get("core_set_status") or "", r.get("lookback_status") or "", r.get("status") or ""):
            if (text.startswith(("not in", "partial", "not computable")) and text not in notes):
                notes.append(text)
    return [f"{mid}: " + "; ".join(notes) for mid, notes in out.items() if notes]
