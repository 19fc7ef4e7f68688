"""IET-HH: Initiation and Engagement of Substance Use Disorder Treatment."""
from __future__ import annotations

from sqlalchemy import and_, case, exists, func, literal, or_, select, union_all

from measures import blocks as B
from measures.definition import CEWindow, EnrollmentRule, MeasureDefinition, Rate
from measures.defs.common import BANDS_13, HH
from measures.sqlfuncs import add_days, days_between

COHORTS = ("alcohol", "opioid", "other")


def _events(ctx):
    """SUD events: dx-bearing claims (inpatient: discharge date) and medication events, with cohort flags and a
    'treatment' flag (counts toward initiation/engagement) and 'lai' flag."""
    H, dx = B.H, B.claim_dx(ctx)
    ic = B.inpatient_claims(ctx)
    alc, opi, oth = (ctx.codes("sud_alcohol"), ctx.codes("sud_opioid"), ctx.codes("sud_other"))
    dx_claims = (select(dx.c.claim_id, dx.c.data_source, dx.c.person_id,
                        func.max(B.flag(B.in_list(dx.c.code, alc))).label("alc"),
                        func.max(B.flag(B.in_list(dx.c.code, opi))).label("opi"),
                        func.max(B.flag(B.in_list(dx.c.code, oth))).label("oth"))
                 .where(B.in_vs(dx.c.code, ctx, "sud")).group_by(dx.c.claim_id, dx.c.data_source, dx.c.person_id)
                 ).cte("iet_dx_claims")
    sv = B.services(ctx)
    tx_line = exists().where(sv.c.claim_id == dx_claims.c.claim_id, sv.c.data_source == dx_claims.c.data_source,
                             or_(B.in_vs(sv.c.hcpcs, ctx, "bh_followup_visit", "sud_treatment_service"),
                                 B.in_vs(sv.c.rev, ctx, "bh_rev")))
    is_ip = exists().where(ic.c.claim_id == dx_claims.c.claim_id, ic.c.data_source == dx_claims.c.data_source,
                           ic.c.acute == 1)
    ed_line = exists().where(B.L.c.claim_id == dx_claims.c.claim_id, B.L.c.data_source == dx_claims.c.data_source,
                             or_(B.in_vs(B.L.c.revenue_center_code, ctx, "ed_rev"),
                                 B.in_vs(B.L.c.hcpcs_code, ctx, "ed_visit_cpt")))
    ev_date = case((is_ip, func.coalesce(H.c.discharge_date, H.c.claim_end_date)), else_=H.c.claim_start_date)
    claims_ev = (select(dx_claims.c.person_id, dx_claims.c.claim_id, ev_date.label("event_date"),
                        dx_claims.c.alc, dx_claims.c.opi, dx_claims.c.oth, B.flag(is_ip).label("ip"),
                        literal(0).label("med"), B.flag(and_(or_(tx_line, is_ip), ~ed_line)).label("tx"),
                        literal(0).label("lai"))
                 .select_from(dx_claims.join(H, and_(H.c.claim_id == dx_claims.c.claim_id,
                                                     H.c.data_source == dx_claims.c.data_source))))
    bup = ctx.codes("oud_med_buprenorphine_hcpcs") + ctx.codes("oud_med_methadone_hcpcs")
    ntx = ctx.codes("oud_med_naltrexone_lai_hcpcs")
    lai = ctx.codes("sud_long_acting_injectable")
    med_sv = (select(sv.c.person_id, sv.c.claim_id, sv.c.service_date.label("event_date"),
                     B.flag(B.in_list(sv.c.hcpcs, ntx)).label("alc"), literal(1).label("opi"), literal(0).label("oth"),
                     literal(0).label("ip"), literal(1).label("med"), literal(1).label("tx"),
                     B.flag(B.in_list(sv.c.hcpcs, lai)).label("lai"))
              .where(B.in_list(sv.c.hcpcs, bup + ntx)))
    rx = B.rx_fills(ctx, "ndc_sud_medication")
    med_rx = select(rx.c.person_id, rx.c.claim_id, rx.c.fill_date.label("event_date"),
                    B.flag(B.in_vs(rx.c.ndc, ctx, "ndc_aud_medication")).label("alc"),
                    B.flag(B.in_vs(rx.c.ndc, ctx, "ndc_oud_buprenorphine", "ndc_oud_naltrexone_oral"))
                    .label("opi"), literal(0).label("oth"), literal(0).label("ip"), literal(1).label("med"),
                    literal(1).label("tx"), literal(0).label("lai"))
    return union_all(claims_ev, med_sv, med_rx).cte("iet_events")


