"""CMS-facing quality export in the shape of the Medicaid & CHIP Quality Measure Reporting (QMR) system.

One row per measure x rate x stratum of a measurement year (MY), for federal fiscal year FFY = MY + 1 (Core
Set reporting of FFY N covers calendar year N - 1). The fields follow what QMR stores per measure: core set,
data source (administrative claims), specification version (value-set versions), date range, numerator,
denominator and rate per category, optional stratification, deviations. Everything is read from
`measure_result` (aggregates only) and passed through CMS small-cell suppression before it is written.

QMR rate conventions (rounded half-up, one decimal place, as QMR displays them): proportions as percentages
(N / D x 100); utilisation per 1,000 (or 100,000) enrollee months (N / D x 1,000); ALOS = days / discharges;
observed/expected ratios to four decimal places; counts as counts.
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Engine, select

from exports.suppression import suppress
from measures.tables import measure_result

QMR_SCALE = {"proportion": Decimal(100), "per_1000_mm": Decimal(1000), "per_100000_mm": Decimal(100000),
             "per_1000_members": Decimal(1000), "alos": Decimal(1), "ratio": Decimal(1)}
ONE_DECIMAL, FOUR_DECIMALS = Decimal("0.1"), Decimal("0.0001")

QMR_COLUMNS = ["ffy", "core_set", "in_ffy_core_set", "measure", "measure_title", "steward", "rate_id",
               "rate_label", "rate_type", "stratum_type", "stratum_value", "data_source", "date_range_start",
               "date_range_end", "specification", "numerator", "denominator", "rate", "status", "suppressed",
               "suppression_reason", "deviations"]
COUNT_FIELDS = ("numerator", "denominator")
BLANK_FIELDS = ("numerator", "denominator", "rate")


def qmr_rate(rate_type: str, numerator, denominator) -> Decimal | None:
    """The rate as QMR shows it, computed exactly from the counts."""
    if numerator is None:
        return None
    n = Decimal(str(numerator))
    if rate_type == "count":
        return n.quantize(ONE_DECIMAL, ROUND_HALF_UP)
    if denominator is None or Decimal(str(denominator)) == 0:
        return None
    value = n * QMR_SCALE.get(rate_type, Decimal(1)) / Decimal(str(denominator))
    return value.quantize(FOUR_DECIMALS if rate_type == "ratio" else ONE_DECIMAL, ROUND_HALF_UP)


def _count(value):
    if value is None:
        return None
    d = Decimal(str(value))
    return int(d) if d == d.to_integral_value() else d


def qmr_rows(engine: Engine, year: int) -> list[dict]:
    """Suppressed QMR rows for measurement year `year` (empty when no measure was computed for it)."""
    from measures.registry import all_measures

    defs = {m.id: m for m in all_measures()}
    t = measure_result
    with engine.connect() as conn:
        results = conn.execute(select(t).where(t.c.measurement_year == year)
                               .order_by(t.c.measure_id, t.c.rate_id, t.c.stratum_type, t.c.stratum_value)).all()
    ffy = year + 1
    rows = []
    for r in results:
        m = defs.get(r.measure_id)
        core_sets = m.core_sets if m else {}
        labels = {x.rate_id: x.label for x in m.rates} if m else {}
        versions = json.loads(r.value_set_versions) if r.value_set_versions else {}
        rows.append({
            "ffy": ffy,
            "core_set": "; ".join(sorted(core_sets)) or "state-specific",
            "in_ffy_core_set": any(ffy in years for years in core_sets.values()),
            "measure": r.measure_id, "measure_title": m.title if m else "", "steward": m.steward if m else "",
            "rate_id": r.rate_id, "rate_label": labels.get(r.rate_id, ""), "rate_type": r.rate_type,
            "stratum_type": r.stratum_type, "stratum_value": r.stratum_value,
            "data_source": "Administrative data (claims/encounters)",
            "date_range_start": dt.date(year, 1, 1).isoformat(), "date_range_end": dt.date(year, 12, 31).isoformat(),
            "specification": "; ".join(f"{k}={v}" for k, v in sorted(versions.items())),
            "numerator": _count(r.numerator), "denominator": _count(r.denominator),
            "rate": qmr_rate(r.rate_type, r.numerator, r.denominator), "status": r.status,
            "deviations": " | ".join(m.deviations) if m else "",
        })
    # Sum relations: the strata of one type add up to (at most) the all-members row of the same measure rate.
    stratum_types: dict[tuple, set] = {}
    for r in rows:
        if r["stratum_type"] != "total":
            stratum_types.setdefault((r["measure"], r["rate_id"]), set()).add(r["stratum_type"])
    return suppress(rows, count_fields=COUNT_FIELDS, blank_fields=BLANK_FIELDS,
                    group_key=lambda r: None if r["stratum_type"] == "total"
                    else (r["measure"], r["rate_id"], r["stratum_type"]),
                    total_key=lambda r: [(r["measure"], r["rate_id"], t) for t in
                                         sorted(stratum_types.get((r["measure"], r["rate_id"]), ()))]
                    if r["stratum_type"] == "total" else None,
                    size_field="denominator")
