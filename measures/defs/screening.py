"""CHL-AD / CHL-CH: Chlamydia Screening in Women and WCV-CH: Child and Adolescent Well-Care Visits (HEDIS,
administrative). Every value set is licensed (NCQA VSD and Medication List Directory): without the user's files the
measures report "not computable: missing value sets".

Specification as known [K: HEDIS MY2024 CHL, not re-read for issue 19]: women 16-24 on 31 Dec of MY (Child Core
Set 16-20, Adult Core Set 21-24) identified as sexually active in MY by a claim with a code of Sexual Activity,
Pregnancy or Pregnancy Tests, or a dispensed contraceptive; numerator: >= 1 chlamydia test in MY; continuous
enrollment MY with <= 1 gap of <= 45 days, enrolled on 31 Dec; hospice and death excluded.
"""
from __future__ import annotations

from sqlalchemy import and_, literal, or_, select

from measures import blocks as B
from measures.definition import MeasureDefinition, Rate
from measures.defs.common import ADULT, CHILD, code_events, is_female
from measures.defs.prevention import CE_MY

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

MEASURES = [_chl("CH", CHILD, 16, 20), _chl("AD", ADULT, 21, 24), WCV]
