"""ADD-CH: Follow-Up Care for Children Prescribed ADHD Medication (HEDIS, administrative). The ADHD medication list
(HEDIS MLD "ADHD Medications" -> `ndc_adhd`), the visit and narcolepsy value sets are the user's licensed NCQA
files: without them the measure reports "not computable: missing value sets".

Specification as known [K: HEDIS MY2024 ADD as remembered, not re-read for issue 19]: children 6 years old on
1 Mar of the year before MY and 12 years old or younger on the last day of February of MY with a new ADHD
prescription: the first ADHD medication dispensing in the intake period (1 Mar of the year before - last day of
February of MY) with none in the 120 days before (IPSD).
  * Initiation: a follow-up visit 1-30 days after the IPSD (a visit on the IPSD does not count); enrollment 120 days
    before through 30 days after the IPSD, no gap; excluded: an acute inpatient stay for a mental, behavioural or
    neurodevelopmental principal diagnosis in the 30 days after the IPSD.
  * Continuation and maintenance: initiation met, on medication >= 210 of the 300 days from the IPSD, and >= 2 more
    follow-up visits 31-300 days after the IPSD (one may be a telephone visit or online assessment); enrollment 120
    days before through 300 days after, no gap; the inpatient exclusion covers the 300 days.
  * Both: narcolepsy any time through MY, hospice, death excluded.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, exists, func, literal, or_, select, union_all

from measures import blocks as B
from measures.definition import CEWindow, EnrollmentRule, MeasureDefinition, Rate
from measures.defs.common import CHILD, code_events, visit_within
from measures.sqlfuncs import add_days, age_at, days_between

TREATMENT_DAYS, TREATMENT_WINDOW = 210, 300
OPTIONAL_VISITS = ("telephone_visits", "online_assessments")  # continuation visits, when the user loads them


def build_add(ctx):
    P = B.P
    intake_start = ctx.ymd(-1, 3, 1)
    intake_end = ctx.date(dt.date(ctx.year, 3, 1) - dt.timedelta(days=1))
    rx = B.rx_fills(ctx, "ndc_adhd")
    prior = rx.alias("add_prior")
    new = ~exists().where(prior.c.person_id == rx.c.person_id, prior.c.fill_date < rx.c.fill_date,
                          prior.c.fill_date >= add_days(rx.c.fill_date, -120))
    ipsd = (select(rx.c.person_id, func.min(rx.c.fill_date).label("ipsd"))
            .where(rx.c.fill_date.between(intake_start, intake_end), new).group_by(rx.c.person_id)).cte("add_ipsd")
    units = (select(ipsd.c.person_id, ipsd.c.ipsd,
                    (ipsd.c.person_id + literal("|") + B.datestr(ipsd.c.ipsd)).label("unit_id"))
             .select_from(ipsd.join(P, P.c.person_id == ipsd.c.person_id))
             .where(age_at(P.c.birth_date, intake_start) >= 6, age_at(P.c.birth_date, intake_end) <= 12)
             ).cte("add_den")
    visits = code_events(ctx, "add_visits", ctx.ymd(-1, 3, 1), ctx.my_end, "bh_outpatient")
    initiation = visit_within(units, visits, units.c.ipsd, visits.c.event_date, 1, 30, literal(True), "add_init")
    extra = [vs for vs in OPTIONAL_VISITS if ctx.has(vs)]
    cm_visits = code_events(ctx, "add_cm_visits", ctx.ymd(-1, 3, 1), ctx.my_end, "bh_outpatient", *extra)
    d = days_between(units.c.ipsd, cm_visits.c.event_date)
    n_cm = (select(units.c.unit_id, func.count(func.distinct(cm_visits.c.event_date)).label("n"))
            .select_from(units.join(cm_visits, and_(cm_visits.c.person_id == units.c.person_id, d >= 31,
                                                    d <= TREATMENT_WINDOW)))
            .group_by(units.c.unit_id)).cte("add_cm_n")
    islands = B.fill_intervals(ctx, rx, "add_cov")
    covered = B.covered_days(islands, units, units.c.ipsd, add_days(units.c.ipsd, TREATMENT_WINDOW - 1), "add_covered")

    ic = B.inpatient_claims(ctx)

    def inpatient_within(days):
        return exists().where(ic.c.person_id == units.c.person_id, ic.c.acute == 1,
                              B.in_vs(ic.c.pdx, ctx, "mental_health_any"),
                              ic.c.admit_date.between(units.c.ipsd, add_days(units.c.ipsd, days)))

    narcolepsy = code_events(ctx, "add_narcolepsy", ctx.ymd(-60, 1, 1), ctx.my_end, "narcolepsy")
    is_narcoleptic = B.in_set(units.c.person_id, narcolepsy)
    init_met = initiation.c.unit_id.is_not(None)
    parts = []
    for rate_id, met, days in (
            ("initiation", init_met, 30),
            ("continuation", and_(init_met, covered.c.covered >= TREATMENT_DAYS, func.coalesce(n_cm.c.n, 0) >= 2),
             TREATMENT_WINDOW)):
        admitted = inpatient_within(days)
        parts.append(select(*B.detail_row(
            units.c.unit_id, "event", units.c.person_id, units.c.ipsd, rate_id, met,
            B.case((met, initiation.c.claim_id), else_=None), excluded=or_(is_narcoleptic, admitted),
            exclusion_reason=B.case((is_narcoleptic, "narcolepsy"),
                                    (admitted, "acute inpatient stay for a mental/behavioural dx"), else_=None)))
            .select_from(units.outerjoin(initiation, initiation.c.unit_id == units.c.unit_id)
                         .outerjoin(n_cm, n_cm.c.unit_id == units.c.unit_id)
                         .join(covered, covered.c.unit_id == units.c.unit_id)))
    return union_all(*parts)


CE_ADD = EnrollmentRule((CEWindow("anchor", -120, 30),
                         CEWindow("anchor", -120, TREATMENT_WINDOW, rate_ids=("continuation",))),
                        "120 days before the IPSD through 30 days after (initiation) or 300 days after "
                        "(continuation), no gap")

ADD = MeasureDefinition(
    id="ADD-CH", title="Follow-Up Care for Children Prescribed ADHD Medication", steward="NCQA", core_sets=CHILD,
    measurement_period="Intake period 1 Mar of the year before - last day of February of the measurement year",
    unit="event", rates=(Rate("initiation", "proportion", "initiation phase"),
                         Rate("continuation", "proportion", "continuation and maintenance phase")),
    build=build_add, min_age=6, max_age=12, age_bands=((6, 12, "6-12"),), enrollment=CE_ADD,
    anchor_text="the IPSD", standard_exclusions=("hospice", "death"), lookback_years=2,
    value_sets=("ndc_adhd", "bh_outpatient", "narcolepsy", "mental_health_any", "acute_inpatient_tob",
                "nonacute_inpatient_tob", "nonacute_rev"),
    card=dict(measures="Share of children newly dispensed ADHD medication with a follow-up visit within 30 days "
                       "(initiation), and who stayed on the medication for 210 of 300 days with two more visits "
                       "(continuation and maintenance).",
              denominator="Each child's first ADHD Medications dispensing 1 Mar of the year before - last day of "
                          "February of MY with none in the 120 days before (IPSD); age >= 6 on 1 Mar of the year "
                          "before MY and <= 12 on the last day of February of MY.",
              numerator="initiation: a BH Outpatient code 1-30 days after the IPSD; continuation: initiation met, "
                        ">= 210 days covered by ADHD fills of the 300 days from the IPSD, and BH Outpatient (or "
                        "loaded Telephone Visits / Online Assessments) codes on >= 2 dates 31-300 days after.",
              exclusions="Narcolepsy code any time through MY; an acute inpatient claim with a chapter F principal "
                         "dx admitted on the IPSD through 30 days after (initiation) or 300 days after "
                         "(continuation); hospice, death in MY.", enrollment=CE_ADD.description),
    deviations=("ADHD Medications, BH Outpatient and Narcolepsy are the user's licensed NCQA files (optional: "
                "Telephone Visits, Online Assessments); none ship.",
                "The visit need not be with a practitioner with prescribing authority (provider data hold no such "
                "flag), and the other HEDIS visit settings (IOP/PHP, health and behaviour assessment, "
                "observation) count only if the user's BH Outpatient file includes them.",
                "Telephone/online visits count without the 'at most one' limit.",
                "Specification details are [K] (HEDIS MY2024 as known), not re-read against the FFY manual."),
)

MEASURES = [ADD]
