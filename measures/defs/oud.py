"""OUD-HH: Use of Pharmacotherapy for Opioid Use Disorder."""
from __future__ import annotations

from sqlalchemy import case, func, literal, select, union_all

from measures import blocks as B
from measures.definition import MeasureDefinition, Rate
from measures.defs.common import BANDS_18, HH

MEDS = ("buprenorphine", "naltrexone_oral", "naltrexone_lai", "methadone")


def build_oud(ctx):
    den = B.persons_with_dx(ctx, "sud_opioid", 0, 0)
    sv = B.services(ctx)
    in_my = sv.c.service_date.between(ctx.my_start, ctx.my_end)
    ev = [select(sv.c.person_id, sv.c.claim_id, literal("buprenorphine").label("med")).where(
              in_my, B.in_vs(sv.c.hcpcs, ctx, "oud_med_buprenorphine_hcpcs")),
          select(sv.c.person_id, sv.c.claim_id, literal("naltrexone_lai").label("med")).where(
              in_my, B.in_vs(sv.c.hcpcs, ctx, "oud_med_naltrexone_lai_hcpcs")),
          select(sv.c.person_id, sv.c.claim_id, literal("methadone").label("med")).where(
              in_my, B.in_vs(sv.c.hcpcs, ctx, "oud_med_methadone_hcpcs"))]
    for med, vs in (("buprenorphine", "ndc_oud_buprenorphine"), ("naltrexone_oral", "ndc_oud_naltrexone_oral")):
        rx = B.rx_fills(ctx, vs)
        ev.append(select(rx.c.person_id, rx.c.claim_id, literal(med).label("med"))
                  .where(rx.c.fill_date.between(ctx.my_start, ctx.my_end)))
    events = union_all(*ev).cte("oud_events")
    per = (select(events.c.person_id,
                  *[func.min(case((events.c.med == m, events.c.claim_id))).label(m) for m in MEDS],
                  func.min(events.c.claim_id).label("total"))
           .group_by(events.c.person_id)).cte("oud_per_person")
    parts = []
    j = den.outerjoin(per, per.c.person_id == den.c.person_id)
    for rate in ("total",) + MEDS:
        claim = per.c[rate]
        parts.append(select(*B.detail_row(den.c.person_id, "member", den.c.person_id, ctx.my_end, rate,
                                          claim.is_not(None), claim)).select_from(j))
    return union_all(*parts)


OUD = MeasureDefinition(
    id="OUD-HH", title="Use of Pharmacotherapy for Opioid Use Disorder", steward="CMS", core_sets=HH,
    measurement_period="Calendar measurement year", unit="member",
    rates=tuple(Rate(r, "proportion") for r in ("total",) + MEDS), build=build_oud, min_age=18,
    age_bands=BANDS_18, standard_exclusions=(),
    value_sets=("sud_opioid", "oud_med_buprenorphine_hcpcs", "oud_med_naltrexone_lai_hcpcs", "oud_med_methadone_hcpcs",
                "ndc_oud_buprenorphine", "ndc_oud_naltrexone_oral"),
    card=dict(
        measures="Share of enrollees with an OUD diagnosis who filled or were administered an FDA-approved OUD "
                 "medication in the year; total and by medication.",
        denominator="Members with >= 1 claim with an F11 dx (any position) in MY, age >= 18 on 31 Dec.",
        numerator="Any buprenorphine (NDC or J0571-J0575/Q9991/Q9992/G2068-G2072), oral naltrexone (NDC), "
                  "long-acting naltrexone (J2315/G2073) or methadone (H0020/G2067/G2078/S0109/J1230) event in MY.",
        exclusions="None.", enrollment="No continuous-enrollment requirement applied [K: confirm against the "
                                       "Non-HEDIS specification]."),
    deviations=("No continuous-enrollment requirement (spec card flags this as to be confirmed).",),
)

MEASURES = [OUD]
