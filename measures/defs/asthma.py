"""AMR-CH / AMR-AD: Asthma Medication Ratio (HEDIS, administrative).

Medications: `ndc_asthma_controller` / `ndc_asthma_reliever` (public named products; the licensed HEDIS "Asthma
Controller Medications" / "Asthma Reliever Medications" lists replace them). The diagnosis value sets are the
user's licensed NCQA files: without them the measures report "not computable: missing value sets".

Specification as known [K: HEDIS MY2024 AMR as remembered, not re-read for issue 19]: members 5-64 on 31 Dec of MY
(Child Core Set 5-18, Adult 19-64) with persistent asthma in both MY and the year before - in a year: an ED visit
or an acute inpatient stay with a principal asthma diagnosis, or >= 4 outpatient visits with an asthma diagnosis and
>= 2 asthma medication dispensing events, or >= 4 asthma medication dispensing events; numerator: units of
controller medications / units of all asthma medications dispensed in MY >= 0.50; excluded: COPD, emphysema,
obstructive chronic bronchitis, chronic respiratory conditions due to fumes, cystic fibrosis or acute respiratory
failure any time through MY, no asthma medication dispensed in MY, hospice, death; enrollment MY and the year before,
<= 1 gap of <= 45 days each, enrolled on 31 Dec.
"""
from __future__ import annotations

from sqlalchemy import Float, and_, cast, func, literal, or_, select, union_all

from measures import blocks as B
from measures.definition import MeasureDefinition, Rate
from measures.defs.common import ADULT, CHILD, code_events
from measures.defs.prevention import CE_MY_PRIOR

EXCLUDING_DX = ("copd", "emphysema", "obstructive_chronic_bronchitis",
                "chronic_respiratory_conditions_due_to_fumes_or_vapors", "cystic_fibrosis", "acute_respiratory_failure")
MEDS = ("ndc_asthma_controller", "ndc_asthma_reliever")


def asthma_dispensings(ctx, year_off: int, name: str):
    """person_id, fill_date, claim_id, controller (1/0) of asthma medication fills in calendar year MY+year_off."""
    parts = []
    for vs, controller in (("ndc_asthma_controller", 1), ("ndc_asthma_reliever", 0)):
        rx = B.rx_fills(ctx, vs)
        parts.append(select(rx.c.person_id, rx.c.fill_date, rx.c.claim_id, literal(controller).label("controller"))
                     .where(rx.c.fill_date.between(ctx.ymd(year_off, 1, 1), ctx.ymd(year_off, 12, 31))))
    return union_all(*parts).cte(name)


def persistent_in_year(ctx, year_off: int):
    """Persons meeting the persistent-asthma event criteria in calendar year MY+year_off."""
    start, end = ctx.ymd(year_off, 1, 1), ctx.ymd(year_off, 12, 31)
    tag = f"amr_y{-year_off}"
    ed = B.ed_claims(ctx)
    ic = B.inpatient_claims(ctx)
    principal = union_all(
        select(ed.c.person_id).where(B.in_vs(ed.c.pdx, ctx, "asthma"), ed.c.visit_date.between(start, end)),
        select(ic.c.person_id).where(ic.c.acute == 1, B.in_vs(ic.c.pdx, ctx, "asthma"),
                                     ic.c.discharge_date.between(start, end))).cte(f"{tag}_principal")
    dx, H = B.claim_dx(ctx), B.H
    outpatient = ~B.isin(B.tob2(H.c.bill_type_code), ctx.codes("acute_inpatient_tob") + ctx.codes("nonacute_inpatient_tob"))
    visits = (select(dx.c.person_id, func.count(func.distinct(dx.c.claim_start_date)).label("n_visits"))
              .select_from(dx.join(H, and_(H.c.claim_id == dx.c.claim_id, H.c.data_source == dx.c.data_source)))
              .where(B.in_vs(dx.c.code, ctx, "asthma"), outpatient, dx.c.claim_start_date.between(start, end))
              .group_by(dx.c.person_id)).cte(f"{tag}_visits")
    disp = asthma_dispensings(ctx, year_off, f"{tag}_disp")
    n_disp = select(disp.c.person_id, func.count().label("n_disp")).group_by(disp.c.person_id).cte(f"{tag}_ndisp")
    by_counts = (select(n_disp.c.person_id)
                 .select_from(n_disp.outerjoin(visits, visits.c.person_id == n_disp.c.person_id))
                 .where(or_(n_disp.c.n_disp >= 4, and_(func.coalesce(visits.c.n_visits, 0) >= 4,
                                                       n_disp.c.n_disp >= 2))))
    return union_all(select(principal.c.person_id), by_counts).cte(f"{tag}_persistent")


