"""Pharmacy measures: OHD-AD, COB-AD, AMM-AD, SAA-AD and PQA PDC adherence (statins, RAS antagonists, diabetes)."""
from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Float, and_, cast, exists, func, literal, or_, select, union_all

from measures import blocks as B
from measures.definition import CEWindow, EnrollmentRule, MeasureDefinition, Rate
from measures.defs.common import ADULT, ADULT_THROUGH_2025
from measures.mme import factor_for
from measures.sqlfuncs import add_days, days_between

REF = Path(__file__).resolve().parent.parent / "reference" / "ndc_drugs.csv"
PQA = {"PQA": (2024, 2025, 2026)}


@lru_cache(maxsize=1)
def mme_table() -> tuple[tuple[str, float, float], ...]:
    """(ndc, strength per unit, MME factor) of the shipped products whose MME is computable; the factors are the
    ones the DUR engine uses too (measures/mme.py)."""
    out = []
    with open(REF, newline="") as fh:
        for r in csv.DictReader(fh):
            strength = float(r["strength_per_unit"]) if r["strength_per_unit"] else None
            factor, status = factor_for(r["ingredient"], r["dose_form"], strength, r["strength_unit"])
            if status == "ok":
                out.append((r["ndc"], strength, factor))
    return tuple(out)


def _mme_cte(ctx):
    rows = [select(literal(n).label("ndc"), literal(s).label("strength"), literal(f).label("factor"))
            for n, s, f in mme_table()]
    return union_all(*rows).cte("mme_ref")


def _opioid_den(ctx, name):
    """Members with >= 2 opioid fills on different dates in MY totalling >= 15 days supply."""
    rx = B.rx_fills(ctx, "ndc_opioid")
    in_my = rx.c.fill_date.between(ctx.my_start, ctx.my_end)
    return (select(rx.c.person_id, rx.c.person_id.label("unit_id"), func.min(rx.c.fill_date).label("ipsd"))
            .where(in_my).group_by(rx.c.person_id)
            .having(and_(func.count(func.distinct(rx.c.fill_date)) >= 2, func.sum(rx.c.days_supply) >= 15))
            ).cte(name)


def _cancer_sickle_excl(ctx, person_col):
    c = B.persons_with_dx(ctx, "cancer", 0, 0)
    s = B.persons_with_dx(ctx, "sickle_cell", 0, 0)
    return (or_(B.in_set(person_col, c), B.in_set(person_col, s)),
            B.case((B.in_set(person_col, c), "cancer"), (B.in_set(person_col, s), "sickle cell disease"), else_=None))


def build_ohd(ctx):
    p = ctx.params
    den = _opioid_den(ctx, "ohd_den")
    rx = B.rx_fills(ctx, "ndc_opioid")
    ref = _mme_cte(ctx)
    end = func.least(add_days(rx.c.fill_date, rx.c.days_supply - 1), ctx.my_end)
    days_in = days_between(rx.c.fill_date, end) + 1
    mme = (cast(rx.c.quantity, Float) * ref.c.strength * ref.c.factor * cast(days_in, Float)
           / cast(func.greatest(rx.c.days_supply, 1), Float))
    per = (select(rx.c.person_id, func.sum(mme).label("total_mme"), func.min(rx.c.fill_date).label("first"),
                  func.max(end).label("last"), func.max(rx.c.claim_id).label("claim_id"))
           .select_from(rx.join(ref, ref.c.ndc == rx.c.ndc))
           .where(rx.c.fill_date.between(ctx.my_start, ctx.my_end)).group_by(rx.c.person_id)).cte("ohd_mme")
    avg = per.c.total_mme / cast(days_between(per.c.first, per.c.last) + 1, Float)
    met = func.coalesce(avg >= p["mme_threshold"], False)
    excl, reason = _cancer_sickle_excl(ctx, den.c.person_id)
    return select(*B.detail_row(den.c.person_id, "member", den.c.person_id, ctx.my_end, "high_dosage", met,
                                B.case((met, per.c.claim_id), else_=None), excluded=excl, exclusion_reason=reason)
                  ).select_from(den.outerjoin(per, per.c.person_id == den.c.person_id))


