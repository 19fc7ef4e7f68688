"""Post-computation checks: blocking consistency checks and a non-blocking plausibility comparison with the
published Core Set state quartiles (measures/reference/core_set_quartiles.csv).

A plausibility warning means a state-level rate lies outside the range where published state rates lie (Tukey's
fences around their interquartile range, `plausible_range`): worth a look at the data or the specification, not
an error; it never blocks downstream assets."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, case, func, select

from measures import blocks as B
from measures.definition import BuildContext
from measures.tables import measure_detail, measure_result
from measures.units import stored_rate_in_reported_unit
from measures.valuesets import default_registry

QUARTILES = Path(__file__).parent / "reference" / "core_set_quartiles.csv"

# (measure, rate_id) -> (Core Set abbreviation, words that must all appear in the rate definition)
PLAUSIBILITY_MAP = {
    ("FUH-HH", "7_day"): ("FUH-AD", ("7 Days",)), ("FUH-HH", "30_day"): ("FUH-AD", ("30 Days",)),
    ("FUM-HH", "7_day"): ("FUM-AD", ("7 Days",)), ("FUM-HH", "30_day"): ("FUM-AD", ("30 Days",)),
    ("FUA-HH", "7_day"): ("FUA-AD", ("7 Days",)), ("FUA-HH", "30_day"): ("FUA-AD", ("30 Days",)),
    ("IET-HH", "initiation_total"): ("IET-AD", ("Alcohol or Other Drug Abuse", "Initiated Alcohol")),
    ("IET-HH", "engagement_total"): ("IET-AD", ("Alcohol or Other Drug Abuse", "Engaged")),
    ("OUD-HH", "total"): ("OUD-AD", ("Total Rate",)),
    ("COL-HH", "screened"): ("COL-AD", ()), ("CBP-HH", "controlled"): ("CBP-AD", ()),
    ("CDF-HH", "screened"): ("CDF-AD", ()), ("OHD-AD", "high_dosage"): ("OHD-AD", ()),
    ("COB-AD", "concurrent"): ("COB-AD", ()), ("AMM-AD", "acute"): ("AMM-AD", ("Acute",)),
    ("AMM-AD", "continuation"): ("AMM-AD", ("Continuation",)), ("SAA-AD", "adherent"): ("SAA-AD", ()),
    ("PQI01-AD", "admissions"): ("PQI01-AD", ()), ("PQI05-AD", "admissions"): ("PQI05-AD", ()),
    ("PQI08-AD", "admissions"): ("PQI08-AD", ()), ("PQI15-AD", "admissions"): ("PQI15-AD", ()),
    **{(f"CCW-{s}", "mmec"): (f"CCW-{s}", ("Most Effective",)) for s in ("AD", "CH")},
    **{(f"CCW-{s}", "larc"): (f"CCW-{s}", ("Long-Acting Reversible",)) for s in ("AD", "CH")},
    # FFY2021 published the 3- and 60-day postpartum rates; the 90-day rate (since MY2022) is compared with the
    # 60-day range, which it can only exceed
    **{(f"CCP-{s}", f"{m}_{d}_day"): (f"CCP-{s}", (words, f"Within {3 if d == 3 else 60} Days"))
       for s in ("AD", "CH") for m, words in (("mmec", "Most Effective"), ("larc", "Long-Acting Reversible"))
       for d in (3, 90)},
    ("BCS-AD", "screened"): ("BCS-AD", ()), ("CCS-AD", "screened"): ("CCS-AD", ()),
    ("W30-CH", "first_15_months"): ("W30-CH", ("First 15 Months",)),
    ("W30-CH", "15_to_30_months"): ("W30-CH", ("15th to 30th",)),
    ("ADD-CH", "initiation"): ("ADD-CH", ("1 Follow-Up Visit",)), ("ADD-CH", "continuation"): ("ADD-CH", ("9 Months",)),
    ("AMR-AD", "ratio_50"): ("AMR-AD", ("Ages 19 to 64",)), ("AMR-CH", "ratio_50"): ("AMR-CH", ("Ages 5 to 18",)),
    ("APM-CH", "blood_glucose"): ("APM-CH", ("Received Blood Glucose Testing",)),
    ("APM-CH", "cholesterol"): ("APM-CH", ("Received Cholesterol Testing",)),
    ("APM-CH", "glucose_and_cholesterol"): ("APM-CH", ("Blood Glucose and Cholesterol",)),
    ("APP-CH", "psychosocial_care"): ("APP-CH", ()), ("SSD-AD", "screened"): ("SSD-AD", ()),
    # FFY2021 published timeliness of prenatal care in the Child Core Set (PPC-CH) and postpartum care in the Adult
    # one (PPC-AD), each for deliveries of every age
    **{(f"PPC2-{s}", "timely_prenatal"): ("PPC-CH", ("Prenatal",)) for s in ("AD", "CH")},
    **{(f"PPC2-{s}", "postpartum"): ("PPC-AD", ("Postpartum",)) for s in ("AD", "CH")},
}


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    passed: bool
    blocking: bool
    detail: str


@lru_cache(maxsize=1)
def _quartiles():
    with open(QUARTILES, newline="") as fh:
        return list(csv.DictReader(fh))


def plausible_range(bottom_quartile: float, top_quartile: float, rate_type: str) -> tuple[float, float]:
    """The range of state rates a rate is plausible in: Tukey's fences around the published interquartile range,
    [Q1 - 1.5 IQR, Q3 + 1.5 IQR] (the usual outlier rule; the interquartile range itself holds only half of the
    reporting states, so it flagged half of real states), floored at 0 and capped at 100 for percentages.

    The quartiles are ordered first: CMS publishes "bottom" and "top" by performance, so for measures where lower
    is better (COB, OHD, PQI admissions, ED visits) the bottom quartile is the larger number."""
    q1, q3 = sorted((bottom_quartile, top_quartile))
    spread = 1.5 * (q3 - q1)
    lo, hi = max(0.0, q1 - spread), q3 + spread
    return lo, (min(hi, 100.0) if rate_type == "proportion" else hi)


def _total_rows(conn, year, mid):
    t = measure_result
    return conn.execute(select(t).where(t.c.measure_id == mid, t.c.measurement_year == year,
                                        t.c.stratum_type == "total")).all()


def run_checks(engine: Engine, year: int, measure_id: str) -> list[CheckOutcome]:
    from measures.registry import get_measures

    (m,) = get_measures([measure_id])
    out: list[CheckOutcome] = []
    with engine.connect() as conn:
        t = measure_result
        rows = conn.execute(select(t).where(t.c.measure_id == m.id, t.c.measurement_year == year,
                                            t.c.status == "ok")).all()
        bad = [r for r in rows if r.numerator is not None and (r.numerator < 0 or (
            r.rate_type in ("proportion",) and r.numerator > r.denominator))]
        out.append(CheckOutcome("numerator_bounds", not bad, True,
                                f"{len(bad)} of {len(rows)} rows violate 0 <= numerator <= denominator"))
        badp = [r for r in rows if r.rate_type == "proportion" and r.rate is not None and not 0 <= r.rate <= 1]
        out.append(CheckOutcome("proportion_range", not badp, True, f"{len(badp)} proportions outside [0, 1]"))

        d = measure_detail
        det = {r.rate_id: (float(r.num or 0), float(r.den or 0), int(r.exc or 0)) for r in conn.execute(
            select(d.c.rate_id, func.sum(case((d.c.excluded, 0), else_=d.c.numerator_value)).label("num"),
                   func.sum(case((d.c.excluded, 0), else_=d.c.denominator_value)).label("den"),
                   func.sum(case((d.c.excluded, 1), else_=0)).label("exc"))
            .where(d.c.measure_id == m.id, d.c.measurement_year == year).group_by(d.c.rate_id))}
        mism = []
        for r in _total_rows(conn, year, m.id):
            if r.status != "ok":
                continue
            got = det.get(r.rate_id, (0.0, 0.0, 0))
            if abs(got[0] - float(r.numerator or 0)) > 1e-6 or abs(got[1] - float(r.denominator or 0)) > 1e-6 \
                    or got[2] != (r.exclusions or 0):
                mism.append(r.rate_id)
        out.append(CheckOutcome("detail_aggregate_agree", not mism, True,
                                "totals match the detail rows" if not mism else f"mismatch in {mism}"))
        # the detail table has no primary key (migration 0004): uniqueness is checked here instead
        dup = (select(d.c.rate_id, d.c.unit_id).where(d.c.measure_id == m.id, d.c.measurement_year == year)
               .group_by(d.c.rate_id, d.c.unit_id).having(func.count() > 1).subquery())
        n_dup = conn.execute(select(func.count()).select_from(dup)).scalar_one()
        out.append(CheckOutcome("detail_unique", n_dup == 0, True,
                                f"{n_dup} (rate, unit) keys appear more than once in the detail"))

        if m.enrollment is not None:
            ctx = BuildContext(year, default_registry(), m, conn.dialect.name)
            fails, unchecked = 0, 0
            for i, w in enumerate(m.enrollment.windows):
                if w.ref == "unit":  # the unit's own window (e.g. W30's birthdays) is not kept in the detail
                    unchecked += 1
                    continue
                q = select(d.c.unit_id, d.c.person_id, d.c.anchor_date).where(
                    d.c.measure_id == m.id, d.c.measurement_year == year, d.c.excluded.is_(False))
                rate_ids = w.rate_ids if w.rate_ids is not None else m.ce_rate_ids
                if rate_ids is not None:
                    q = q.where(d.c.rate_id.in_(rate_ids))
                ok = B.ce_window_ok(ctx, q.distinct().cte(f"chk_units{i}"), w, 50 + i)
                fails += conn.execute(select(func.count()).select_from(ok).where(ok.c.ok == 0)).scalar_one()
            note = f" ({unchecked} window(s) carried by the units not re-checked)" if unchecked else ""
            out.append(CheckOutcome("enrollment_rule", fails == 0, True,
                                    f"{fails} denominator unit-windows fail: {m.enrollment.description}{note}"))
        else:
            out.append(CheckOutcome("enrollment_rule", True, True, "measure has no continuous-enrollment rule"))

        notes = []
        for r in _total_rows(conn, year, m.id):
            key = PLAUSIBILITY_MAP.get((m.id, r.rate_id))
            if key is None or r.rate is None or r.status != "ok":
                continue
            abbr, words = key
            match = next((q for q in _quartiles() if q["measure_abbreviation"] == abbr
                          and all(w.lower() in q["rate_definition"].lower() for w in words)), None)
            if match is None:
                continue
            value = stored_rate_in_reported_unit(r.rate_type, r.rate)   # the quartiles' unit (percent)
            lo, hi = plausible_range(float(match["bottom_quartile"]), float(match["top_quartile"]), r.rate_type)
            where = "within" if lo <= value <= hi else ("below" if value < lo else "above")
            notes.append(f"{r.rate_id}={value:.1f} {where} the plausible range [{lo:.1f}, {hi:.1f}] of the "
                         f"FFY{match['ffy']} {abbr} state rates (median {match['median']})")
        out.append(CheckOutcome("plausibility_core_set_quartiles", all("within" in n for n in notes), False,
                                "; ".join(notes) or "no published comparison for this measure"))
    return out
