"""Per-member-month utilization measures: IU-HH, AMB-HH, AIF-HH, PQI92-HH and Adult PQI01/05/08/15."""
from __future__ import annotations

from sqlalchemy import and_, exists, func, literal, or_, select

from measures import blocks as B
from measures.definition import MeasureDefinition, Rate
from measures.defs.common import ADULT, HH_2024, HH
from measures.sqlfuncs import add_days, age_at


# --- IU-HH ------------------------------------------------------------------------------------------------------

def build_iu(ctx):
    s = B.stays(ctx, 1)
    newborn = or_(B.isin(s.c.last_pdx, ctx.codes("newborn")), B.isin(s.c.first_pdx, ctx.codes("newborn")),
                  B.isin(s.c.last_drg, ctx.codes("newborn_drg")))
    mh = B.flag(or_(B.isin(s.c.last_drg, ctx.codes("mh_drg")), B.isin(s.c.last_pdx, ctx.codes("mental_health_any"))))
    ev = (select(s.c.person_id, s.c.discharge_date.label("event_date"), s.c.last_claim_id.label("claim_id"),
                 s.c.first_payer.label("payer"), s.c.los.label("days"), mh.label("mh_discharges"), (s.c.los * mh).label("mh_days"))
          .where(~newborn)).cte("iu_events")
    return B.member_month_rows(ctx, ev, {
        "total_discharges": (None, "mm"), "total_days": ("days", "mm"), "total_alos": ("days", None),
        "mh_discharges": ("mh_discharges", "mm"), "mh_days": ("mh_days", "mm"), "mh_alos": ("mh_days", "mh_discharges"),
    }, name="iu")


IU = MeasureDefinition(
    id="IU-HH", title="Inpatient Utilization", steward="CMS", core_sets=HH,
    measurement_period="Discharges in the calendar measurement year", unit="member_month",
    rates=(Rate("total_discharges", "per_1000_mm"), Rate("total_days", "per_1000_mm"), Rate("total_alos", "alos"),
           Rate("mh_discharges", "per_1000_mm"), Rate("mh_days", "per_1000_mm"), Rate("mh_alos", "alos")),
    build=build_iu, provides_strata=True, age_bands=((0, 17, "0-17"), (18, 64, "18-64"), (65, None, "65+")),
    report_unknown_age=True,
    value_sets=("newborn", "newborn_drg", "mh_drg", "mental_health_any", "acute_inpatient_tob",
                "nonacute_inpatient_tob", "nonacute_rev"),
    card=dict(
        measures="Acute inpatient discharges and days per 1,000 enrollee months and ALOS, total and for mental and "
                 "behavioral disorders.",
        denominator="Enrollee months in MY (one per person-month); for ALOS, discharges.",
        numerator="Acute inpatient stays (TOB 11x, transfers merged) discharged in MY, excluding newborn/well-baby "
                  "(Z38 principal dx or MS-DRG 789-795); days = discharge - admission (min 1). Mental/behavioral: "
                  "MS-DRG 876, 880-887, 894-897 or principal dx in ICD-10-CM chapter F.",
        exclusions="None.", enrollment="None (per enrollee month); a discharge counts in the member month it occurs.",
        strata="Age band by age at the start of the member month; an 'unknown' age row (no birth date) is always "
               "reported; payer = the payer of the stay's admission claim."),
    deviations=("Discharges in months without enrollment are not counted.",
                "Age band by age at the start of each member month."),
)


# --- AMB-HH ------------------------------------------------------------------------------------------------------

def build_amb(ctx):
    e = B.ed_visits_all(ctx)
    adm = B.any_inpatient_admissions(ctx)
    # HEDIS: ED visits that result in an inpatient stay of any kind (acute or nonacute) are not counted
    admitted = exists().where(adm.c.person_id == e.c.person_id,
                              adm.c.admit_date.between(e.c.visit_date, add_days(e.c.visit_date, 1)))
    # psychiatry excludes the visit when it is billed on an ED claim of that visit (the ED visit's own services);
    # psychiatry on another claim the same day is a separate service and does not remove the ED visit
    ec, L = B.ed_claims(ctx), B.L
    psych = exists().where(ec.c.person_id == e.c.person_id, ec.c.visit_date == e.c.visit_date,
                           L.c.claim_id == ec.c.claim_id, L.c.data_source == ec.c.data_source,
                           B.in_vs(func.upper(L.c.hcpcs_code), ctx, "psychiatry"))
    ev = (select(e.c.person_id, e.c.visit_date.label("event_date"), e.c.claim_id)
          .where(~admitted, e.c.mh_cd_pdx == 0, ~psych)).cte("amb_events")
    return B.member_month_rows(ctx, ev, {"ed_visits": (None, "mm")}, name="amb")