def build_cob(ctx):
    p = ctx.params
    den = _opioid_den(ctx, "cob_den")
    op = B.fill_intervals(ctx, select(B.rx_fills(ctx, "ndc_opioid")).where(
        B.rx_fills(ctx, "ndc_opioid").c.fill_date.between(ctx.my_start, ctx.my_end)).cte("cob_op_fills"),
        "cob_op", ctx.my_end)
    bz_fills = B.rx_fills(ctx, "ndc_benzodiazepine")
    bz_my = select(bz_fills).where(bz_fills.c.fill_date.between(ctx.my_start, ctx.my_end)).cte("cob_bz_fills")
    bz = B.fill_intervals(ctx, bz_my, "cob_bz", ctx.my_end)
    ov = func.greatest(days_between(func.greatest(op.c.s, bz.c.s), func.least(op.c.e, bz.c.e)) + 1, 0)
    overlap = (select(op.c.person_id, func.sum(ov).label("days"))
               .select_from(op.join(bz, and_(bz.c.person_id == op.c.person_id, bz.c.s <= op.c.e, bz.c.e >= op.c.s)))
               .group_by(op.c.person_id)).cte("cob_overlap")
    bz_dates = (select(bz_my.c.person_id, func.count(func.distinct(bz_my.c.fill_date)).label("n"),
                       func.min(bz_my.c.claim_id).label("claim_id"))
                .group_by(bz_my.c.person_id)).cte("cob_bz_dates")
    met = and_(func.coalesce(overlap.c.days, 0) >= p["overlap_days"], func.coalesce(bz_dates.c.n, 0) >= 2)
    excl, reason = _cancer_sickle_excl(ctx, den.c.person_id)
    return select(*B.detail_row(den.c.person_id, "member", den.c.person_id, ctx.my_end, "concurrent", met,
                                B.case((met, bz_dates.c.claim_id), else_=None), excluded=excl,
                                exclusion_reason=reason)).select_from(
        den.outerjoin(overlap, overlap.c.person_id == den.c.person_id)
        .outerjoin(bz_dates, bz_dates.c.person_id == den.c.person_id))


def build_amm(ctx):
    p = ctx.params
    rx = B.rx_fills(ctx, "ndc_antidepressant")
    prior = rx.alias("amm_prior")
    neg = ~exists().where(prior.c.person_id == rx.c.person_id, prior.c.fill_date < rx.c.fill_date,
                          prior.c.fill_date >= add_days(rx.c.fill_date, -p["negative_history_days"]))
    cand = (select(rx.c.person_id, func.min(rx.c.fill_date).label("ipsd"))
            .where(rx.c.fill_date.between(ctx.ymd(-1, 5, 1), ctx.ymd(0, 4, 30)), neg)
            .group_by(rx.c.person_id)).cte("amm_cand")
    dx = B.claim_dx(ctx)
    mdd = exists().where(dx.c.person_id == cand.c.person_id, B.in_vs(dx.c.code, ctx, "major_depression"),
                         dx.c.claim_start_date.between(add_days(cand.c.ipsd, -60), add_days(cand.c.ipsd, 60)))
    den = select(cand.c.person_id, (cand.c.person_id + literal("|") + B.datestr(cand.c.ipsd)).label("unit_id"),
                 cand.c.ipsd).where(mdd).cte("amm_den")
    isl = B.fill_intervals(ctx, rx, "amm_cov")
    parts = []
    for rate, win, need in (("acute", p["acute_window"], p["acute_days"]),
                            ("continuation", p["continuation_window"], p["continuation_days"])):
        cov = B.covered_days(isl, den, den.c.ipsd, add_days(den.c.ipsd, win), f"amm_{rate}")
        met = cov.c.covered >= need
        parts.append(select(*B.detail_row(den.c.unit_id, "treatment_episode", den.c.person_id, den.c.ipsd, rate, met,
                                          literal(None))).select_from(den.join(cov, cov.c.unit_id == den.c.unit_id)))
    return union_all(*parts)


def _pdc_rows(ctx, fills, rate_id, unit_type, name, excl=None, reason=None, min_fills=2, min_period=91):
    """PDC >= threshold from the first fill in MY to 31 Dec, for members with >= min_fills fill dates in MY."""
    my = select(fills).where(fills.c.fill_date.between(ctx.my_start, ctx.my_end)).cte(f"{name}_my")
    den = (select(my.c.person_id, my.c.person_id.label("unit_id"), func.min(my.c.fill_date).label("ipsd"))
           .group_by(my.c.person_id).having(func.count(func.distinct(my.c.fill_date)) >= min_fills)).cte(f"{name}_den")
    den = select(den).where(days_between(den.c.ipsd, ctx.my_end) + 1 >= min_period).cte(f"{name}_den2")
    isl = B.fill_intervals(ctx, my, f"{name}_cov", ctx.my_end)
    cov = B.covered_days(isl, den, den.c.ipsd, ctx.my_end, f"{name}_covered")
    pdc = cast(cov.c.covered, Float) / cast(days_between(den.c.ipsd, ctx.my_end) + 1, Float)
    met = pdc >= ctx.params.get("pdc_threshold", 0.8)
    ex = excl(den.c.person_id) if excl else None
    return select(*B.detail_row(den.c.unit_id, unit_type, den.c.person_id, ctx.my_end, rate_id, met, literal(None),
                                excluded=ex[0] if ex else None, exclusion_reason=ex[1] if ex else None)
                  ).select_from(den.join(cov, cov.c.unit_id == den.c.unit_id))


