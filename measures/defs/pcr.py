"""PCR-HH: Plan All-Cause Readmissions (observed; expected/O-E only with licensed NCQA risk weights)."""
from __future__ import annotations

from sqlalchemy import and_, case, exists, func, literal, or_, select, union_all

from measures import blocks as B
from measures.definition import CEWindow, EnrollmentRule, MeasureDefinition, Rate
from measures.defs.common import HH
from measures.sqlfuncs import add_days, age_at, days_between

CE = EnrollmentRule((CEWindow("anchor", -365, 0, max_gaps=1, max_gap_days=45), CEWindow("anchor", 0, 30)),
                    "365 days before discharge through discharge with <= 1 gap of <= 45 days; discharge through "
                    "30 days after with no gap")


def _all_stays(ctx):
    """Acute inpatient stays (transfers merged) and observation stays: stay_id, person_id, admit/discharge, pdx,
    disposition; plus a stay->claim map for procedure/diagnosis lookups."""
    s = B.stays(ctx, 1)
    sc = B.stay_claims(ctx, 1)
    o = B.observation_stays(ctx)
    st = union_all(
        select(s.c.stay_id, s.c.person_id, s.c.admit_date, s.c.discharge_date, s.c.last_pdx.label("pdx"),
               s.c.last_disposition.label("disposition"), s.c.last_claim_id.label("claim_id"),
               literal("inpatient").label("kind")),
        select((o.c.person_id + literal("|O|") + B.datestr(o.c.admit_date) + literal("|") + o.c.claim_id)
               .label("stay_id"), o.c.person_id, o.c.admit_date, o.c.discharge_date, o.c.pdx,
               o.c.discharge_disposition_code.label("disposition"), o.c.claim_id, literal("observation").label("kind")),
    ).cte("pcr_stays")
    smap = union_all(
        select(s.c.stay_id, sc.c.claim_id, sc.c.data_source).select_from(
            sc.join(s, and_(s.c.person_id == sc.c.person_id, s.c.grp == sc.c.grp))),
        select((o.c.person_id + literal("|O|") + B.datestr(o.c.admit_date) + literal("|") + o.c.claim_id)
               .label("stay_id"), o.c.claim_id, o.c.data_source),
    ).cte("pcr_stay_map")
    return st, smap


def build_pcr(ctx):
    p = ctx.params
    st, smap = _all_stays(ctx)
    px = B.claim_px(ctx)
    preg = ctx.codes("pregnancy") + ctx.codes("perinatal")
    P = B.P
    # index stays
    died = or_(func.coalesce(st.c.disposition, "") == "20",
               exists().where(P.c.person_id == st.c.person_id, P.c.death_date.between(st.c.admit_date,
                                                                                        st.c.discharge_date)))
    idx = (select(st.c.stay_id.label("unit_id"), st.c.person_id, st.c.discharge_date.label("anchor_date"),
                  st.c.admit_date,
                  case((died, "died during stay"), (B.isin(st.c.pdx, preg), "pregnancy/perinatal principal dx"),
                       else_=None).label("reason"))
           .where(st.c.discharge_date.between(ctx.my_start, ctx.ymd(0, 12, 1)))).cte("pcr_index")
    # readmissions: another stay admitted 1..30 days after discharge, not planned, not pregnancy/perinatal
    re = st.alias("pcr_re")
    planned_px = exists().where(smap.c.stay_id == re.c.stay_id, px.c.claim_id == smap.c.claim_id,
                                px.c.data_source == smap.c.data_source,
                                B.in_vs(px.c.code, ctx, "pcr_potentially_planned_pcs"))
    planned = or_(B.isin(re.c.pdx, ctx.codes("pcr_planned_dx")),
                  and_(planned_px, ~B.in_vs(func.coalesce(re.c.pdx, ""), ctx, "pcr_acute_dx")))
    d = days_between(idx.c.anchor_date, re.c.admit_date)
    readm = B.first_match(idx, re, and_(re.c.person_id == idx.c.person_id, re.c.stay_id != idx.c.unit_id,
                                        d >= 1, d <= p["readmit_days"], ~planned,
                                        ~B.isin(re.c.pdx, preg)),
                          (re.c.admit_date, re.c.stay_id), "pcr_readmit", extra_cols=(re.c.claim_id,))
    # outliers: members with >= N eligible index stays (age 18-64, CE met, not excluded)
    ce_units = select(idx.c.unit_id, idx.c.person_id, idx.c.anchor_date).cte("pcr_ce_units")
    oks = [B.ce_window_ok(ctx, ce_units, w, 10 + i) for i, w in enumerate(CE.windows)]
    age = age_at(P.c.birth_date, idx.c.anchor_date)
    hosp = B.hospice_persons(ctx)
    elig = select(idx.c.unit_id, idx.c.person_id).select_from(
        idx.join(P, P.c.person_id == idx.c.person_id).join(oks[0], oks[0].c.unit_id == idx.c.unit_id)
        .join(oks[1], oks[1].c.unit_id == idx.c.unit_id)).where(
        age.between(18, 64), oks[0].c.ok == 1, oks[1].c.ok == 1, idx.c.reason.is_(None),
        ~B.in_set(idx.c.person_id, hosp), ~B.in_set(idx.c.person_id, B.deceased_persons(ctx))).cte("pcr_elig")
    per_member = (select(elig.c.person_id, func.count().label("n"))
                  .group_by(elig.c.person_id)).cte("pcr_per_member")
    is_outlier = exists().where(per_member.c.person_id == idx.c.person_id, per_member.c.n >= p["outlier_stays"])
    excluded = or_(idx.c.reason.is_not(None), is_outlier)
    reason = case((idx.c.reason.is_not(None), idx.c.reason),
                  (is_outlier, f"outlier (>= {p['outlier_stays']} index stays)"), else_=None)
    met = readm.c.unit_id.is_not(None)
    j = idx.outerjoin(readm, readm.c.unit_id == idx.c.unit_id)
    stays_rows = select(*B.detail_row(idx.c.unit_id, "index_stay", idx.c.person_id, idx.c.anchor_date, "index_stays",
                                      literal(True), literal(None), excluded=excluded, exclusion_reason=reason))
    obs_rows = select(*B.detail_row(idx.c.unit_id, "index_stay", idx.c.person_id, idx.c.anchor_date,
                                    "observed_readmissions", met, readm.c.claim_id, excluded=excluded,
                                    exclusion_reason=reason)).select_from(j)
    # enrollee population (for the outlier rate per 1,000): members with a member month in MY, age 18-64 on 31 Dec
    mm = B.member_months_dedup(ctx)
    members = (select(mm.c.person_id).where(mm.c.month_start.between(ctx.my_start, ctx.my_end))
               .distinct()).cte("pcr_members")
    mem_out = exists().where(per_member.c.person_id == members.c.person_id, per_member.c.n >= p["outlier_stays"])
    out_rows = select(*B.detail_row(members.c.person_id, "member", members.c.person_id, ctx.my_end, "outliers",
                                    mem_out, literal(None)))
    return union_all(stays_rows, obs_rows, out_rows)


