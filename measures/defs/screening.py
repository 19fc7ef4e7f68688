"""CHL-AD / CHL-CH: Chlamydia Screening in Women, WCV-CH: Child and Adolescent Well-Care Visits and W30-CH:
Well-Child Visits in the First 30 Months of Life (HEDIS, administrative). Every value set is licensed (NCQA VSD and
Medication List Directory): without the user's files the measures report "not computable: missing value sets".

Specification as known [K: HEDIS MY2024 CHL, not re-read for issue 19]: women 16-24 on 31 Dec of MY (Child Core
Set 16-20, Adult Core Set 21-24) identified as sexually active in MY by a claim with a code of Sexual Activity,
Pregnancy or Pregnancy Tests, or a dispensed contraceptive; numerator: >= 1 chlamydia test in MY; continuous
enrollment MY with <= 1 gap of <= 45 days, enrolled on 31 Dec; hospice and death excluded.
"""
from __future__ import annotations

from sqlalchemy import and_, case, func, literal, or_, select, union_all

from measures import blocks as B
from measures.definition import CEWindow, EnrollmentRule, MeasureDefinition, Rate
from measures.defs.common import ADULT, CHILD, code_events, is_female
from measures.defs.prevention import CE_MY
from measures.sqlfuncs import add_days, add_months

SEXUALLY_ACTIVE = ("sexual_activity", "pregnancy", "pregnancy_tests")


def persons_with_code(ctx, value_sets, name):
    """Persons with a code of the value sets (service line, diagnosis or procedure) dated in MY."""
    ev = code_events(ctx, f"{name}_events", ctx.my_start, ctx.my_end, *value_sets)
    return select(ev.c.person_id).cte(name)


def build_chl(ctx):
    P = B.P
    active = persons_with_code(ctx, SEXUALLY_ACTIVE, "chl_active_claims")
    rx = B.rx_fills(ctx, "contraceptive_medications")
    women = (select(P.c.person_id, P.c.person_id.label("unit_id"))
             .where(is_female(P.c.sex),
                    or_(B.in_set(P.c.person_id, active),
                        B.in_set(P.c.person_id, select(rx.c.person_id).where(
                            rx.c.fill_date.between(ctx.my_start, ctx.my_end)).cte("chl_active_rx"))))
             ).cte("chl_den")
    sv = B.services(ctx)
    test = B.first_match(women, sv, and_(sv.c.person_id == women.c.person_id,
                                         B.in_vs(sv.c.hcpcs, ctx, "chlamydia_tests"),
                                         sv.c.service_date.between(ctx.my_start, ctx.my_end)),
                         (sv.c.service_date, sv.c.claim_id), "chl_num", extra_cols=(sv.c.claim_id,))
    return select(*B.detail_row(women.c.unit_id, "member", women.c.person_id, ctx.my_end, "screened",
                                test.c.unit_id.is_not(None), test.c.claim_id)
                  ).select_from(women.outerjoin(test, test.c.unit_id == women.c.unit_id))


def _chl(suffix, core_sets, lo, hi):
    return MeasureDefinition(
        id=f"CHL-{suffix}", title="Chlamydia Screening in Women", steward="NCQA", core_sets=core_sets,
        measurement_period="Calendar measurement year", unit="member", rates=(Rate("screened", "proportion"),),
        build=build_chl, min_age=lo, max_age=hi, age_bands=((lo, hi, f"{lo}-{hi}"),), enrollment=CE_MY,
        standard_exclusions=("hospice", "death"),
        value_sets=("chlamydia_tests",) + SEXUALLY_ACTIVE + ("contraceptive_medications",),
        card=dict(measures=f"Share of women {lo}-{hi} identified as sexually active who had at least one test for "
                           "chlamydia in MY.",
                  denominator=f"Women (person sex F) {lo}-{hi} on 31 Dec with a Sexual Activity, Pregnancy or "
                              "Pregnancy Tests code on a claim line (CPT/HCPCS) or as a claim diagnosis in MY, or a "
                              "Contraceptive Medications dispensing in MY.",
                  numerator="A Chlamydia Tests code on a claim line in MY.",
                  exclusions="Hospice in MY; death in MY.", enrollment=CE_MY.description),
        deviations=("Every value set is the user's licensed NCQA file (names: Chlamydia Tests, Sexual Activity, "
                    "Pregnancy, Pregnancy Tests, Contraceptive Medications); none ship.",
                    "The pregnancy-test exclusion (a pregnancy test followed within 6 days by isotretinoin or an "
                    "x-ray) is not modelled.",
                    "LOINC-coded laboratory results are not read (claims only).",
                    "Specification details are [K] (HEDIS MY2024 as known), not re-read against the FFY manual."),
    )


def build_wcv(ctx):
    """Members 3-21 with >= 1 well-care visit (Well-Care codes on a claim line or as a claim diagnosis) in MY."""
    mm = B.member_months_dedup(ctx)
    members = (select(mm.c.person_id, mm.c.person_id.label("unit_id"))
               .where(mm.c.month_start.between(ctx.my_start, ctx.my_end)).distinct()).cte("wcv_members")
    visits = persons_with_code(ctx, ("well_care",), "wcv_visits")
    met = B.in_set(members.c.person_id, visits)
    return select(*B.detail_row(members.c.unit_id, "member", members.c.person_id, ctx.my_end, "well_care_visit",
                                met, literal(None)))