def build_saa(ctx):
    dx = B.claim_dx(ctx)
    ic = B.inpatient_claims(ctx)
    in_my = dx.c.claim_start_date.between(ctx.my_start, ctx.my_end)
    scz = B.in_vs(dx.c.code, ctx, "schizophrenia")
    ip = (select(dx.c.person_id).select_from(dx.join(ic, and_(ic.c.claim_id == dx.c.claim_id,
                                                               ic.c.data_source == dx.c.data_source)))
          .where(scz, in_my, ic.c.acute == 1))
    op = (select(dx.c.person_id).where(scz, in_my).group_by(dx.c.person_id)
          .having(func.count(func.distinct(dx.c.claim_start_date)) >= 2))
    pop = union_all(ip, op).cte("saa_pop")
    rx = B.rx_fills(ctx, "ndc_antipsychotic")
    sv = B.services(ctx)
    lai = select(sv.c.person_id, sv.c.claim_id, sv.c.service_date.label("fill_date"),
                 literal(ctx.params["lai_days"]).label("days_supply"), literal(1).label("quantity"),
                 sv.c.hcpcs.label("ndc")).where(B.in_vs(sv.c.hcpcs, ctx, "antipsychotic_lai_hcpcs"))
    fills = union_all(select(rx), lai).cte("saa_fills")
    fills_pop = select(fills).where(exists().where(pop.c.person_id == fills.c.person_id)).cte("saa_fills_pop")
    dem = B.persons_with_dx(ctx, "dementia", 0, 0)
    return _pdc_rows(ctx, fills_pop, "adherent", "member", "saa",
                     excl=lambda pc: (B.in_set(pc, dem), B.case((B.in_set(pc, dem), "dementia"), else_=None)),
                     min_period=1)


def _pdc_build(vs, rate_id, name, esrd=False, insulin=False):
    def build(ctx):
        fills = B.rx_fills(ctx, vs)
        excl = None
        if esrd or insulin:
            e = B.persons_with_dx(ctx, "esrd", 0, 0)
            ins = B.rx_fills(ctx, "ndc_insulin") if insulin else None

            def excl(pc):
                conds, whens = [], []
                if esrd:
                    conds.append(B.in_set(pc, e))
                    whens.append((B.in_set(pc, e), "ESRD"))
                if insulin:
                    c = exists().where(ins.c.person_id == pc, ins.c.fill_date.between(ctx.my_start, ctx.my_end))
                    conds.append(c)
                    whens.append((c, "insulin"))
                return or_(*conds), B.case(*whens, else_=None)
        return _pdc_rows(ctx, fills, rate_id, "member", name, excl=excl)
    return build


_RX_CARD = dict(exclusions="Hospice in MY.", enrollment="None beyond enrollment in MY.")

OHD = MeasureDefinition(
    id="OHD-AD", title="Use of Opioids at High Dosage in Persons Without Cancer", steward="PQA",
    core_sets=ADULT_THROUGH_2025,
    measurement_period="Calendar measurement year", unit="member", rates=(Rate("high_dosage", "proportion"),),
    build=build_ohd, min_age=18, age_bands=((18, 64, "18-64"), (65, None, "65+")),
    enrollment=EnrollmentRule((CEWindow("year", 0, max_gaps=1, max_gap_days=31),), "MY with <= 1 gap of <= 31 days"),
    standard_exclusions=("hospice", "palliative"),
    value_sets=("ndc_opioid", "cancer", "sickle_cell", "palliative_care"), params=dict(mme_threshold=90),
    card=dict(measures="Share of adults with >= 2 opioid fills (>= 15 days supply) whose average daily dose over the "
                       "opioid treatment period was >= 90 MME.",
              denominator="Members with >= 2 opioid fills on different dates in MY totalling >= 15 days supply; age "
                          ">= 18 on 31 Dec.",
              numerator="Sum over fills of quantity x strength x CDC MME factor (pro-rated to supply inside MY) / days "
                        "from the first fill to the last day of supply (capped at 31 Dec) >= 90.",
              exclusions="Cancer or sickle-cell dx in MY; hospice; palliative care.",
              enrollment="MY with <= 1 gap of <= 31 days [K]."),
    deviations=("MME from the small shipped NDC table (measures/reference/ndc_drugs.csv); fills of opioid NDCs without "
                "a row there contribute 0 MME.", "Buprenorphine is not an opioid for this measure."),
)

