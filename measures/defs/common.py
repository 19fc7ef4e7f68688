"""Helpers shared by measure modules."""
from __future__ import annotations

from sqlalchemy import and_, func, literal, or_, select, union_all

from measures import blocks as B
from measures.definition import CEWindow, EnrollmentRule

HH = {"Health Home": (2024, 2025, 2026)}
HH_2024 = {"Health Home": (2024,)}
ADULT = {"Adult": (2024, 2025, 2026)}
CHILD = {"Child": (2024, 2025, 2026)}
# OHD-AD and AMM-AD are absent from QMR's measureList2026.ts (macpro-mdct-qmr commit 4317ac6; measures/catalog.py)
ADULT_THROUGH_2025 = {"Adult": (2024, 2025)}

BANDS_6 = ((6, 17, "6-17"), (18, 64, "18-64"), (65, None, "65+"))
BANDS_13 = ((13, 17, "13-17"), (18, 64, "18-64"), (65, None, "65+"))
BANDS_18 = ((18, 64, "18-64"), (65, None, "65+"))

CE_30_AFTER = EnrollmentRule((CEWindow("anchor", 0, 30),), "anchor date through 30 days after, no gap")


def is_female(sex_col):
    """The person's recorded sex is female (F or FEMALE, any case)."""
    return func.upper(func.coalesce(sex_col, "")).in_(("F", "FEMALE"))


def code_events(ctx, name: str, start, end, *value_sets: str):
    """person_id, event_date, claim_id of every code of the value sets dated in [start, end]: a service line's
    CPT/HCPCS or revenue code (line date), or a claim's diagnosis or ICD-10-PCS procedure (claim start date). A
    licensed value set mixes code systems; a code is looked for wherever it can appear."""
    sv, dx, px, H = B.services(ctx), B.claim_dx(ctx), B.claim_px(ctx), B.H
    px_dated = px.join(H, and_(H.c.claim_id == px.c.claim_id, H.c.data_source == px.c.data_source))
    return union_all(
        select(sv.c.person_id, sv.c.service_date.label("event_date"), sv.c.claim_id)
        .where(or_(B.in_vs(sv.c.hcpcs, ctx, *value_sets), B.in_vs(sv.c.rev, ctx, *value_sets)),
               sv.c.service_date.between(start, end)),
        select(dx.c.person_id, dx.c.claim_start_date, dx.c.claim_id)
        .where(B.in_vs(dx.c.code, ctx, *value_sets), dx.c.claim_start_date.between(start, end)),
        select(px.c.person_id, H.c.claim_start_date, px.c.claim_id).select_from(px_dated)
        .where(B.in_vs(px.c.code, ctx, *value_sets), H.c.claim_start_date.between(start, end))).cte(name)


def rates_from_matches(units, id_col, person_col, anchor_col, unit_type: str, matches: dict, excluded=None,
                       reason=None, age=None):
    """units CTE + {rate_id: first-match CTE (unit_id, claim_id)} -> union of detail rows (one per unit per rate)."""
    parts = []
    for rate_id, fm in matches.items():
        met = fm.c.unit_id.is_not(None)
        parts.append(select(*B.detail_row(id_col, unit_type, person_col, anchor_col, rate_id, met, fm.c.claim_id,
                                          excluded=excluded, exclusion_reason=reason, age=age))
                     .select_from(units.outerjoin(fm, fm.c.unit_id == id_col)))
    return union_all(*parts)


def visit_within(units, events, anchor_col, event_date_col, lo: int, hi: int, extra, name: str):
    """First event with lo <= (event_date - anchor) <= hi and `extra` (per unit)."""
    from measures.sqlfuncs import days_between

    d = days_between(anchor_col, event_date_col)
    on = and_(events.c.person_id == units.c.person_id, d >= lo, d <= hi, extra)
    return B.first_match(units, events, on, (event_date_col, events.c.claim_id), name,
                         extra_cols=(events.c.claim_id.label("claim_id"),))