AMB = MeasureDefinition(
    id="AMB-HH", title="Ambulatory Care: Emergency Department (ED) Visits", steward="NCQA", core_sets=HH_2024,
    measurement_period="Calendar measurement year", unit="member_month", rates=(Rate("ed_visits", "per_1000_mm"),),
    build=build_amb, provides_strata=True,
    age_bands=((0, 0, "<1"), (1, 9, "1-9"), (10, 19, "10-19"), (20, 44, "20-44"), (45, 64, "45-64"),
               (65, 74, "65-74"), (75, 84, "75-84"), (85, None, "85+")),
    value_sets=("ed_rev", "ed_visit_cpt", "psychiatry", "acute_inpatient_tob", "nonacute_inpatient_tob",
                "nonacute_rev"),
    card=dict(measures="ED visits per 1,000 enrollee months.",
              denominator="Enrollee months in MY.",
              numerator="ED visits (revenue 045x/0981 or CPT 99281-99285; one per person-date) in a month with "
                        "enrollment, not resulting in an inpatient stay of any kind (acute or nonacute admission the "
                        "same or the next day), without a chapter-F principal dx on an ED claim of the visit (mental "
                        "health and chemical dependency), and without psychiatry CPT 90785-90899 on an ED claim of "
                        "the visit (psychiatry billed on another claim the same day does not remove the visit).",
              exclusions="None.", enrollment="None."),
    deviations=("Mental health / chemical dependency exclusion by principal dx chapter F instead of the HEDIS value sets.",),
)


# --- AIF-HH ------------------------------------------------------------------------------------------------------

def build_aif(ctx):
    p = ctx.params
    H, L = B.H, B.L
    fac_line = exists().where(L.c.claim_id == H.c.claim_id, L.c.data_source == H.c.data_source,
                              B.in_vs(L.c.place_of_service_code, ctx, "facility_pos"))
    src = (select(H.c.claim_id, H.c.person_id,
                  func.coalesce(H.c.admission_date, H.c.claim_start_date).label("admit_date"),
                  func.coalesce(H.c.discharge_date, H.c.claim_end_date).label("discharge_date"))
           .where(or_(and_(H.c.claim_type == "institutional",
                           B.in_vs(B.tob2(H.c.bill_type_code), ctx, "facility_admission_tob")), fac_line))
           ).cte("aif_src")
    w3 = B._merge_islands(src, "aif")
    st = (select(w3.c.person_id, func.min(w3.c.admit_date).label("admit_date"),
                 func.max(w3.c.discharge_date).label("discharge_date"), func.min(w3.c.claim_id).label("claim_id"))
          .group_by(w3.c.person_id, w3.c.grp)).cte("aif_stays")
    from measures.sqlfuncs import days_between
    los = func.greatest(days_between(st.c.admit_date, st.c.discharge_date), 1)
    ev = select(st.c.person_id, st.c.admit_date.label("event_date"), st.c.claim_id,
                B.flag(los <= p["short_max"]).label("short"),
                B.flag(and_(los > p["short_max"], los <= p["medium_max"])).label("medium"),
                B.flag(los > p["medium_max"]).label("long")).cte("aif_events")
    return B.member_month_rows(ctx, ev, {"short_term": ("short", "mm"), "medium_term": ("medium", "mm"),
                                         "long_term": ("long", "mm")}, min_age=18, community_only=True, name="aif")


AIF = MeasureDefinition(
    id="AIF-HH", title="Admission to a Facility from the Community", steward="CMS", core_sets=HH,
    measurement_period="Admissions in the calendar measurement year", unit="member_month",
    rates=(Rate("short_term", "per_1000_mm", "1-20 days"), Rate("medium_term", "per_1000_mm", "21-100 days"),
           Rate("long_term", "per_1000_mm", ">= 101 days")),
    build=build_aif, provides_strata=True,
    age_bands=((18, 64, "18-64"), (65, 74, "65-74"), (75, 84, "75-84"), (85, None, "85+")),
    value_sets=("facility_admission_tob", "facility_pos"), params=dict(short_max=20, medium_max=100),
    card=dict(measures="Admissions to a nursing/skilled/ICF facility per 1,000 enrollee months among community "
                       "residents 18+, by length of stay: short 1-20, medium 21-100, long >= 101 days.",
              denominator="Enrollee months in MY at age >= 18 not flagged long-term institutional.",
              numerator="Facility stays (TOB 18x/21x/22x/65x/66x or POS 31/32/54; adjacent claims merged) admitted in "
                        "a community month of MY; length = discharge - admission (min 1), using claims after the "
                        "year end (look-forward) when present.",
              exclusions="None.", enrollment="None (per enrollee month)."),
    deviations=("'Residing in the community' is the member month's long_term_institutional_flag, not MDS data.",
                "A stay still open at the data end is classified by its length so far."),
)


