"""FUH-HH, FUM-HH, FUA-HH: follow-up after hospitalization / ED visit."""
from __future__ import annotations

from sqlalchemy import and_, exists, func, literal, or_, select

from measures import blocks as B
from measures.definition import MeasureDefinition, Rate
from measures.defs.common import BANDS_13, BANDS_6, CE_30_AFTER, HH, rates_from_matches, visit_within
from measures.sqlfuncs import add_days


def _readmitted_within(ctx, person_col, date_col, days: int, same_day_counts: bool):
    """Any inpatient admission (acute or nonacute) within `days` after date_col. Acute admissions on the day
    after a discharge were merged as transfers; nonacute admissions on the discharge date are direct transfers."""
    adm = B.any_inpatient_admissions(ctx)
    lo_acute = date_col if same_day_counts else add_days(date_col, 1)
    return exists().where(adm.c.person_id == person_col, or_(
        and_(adm.c.acute == 1, adm.c.admit_date >= lo_acute, adm.c.admit_date <= add_days(date_col, days)),
        and_(adm.c.acute == 0, adm.c.admit_date >= date_col, adm.c.admit_date <= add_days(date_col, days))))


def _bh_visit(ctx, sv):
    return or_(B.in_vs(sv.c.hcpcs, ctx, "bh_followup_visit"), B.in_vs(sv.c.rev, ctx, "bh_rev"))


def build_fuh(ctx):
    p = ctx.params
    s = B.stays(ctx, 1)
    mh = ctx.codes("mental_illness") + ctx.codes("intentional_self_harm")
    den = (select(s.c.stay_id.label("unit_id"), s.c.person_id, s.c.discharge_date.label("anchor_date"),
                  s.c.last_claim_id)
           .where(s.c.discharge_date.between(ctx.my_start, ctx.ymd(0, 12, 1)), B.in_list(s.c.last_pdx, mh),
                  ~_readmitted_within(ctx, s.c.person_id, s.c.discharge_date, 30, same_day_counts=False))
           ).cte("fuh_den")
    sv = B.services(ctx)
    ok = and_(_bh_visit(ctx, sv), sv.c.mh_provider == 1)
    matches = {f"{n}_day": visit_within(den, sv, den.c.anchor_date, sv.c.service_date, 1, n, ok, f"fuh_{n}")
               for n in (p["short_days"], p["long_days"])}
    return rates_from_matches(den, den.c.unit_id, den.c.person_id, den.c.anchor_date, "discharge", matches)


def _ed_followup(ctx, name, pdx_sets, any_dx_sets, numerator_cond):
    p = ctx.params
    ed = B.ed_visits(ctx, pdx_sets, any_dx_sets, name)
    elig = (select(ed.c.unit_id, ed.c.person_id, ed.c.visit_date.label("unit_date"))
            .where(ed.c.visit_date.between(ctx.my_start, ctx.ymd(0, 12, 1)),
                   ~_readmitted_within(ctx, ed.c.person_id, ed.c.visit_date, 30, same_day_counts=True))).cte(f"{name}_elig")
    kept = B.one_per_window(ctx, elig, p["dedup_days"], name)
    den = (select(elig.c.unit_id, elig.c.person_id, elig.c.unit_date.label("anchor_date"))
           .where(elig.c.unit_id.in_(select(kept.c.unit_id)))).cte(f"{name}_den")
    matches = {}
    for n in (p["short_days"], p["long_days"]):
        matches[f"{n}_day"] = numerator_cond(ctx, den, n, f"{name}_{n}")
    return rates_from_matches(den, den.c.unit_id, den.c.person_id, den.c.anchor_date, "ed_visit", matches)


def _fum_num(ctx, den, n, name):
    sv = B.services(ctx)
    ok = and_(_bh_visit(ctx, sv), or_(B.in_vs(sv.c.pdx, ctx, "mental_health_any"), sv.c.mh_provider == 1),
              ~B.in_vs(func.coalesce(sv.c.rev, ""), ctx, "ed_rev"),
              ~B.in_vs(func.coalesce(sv.c.hcpcs, ""), ctx, "ed_visit_cpt"))
    return visit_within(den, sv, den.c.anchor_date, sv.c.service_date, 0, n, ok, name)