COB = MeasureDefinition(
    id="COB-AD", title="Concurrent Use of Opioids and Benzodiazepines", steward="PQA", core_sets=ADULT,
    measurement_period="Calendar measurement year", unit="member", rates=(Rate("concurrent", "proportion"),),
    build=build_cob, min_age=18, age_bands=((18, 64, "18-64"), (65, None, "65+")),
    enrollment=EnrollmentRule((CEWindow("year", 0, max_gaps=1, max_gap_days=31),), "MY with <= 1 gap of <= 31 days"),
    standard_exclusions=("hospice", "palliative"),
    value_sets=("ndc_opioid", "ndc_benzodiazepine", "cancer", "sickle_cell", "palliative_care"),
    params=dict(overlap_days=30),
    card=dict(measures="Share of adults on opioids with concurrent benzodiazepine use for >= 30 cumulative days.",
              denominator="As OHD-AD.",
              numerator=">= 2 benzodiazepine fills on different dates in MY and >= 30 days on which opioid and "
                        "benzodiazepine supply overlap (days covered by both; overlapping fills of one class are "
                        "merged, supply capped at 31 Dec).",
              exclusions="Cancer, sickle cell, hospice, palliative care.", enrollment="MY with <= 1 gap of <= 31 days."),
    deviations=("Overlapping fills of the same class are unioned, not shifted forward (PQA shifts early refills).",),
)

AMM = MeasureDefinition(
    id="AMM-AD", title="Antidepressant Medication Management", steward="NCQA",
    core_sets=ADULT_THROUGH_2025,
    lookback_years=1,
    measurement_period="Intake 1 May prior year - 30 Apr MY", unit="event",
    rates=(Rate("acute", "proportion", "Effective acute phase (84 days)"),
           Rate("continuation", "proportion", "Effective continuation phase (180 days)")),
    build=build_amm, min_age=18, age_bands=((18, 64, "18-64"), (65, None, "65+")),
    enrollment=EnrollmentRule((CEWindow("anchor", -105, 231, max_gaps=1, max_gap_days=45),),
                              "105 days before the IPSD through 231 days after, <= 1 gap of <= 45 days"),
    standard_exclusions=("hospice", "death"), value_sets=("ndc_antidepressant", "major_depression"),
    params=dict(negative_history_days=105, acute_window=114, acute_days=84, continuation_window=231,
                continuation_days=180),
    card=dict(measures="Share of adults newly treated for major depression who stayed on antidepressants 84 days "
                       "(acute) and 180 days (continuation).",
              denominator="Earliest antidepressant fill 1 May prior year - 30 Apr MY with no fill in the 105 days "
                          "before (IPSD), and a major depression dx 60 days before to 60 days after; age >= 18 on the IPSD "
                          "[K: 'as of the IPSD' per a health plan's HEDIS MY2023 summary (horizonblue.com); earlier "
                          "HEDIS years used 30 April of MY].",
              numerator="Days covered (merged supply) in IPSD..IPSD+114 >= 84; IPSD..IPSD+231 >= 180.",
              exclusions="Hospice, death.", enrollment="IPSD-105 .. IPSD+231, <= 1 gap of <= 45 days."),
    deviations=("MDD diagnosis from any claim setting.",),
)

