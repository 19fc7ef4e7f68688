"""APM-CH: Metabolic Monitoring for Children and Adolescents on Antipsychotics, APP-CH: Use of First-Line
Psychosocial Care for Children and Adolescents on Antipsychotics, SSD-AD: Diabetes Screening for People with
Schizophrenia or Bipolar Disorder Who Are Using Antipsychotic Medications (HEDIS, administrative).

Antipsychotic dispensing: pharmacy fills of `ndc_antipsychotic` (public named products; the licensed HEDIS
"Antipsychotic Medications" list replaces it) or an `antipsychotic_lai_hcpcs` injection on a claim line. The lab,
psychosocial-care and diagnosis value sets they need beyond the shipped ones are the user's licensed NCQA files:
without them the measures report "not computable: missing value sets".

Specification as known [K: HEDIS MY2024 APM/APP/SSD as remembered, not re-read for issue 19]:
  * APM: ages 1-17 on 31 Dec with >= 2 antipsychotic dispensing events in MY; rates: blood glucose or HbA1c test,
    LDL-C or cholesterol test, both, in MY; enrollment MY (<= 1 gap of <= 45 days), enrolled on 31 Dec.
  * APP: ages 1-17 on 31 Dec with a new antipsychotic (first dispensing 1 Jan - 1 Dec of MY, none in the 120 days
    before); numerator: psychosocial care 90 days before through 30 days after that date; enrollment 120 days
    before through 30 days after, no gap; excluded: a diagnosis of schizophrenia, bipolar or other psychotic
    disorder, autism or another developmental disorder in MY.
  * SSD: ages 18-64 on 31 Dec with schizophrenia, schizoaffective or bipolar disorder (>= 1 acute inpatient claim,
    or claims on >= 2 dates, with the diagnosis in MY) dispensed an antipsychotic in MY; numerator: a glucose or
    HbA1c test in MY; excluded: diabetes (a diagnosis on an inpatient claim or on >= 2 dates, or a diabetes
    medication, in MY or the year before); enrollment MY (<= 1 gap of <= 45 days), enrolled on 31 Dec.
"""
from __future__ import annotations

from sqlalchemy import and_, exists, func, literal, or_, select, union_all

from measures import blocks as B
from measures.definition import CEWindow, EnrollmentRule, MeasureDefinition, Rate
from measures.defs.common import ADULT, CHILD, code_events, rates_from_matches, visit_within
from measures.defs.prevention import CE_MY
from measures.sqlfuncs import add_days

NOT_RE_READ = "Specification details are [K] (HEDIS MY2024 as known), not re-read against the FFY manual."
DISPENSING = ("ndc_antipsychotic", "antipsychotic_lai_hcpcs")
CHILD_BANDS = ((1, 11, "1-11"), (12, 17, "12-17"))


def antipsychotic_dispensings(ctx, start, end, name):
    """person_id, event_date, claim_id of antipsychotic fills and long-acting injections in [start, end]."""
    rx, sv = B.rx_fills(ctx, "ndc_antipsychotic"), B.services(ctx)
    return union_all(
        select(rx.c.person_id, rx.c.fill_date.label("event_date"), rx.c.claim_id)
        .where(rx.c.fill_date.between(start, end)),
        select(sv.c.person_id, sv.c.service_date, sv.c.claim_id)
        .where(B.in_vs(sv.c.hcpcs, ctx, "antipsychotic_lai_hcpcs"), sv.c.service_date.between(start, end))).cte(name)


def _first_in(units, events, name):
    return B.first_match(units, events, events.c.person_id == units.c.person_id,
                         (events.c.event_date, events.c.claim_id), name, extra_cols=(events.c.claim_id,))


def build_apm(ctx):
    disp = antipsychotic_dispensings(ctx, ctx.my_start, ctx.my_end, "apm_dispensing")
    units = (select(disp.c.person_id, disp.c.person_id.label("unit_id")).group_by(disp.c.person_id)
             .having(func.count(func.distinct(disp.c.event_date)) >= 2)).cte("apm_den")
    glucose = _first_in(units, code_events(ctx, "apm_glucose_tests", ctx.my_start, ctx.my_end, "glucose_lab_test",
                                           "hba1c_lab_test"), "apm_glucose")
    lipid = _first_in(units, code_events(ctx, "apm_lipid_tests", ctx.my_start, ctx.my_end, "ldl_c_lab_test",
                                         "cholesterol_lab_test"), "apm_lipid")
    parts = [rates_from_matches(units, units.c.unit_id, units.c.person_id, ctx.my_end, "member",
                                {"blood_glucose": glucose, "cholesterol": lipid})]
    both = and_(glucose.c.unit_id.is_not(None), lipid.c.unit_id.is_not(None))
    parts.append(select(*B.detail_row(units.c.unit_id, "member", units.c.person_id, ctx.my_end,
                                      "glucose_and_cholesterol", both, B.case((both, lipid.c.claim_id), else_=None)))
                 .select_from(units.outerjoin(glucose, glucose.c.unit_id == units.c.unit_id)
                              .outerjoin(lipid, lipid.c.unit_id == units.c.unit_id)))
    return union_all(*parts)


