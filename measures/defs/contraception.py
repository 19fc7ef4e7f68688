"""CCW-AD / CCW-CH: Contraceptive Care - All Women, and CCP-AD / CCP-CH: Contraceptive Care - Postpartum Women
(US DHHS Office of Population Affairs, administrative; CBE #2903/#2904/#2902). Public code lists ship
(`contraception_*`, `infecund_*`, `live_birth` in measures/value_sets, version icm-opa-2024.1).

Specification as known [K: OPA measure specification and the Core Set manual, not re-read for issue 19; the OPA
page confirms the method tiers (most effective: sterilization, implant, IUD/IUS; moderately effective: injectable,
pill, patch, ring) and the postpartum rates within 3 and 90 days (60 days until MY2021)]:
  * CCW: women 15-44 on 31 Dec of MY (Child Core Set 15-20, Adult 21-44) at risk of unintended pregnancy,
    continuously enrolled in MY; not at risk = infecund for non-contraceptive reasons (hysterectomy, removal of both
    ovaries, menopause) or pregnant at the end of MY. Rates: provided a most or moderately effective method (MMEC),
    provided a long-acting reversible method (LARC), in MY.
  * CCP: women 15-44 with a live birth in MY, deliveries in the last three months excluded so that the 90-day
    window is observed; rates: MMEC / LARC provided within 3 and within 90 days of delivery.
"""
from __future__ import annotations

from sqlalchemy import and_, func, literal, or_, select, union_all

from measures import blocks as B
from measures.definition import CEWindow, EnrollmentRule, MeasureDefinition, Rate
from measures.defs.common import ADULT, CHILD, code_events, is_female, rates_from_matches, visit_within
from measures.defs.prevention import CE_MY

LARC_SETS = ("contraception_larc_hcpcs", "contraception_larc_dx", "contraception_larc_pcs")
MMEC_SETS = ("contraception_mmec_hcpcs", "contraception_mmec_dx", "contraception_mmec_pcs")
INFECUND_SETS = ("infecund_dx", "infecund_hcpcs", "infecund_pcs")
OPTIONAL_NDC = "opa_contraceptive_ndc"  # a user-loaded NDC list (pills, patch, ring, injectable); none ships
OPA = ("OPA (US DHHS Office of Population Affairs); specification details are [K] (as known), not re-read against "
       "the FFY manual.")
CE_POSTPARTUM = EnrollmentRule((CEWindow("anchor", 0, 90),), "delivery date through 90 days after, no gap [K]")


def contraception_events(ctx, start, end):
    """Contraceptive provision events in [start, end]: person_id, event_date, claim_id, larc (1 = LARC)."""
    larc = code_events(ctx, "opa_larc", start, end, *LARC_SETS)
    other = code_events(ctx, "opa_mmec", start, end, *MMEC_SETS)
    parts = [select(larc, literal(1).label("larc")), select(other, literal(0).label("larc"))]
    if ctx.has(OPTIONAL_NDC):
        rx = B.rx_fills(ctx, OPTIONAL_NDC)
        parts.append(select(rx.c.person_id, rx.c.fill_date.label("event_date"), rx.c.claim_id, literal(0).label("larc"))
                     .where(rx.c.fill_date.between(start, end)))
    return union_all(*parts).cte("opa_events")


def build_ccw(ctx):
    P, mm = B.P, B.member_months_dedup(ctx)
    women = (select(P.c.person_id, P.c.person_id.label("unit_id"))
             .where(is_female(P.c.sex), B.in_set(P.c.person_id, select(mm.c.person_id).where(
                 mm.c.month_start.between(ctx.my_start, ctx.my_end)).cte("ccw_enrolled")))).cte("ccw_women")
    ev = contraception_events(ctx, ctx.my_start, ctx.my_end)
    on = ev.c.person_id == women.c.person_id
    order = (ev.c.event_date, ev.c.claim_id)
    matches = {"mmec": B.first_match(women, ev, on, order, "ccw_mmec", extra_cols=(ev.c.claim_id,)),
               "larc": B.first_match(women, ev, and_(on, ev.c.larc == 1), order, "ccw_larc",
                                     extra_cols=(ev.c.claim_id,))}
    infecund = code_events(ctx, "ccw_infecund", ctx.my_start, ctx.my_end, *INFECUND_SETS)
    dx = B.claim_dx(ctx)
    pregnant_at_end = (select(dx.c.person_id).where(B.in_vs(dx.c.code, ctx, "pregnancy"),
                                                    dx.c.claim_start_date.between(ctx.ymd(0, 11, 1), ctx.my_end))
                       .cte("ccw_pregnant_at_end"))
    is_infecund, is_pregnant = B.in_set(women.c.person_id, infecund), B.in_set(women.c.person_id, pregnant_at_end)
    return rates_from_matches(women, women.c.unit_id, women.c.person_id, ctx.my_end, "member", matches,
                              excluded=or_(is_infecund, is_pregnant),
                              reason=B.case((is_infecund, "infecund (non-contraceptive reason)"),
                                            (is_pregnant, "pregnant at the end of MY"), else_=None))


