"""COL-HH (administrative), CBP-HH (administrative, CPT II), CDF-HH (administrative, G-codes)."""
from __future__ import annotations

from sqlalchemy import and_, exists, func, literal, or_, select

from measures import blocks as B
from measures.definition import CEWindow, EnrollmentRule, MeasureDefinition, Rate
from measures.defs.common import HH

CE_MY_PRIOR = EnrollmentRule((CEWindow("year", 0, max_gaps=1, max_gap_days=45),
                              CEWindow("year", -1, max_gaps=1, max_gap_days=45), CEWindow("anchor", 0, 0)),
                             "MY and prior year, each with <= 1 gap of <= 45 days; enrolled on 31 Dec")
CE_MY = EnrollmentRule((CEWindow("year", 0, max_gaps=1, max_gap_days=45), CEWindow("anchor", 0, 0)),
                       "MY with <= 1 gap of <= 45 days; enrolled on 31 Dec")


def _members(ctx, name):
    mm = B.member_months_dedup(ctx)
    return (select(mm.c.person_id, mm.c.person_id.label("unit_id")).where(mm.c.month_start.between(ctx.my_start, ctx.my_end)).distinct()).cte(name)


def _first_service(ctx, units, cond, start, end, name):
    sv = B.services(ctx)
    return B.first_match(units, sv, and_(sv.c.person_id == units.c.person_id, cond,
                                         sv.c.service_date.between(start, end)),
                         (sv.c.service_date.desc(), sv.c.claim_id), name, extra_cols=(sv.c.claim_id,))


def build_col(ctx):
    m = _members(ctx, "col_members")
    sv = B.services(ctx)
    hits = []
    for vs, years_back in (("colonoscopy", 9), ("flexible_sigmoidoscopy", 4), ("ct_colonography", 4),
                           ("sdna_fit", 2), ("fobt", 0)):
        hits.append(select(sv.c.person_id, sv.c.claim_id, sv.c.service_date).where(
            B.in_vs(sv.c.hcpcs, ctx, vs), sv.c.service_date.between(ctx.ymd(-years_back, 1, 1), ctx.my_end)))
    from sqlalchemy import union_all
    ev = union_all(*hits).cte("col_screens")
    fm = B.first_match(m, ev, ev.c.person_id == m.c.person_id, (ev.c.service_date.desc(), ev.c.claim_id),
                       "col_num", extra_cols=(ev.c.claim_id,))
    crc = B.persons_with_dx(ctx, "colorectal_cancer", -50, 0)
    colectomy = exists().where(sv.c.person_id == m.c.person_id, B.in_vs(sv.c.hcpcs, ctx, "total_colectomy"),
                               sv.c.service_date <= ctx.my_end)
    excl = or_(B.in_set(m.c.person_id, crc), colectomy)
    reason = B.case((B.in_set(m.c.person_id, crc), "colorectal cancer"), (colectomy, "total colectomy"), else_=None)
    return select(*B.detail_row(m.c.person_id, "member", m.c.person_id, ctx.my_end, "screened",
                                fm.c.unit_id.is_not(None), fm.c.claim_id, excluded=excl, exclusion_reason=reason)
                  ).select_from(m.outerjoin(fm, fm.c.unit_id == m.c.person_id))


COL = MeasureDefinition(
    id="COL-HH", title="Colorectal Cancer Screening", steward="NCQA", core_sets=HH,
    measurement_period="Calendar measurement year (look-back up to 9 prior years)", unit="member",
    rates=(Rate("screened", "proportion"),), build=build_col, min_age=46, max_age=75, lookback_years=9,
    age_bands=((46, 50, "46-50"), (51, 65, "51-65"), (66, 75, "66-75")), enrollment=CE_MY_PRIOR,
    standard_exclusions=("hospice", "death", "palliative", "ltc66"),
    value_sets=("colonoscopy", "flexible_sigmoidoscopy", "ct_colonography", "sdna_fit", "fobt", "colorectal_cancer",
                "total_colectomy", "palliative_care", "hospice_rev", "hospice_hcpcs", "hospice_tob"),
    card=dict(measures="Share of enrollees 46-75 with appropriate colorectal cancer screening (administrative).",
              denominator="Members with a member month in MY, age 46-75 on 31 Dec.",
              numerator="Colonoscopy in MY or 9 prior years; flexible sigmoidoscopy or CT colonography in MY or 4 "
                        "prior; sDNA-FIT (81528) in MY or 2 prior; FOBT/FIT (82270, 82274, G0328) in MY.",
              exclusions="Colorectal cancer dx or total colectomy any time through MY; hospice, death, palliative "
                         "care (Z51.5) in MY; 66+ with a long-term institutional member month in MY.",
              enrollment=CE_MY_PRIOR.description),
    deviations=("Frailty + advanced illness exclusion (66+) is not modelled; institutional LTC via member-month flag.",
                "ICD-10-PCS and LOINC numerator codes are not included (claims CPT/HCPCS only)."),
)