def build_iet(ctx):
    p = ctx.params
    ev = _events(ctx)
    # episode dates: one per person-date
    ep = (select(ev.c.person_id, ev.c.event_date, func.max(ev.c.alc).label("alc"), func.max(ev.c.opi).label("opi"),
                 func.max(ev.c.oth).label("oth"), func.max(ev.c.ip).label("ip"), func.max(ev.c.med).label("med"),
                 func.min(ev.c.claim_id).label("claim_id"))
          .group_by(ev.c.person_id, ev.c.event_date)).cte("iet_ep")
    prior = ev.alias("iet_prior")
    neg_history = ~exists().where(prior.c.person_id == ep.c.person_id,
                                  prior.c.event_date >= add_days(ep.c.event_date, -p["negative_history_days"]),
                                  prior.c.event_date < ep.c.event_date)
    idx = (select(ep, (ep.c.person_id + literal("|") + B.datestr(ep.c.event_date)).label("unit_id"))
           .where(ep.c.event_date.between(ctx.ymd(-1, 11, 15), ctx.ymd(0, 11, 14)), neg_history)).cte("iet_index")
    # initiation: index inpatient/medication event, or another treatment event day 0..13 (different claim)
    tx = ev.alias("iet_tx")
    d = days_between(idx.c.event_date, tx.c.event_date)
    init_ev = (select(idx.c.unit_id, tx.c.event_date, tx.c.claim_id)
               .select_from(idx.join(tx, and_(tx.c.person_id == idx.c.person_id, tx.c.tx == 1, d >= 0,
                                              d <= p["initiation_days"] - 1,
                                              or_(d > 0, tx.c.claim_id != idx.c.claim_id))))).cte("iet_init_ev")
    self_init = select(idx.c.unit_id, idx.c.event_date, idx.c.claim_id).where(or_(idx.c.ip == 1, idx.c.med == 1))
    all_init = union_all(select(init_ev), self_init).cte("iet_init_all")
    init = (select(all_init.c.unit_id, func.min(all_init.c.event_date).label("init_date"),
                   func.min(all_init.c.claim_id).label("init_claim"))
            .group_by(all_init.c.unit_id)).cte("iet_init")
    eng_ev = ev.alias("iet_eng")
    de = days_between(init.c.init_date, eng_ev.c.event_date)
    eng = (select(init.c.unit_id, func.count(func.distinct(eng_ev.c.event_date)).label("n_dates"),
                  func.max(eng_ev.c.lai).label("lai"), func.min(eng_ev.c.claim_id).label("eng_claim"))
           .select_from(init.join(idx, idx.c.unit_id == init.c.unit_id)
                        .join(eng_ev, and_(eng_ev.c.person_id == idx.c.person_id, eng_ev.c.tx == 1, de >= 1,
                                           de <= p["engagement_days"])))
           .group_by(init.c.unit_id)).cte("iet_eng_agg")
    base = (select(idx.c.unit_id, idx.c.person_id, idx.c.event_date, idx.c.alc, idx.c.opi, idx.c.oth,
                   init.c.init_claim, (init.c.unit_id.is_not(None)).label("initiated"),
                   and_(init.c.unit_id.is_not(None), or_(eng.c.n_dates >= 2, eng.c.lai == 1)).label("engaged"),
                   eng.c.eng_claim)
            .select_from(idx.outerjoin(init, init.c.unit_id == idx.c.unit_id)
                         .outerjoin(eng, eng.c.unit_id == idx.c.unit_id))).cte("iet_base")
    parts = []
    for cohort, col in (("total", None), ("alcohol", base.c.alc), ("opioid", base.c.opi), ("other", base.c.oth)):
        for rate, met, claim in (("initiation", base.c.initiated, base.c.init_claim),
                                 ("engagement", base.c.engaged, base.c.eng_claim)):
            q = select(*B.detail_row(base.c.unit_id, "sud_episode", base.c.person_id, base.c.event_date,
                                     f"{rate}_{cohort}", met, case((met, claim), else_=None)))
            if col is not None:
                q = q.where(col == 1)
            parts.append(q)
    return union_all(*parts)


RATES = tuple(Rate(f"{r}_{c}", "proportion") for r in ("initiation", "engagement")
              for c in ("alcohol", "opioid", "other", "total"))

IET = MeasureDefinition(
    id="IET-HH", title="Initiation and Engagement of Substance Use Disorder Treatment", steward="NCQA",
    core_sets=HH, lookback_years=1, measurement_period="Intake period 15 Nov prior year - 14 Nov MY", unit="event", rates=RATES,
    build=build_iet, min_age=13, age_bands=BANDS_13,
    enrollment=EnrollmentRule((CEWindow("anchor", -194, 47),), "194 days before the IESD through 47 days after, no gap"),
    standard_exclusions=("hospice", "death"),
    value_sets=("sud", "sud_alcohol", "sud_opioid", "sud_other", "bh_followup_visit", "sud_treatment_service",
                "bh_rev", "ed_rev", "ed_visit_cpt", "oud_med_buprenorphine_hcpcs", "oud_med_methadone_hcpcs",
                "oud_med_naltrexone_lai_hcpcs", "sud_long_acting_injectable", "ndc_sud_medication",
                "ndc_aud_medication", "ndc_oud_buprenorphine", "ndc_oud_naltrexone_oral", "acute_inpatient_tob",
                "nonacute_inpatient_tob", "nonacute_rev"),
    params=dict(negative_history_days=194, initiation_days=14, engagement_days=34),
    card=dict(
        measures="Share of new SUD episodes with treatment initiation within 14 days and engagement (two more "
                 "treatment events or one long-acting medication) within 34 days after initiation.",
        denominator="SUD episodes (any claim with an F10-F19 dx except F17 - inpatient dated at discharge - or an "
                    "OUD/AUD medication event) in 15 Nov prior year - 14 Nov MY with no SUD dx or medication event "
                    "in the 194 days before (negative history); one episode per person-date; age >= 13 on the IESD. "
                    "Cohorts by the episode's dx (alcohol F10, opioid F11, other) or medication.",
        numerator="Initiation: an inpatient or medication index event, or another SUD treatment event (visit with "
                  "SUD dx, SUD service code, medication) day 0-13. Engagement: >= 2 treatment-event dates, or one "
                  "long-acting injectable, 1-34 days after the initiation date.",
        exclusions="Hospice in MY; death in MY.",
        enrollment="IESD - 194 days through IESD + 47 days, no gap."),
    deviations=("Exclusion of episodes followed by inpatient stays in specific windows is not modelled.",
                "The index event itself counts as initiation only when it is an inpatient stay or a medication event.",
                "Withdrawal-management-only events are not separated from other treatment events."),
)

MEASURES = [IET]