APP_EXCLUDING_DX = ("schizophrenia", "bipolar_disorder", "other_bipolar_disorder", "other_psychotic_disorders",
                    "autism", "other_developmental_disorders")


def build_app(ctx):
    disp = antipsychotic_dispensings(ctx, ctx.ymd(-1, 1, 1), ctx.my_end, "app_dispensing")
    prior = disp.alias("app_prior")
    new = ~exists().where(prior.c.person_id == disp.c.person_id, prior.c.event_date < disp.c.event_date,
                          prior.c.event_date >= add_days(disp.c.event_date, -120))
    ipsd = (select(disp.c.person_id, func.min(disp.c.event_date).label("ipsd"))
            .where(disp.c.event_date.between(ctx.my_start, ctx.ymd(0, 12, 1)), new)
            .group_by(disp.c.person_id)).cte("app_ipsd")
    units = select(ipsd, (ipsd.c.person_id + literal("|") + B.datestr(ipsd.c.ipsd)).label("unit_id")).cte("app_den")
    care = code_events(ctx, "app_psychosocial", ctx.ymd(-1, 1, 1), ctx.my_end, "psychosocial_care")
    fm = visit_within(units, care, units.c.ipsd, care.c.event_date, -90, 30, literal(True), "app_num")
    dx_excl = code_events(ctx, "app_excluding_dx", ctx.my_start, ctx.my_end, *APP_EXCLUDING_DX)
    excluded = B.in_set(units.c.person_id, dx_excl)
    return rates_from_matches(units, units.c.unit_id, units.c.person_id, units.c.ipsd, "event",
                              {"psychosocial_care": fm}, excluded=excluded,
                              reason=B.case((excluded, "psychotic/bipolar/developmental dx in MY"), else_=None))


def _dx_on_inpatient_or_two_dates(ctx, value_sets, start_off: int, name: str):
    """Persons with a diagnosis of the value sets on an acute inpatient claim, or on claims of >= 2 dates, dated
    1 Jan MY+start_off - 31 Dec MY."""
    dx, H = B.claim_dx(ctx), B.H
    inpatient = B.in_vs(B.tob2(H.c.bill_type_code), ctx, "acute_inpatient_tob")
    return (select(dx.c.person_id).select_from(dx.join(H, and_(H.c.claim_id == dx.c.claim_id,
                                                                H.c.data_source == dx.c.data_source)))
            .where(B.in_vs(dx.c.code, ctx, *value_sets), dx.c.claim_start_date.between(ctx.ymd(start_off, 1, 1),
                                                                                        ctx.my_end))
            .group_by(dx.c.person_id)
            .having(or_(func.max(B.flag(inpatient)) == 1, func.count(func.distinct(dx.c.claim_start_date)) >= 2))
            ).cte(name)


def build_ssd(ctx):
    smi = _dx_on_inpatient_or_two_dates(ctx, ("schizophrenia", "bipolar_disorder", "other_bipolar_disorder"), 0,
                                        "ssd_smi")
    disp = antipsychotic_dispensings(ctx, ctx.my_start, ctx.my_end, "ssd_dispensing")
    units = (select(smi.c.person_id, smi.c.person_id.label("unit_id"))
             .where(B.in_set(smi.c.person_id, disp))).cte("ssd_den")
    test = _first_in(units, code_events(ctx, "ssd_tests", ctx.my_start, ctx.my_end, "glucose_lab_test",
                                        "hba1c_lab_test"), "ssd_num")
    diabetes_dx = _dx_on_inpatient_or_two_dates(ctx, ("diabetes",), -1, "ssd_diabetes_dx")
    meds = union_all(*[select(f.c.person_id).where(f.c.fill_date.between(ctx.ymd(-1, 1, 1), ctx.my_end))
                       for f in (B.rx_fills(ctx, "ndc_insulin"), B.rx_fills(ctx, "ndc_diabetes_noninsulin"))]
                     ).cte("ssd_diabetes_meds")
    excluded = or_(B.in_set(units.c.person_id, diabetes_dx), B.in_set(units.c.person_id, meds))
    return rates_from_matches(units, units.c.unit_id, units.c.person_id, ctx.my_end, "member", {"screened": test},
                              excluded=excluded, reason=B.case((excluded, "diabetes"), else_=None))


CE_APP = EnrollmentRule((CEWindow("anchor", -120, 30),), "120 days before the IPSD through 30 days after, no gap")