def build_cbp(ctx):
    dx = B.claim_dx(ctx)
    H = B.H
    outpatient = or_(H.c.claim_type == "professional", ~B.isin(B.tob2(H.c.bill_type_code),
                                                                 ctx.codes("acute_inpatient_tob")
                                                                 + ctx.codes("nonacute_inpatient_tob")))
    htn = (select(dx.c.person_id, dx.c.person_id.label("unit_id")).select_from(dx.join(H, and_(H.c.claim_id == dx.c.claim_id,
                                                              H.c.data_source == dx.c.data_source)))
           .where(B.in_vs(dx.c.code, ctx, "hypertension"), outpatient,
                  dx.c.claim_start_date.between(ctx.ymd(-1, 1, 1), ctx.ymd(0, 6, 30)))
           .group_by(dx.c.person_id).having(func.count(func.distinct(dx.c.claim_start_date)) >= 2)).cte("cbp_den")
    sv = B.services(ctx)
    bp_codes = sum((ctx.codes(v) for v in ("bp_systolic_lt140", "bp_systolic_ge140", "bp_diastolic_lt90",
                                           "bp_diastolic_ge90")), [])
    bp = select(sv.c.person_id, sv.c.service_date, sv.c.hcpcs, sv.c.claim_id).where(
        B.in_list(sv.c.hcpcs, bp_codes), sv.c.service_date.between(ctx.my_start, ctx.my_end)).cte("cbp_bp")
    last = select(bp.c.person_id, func.max(bp.c.service_date).label("d")).group_by(bp.c.person_id).cte("cbp_last")
    on_last = (select(bp.c.person_id, func.max(B.flag(B.in_vs(bp.c.hcpcs, ctx, "bp_systolic_lt140"))).label("sys_ok"),
                      func.max(B.flag(B.in_vs(bp.c.hcpcs, ctx, "bp_diastolic_lt90"))).label("dia_ok"),
                      func.min(bp.c.claim_id).label("claim_id"))
               .select_from(bp.join(last, and_(last.c.person_id == bp.c.person_id, last.c.d == bp.c.service_date)))
               .group_by(bp.c.person_id)).cte("cbp_on_last")
    esrd = B.persons_with_dx(ctx, "esrd", -50, 0)
    preg = B.persons_with_dx(ctx, "pregnancy", 0, 0)
    excl = or_(B.in_set(htn.c.person_id, esrd), B.in_set(htn.c.person_id, preg))
    reason = B.case((B.in_set(htn.c.person_id, esrd), "ESRD/dialysis/kidney transplant"),
                    (B.in_set(htn.c.person_id, preg), "pregnancy"), else_=None)
    met = and_(on_last.c.sys_ok == 1, on_last.c.dia_ok == 1)
    return select(*B.detail_row(htn.c.person_id, "member", htn.c.person_id, ctx.my_end, "controlled",
                                func.coalesce(met, False), on_last.c.claim_id, excluded=excl,
                                exclusion_reason=reason)).select_from(
        htn.outerjoin(on_last, on_last.c.person_id == htn.c.person_id))