# --- PQI ---------------------------------------------------------------------------------------------------------

PQI_SETS = {
    "01": ("pqi_01__diabetes_with_short-term_complications_diagnosis_codes",),
    "03": ("pqi_03__diabetes_with_long-term_complications_diagnosis_codes",),
    "05": ("pqi_05__chronic_obstructive_pulmonary_disorder", "pqi_05__asthma",
           "pqi_05__cystic_fibrosis_and_anomalies_of_the_respiratory_system"),
    "07": ("pqi_07__hypertension_diagnosis_codes", "pqi_07__exclusion_kidney_disease_diagnosis_codes",
           "pqi_07__exclusion_dialysis_access_procedure_codes"),
    "08": ("pqi_08__heart_failure_diagnosis_codes",),
    "14": ("pqi_14__uncontrolled_diabetes_diagnosis_codes",),
    "15": ("pqi_15__asthma_diagnosis_codes", "pqi_15__cystic_fibrosis_and_anomalies_of_the_respiratory_system_diagnosis_codes"),
    "16": ("pqi_16__diabetes_diagnosis_codes", "pqi_16__lower-extremity_amputation_procedure_codes",
           "pqi_16__traumatic_amputation_of_the_lower_extremity_diagnosis_codes"),
}
COMMON_SETS = ("pqi_appendix_b__cardiac_procedure_codes", "pqi_appendix_f__mdc_14_principal_diagnosis_codes",
               "acute_inpatient_tob", "nonacute_inpatient_tob", "nonacute_rev")
TRANSFER_SOURCES = ("4", "5", "6")


def _pqi_events(ctx, numbers, min_age, max_age):
    """Stays counted by AHRQ's PQI software (PQI_AREA_MEASURES.SAS, SAS QI v2024): the principal dx of the stay's
    first claim; age at admission (AHRQ's AGE) >= 18, PQI 05 >= 40, PQI 15 < 40; transfers in (point of origin
    4/5/6) removed from every PQI; the MDC 14 (pregnancy) exclusion only inside PQI 16 ('Exclude: MDC 14' under
    TAPQ16), so PQI 92 drops an MDC 14 stay only when it qualifies through PQI 16 alone."""
    s = B.stays(ctx, 1)
    sc = B.stay_claims(ctx, 1)
    dx, px = B.claim_dx(ctx), B.claim_px(ctx)
    P = B.P

    def stay_any_dx(vs):
        return exists().where(sc.c.person_id == s.c.person_id, sc.c.grp == s.c.grp, dx.c.claim_id == sc.c.claim_id,
                              dx.c.data_source == sc.c.data_source, B.in_vs(dx.c.code, ctx, vs))

    def stay_any_px(vs):
        return exists().where(sc.c.person_id == s.c.person_id, sc.c.grp == s.c.grp, px.c.claim_id == sc.c.claim_id,
                              px.c.data_source == sc.c.data_source, B.in_vs(px.c.code, ctx, vs))

    pdx = s.c.first_pdx
    age = age_at(P.c.birth_date, s.c.admit_date)
    cardiac = stay_any_px("pqi_appendix_b__cardiac_procedure_codes")
    mdc14 = B.in_vs(func.coalesce(pdx, ""), ctx, "pqi_appendix_f__mdc_14_principal_diagnosis_codes")
    conds = {
        "01": B.in_vs(pdx, ctx, PQI_SETS["01"][0]),
        "03": B.in_vs(pdx, ctx, PQI_SETS["03"][0]),
        "05": and_(age >= 40, or_(B.in_vs(pdx, ctx, PQI_SETS["05"][0]), B.in_vs(pdx, ctx, PQI_SETS["05"][1])),
                   ~stay_any_dx(PQI_SETS["05"][2])),
        "07": and_(B.in_vs(pdx, ctx, PQI_SETS["07"][0]), ~cardiac,
                   ~and_(stay_any_dx(PQI_SETS["07"][1]), stay_any_px(PQI_SETS["07"][2]))),
        "08": and_(B.in_vs(pdx, ctx, PQI_SETS["08"][0]), ~cardiac),
        "14": B.in_vs(pdx, ctx, PQI_SETS["14"][0]),
        "15": and_(age < 40, B.in_vs(pdx, ctx, PQI_SETS["15"][0]), ~stay_any_dx(PQI_SETS["15"][1])),
        "16": and_(stay_any_dx(PQI_SETS["16"][0]), stay_any_px(PQI_SETS["16"][1]), ~stay_any_dx(PQI_SETS["16"][2]),
                   ~mdc14),
    }
    base_ok = [age >= min_age, ~func.coalesce(s.c.first_admit_source, "").in_(TRANSFER_SOURCES)]
    if max_age is not None:
        base_ok.append(age <= max_age)
    if ctx.options.pqi_payer_scope == "medicaid_paid":
        mm = B.MM
        base_ok.append(exists().where(mm.c.person_id == s.c.person_id, mm.c.payer == s.c.first_payer,
                                      mm.c.payer_type == "medicaid"))
    return (select(s.c.person_id, s.c.discharge_date.label("event_date"), s.c.admit_date.label("attach_date"),
                   age.label("age"), s.c.first_payer.label("payer"), s.c.first_claim_id.label("claim_id"))
            .select_from(s.join(P, P.c.person_id == s.c.person_id))
            .where(*base_ok, or_(*[conds[n] for n in numbers]))).cte("pqi_events_" + "_".join(numbers))