WCV = MeasureDefinition(
    id="WCV-CH", title="Child and Adolescent Well-Care Visits", steward="NCQA", core_sets=CHILD,
    measurement_period="Calendar measurement year", unit="member", rates=(Rate("well_care_visit", "proportion"),),
    build=build_wcv, min_age=3, max_age=21, age_bands=((3, 11, "3-11"), (12, 17, "12-17"), (18, 21, "18-21")),
    enrollment=CE_MY, standard_exclusions=("hospice", "death"), value_sets=("well_care",),
    card=dict(measures="Share of enrollees 3-21 with at least one comprehensive well-care visit in MY.",
              denominator="Members with a member month in MY, age 3-21 on 31 Dec.",
              numerator="A Well-Care code (licensed value set: preventive E&M CPT, HCPCS, ICD-10-CM Z00 "
                        "encounters) on a claim line or as a claim diagnosis in MY.",
              exclusions="Hospice in MY; death in MY.", enrollment=CE_MY.description),
    deviations=("The Well-Care value set is the user's licensed NCQA file; none ships.",
                "The visit need not be with a PCP or OB/GYN (the HEDIS provider requirement is not modelled).",
                "Specification details are [K] (HEDIS MY2024 as known), not re-read against the FFY manual."),
)

def build_w30(ctx):
    """Children whose 15-month (30-month) birthday falls in MY, with >= 6 (>= 2) Well-Care visits on distinct dates
    from birth through the 15-month birthday (from the day after the 15-month through the 30-month birthday)."""
    P, mm = B.P, B.member_months_dedup(ctx)
    enrolled = select(mm.c.person_id).where(mm.c.month_start.between(ctx.my_start, ctx.my_end)).cte("w30_mm")
    visits = code_events(ctx, "w30_visits", ctx.ymd(-3, 1, 1), ctx.my_end, "well_care")
    parts = []
    for rate_id, first_month, last_month, needed, ce_from in (
            ("first_15_months", 0, 15, 6, add_days(P.c.birth_date, 31)),
            ("15_to_30_months", 15, 30, 2, add_days(add_months(P.c.birth_date, 15), 1))):
        anchor = add_months(P.c.birth_date, last_month)
        units = (select(P.c.person_id, (P.c.person_id + literal("|" + rate_id)).label("unit_id"),
                        anchor.label("anchor_date"), ce_from.label("ce_start"), anchor.label("ce_end"),
                        (add_days(add_months(P.c.birth_date, first_month), 1) if first_month else P.c.birth_date)
                        .label("from_date"))
                 .where(anchor.between(ctx.my_start, ctx.my_end), B.in_set(P.c.person_id, enrolled))
                 ).cte(f"w30_{rate_id}")
        counted = (select(units.c.unit_id, func.count(func.distinct(visits.c.event_date)).label("n"),
                          func.max(visits.c.claim_id).label("claim_id"))
                   .select_from(units.join(visits, and_(visits.c.person_id == units.c.person_id,
                                                        visits.c.event_date.between(units.c.from_date,
                                                                                    units.c.anchor_date))))
                   .group_by(units.c.unit_id)).cte(f"w30_{rate_id}_n")
        met = func.coalesce(counted.c.n, 0) >= needed
        parts.append(select(*B.detail_row(units.c.unit_id, "member", units.c.person_id, units.c.anchor_date,
                                          rate_id, met, case((met, counted.c.claim_id), else_=None)),
                            units.c.ce_start, units.c.ce_end)
                     .select_from(units.outerjoin(counted, counted.c.unit_id == units.c.unit_id)))
    return union_all(*parts)


CE_W30 = EnrollmentRule((CEWindow("unit", 0, max_gaps=1, max_gap_days=45),),
                        "31 days of age through the 15-month birthday (rate 1), the day after the 15-month through "
                        "the 30-month birthday (rate 2); <= 1 gap of <= 45 days")

W30 = MeasureDefinition(
    id="W30-CH", title="Well-Child Visits in the First 30 Months of Life", steward="NCQA", core_sets=CHILD,
    measurement_period="Children whose 15- or 30-month birthday falls in the measurement year", unit="member",
    rates=(Rate("first_15_months", "proportion", "6 or more well-child visits in the first 15 months"),
           Rate("15_to_30_months", "proportion", "2 or more well-child visits from 15 to 30 months")),
    build=build_w30, lookback_years=2, enrollment=CE_W30, anchor_text="the 15- or 30-month birthday", standard_exclusions=("hospice", "death"),
    value_sets=("well_care",),
    card=dict(measures="Share of children with 6+ well-child visits by their 15-month birthday, and with 2+ "
                       "well-child visits between their 15- and 30-month birthdays.",
              denominator="Rate 1: children (member month in MY) whose 15-month birthday (birth date + 15 calendar "
                          "months) is in MY; rate 2: whose 30-month birthday is in MY. Anchor: that birthday.",
              numerator="Rate 1: Well-Care codes on >= 6 distinct dates from birth through the 15-month birthday; "
                        "rate 2: on >= 2 distinct dates from the day after the 15-month through the 30-month "
                        "birthday (line CPT/HCPCS/revenue or diagnosis, licensed value set).",
              exclusions="Hospice in MY; death in MY.", enrollment=CE_W30.description),
    deviations=("The Well-Care value set is the user's licensed NCQA file; none ships.",
                "The visit need not be with a PCP (the HEDIS provider requirement is not modelled).",
                "Specification details are [K] (HEDIS MY2024 as known), not re-read against the FFY manual."),
)

MEASURES = [_chl("CH", CHILD, 16, 20), _chl("AD", ADULT, 21, 24), WCV, W30]
