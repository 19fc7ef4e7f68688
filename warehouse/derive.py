"""Derived tables, rebuilt set-based inside the warehouse: final-action claims and member-months.

Final action (Tuva leaves this to the user; we do it): claims of one family share `claim_family_id`
(the original claim's id). The version with the highest `adjustment_sequence` (then latest paid_date,
then claim_id) is the final action. If that version is a void, the family has no final claim. Replacements
are full restatements, so the final version's amounts are the family's net paid amount.

Only claims whose enrollment_match is usable (matched, not checked, or NULL from before migration 0010) take part:
versions flagged as outside enrollment or after death are left out before the versions are ranked, exactly as
when the loader quarantined them (warehouse.enrollment_match).

Member-months: one row per person x calendar month x data_source x payer x plan with any enrolled day.
When two spans of the same plan touch one month, the span with more days in that month gives the attributes.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Column, Connection, Date, Engine, Integer, MetaData, String, Table, and_, case, cast, delete, extract, func,
    insert, literal, or_, select,
)

from warehouse import models
from warehouse.enrollment_match import USABLE


def _enrollment_join(person, data_source, payer, service_date):
    """Join condition to the claim's own payer's span on the service date. Spans of one person and payer never
    overlap (the loader quarantines overlaps), so at most one span matches: a plain LEFT JOIN, no subquery."""
    es = models.EnrollmentSpan.__table__
    return es, and_(es.c.person_id == person, es.c.data_source == data_source, es.c.payer == payer,
                    es.c.start_date <= service_date, es.c.end_date >= service_date)


def _usable(table: Table):
    return or_(table.c.enrollment_match.is_(None), table.c.enrollment_match.in_(USABLE))


def _ranked_versions(table: Table, partition: list, key_cols: list):
    """Rank the usable versions of each claim family; rank 1 is the final action."""
    return select(
        *key_cols, table.c.adjustment_type,
        func.row_number().over(partition_by=partition, order_by=[table.c.adjustment_sequence.desc(),
                                                                  table.c.paid_date.desc().nulls_last(),
                                                                  table.c.claim_id.desc()]).label("version_rank"),
        func.count().over(partition_by=partition).label("versions_in_family"),
    ).where(_usable(table)).subquery("ranked")


def build_final_medical(conn: Connection) -> int:
    mc = models.MedicalClaim.__table__
    ml = models.MedicalClaimLine.__table__
    fin = models.MedicalClaimFinal.__table__
    finl = models.MedicalClaimLineFinal.__table__
    conn.execute(delete(finl))
    conn.execute(delete(fin))
    ranked = _ranked_versions(mc, [mc.c.data_source, mc.c.claim_family_id], [mc.c.claim_id, mc.c.data_source])
    keep = (select(ranked.c.claim_id, ranked.c.data_source, ranked.c.versions_in_family)
            .where(ranked.c.version_rank == 1, ranked.c.adjustment_type != "void").subquery("keep"))
    header_cols = [c.name for c in mc.columns if c.name in fin.c]
    es, on_span = _enrollment_join(mc.c.person_id, mc.c.data_source, mc.c.payer, mc.c.claim_start_date)
    sel = (select(*[mc.c[n] for n in header_cols], es.c.span_id, keep.c.versions_in_family)
           .select_from(mc.join(keep, and_(mc.c.claim_id == keep.c.claim_id, mc.c.data_source == keep.c.data_source))
                        .outerjoin(es, on_span)))
    conn.execute(insert(fin).from_select([*header_cols, "enrollment_span_id", "versions_in_family"], sel))
    line_cols = [c.name for c in ml.columns]
    conn.execute(insert(finl).from_select(
        line_cols, select(*[ml.c[n] for n in line_cols]).join_from(
            ml, fin, and_(ml.c.claim_id == fin.c.claim_id, ml.c.data_source == fin.c.data_source))))
    return conn.execute(select(func.count()).select_from(fin)).scalar_one()


def build_final_pharmacy(conn: Connection) -> int:
    pc = models.PharmacyClaim.__table__
    fin = models.PharmacyClaimFinal.__table__
    conn.execute(delete(fin))
    ranked = _ranked_versions(pc, [pc.c.data_source, pc.c.claim_family_id, pc.c.claim_line_number],
                              [pc.c.claim_id, pc.c.claim_line_number, pc.c.data_source])
    keep = (select(ranked.c.claim_id, ranked.c.claim_line_number, ranked.c.data_source, ranked.c.versions_in_family)
            .where(ranked.c.version_rank == 1, ranked.c.adjustment_type != "void").subquery("keep"))
    cols = [c.name for c in pc.columns if c.name in fin.c]
    es, on_span = _enrollment_join(pc.c.person_id, pc.c.data_source, pc.c.payer, pc.c.dispensing_date)
    sel = (select(*[pc.c[n] for n in cols], es.c.span_id, keep.c.versions_in_family)
           .select_from(pc.join(keep, and_(pc.c.claim_id == keep.c.claim_id, pc.c.data_source == keep.c.data_source,
                                           pc.c.claim_line_number == keep.c.claim_line_number))
                        .outerjoin(es, on_span)))
    conn.execute(insert(fin).from_select([*cols, "enrollment_span_id", "versions_in_family"], sel))
    return conn.execute(select(func.count()).select_from(fin)).scalar_one()


def _month_calendar(conn: Connection, md: MetaData) -> Table | None:
    """A temporary table of month starts covering all enrollment (a few hundred rows, made in Python)."""
    es = models.EnrollmentSpan.__table__
    lo, hi = conn.execute(select(func.min(es.c.start_date), func.max(es.c.end_date))).one()
    cal = Table("_calendar_month", md, Column("month_start", Date), Column("month_end", Date),
                Column("days_in_month", Integer), prefixes=["TEMPORARY"])
    cal.create(conn)
    if lo is None:
        return cal
    rows = []
    y, m = lo.year, lo.month
    while dt.date(y, m, 1) <= hi:
        start = dt.date(y, m, 1)
        nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
        rows.append({"month_start": start, "month_end": nxt - dt.timedelta(days=1), "days_in_month": (nxt - start).days})
        y, m = nxt.year, nxt.month
    conn.execute(insert(cal), rows)
    return cal


def _age_at(birth, on):
    """Whole years between two dates, portable (no dialect date_diff)."""
    before_birthday = or_(extract("month", on) < extract("month", birth),
                          and_(extract("month", on) == extract("month", birth), extract("day", on) < extract("day", birth)))
    return cast(extract("year", on) - extract("year", birth) - case((before_birthday, 1), else_=0), Integer)


def build_member_months(conn: Connection) -> int:
    es = models.EnrollmentSpan.__table__
    person = models.Person.__table__
    mm = models.MemberMonth.__table__
    conn.execute(delete(mm))
    md = MetaData()
    cal = _month_calendar(conn, md)
    first_day = func.greatest(es.c.start_date, cal.c.month_start)
    last_day = func.least(es.c.end_date, cal.c.month_end,
                          func.coalesce(person.c.death_date, cal.c.month_end))
    days = cast(last_day - first_day, Integer) + 1
    attrs = ["member_id", "payer_type", "eligibility_group", "dual_status_code", "medicare_status_code",
             "delivery_system", "health_home_program_id", "icm_program_id", "icm_entity_id", "hospice_flag",
             "long_term_institutional_flag"]
    key = [es.c.person_id, cal.c.month_start, es.c.data_source, es.c.payer, es.c.plan]
    per_span = (
        select(es.c.person_id, cal.c.month_start, es.c.data_source, es.c.payer, es.c.plan,
               es.c.span_id.label("enrollment_span_id"), *[es.c[a] for a in attrs],
               # a newborn enrolled in the birth month is 0 at the start of that month, not -1
               func.greatest(_age_at(person.c.birth_date, cal.c.month_start), 0).label("age_at_month_start"),
               person.c.sex, person.c.county_fips, days.label("days"),
               func.sum(days).over(partition_by=key).label("days_enrolled"),
               func.row_number().over(partition_by=key, order_by=[days.desc(), es.c.start_date.desc()]).label("pick"))
        .select_from(es.join(cal, and_(es.c.start_date <= cal.c.month_end, es.c.end_date >= cal.c.month_start))
                     .outerjoin(person, person.c.person_id == es.c.person_id))
        .where(or_(person.c.death_date.is_(None), person.c.death_date >= cal.c.month_start))
    ).subquery("per_span")
    cols = ["person_id", "month_start", "data_source", "payer", "plan", "enrollment_span_id", *attrs,
            "age_at_month_start", "sex", "county_fips", "days_enrolled"]
    conn.execute(insert(mm).from_select(cols, select(*[per_span.c[c] for c in cols]).where(per_span.c.pick == 1)))
    cal.drop(conn)
    return conn.execute(select(func.count()).select_from(mm)).scalar_one()


def rebuild_final_action(engine: Engine) -> dict:
    with engine.begin() as conn:
        medical = build_final_medical(conn)
        pharmacy = build_final_pharmacy(conn)
    return {"medical_claim_final": medical, "pharmacy_claim_final": pharmacy}


def rebuild_member_months(engine: Engine) -> dict:
    with engine.begin() as conn:
        return {"member_month": build_member_months(conn)}