def _pqi_build(numbers, min_age, max_age=None):
    def build(ctx):
        ev = _pqi_events(ctx, numbers, min_age, max_age)
        return B.member_month_rows(ctx, ev, {"admissions": (None, "mm")}, min_age=min_age, max_age=max_age,
                                   name="pqi")
    return build


def _pqi(mid, title, numbers, core_sets, min_age, max_age=None, bands=((18, 64, "18-64"), (65, None, "65+"))):
    sets = tuple(vs for n in numbers for vs in PQI_SETS[n]) + COMMON_SETS
    ages = f"{min_age}-{max_age}" if max_age else f"{min_age}+"
    mdc14 = ("MDC 14 (pregnancy) principal dx only inside PQI 16" if "16" in numbers else
             "no MDC 14 (pregnancy) exclusion (AHRQ applies it only to PQI 16)")
    return MeasureDefinition(
        id=mid, title=title, steward="AHRQ", core_sets=core_sets, measurement_period="Discharges in the calendar year",
        unit="member_month", rates=(Rate("admissions", "per_100000_mm", "Admissions per 100,000 enrollee months"),),
        build=_pqi_build(numbers, min_age, max_age), provides_strata=True, age_bands=bands, value_sets=sets,
        card=dict(measures=f"{title}: admissions per 100,000 enrollee months (AHRQ PQI {', '.join(numbers)}).",
                  denominator=f"Enrollee months of MY (one per person and month) at age {ages} on the first day of "
                              "the month.",
                  numerator=f"Acute inpatient stays discharged in MY with age {ages} on the admission date and the "
                            "PQI principal dx (first claim of the merged stay), AHRQ v2023 value sets; excludes "
                            "transfers in (point of origin 4/5/6) and each PQI's procedure/diagnosis exclusions "
                            "(cardiac procedures for 07/08, cystic fibrosis for 05/15, dialysis access with kidney "
                            f"disease for 07, traumatic amputation for 16); {mdc14}. A stay counts when the person "
                            "has a member month containing the admission date (enrolled when admitted), also when "
                            "the discharge falls after enrollment ends; it is stratified by the member month of the "
                            "admission, by the payer of its admission claim and by age at admission. Payer scope "
                            "(option pqi_payer_scope): all_payers (default) counts every stay of an enrollee, "
                            "including Medicare-paid stays of dual eligibles; medicaid_paid counts only stays whose "
                            "admission claim's payer is a Medicaid payer of the person.",
                  exclusions="See numerator.", enrollment="None (per enrollee month); enrolled on the admission date."),
        deviations=("Per enrollee month instead of AHRQ's population denominator (Core Set convention).",
                    "MDC 14 is identified by the principal dx (AHRQ appendix F list), not by the MS-DRG's MDC.",
                    "An admission in the month of the 18th (PQI 05: 40th) birthday counts in the numerator while "
                    "that month (age at its start below the limit) is not in the denominator."),
    )


PQI92 = _pqi("PQI92-HH", "PQI 92: Chronic Conditions Composite", ("01", "03", "05", "07", "08", "14", "15", "16"),
             HH_2024, 18)
PQI01 = _pqi("PQI01-AD", "PQI 01: Diabetes Short-Term Complications Admission Rate", ("01",), ADULT, 18)
PQI05 = _pqi("PQI05-AD", "PQI 05: COPD or Asthma in Older Adults Admission Rate", ("05",), ADULT, 40,
             bands=((40, 64, "40-64"), (65, None, "65+")))
PQI08 = _pqi("PQI08-AD", "PQI 08: Heart Failure Admission Rate", ("08",), ADULT, 18)
PQI15 = _pqi("PQI15-AD", "PQI 15: Asthma in Younger Adults Admission Rate", ("15",), ADULT, 18, 39,
             bands=((18, 39, "18-39"),))

MEASURES = [IU, AMB, AIF, PQI92, PQI01, PQI05, PQI08, PQI15]