SAA = MeasureDefinition(
    id="SAA-AD", title="Adherence to Antipsychotic Medications for Individuals with Schizophrenia", steward="CMS",
    core_sets=ADULT, measurement_period="Calendar measurement year", unit="member",
    rates=(Rate("adherent", "proportion"),), build=build_saa, min_age=18, age_on=(1, 1),
    age_bands=((18, 64, "18-64"), (65, None, "65+")),
    enrollment=EnrollmentRule((CEWindow("year", 0, max_gaps=1, max_gap_days=45),), "MY with <= 1 gap of <= 45 days"),
    standard_exclusions=("hospice", "death", "ltc66"),
    value_sets=("schizophrenia", "ndc_antipsychotic", "antipsychotic_lai_hcpcs", "dementia", "acute_inpatient_tob",
                "nonacute_inpatient_tob", "nonacute_rev"), params=dict(lai_days=28),
    card=dict(measures="Share of adults with schizophrenia/schizoaffective disorder with PDC >= 0.8 for "
                       "antipsychotics.",
              denominator="Age >= 18 on 1 January of MY [K]; F20/F25 dx on >= 1 acute inpatient claim or >= 2 "
                          "dates in MY, and >= 2 antipsychotic dispensing events (NDC, or long-acting injection HCPCS counted as 28 days).",
              numerator="Proportion of days covered from the first dispensing in MY to 31 Dec >= 0.8.",
              exclusions="Dementia, hospice, death, 66+ institutional LTC.", enrollment="MY, <= 1 gap of <= 45 days."),
    deviations=("The shipped antipsychotic NDC list holds named products only (public FDA NDC numbers); load the "
                "HEDIS Medication List Directory for production. Without any list the measure reports "
                "'not computable'.", "LAI days supply is a flat 28 days."),
)

PDC_STA = MeasureDefinition(
    id="PDC-STA", title="Proportion of Days Covered: Statins", steward="PQA", core_sets=PQA,
    measurement_period="Calendar measurement year", unit="member", rates=(Rate("adherent", "proportion"),),
    build=_pdc_build("ndc_statin", "adherent", "pdc_sta"), min_age=18, age_on=(1, 1), age_bands=((18, 64, "18-64"), (65, None, "65+")),
    standard_exclusions=("hospice",), value_sets=("ndc_statin",), params=dict(pdc_threshold=0.8),
    card=dict(measures="Share of adults on statins with PDC >= 80%.",
              denominator="Age >= 18 on 1 January of MY; >= 2 statin fills on different dates in MY; the first "
                          "fill in MY on or before 2 October (treatment period from the first fill through 31 Dec, "
                          "counting both days, >= 91 days).",
              numerator="Days covered (merged supply, capped at 31 Dec) / days from first fill to 31 Dec >= 0.8.",
              **_RX_CARD),
    deviations=("Early refills are unioned, not shifted.",),
)
PDC_RASA = MeasureDefinition(
    id="PDC-RASA", title="Proportion of Days Covered: Renin Angiotensin System Antagonists", steward="PQA",
    core_sets=PQA, measurement_period="Calendar measurement year", unit="member",
    rates=(Rate("adherent", "proportion"),), build=_pdc_build("ndc_ras_antagonist", "adherent", "pdc_rasa", esrd=True),
    min_age=18, age_on=(1, 1), age_bands=((18, 64, "18-64"), (65, None, "65+")), standard_exclusions=("hospice",),
    value_sets=("ndc_ras_antagonist", "esrd"), params=dict(pdc_threshold=0.8),
    card=dict(measures="Share of adults on RAS antagonists with PDC >= 80%.", denominator="As PDC-STA for RASA.",
              numerator="As PDC-STA.", exclusions="Hospice, ESRD.", enrollment="None beyond enrollment in MY."),
    deviations=("Sacubitril/valsartan exclusion needs an NDC list that is not shipped.",),
)
PDC_DR = MeasureDefinition(
    id="PDC-DR", title="Proportion of Days Covered: Diabetes All Class", steward="PQA", core_sets=PQA,
    measurement_period="Calendar measurement year", unit="member", rates=(Rate("adherent", "proportion"),),
    build=_pdc_build("ndc_diabetes_noninsulin", "adherent", "pdc_dr", esrd=True, insulin=True), min_age=18,
    age_on=(1, 1), age_bands=((18, 64, "18-64"), (65, None, "65+")), standard_exclusions=("hospice",),
    value_sets=("ndc_diabetes_noninsulin", "ndc_insulin", "esrd"), params=dict(pdc_threshold=0.8),
    card=dict(measures="Share of adults on non-insulin diabetes medication with PDC >= 80%.",
              denominator="As PDC-STA for non-insulin diabetes drugs.", numerator="As PDC-STA.",
              exclusions="Hospice, ESRD, any insulin fill in MY.", enrollment="None beyond enrollment in MY."),
    deviations=("The insulin exclusion uses the shipped insulin NDCs (named products only; load the PQA list for "
                "production); without any insulin list the measure reports 'not computable'.",),
)

MEASURES = [OHD, COB, AMM, SAA, PDC_STA, PDC_RASA, PDC_DR]
