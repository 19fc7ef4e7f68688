"""CMS-facing quality export in the shape of the Medicaid & CHIP Quality Measure Reporting (QMR) system.

One row per measure x rate x stratum of a measurement year (MY), for federal fiscal year FFY = MY + 1 (Core
Set reporting of FFY N covers calendar year N - 1). The fields follow what QMR stores per measure: core set,
data source (administrative claims), specification version (value-set versions), date range, numerator,
denominator and rate per category, optional stratification, deviations. Everything is read from
`measure_result` (aggregates only) and passed through CMS small-cell suppression before it is written.

Rates are shown in the one unit per rate type defined in measures.units (QMR's: proportions as percentages,
utilisation per 1,000 member months, ...), named in the `rate_unit` column; every row has a `rate_label` (the
measure's own label for the rate, else the measure title and rate id).
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from sqlalchemy import Engine, select

from exports.suppression import suppress
from measures.catalog import core_set_measures, title_of
from measures.units import rate_unit, reported_rate
from measures.tables import measure_result

QMR_COLUMNS = ["ffy", "core_set", "in_ffy_core_set", "measure", "measure_title", "steward", "rate_id",
               "rate_label", "rate_type", "rate_unit", "stratum_type", "stratum_value", "data_source",
               "date_range_start", "date_range_end", "specification", "numerator", "denominator", "rate", "status",
               "core_set_status", "lookback_status", "suppressed", "suppression_reason", "deviations"]
COUNT_FIELDS = ("numerator", "denominator")
BLANK_FIELDS = ("numerator", "denominator", "rate")


def rate_label(measure, rate_id: str) -> str:
    """The measure's label for the rate, else '<title>: <rate id>' (never empty)."""
    label = next((r.label for r in measure.rates if r.rate_id == rate_id), "") if measure else ""
    if label:
        return label
    title = measure.title if measure else ""
    words = rate_id.replace("_", " ")
    return f"{title}: {words}" if title else words


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
    catalogue_sets: dict[str, dict[str, tuple[int]]] = {}
    for core_set, ids in core_set_measures(ffy).items():
        for mid in ids:
            catalogue_sets.setdefault(mid, {})[core_set] = (ffy,)
    for r in results:
        m = defs.get(r.measure_id)
        # a Core Set measure the calculator does not compute has a catalogue row (measures/catalog.py) with its reason
        core_sets = m.core_sets if m else catalogue_sets.get(r.measure_id, {})
        versions = json.loads(r.value_set_versions) if r.value_set_versions else {}
        rows.append({
            "ffy": ffy,
            "core_set": "; ".join(sorted(core_sets)) or "state-specific",
            "in_ffy_core_set": any(ffy in years for years in core_sets.values()),
            "measure": r.measure_id, "measure_title": m.title if m else title_of(r.measure_id),
            "steward": m.steward if m else "",
            "rate_id": r.rate_id, "rate_label": rate_label(m, r.rate_id), "rate_type": r.rate_type,
            "rate_unit": rate_unit(r.rate_type),
            "stratum_type": r.stratum_type, "stratum_value": r.stratum_value,
            "data_source": "Administrative data (claims/encounters)",
            "date_range_start": dt.date(year, 1, 1).isoformat(), "date_range_end": dt.date(year, 12, 31).isoformat(),
            "specification": "; ".join(f"{k}={v}" for k, v in sorted(versions.items())),
            "numerator": _count(r.numerator), "denominator": _count(r.denominator),
            "rate": reported_rate(r.rate_type, r.numerator, r.denominator), "status": r.status,
            "core_set_status": r.core_set_status or "", "lookback_status": r.lookback_status or "",
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
