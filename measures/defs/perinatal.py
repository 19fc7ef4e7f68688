"""PPC2-AD / PPC2-CH: Prenatal and Postpartum Care (HEDIS PPC, administrative). Every value set is the user's
licensed NCQA file: without it the measures report "not computable: missing value sets".

Specification as known [K: HEDIS MY2024 PPC as remembered, not re-read for issue 19]: live-birth deliveries
8 Oct of the year before MY - 7 Oct of MY (a second delivery within 180 days of a counted one is not counted);
enrollment 43 days before through 60 days after the delivery, no gap.
  * Timeliness of prenatal care: a prenatal visit in the first trimester (280-176 days before delivery) when the
    woman was enrolled 280 days before delivery; otherwise on or before the start of her enrollment or within 42
    days after it.
  * Postpartum care: a postpartum visit (or cervical cytology) 7-84 days after delivery.
Core Set split by age on the delivery date [K]: PPC2-CH under 21, PPC2-AD 21 and over.
"""
from __future__ import annotations

from sqlalchemy import and_, case, exists, literal, select

from measures import blocks as B
from measures.definition import CEWindow, EnrollmentRule, MeasureDefinition, Rate
from measures.defs.common import ADULT, CHILD, code_events, is_female, rates_from_matches, visit_within
from measures.sqlfuncs import add_days, days_between

PRENATAL = ("prenatal_visits", "stand_alone_prenatal_visits", "prenatal_bundled_services")
POSTPARTUM = ("postpartum_care", "cervical_cytology_lab_test")
CE_PPC = EnrollmentRule((CEWindow("anchor", -43, 60),), "43 days before through 60 days after delivery, no gap")


def build_ppc(ctx):
    P = B.P
    deliveries = code_events(ctx, "ppc_delivery_codes", ctx.ymd(-1, 10, 8), ctx.ymd(0, 10, 7), "deliveries")
    non_live = code_events(ctx, "ppc_non_live", ctx.ymd(-1, 9, 1), ctx.ymd(0, 10, 31), "non_live_births")
    dated = (select(deliveries.c.person_id, deliveries.c.event_date.label("unit_date"),
                    (deliveries.c.person_id + literal("|") + B.datestr(deliveries.c.event_date)).label("unit_id"))
             .select_from(deliveries.join(P, P.c.person_id == deliveries.c.person_id))
             .where(is_female(P.c.sex), ~exists().where(non_live.c.person_id == deliveries.c.person_id,
                                                        non_live.c.event_date == deliveries.c.event_date))
             .distinct()).cte("ppc_dated")
    kept = B.one_per_window(ctx, dated, 180, "ppc_first")
    isl = B.enrollment_islands(ctx)
    units = (select(dated.c.person_id, dated.c.unit_id, dated.c.unit_date.label("delivery"),
                    isl.c.s.label("enrolled_from"))
             .select_from(dated.join(kept, kept.c.unit_id == dated.c.unit_id)
                          .outerjoin(isl, and_(isl.c.person_id == dated.c.person_id, isl.c.s <= dated.c.unit_date,
                                               isl.c.e >= dated.c.unit_date)))).cte("ppc_units")
    prenatal = code_events(ctx, "ppc_prenatal", ctx.ymd(-2, 1, 1), ctx.ymd(0, 10, 7), *PRENATAL)
    before = days_between(prenatal.c.event_date, units.c.delivery)  # days before delivery
    early_enrollee = units.c.enrolled_from <= add_days(units.c.delivery, -280)
    in_time = case((early_enrollee, and_(before <= 280, before >= 176)),
                   else_=and_(before <= 280, prenatal.c.event_date <= add_days(units.c.enrolled_from, 42)))
    timely = B.first_match(units, prenatal, and_(prenatal.c.person_id == units.c.person_id, in_time),
                           (prenatal.c.event_date, prenatal.c.claim_id), "ppc_timely",
                           extra_cols=(prenatal.c.claim_id,))
    post = code_events(ctx, "ppc_postpartum", ctx.ymd(-1, 10, 1), ctx.my_end, *POSTPARTUM)
    postpartum = visit_within(units, post, units.c.delivery, post.c.event_date, 7, 84, literal(True), "ppc_post")
    return rates_from_matches(units, units.c.unit_id, units.c.person_id, units.c.delivery, "event",
                              {"timely_prenatal": timely, "postpartum": postpartum})


def _ppc(suffix, core_sets, lo, hi, band):
    return MeasureDefinition(
        id=f"PPC2-{suffix}", title="Prenatal and Postpartum Care", steward="NCQA", core_sets=core_sets,
        measurement_period="Deliveries 8 Oct of the year before - 7 Oct of the measurement year", unit="event",
        rates=(Rate("timely_prenatal", "proportion", "timeliness of prenatal care"),
               Rate("postpartum", "proportion", "postpartum care")),
        build=build_ppc, min_age=lo, max_age=hi, age_bands=((lo, hi, band),), enrollment=CE_PPC,
        anchor_text="the delivery date", lookback_years=2, standard_exclusions=("hospice", "death"),
        value_sets=("deliveries", "non_live_births") + PRENATAL + POSTPARTUM,
        card=dict(measures="Share of live-birth deliveries with a timely prenatal care visit and with a postpartum "
                           "visit 7-84 days after delivery.",
                  denominator="Women (person sex F) with a Deliveries code dated 8 Oct of the year before - 7 Oct "
                              "of MY and no Non-live Births code that day; the first delivery date, then the next "
                              f"one at least 180 days later; age {band} on the delivery date.",
                  numerator="timely_prenatal: a Prenatal Visits / Stand Alone Prenatal Visits / Prenatal Bundled "
                            "Services code 280-176 days before delivery when the enrollment island containing the "
                            "delivery started >= 280 days before it, otherwise 280 days before delivery through 42 "
                            "days after that island's start; postpartum: a Postpartum Care or Cervical Cytology "
                            "Lab Test code 7-84 days after delivery.",
                  exclusions="Hospice in MY; death in MY.", enrollment=CE_PPC.description),
        deviations=("Every value set is the user's licensed NCQA file (names: Deliveries, Non-live Births, Prenatal "
                    "Visits, Stand Alone Prenatal Visits, Prenatal Bundled Services, Postpartum Care, Cervical "
                    "Cytology Lab Test); none ship.",
                    "A prenatal visit needs no pregnancy diagnosis or OB/GYN provider (HEDIS pairs some visit "
                    "codes with them); the user's Prenatal Visits file decides what counts.",
                    "Enrollment start = start of the merged enrollment island containing the delivery (any plan).",
                    "Specification details are [K] (HEDIS MY2024 as known), not re-read against the FFY manual."),
    )


MEASURES = [_ppc("CH", CHILD, 0, 20, "under 21"), _ppc("AD", ADULT, 21, None, "21+")]