def build_fum(ctx):
    return _ed_followup(ctx, "fum", ("mental_illness", "intentional_self_harm"), (), _fum_num)


def _fua_num(ctx, den, n, name):
    from sqlalchemy import union_all
    from measures.sqlfuncs import days_between

    sv = B.services(ctx)
    sud_visit = and_(or_(_bh_visit(ctx, sv), B.in_vs(sv.c.hcpcs, ctx, "sud_treatment_service")),
                     or_(B.in_vs(sv.c.pdx, ctx, "sud"), sv.c.mh_provider == 1,
                         B.in_vs(sv.c.hcpcs, ctx, "sud_treatment_service")),
                     ~B.in_vs(func.coalesce(sv.c.rev, ""), ctx, "ed_rev"),
              ~B.in_vs(func.coalesce(sv.c.hcpcs, ""), ctx, "ed_visit_cpt"))
    med_hcpcs = (ctx.codes("oud_med_buprenorphine_hcpcs") + ctx.codes("oud_med_naltrexone_lai_hcpcs")
                 + ctx.codes("oud_med_methadone_hcpcs"))
    ev_sv = select(sv.c.person_id, sv.c.claim_id, sv.c.service_date.label("event_date")).where(
        or_(sud_visit, B.in_list(sv.c.hcpcs, med_hcpcs)))
    rx = B.rx_fills(ctx, "ndc_sud_medication")
    ev_rx = select(rx.c.person_id, rx.c.claim_id, rx.c.fill_date.label("event_date"))
    ev = union_all(ev_sv, ev_rx).cte(f"{name}_events")
    return visit_within(den, ev, den.c.anchor_date, ev.c.event_date, 0, n, literal(True), name)


def build_fua(ctx):
    return _ed_followup(ctx, "fua", ("sud",), ("drug_overdose",), _fua_num)


_FOLLOW = dict(short_days=7, long_days=30)

FUH = MeasureDefinition(
    id="FUH-HH", title="Follow-Up After Hospitalization for Mental Illness", steward="NCQA", core_sets=HH,
    measurement_period="Discharges 1 Jan - 1 Dec of the measurement year", unit="event",
    rates=(Rate("7_day", "proportion", "Follow-up within 7 days"), Rate("30_day", "proportion", "within 30 days")),
    build=build_fuh, min_age=6, age_bands=BANDS_6, enrollment=CE_30_AFTER, standard_exclusions=("hospice", "death"),
    value_sets=("mental_illness", "intentional_self_harm", "bh_followup_visit", "bh_rev", "acute_inpatient_tob",
                "nonacute_inpatient_tob", "nonacute_rev", "hospice_rev", "hospice_hcpcs", "hospice_tob"),
    params=dict(_FOLLOW),
    card=dict(
        measures="Share of acute inpatient discharges for mental illness or intentional self-harm followed by a "
                 "visit with a mental-health provider within 7 and 30 days.",
        denominator="Acute inpatient stays (TOB 11x without nonacute revenue codes; acute-to-acute transfers within "
                    "1 day merged, the final discharge counts) discharged 1 Jan-1 Dec, principal dx of the last "
                    "claim in Mental Illness or Intentional Self-Harm, age >= 6 on the discharge date. Stays followed "
                    "by an acute readmission or a nonacute admission within 30 days are removed (any dx).",
        numerator="Outpatient/IOP/PHP/CMHC/telehealth/TCM/observation/ECT/peer-support visit (CPT/HCPCS list or "
                  "BH revenue codes) with a mental-health provider (provider.is_mental_health_provider or "
                  "provider_type behavioral_health, rendering or billing NPI) 1-7 / 1-30 days after discharge; a "
                  "visit on the discharge date does not count.",
        exclusions="Hospice in MY (revenue 0651-0659, TOB 81x/82x, hospice HCPCS, enrollment hospice flag); death in MY.",
        enrollment="Discharge date through 30 days after, no gap (merged enrollment spans, any plan).",
    ),
    deviations=("Visit value sets are a public approximation (CPT numbers + HCPCS + UB revenue); load the HEDIS VSD "
                "to use the licensed lists.",
                "Mental-health provider comes from the provider table flags, not from the HEDIS provider definition.",
                "Follow-up requires a mental-health provider for every visit type (spec card C.3); HEDIS MY2024 "
                "allowances for some visit types with any provider are not modelled."),
)