def build_amr(ctx):
    this_year, last_year = persistent_in_year(ctx, 0), persistent_in_year(ctx, -1)
    units = (select(this_year.c.person_id, this_year.c.person_id.label("unit_id")).distinct()
             .where(B.in_set(this_year.c.person_id, last_year))).cte("amr_den")
    disp = asthma_dispensings(ctx, 0, "amr_disp_my")
    ratio = (select(disp.c.person_id, func.sum(disp.c.controller).label("controller"), func.count().label("total"),
                    func.max(B.case((disp.c.controller == 1, disp.c.claim_id), else_=None)).label("claim_id"))
             .group_by(disp.c.person_id)).cte("amr_ratio")
    met = func.coalesce(cast(ratio.c.controller, Float) / cast(ratio.c.total, Float) >= 0.5, False)
    excluding = code_events(ctx, "amr_excluding_dx", ctx.ymd(-60, 1, 1), ctx.my_end, *EXCLUDING_DX)
    no_meds = ratio.c.person_id.is_(None)
    is_excluding = B.in_set(units.c.person_id, excluding)
    return (select(*B.detail_row(units.c.unit_id, "member", units.c.person_id, ctx.my_end, "ratio_50", met,
                                 B.case((met, ratio.c.claim_id), else_=None), excluded=or_(is_excluding, no_meds),
                                 exclusion_reason=B.case((is_excluding, "COPD/emphysema/other respiratory condition"),
                                                         (no_meds, "no asthma medication dispensed in MY"),
                                                         else_=None)))
            .select_from(units.outerjoin(ratio, ratio.c.person_id == units.c.person_id)))


def _amr(suffix, core_sets, lo, hi, bands):
    return MeasureDefinition(
        id=f"AMR-{suffix}", title="Asthma Medication Ratio", steward="NCQA", core_sets=core_sets,
        measurement_period="Calendar measurement year (persistent asthma in MY and the year before)", unit="member",
        rates=(Rate("ratio_50", "proportion", "ratio of controller to total asthma medications >= 0.50"),),
        build=build_amr, min_age=lo, max_age=hi, age_bands=bands, enrollment=CE_MY_PRIOR, lookback_years=1,
        standard_exclusions=("hospice", "death"),
        value_sets=("asthma",) + EXCLUDING_DX + MEDS + ("acute_inpatient_tob", "nonacute_inpatient_tob"),
        card=dict(measures=f"Share of members {lo}-{hi} with persistent asthma whose controller medications were "
                           ">= 50% of their asthma medications dispensed in MY.",
                  denominator="Persistent asthma in both MY and the year before; in a year: an ED visit (ED claim "
                              "principal dx) or acute inpatient stay (principal dx, discharged in the year) for "
                              "Asthma, or >= 4 asthma medication fills, or >= 2 fills and Asthma diagnoses on >= 4 "
                              f"distinct outpatient (non-inpatient) claim dates. Age {lo}-{hi} on 31 Dec.",
                  numerator="Controller fills / all asthma medication fills (controller + reliever) in MY >= 0.50.",
                  exclusions="COPD, Emphysema, Obstructive Chronic Bronchitis, Chronic Respiratory Conditions Due to "
                             "Fumes or Vapors, Cystic Fibrosis or Acute Respiratory Failure code any time through MY; "
                             "no asthma medication fill in MY; hospice, death in MY.",
                  enrollment=CE_MY_PRIOR.description),
        deviations=("The diagnosis value sets are the user's licensed NCQA files; the shipped asthma medication NDC "
                    "lists hold named products only.",
                    "Every fill is one medication unit (HEDIS: inhaler canisters, 30-day oral units and injections "
                    "are counted as units).",
                    "Leukotriene-modifier / antibody-only dispensing needing an asthma diagnosis in the same year is "
                    "not distinguished.",
                    "Specification details are [K] (HEDIS MY2024 as known), not re-read against the FFY manual."),
    )


MEASURES = [_amr("CH", CHILD, 5, 18, ((5, 11, "5-11"), (12, 18, "12-18"))),
            _amr("AD", ADULT, 19, 64, ((19, 50, "19-50"), (51, 64, "51-64")))]