PCR = MeasureDefinition(
    id="PCR-HH", title="Plan All-Cause Readmissions", steward="NCQA", core_sets=HH, lookback_years=1,
    measurement_period="Index discharges 1 Jan - 1 Dec of the measurement year", unit="event",
    rates=(Rate("index_stays", "count", "Count of index hospital stays"),
           Rate("observed_readmissions", "proportion", "Observed readmission rate (count = numerator)"),
           Rate("expected_readmissions", "ratio", "Expected readmissions"),
           Rate("oe_ratio", "ratio", "Observed/expected ratio"),
           Rate("outliers", "per_1000_members", "Outliers (>= 4 index stays) per 1,000 enrollees")),
    build=build_pcr, min_age=18, max_age=64, age_bands=((18, 44, "18-44"), (45, 54, "45-54"), (55, 64, "55-64")),
    enrollment=CE, ce_rate_ids=("index_stays", "observed_readmissions"), standard_exclusions=("hospice", "death"),
    value_sets=("pregnancy", "perinatal", "pcr_planned_dx", "pcr_potentially_planned_pcs", "pcr_acute_dx",
                "acute_inpatient_tob", "nonacute_inpatient_tob", "nonacute_rev", "observation_rev",
                "observation_hcpcs"),
    not_computable_rates={
        "expected_readmissions": "requires the licensed NCQA PCR risk-adjustment weights; never estimated",
        "oe_ratio": "requires the licensed NCQA PCR risk-adjustment weights; never estimated"},
    params=dict(readmit_days=30, outlier_stays=4),
    card=dict(
        measures="Index acute inpatient/observation stays of enrollees 18-64 and the share followed by an "
                 "unplanned acute readmission within 30 days; members with >= 4 index stays are outliers.",
        denominator="Acute inpatient stays (transfers within 1 day merged) and outpatient observation stays "
                    "(revenue 0760/0762/0769, observation HCPCS) discharged 1 Jan-1 Dec; age 18-64 on the discharge "
                    "date. A readmission can itself be an index stay.",
        numerator="Another stay admitted 1-30 days after the index discharge that is not planned (principal dx "
                  "chemotherapy/radiation, or a potentially planned ICD-10-PCS procedure without an acute principal "
                  "dx, CMS HWR lists) and whose principal dx is not pregnancy/perinatal.",
        exclusions="Hospice; death in MY; died during the stay (disposition 20 / death date); principal dx of "
                   "pregnancy or perinatal condition; outlier members' stays are removed from the index and "
                   "observed rates and reported as outliers per 1,000 enrollees. Outliers: members with >= 4 "
                   "index stays that are each eligible (age 18-64 on the discharge date, both enrollment windows "
                   "met, not died during the stay, not a pregnancy/perinatal principal dx) and who are neither in "
                   "hospice nor dead in MY. Outlier-rate denominator (enrollees): members with >= 1 member month in "
                   "MY, age 18-64 on 31 Dec of MY, not in hospice and not dead in MY (no enrollment rule).",
        enrollment="365 days before discharge with <= 1 gap of <= 45 days, and discharge + 30 days with no gap."),
    deviations=("Expected readmissions and O/E are reported as not computable: the NCQA risk weights are licensed "
                "and are never guessed.",
                "Planned-readmission logic uses the public CMS HWR lists (via Tuva) instead of the HEDIS value sets.",
                "Outlier-rate enrollees need no continuous enrollment (one member month in MY suffices)."),
)

MEASURES = [PCR]