FUM = MeasureDefinition(
    id="FUM-HH", title="Follow-Up After Emergency Department Visit for Mental Illness", steward="NCQA", core_sets=HH,
    measurement_period="ED visits 1 Jan - 1 Dec of the measurement year", unit="event",
    rates=(Rate("7_day", "proportion"), Rate("30_day", "proportion")), build=build_fum, min_age=6,
    age_bands=BANDS_6, enrollment=CE_30_AFTER, standard_exclusions=("hospice", "death"),
    value_sets=("mental_illness", "intentional_self_harm", "mental_health_any", "bh_followup_visit", "bh_rev",
                "ed_rev", "ed_visit_cpt", "acute_inpatient_tob", "nonacute_inpatient_tob", "nonacute_rev"),
    params=dict(_FOLLOW, dedup_days=31),
    card=dict(
        measures="Share of ED visits with a principal dx of mental illness or intentional self-harm with follow-up "
                 "within 7 (8 total days) and 30 (31 total days) days.",
        denominator="ED visits (revenue 045x/0981 or CPT 99281-99285; one per person-date) 1 Jan-1 Dec, principal "
                    "dx on any claim of the visit date in Mental Illness / Intentional Self-Harm, age >= 6 on the "
                    "visit date. Visits followed by an inpatient admission on the same day or within 30 days are "
                    "removed; of the remaining visits only the first in any 31-day period counts.",
        numerator="A BH follow-up visit (not an ED visit) on the ED visit date or up to 7/30 days after, with a "
                  "principal mental-health dx (ICD-10 chapter F) or with a mental-health provider.",
        exclusions="Hospice in MY; death in MY.", enrollment="ED visit date through 30 days after, no gap."),
    deviations=("The 31-day de-duplication is applied after the admission exclusion ('first eligible visit').",),
)

FUA = MeasureDefinition(
    id="FUA-HH", title="Follow-Up After Emergency Department Visit for Substance Use", steward="NCQA", core_sets=HH,
    measurement_period="ED visits 1 Jan - 1 Dec of the measurement year", unit="event",
    rates=(Rate("7_day", "proportion"), Rate("30_day", "proportion")), build=build_fua, min_age=13,
    age_bands=BANDS_13, enrollment=CE_30_AFTER, standard_exclusions=("hospice", "death"),
    value_sets=("sud", "drug_overdose", "bh_followup_visit", "bh_rev", "sud_treatment_service", "ed_rev",
                "ed_visit_cpt", "oud_med_buprenorphine_hcpcs", "oud_med_naltrexone_lai_hcpcs",
                "oud_med_methadone_hcpcs", "ndc_sud_medication", "acute_inpatient_tob", "nonacute_inpatient_tob",
                "nonacute_rev"),
    params=dict(_FOLLOW, dedup_days=31),
    card=dict(
        measures="Share of ED visits with a principal SUD dx or any drug-overdose dx with follow-up within 7/30 days.",
        denominator="As FUM-HH with principal dx F10-F19 (not F17) or any T40-T43 poisoning dx; age >= 13.",
        numerator="A follow-up visit with a SUD principal dx or a BH provider, an SUD service (H/T/G OTP codes), "
                  "an OUD/AUD medication administration (HCPCS) or pharmacy dispensing (NDC), day 0-7 / 0-30.",
        exclusions="Hospice in MY; death in MY.", enrollment="ED visit date through 30 days after, no gap."),
    deviations=("Peer-support and OTP services count with any provider.",),
)

MEASURES = [FUH, FUM, FUA]