def build_ccp(ctx):
    P, dx = B.P, B.claim_dx(ctx)
    births = (select(dx.c.person_id, func.min(dx.c.claim_start_date).label("delivery_date"))
              .select_from(dx.join(P, P.c.person_id == dx.c.person_id))
              .where(B.in_vs(dx.c.code, ctx, "live_birth"), is_female(P.c.sex),
                     dx.c.claim_start_date.between(ctx.my_start, ctx.ymd(0, 9, 30)))
              .group_by(dx.c.person_id)).cte("ccp_births")
    units = select(births, (births.c.person_id + literal("|") + B.datestr(births.c.delivery_date))
                   .label("unit_id")).cte("ccp_units")
    ev = contraception_events(ctx, ctx.my_start, ctx.my_end)
    matches = {}
    for method, cond in (("mmec", literal(True)), ("larc", ev.c.larc == 1)):
        for days in (3, 90):
            matches[f"{method}_{days}_day"] = visit_within(units, ev, units.c.delivery_date, ev.c.event_date, 0, days,
                                                           cond, f"ccp_{method}_{days}")
    return rates_from_matches(units, units.c.unit_id, units.c.person_id, units.c.delivery_date, "event", matches)


def _ccw(suffix, core_sets, lo, hi):
    return MeasureDefinition(
        id=f"CCW-{suffix}", title="Contraceptive Care - All Women", steward="OPA", core_sets=core_sets,
        measurement_period="Calendar measurement year", unit="member",
        rates=(Rate("mmec", "proportion", "most or moderately effective method"),
               Rate("larc", "proportion", "long-acting reversible method")),
        build=build_ccw, min_age=lo, max_age=hi, age_bands=((lo, hi, f"{lo}-{hi}"),), enrollment=CE_MY,
        value_sets=LARC_SETS + MMEC_SETS + INFECUND_SETS + ("pregnancy",),
        card=dict(measures=f"Share of women {lo}-{hi} at risk of unintended pregnancy provided a most or moderately "
                           "effective contraceptive method (MMEC) or a long-acting reversible one (LARC) in MY.",
                  denominator=f"Women (person sex F) with a member month in MY, age {lo}-{hi} on 31 Dec.",
                  numerator="MMEC: a code of female sterilization, IUD/IUS, implant, injectable, pills, patch or "
                            "ring (CPT/HCPCS line, ICD-10-CM diagnosis or ICD-10-PCS procedure) dated in MY. LARC: "
                            "an IUD/IUS or implant code in MY.",
                  exclusions="Infecund for a non-contraceptive reason (hysterectomy, removal of both ovaries, "
                             "menopause, absent uterus: a code in MY); pregnant at the end of MY (a pregnancy "
                             "diagnosis dated 1 Nov-31 Dec of MY).", enrollment=CE_MY.description),
        deviations=(OPA,
                    "Pharmacy-dispensed pills, patches and rings count only with a user-loaded NDC list (value set "
                    f"`{OPTIONAL_NDC}`); without it they are found only through their HCPCS/ICD-10-CM codes, so the "
                    "MMEC rate is biased low.",
                    "'Pregnant at the end of MY' (OPA: a pregnancy without an outcome by year end, or a live birth in "
                    "its last two months) is approximated by any pregnancy diagnosis dated in November or December.",
                    "Sterilization or LARC before MY is not seen (as in OPA's claims specification)."),
    )


def _ccp(suffix, core_sets, lo, hi):
    return MeasureDefinition(
        id=f"CCP-{suffix}", title="Contraceptive Care - Postpartum Women", steward="OPA", core_sets=core_sets,
        measurement_period="Live births 1 Jan - 30 Sep of the measurement year", unit="event",
        rates=tuple(Rate(f"{m}_{d}_day", "proportion") for m in ("mmec", "larc") for d in (3, 90)),
        build=build_ccp, min_age=lo, max_age=hi, age_bands=((lo, hi, f"{lo}-{hi}"),), enrollment=CE_POSTPARTUM,
        anchor_text="the delivery date",
        value_sets=LARC_SETS + MMEC_SETS + ("live_birth",),
        card=dict(measures=f"Share of women {lo}-{hi} with a live birth provided a most or moderately effective "
                           "(MMEC) or a long-acting reversible (LARC) contraceptive method within 3 and within 90 "
                           "days of delivery.",
                  denominator="Each woman's first live birth (a claim with a `live_birth` diagnosis: Z37 live-birth "
                              "outcome or O80) dated 1 Jan-30 Sep of MY; delivery date = that claim's start date; "
                              f"age {lo}-{hi} on the delivery date.",
                  numerator="An MMEC (LARC) code as for CCW dated on the delivery date through 3 (90) days after, "
                            "inclusive (a method coded on the delivery claim counts).",
                  exclusions="None.", enrollment=CE_POSTPARTUM.description),
        deviations=(OPA,
                    "One denominator unit per woman (her first live birth of 1 Jan-30 Sep); a second delivery in "
                    "the period is not counted.",
                    f"Pharmacy-dispensed methods need the user-loaded NDC list `{OPTIONAL_NDC}` (see CCW).",
                    "Age is taken on the delivery date [K]."),
    )


MEASURES = [_ccw("CH", CHILD, 15, 20), _ccw("AD", ADULT, 21, 44), _ccp("CH", CHILD, 15, 20),
            _ccp("AD", ADULT, 21, 44)]