APM = MeasureDefinition(
    id="APM-CH", title="Metabolic Monitoring for Children and Adolescents on Antipsychotics", steward="NCQA",
    core_sets=CHILD, measurement_period="Calendar measurement year", unit="member",
    rates=(Rate("blood_glucose", "proportion"), Rate("cholesterol", "proportion"),
           Rate("glucose_and_cholesterol", "proportion")),
    build=build_apm, min_age=1, max_age=17, age_bands=CHILD_BANDS, enrollment=CE_MY,
    standard_exclusions=("hospice", "death"),
    value_sets=DISPENSING + ("glucose_lab_test", "hba1c_lab_test", "ldl_c_lab_test", "cholesterol_lab_test"),
    card=dict(measures="Share of children 1-17 with >= 2 antipsychotic dispensings in MY who had blood glucose "
                       "and cholesterol testing in MY.",
              denominator="Members with antipsychotic fills or long-acting injections on >= 2 distinct dates in "
                          "MY; age 1-17 on 31 Dec.",
              numerator="blood_glucose: a Glucose Lab Test or HbA1c Lab Test code in MY; cholesterol: an LDL-C Lab "
                        "Test or Cholesterol Lab Test code in MY; glucose_and_cholesterol: both.",
              exclusions="Hospice in MY; death in MY.", enrollment=CE_MY.description),
    deviations=("Lab value sets are the user's licensed NCQA files (names: Glucose Lab Test, HbA1c Lab Test, LDL C "
                "Lab Test, Cholesterol Lab Test); the shipped antipsychotic NDC list holds named products only.",
                "LOINC-coded results are not read (claims only).", NOT_RE_READ),
)

APP = MeasureDefinition(
    id="APP-CH", title="Use of First-Line Psychosocial Care for Children and Adolescents on Antipsychotics",
    steward="NCQA", core_sets=CHILD, measurement_period="First new antipsychotic 1 Jan - 1 Dec of the measurement year",
    unit="event", rates=(Rate("psychosocial_care", "proportion"),), build=build_app, min_age=1, max_age=17,
    age_on=(12, 31), age_bands=CHILD_BANDS, enrollment=CE_APP, standard_exclusions=("hospice", "death"),
    lookback_years=1, value_sets=DISPENSING + ("psychosocial_care",) + APP_EXCLUDING_DX,
    card=dict(measures="Share of children 1-17 with a new antipsychotic prescription who had psychosocial care as "
                       "first-line treatment.",
              denominator="Each member's first antipsychotic dispensing (fill or long-acting injection) dated "
                          "1 Jan-1 Dec of MY with none in the 120 days before (IPSD); age 1-17 on 31 Dec.",
              numerator="A Psychosocial Care code from 90 days before through 30 days after the IPSD (inclusive).",
              exclusions="A Schizophrenia, Bipolar Disorder, Other Bipolar Disorder, Other Psychotic Disorders, "
                         "Autism or Other Developmental Disorders code in MY; hospice, death in MY.",
              enrollment=CE_APP.description),
    deviations=("Psychosocial care and the diagnosis value sets are the user's licensed NCQA files; the shipped "
                "antipsychotic NDC list holds named products only (a new prescription of a drug it lacks is "
                "missed).",
                "The diagnosis exclusion takes one claim with the diagnosis (HEDIS: one acute inpatient encounter "
                "or two visits).", NOT_RE_READ),
)

SSD = MeasureDefinition(
    id="SSD-AD", title="Diabetes Screening for People with Schizophrenia or Bipolar Disorder Who Are Using "
                       "Antipsychotic Medications", steward="NCQA", core_sets=ADULT,
    measurement_period="Calendar measurement year", unit="member", rates=(Rate("screened", "proportion"),),
    build=build_ssd, min_age=18, max_age=64, age_bands=((18, 64, "18-64"),), enrollment=CE_MY, lookback_years=1,
    standard_exclusions=("hospice", "death", "palliative"),
    value_sets=DISPENSING + ("schizophrenia", "bipolar_disorder", "other_bipolar_disorder", "glucose_lab_test",
                             "hba1c_lab_test", "diabetes", "ndc_insulin", "ndc_diabetes_noninsulin",
                             "acute_inpatient_tob", "palliative_care"),
    card=dict(measures="Share of members 18-64 with schizophrenia, schizoaffective or bipolar disorder dispensed an "
                       "antipsychotic who had a diabetes screening test in MY.",
              denominator="Schizophrenia, Bipolar Disorder or Other Bipolar Disorder diagnosis on an acute "
                          "inpatient claim (TOB 11x) or on claims of >= 2 distinct dates in MY, and an "
                          "antipsychotic fill or long-acting injection in MY; age 18-64 on 31 Dec.",
              numerator="A Glucose Lab Test or HbA1c Lab Test code in MY.",
              exclusions="Diabetes: a diabetes diagnosis on an acute inpatient claim or on >= 2 dates, or an "
                         "insulin or other diabetes medication fill, in MY or the year before; hospice, death, "
                         "palliative care in MY.", enrollment=CE_MY.description),
    deviations=("Lab and bipolar value sets are the user's licensed NCQA files; schizophrenia, diabetes and the "
                "medication lists ship as public approximations (a licensed list replaces each).",
                "The setting of the two diagnosis dates (outpatient, ED, nonacute inpatient ...) is not checked.",
                NOT_RE_READ),
)

MEASURES = [APM, APP, SSD]