CBP = MeasureDefinition(
    id="CBP-HH", title="Controlling High Blood Pressure", steward="NCQA", core_sets=HH, lookback_years=1,
    measurement_period="Calendar measurement year", unit="member", rates=(Rate("controlled", "proportion"),),
    build=build_cbp, min_age=18, max_age=85, age_bands=((18, 64, "18-64"), (65, 85, "65-85")), enrollment=CE_MY,
    standard_exclusions=("hospice", "death", "palliative", "ltc66"),
    value_sets=("hypertension", "bp_systolic_lt140", "bp_systolic_ge140", "bp_diastolic_lt90", "bp_diastolic_ge90",
                "esrd", "pregnancy", "palliative_care", "acute_inpatient_tob", "nonacute_inpatient_tob"),
    card=dict(measures="Share of enrollees 18-85 with hypertension whose most recent BP in MY was < 140/90 "
                       "(administrative, CPT Category II only).",
              denominator="Hypertension (I10) on >= 2 distinct outpatient dates between 1 Jan of the prior year and "
                          "30 Jun MY; age 18-85 on 31 Dec.",
              numerator="On the latest date in MY with a BP CPT II code: a systolic < 140 code (3074F/3075F) and a "
                        "diastolic < 90 code (3078F/3079F). No BP code in MY = not controlled.",
              exclusions="ESRD/dialysis/kidney transplant through MY; pregnancy in MY; hospice, death, palliative "
                         "care; 66+ in institutional LTC.", enrollment=CE_MY.description),
    deviations=("Administrative only: without EHR/hybrid BP readings the rate is biased low.",
                "Frailty + advanced illness exclusion not modelled."),
)


def build_cdf(ctx):
    sv = B.services(ctx)
    enc = (select(sv.c.person_id, sv.c.person_id.label("unit_id")).where(B.in_vs(sv.c.hcpcs, ctx, "cdf_encounter"),
                                        sv.c.service_date.between(ctx.my_start, ctx.my_end)).distinct()).cte("cdf_den")
    fm = _first_service(ctx, enc, B.in_vs(sv.c.hcpcs, ctx, "depression_screen_met"), ctx.my_start, ctx.my_end,
                        "cdf_num")
    prior = B.persons_with_dx(ctx, "depression_or_bipolar", -30, -1)
    exc_code = exists().where(sv.c.person_id == enc.c.person_id,
                              B.in_vs(sv.c.hcpcs, ctx, "depression_screen_exception"),
                              sv.c.service_date.between(ctx.my_start, ctx.my_end))
    excl = or_(B.in_set(enc.c.person_id, prior), and_(exc_code, fm.c.unit_id.is_(None)))
    reason = B.case((B.in_set(enc.c.person_id, prior), "prior depression/bipolar dx"),
                    (exc_code, "documented exception (G8433/G8940)"), else_=None)
    return select(*B.detail_row(enc.c.person_id, "member", enc.c.person_id, ctx.my_end, "screened",
                                fm.c.unit_id.is_not(None), fm.c.claim_id, excluded=excl, exclusion_reason=reason)
                  ).select_from(enc.outerjoin(fm, fm.c.unit_id == enc.c.person_id))


CDF = MeasureDefinition(
    id="CDF-HH", title="Screening for Depression and Follow-Up Plan", steward="CMS", core_sets=HH,
    measurement_period="Calendar measurement year", unit="member", rates=(Rate("screened", "proportion"),),
    build=build_cdf, min_age=12, age_bands=((12, 17, "12-17"), (18, 64, "18-64"), (65, None, "65+")),
    value_sets=("cdf_encounter", "depression_screen_met", "depression_screen_exception", "depression_or_bipolar"),
    card=dict(measures="Share of enrollees 12+ with an eligible encounter screened for depression (negative, or "
                       "positive with a follow-up plan), from G-codes.",
              denominator="Members with >= 1 eligible encounter code in MY; age >= 12 on 31 Dec.",
              numerator="G8431 (positive screen with plan) or G8510 (negative screen) in MY.",
              exclusions="Depression or bipolar dx before MY; documented exception (G8433/G8940) without a "
                         "numerator code.", enrollment="None."),
    deviations=("Administrative only (G-codes); screening recorded only in EHRs is missed.",
                "'Prior diagnosis' is approximated as any depression/bipolar dx before 1 Jan MY."),
)

MEASURES = [COL, CBP, CDF]
