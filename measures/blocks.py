"""Shared building blocks. Every function returns SQLAlchemy Core CTEs/expressions that run in the database.

Conventions: claims are final-action (`medical_claim_final`, `medical_claim_line_final`, `pharmacy_claim_final`).
Codes are compared after upper-casing and removing dots. CTEs are cached on the BuildContext so one statement
renders each block once.
"""
from __future__ import annotations

from sqlalchemy import (Integer, String, and_, case, cast, column, exists, func, literal, null, or_,
                        select, union_all, values)

from measures.definition import BuildContext, CEWindow
from measures.sqlfuncs import add_days, days_between, month_start
from warehouse.models import (EnrollmentSpan, MedicalClaimFinal, MedicalClaimLineFinal, MemberMonth, Person,
                              PharmacyClaimFinal, Provider)

H = MedicalClaimFinal.__table__
L = MedicalClaimLineFinal.__table__
RX = PharmacyClaimFinal.__table__
MM = MemberMonth.__table__
ES = EnrollmentSpan.__table__
P = Person.__table__
PROV = Provider.__table__
N_DX = 25
N_PX = 25


def _cached(fn):
    def wrapper(ctx: BuildContext, *args):
        key = (fn.__name__,) + args
        if key not in ctx.cache:
            ctx.cache[key] = fn(ctx, *args)
        return ctx.cache[key]
    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


def _shared(fn):
    """Like _cached; with a per-run Scratch on the context, a block that several measures of the run use is
    materialised once per run as a temporary table that those measures read (see measures/scratch.py). The block
    must depend only on the year, the value-set registry and its arguments (all fixed for a run)."""
    def wrapper(ctx: BuildContext, *args):
        key = (fn.__name__,) + args
        if key not in ctx.cache:
            ctx.shared_used.add(key)
            if ctx.scratch is not None and ctx.scratch.shares(key):
                ctx.cache[key] = ctx.scratch.table(key, lambda: fn(ctx, *args))
            else:
                ctx.cache[key] = fn(ctx, *args)
        return ctx.cache[key]
    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


def norm(col):
    return func.upper(func.replace(col, ".", ""))


def norm_guarded(col):
    """norm(col), spelled so that DuckDB skips NULLs: a value-set filter pushed into a diagnosis-position scan
    evaluated upper(replace()) on every row even when the whole column is NULL (25 positions x every claim: most of
    PQI05/PQI15's 20 s); behind the CASE a NULL position costs nothing. Same values as norm(col)."""
    return case((col.is_(None), null()), else_=norm(col))


SMALL_CODE_LIST = 64


def in_list(col, codes, name: str = "codes"):
    """`col IN codes`. Long lists become a semi-join against an inline VALUES relation: a literal IN list of
    thousands of codes is evaluated code by code on every row (DuckDB pushes it into each scan; 25 diagnosis
    positions x 5,000 planned-procedure codes took minutes), a hash semi-join does not."""
    codes = sorted(set(codes))
    if len(codes) <= SMALL_CODE_LIST:
        return col.in_(codes)
    table = values(column("code", String), name=name[:60], literal_binds=True).data([(c,) for c in codes])
    return col.in_(select(table.c.code))


def in_vs(col, ctx: BuildContext, *value_sets: str):
    """`col IN <codes of the value sets>` (see in_list)."""
    return in_list(col, [c for vs in value_sets for c in ctx.codes(vs)], "vs_" + "_".join(value_sets))


def isin(col, codes):
    """Null-safe IN (a NULL code is simply not in the set, so NOT isin(...) stays true)."""
    return in_list(func.coalesce(col, ""), codes)


def tob2(col):
    """Facility type + bill classification (e.g. '0111' or '111' -> '11')."""
    c = func.coalesce(col, "")
    return case((func.length(c) == 4, func.substr(c, 2, 2)), else_=func.substr(c, 1, 2))


def flag(cond):
    return case((cond, 1), else_=0)


def datestr(col):
    return cast(col, String)


# --- diagnoses / procedures ------------------------------------------------------------------------------


@_shared
def claim_dx(ctx: BuildContext):
    """Long diagnosis table: one row per claim x diagnosis position."""
    parts = []
    for i in range(1, N_DX + 1):
        col = H.c[f"diagnosis_code_{i}"]
        parts.append(select(H.c.claim_id, H.c.data_source, H.c.person_id, literal(i).label("position"),
                            norm_guarded(col).label("code"), H.c.claim_start_date, H.c.claim_end_date)
                     .where(col.is_not(None)))
    return union_all(*parts).cte("claim_dx")


@_shared
def claim_px(ctx: BuildContext):
    parts = []
    for i in range(1, N_PX + 1):
        col = H.c[f"procedure_code_{i}"]
        parts.append(select(H.c.claim_id, H.c.data_source, H.c.person_id, norm_guarded(col).label("code"))
                     .where(col.is_not(None)))
    return union_all(*parts).cte("claim_px")


def claim_has_dx(ctx, claim_id_col, data_source_col, value_set: str):
    dx = claim_dx(ctx)
    return exists().where(dx.c.claim_id == claim_id_col, dx.c.data_source == data_source_col,
                          in_vs(dx.c.code, ctx, value_set))


def claim_has_px(ctx, claim_id_col, data_source_col, value_set: str):
    px = claim_px(ctx)
    return exists().where(px.c.claim_id == claim_id_col, px.c.data_source == data_source_col,
                          in_vs(px.c.code, ctx, value_set))


@_shared
def persons_with_dx(ctx: BuildContext, value_set: str, start_off: int, end_off: int, principal_only: bool = False):
    """Persons with a claim carrying a dx in value_set with claim_start_date in [Jan 1 MY+start_off, Dec 31 MY+end_off]."""
    dx = claim_dx(ctx)
    q = select(dx.c.person_id).where(in_vs(dx.c.code, ctx, value_set),
                                     dx.c.claim_start_date.between(ctx.ymd(start_off, 1, 1), ctx.ymd(end_off, 12, 31)))
    if principal_only:
        q = q.where(dx.c.position == 1)
    return q.distinct().cte(f"dx_{value_set}_{start_off}_{end_off}"[:60])


# --- inpatient stays ---------------------------------------------------------------------------------------


@_shared
def inpatient_claims(ctx: BuildContext):
    """Institutional inpatient claims with an acute flag (TOB 11x without nonacute revenue codes)."""
    t2 = tob2(H.c.bill_type_code)
    nonacute_line = exists().where(L.c.claim_id == H.c.claim_id, L.c.data_source == H.c.data_source,
                                   in_vs(L.c.revenue_center_code, ctx, "nonacute_rev"))
    acute = and_(in_vs(t2, ctx, "acute_inpatient_tob"), ~nonacute_line)
    is_ip = or_(in_vs(t2, ctx, "acute_inpatient_tob"), in_vs(t2, ctx, "nonacute_inpatient_tob"))
    return (select(H.c.claim_id, H.c.data_source, H.c.person_id,
                   func.coalesce(H.c.admission_date, H.c.claim_start_date).label("admit_date"),
                   func.coalesce(H.c.discharge_date, H.c.claim_end_date).label("discharge_date"),
                   norm(H.c.diagnosis_code_1).label("pdx"), H.c.drg_code, H.c.discharge_disposition_code,
                   H.c.admit_source_code, H.c.payer, flag(acute).label("acute"))
            .where(H.c.claim_type == "institutional", is_ip).cte("inpatient_claims"))


def _merge_islands(src, name: str, gap_days: int = 1):
    """Gaps-and-islands over (person_id, admit_date, discharge_date): rows whose admit_date is within gap_days of
    the running max discharge are one stay (direct/acute-to-acute transfers)."""
    order = (src.c.admit_date, src.c.discharge_date, src.c.claim_id)
    prev_max = func.max(src.c.discharge_date).over(partition_by=src.c.person_id, order_by=order,
                                                   rows=(None, -1))
    w1 = select(src, prev_max.label("prev_max")).cte(f"{name}_w1")
    new = flag(or_(w1.c.prev_max.is_(None), w1.c.admit_date > add_days(w1.c.prev_max, gap_days)))
    w2 = select(w1, func.sum(new).over(partition_by=w1.c.person_id,
                                       order_by=(w1.c.admit_date, w1.c.discharge_date, w1.c.claim_id),
                                       rows=(None, 0)).label("grp")).cte(f"{name}_w2")
    w3 = select(w2,
                func.row_number().over(partition_by=(w2.c.person_id, w2.c.grp),
                                       order_by=(w2.c.discharge_date.desc(), w2.c.admit_date.desc(),
                                                 w2.c.claim_id.desc())).label("rn_last"),
                func.row_number().over(partition_by=(w2.c.person_id, w2.c.grp),
                                       order_by=(w2.c.admit_date, w2.c.discharge_date, w2.c.claim_id)).label("rn_first"),
                ).cte(f"{name}_w3")
    return w3


@_shared
def stays(ctx: BuildContext, acute: int = 1):
    """Merged inpatient stays (acute=1: acute stays with acute-to-acute transfers merged; 0: nonacute stays).

    Columns: stay_id, person_id, grp, admit_date, discharge_date, los, first/last claim ids, first_pdx, last_pdx,
    last_drg, last_disposition, first_admit_source, first_payer (the payer of the admission claim), n_claims."""
    ic = inpatient_claims(ctx)
    src = select(ic).where(ic.c.acute == acute).cte(f"ip_src_{acute}")
    w3 = _merge_islands(src, f"stay{acute}")
    last = lambda col: func.max(case((w3.c.rn_last == 1, col)))  # noqa: E731
    first = lambda col: func.max(case((w3.c.rn_first == 1, col)))  # noqa: E731
    admit = func.min(w3.c.admit_date)
    disch = func.max(w3.c.discharge_date)
    q = (select(w3.c.person_id, w3.c.grp, admit.label("admit_date"), disch.label("discharge_date"),
                first(w3.c.claim_id).label("first_claim_id"), last(w3.c.claim_id).label("last_claim_id"),
                first(w3.c.pdx).label("first_pdx"), last(w3.c.pdx).label("last_pdx"),
                last(w3.c.drg_code).label("last_drg"), last(w3.c.discharge_disposition_code).label("last_disposition"),
                first(w3.c.admit_source_code).label("first_admit_source"), first(w3.c.payer).label("first_payer"),
                func.count().label("n_claims"))
         .group_by(w3.c.person_id, w3.c.grp)).cte(f"stays_raw_{acute}")
    los = func.greatest(days_between(q.c.admit_date, q.c.discharge_date), 1)
    return select(q, (q.c.person_id + literal("|" + ("A" if acute else "N") + "|") + datestr(q.c.admit_date))
                  .label("stay_id"), los.label("los")).cte(f"stays_{acute}")


@_shared
def stay_claims(ctx: BuildContext, acute: int = 1):
    """claim_id, data_source -> stay (person_id, grp) for procedure/dx lookups over every claim of a stay."""
    ic = inpatient_claims(ctx)
    src = select(ic).where(ic.c.acute == acute).cte(f"ipc_src_{acute}")
    w3 = _merge_islands(src, f"stayc{acute}")
    return select(w3.c.claim_id, w3.c.data_source, w3.c.person_id, w3.c.grp).cte(f"stay_claims_{acute}")


@_shared
def observation_stays(ctx: BuildContext):
    """Outpatient observation stays: institutional claims with observation revenue/HCPCS, not inpatient."""
    obs_line = exists().where(L.c.claim_id == H.c.claim_id, L.c.data_source == H.c.data_source,
                              or_(in_vs(L.c.revenue_center_code, ctx, "observation_rev"),
                                  in_vs(L.c.hcpcs_code, ctx, "observation_hcpcs")))
    t2 = tob2(H.c.bill_type_code)
    return (select(H.c.claim_id, H.c.data_source, H.c.person_id, H.c.claim_start_date.label("admit_date"),
                   H.c.claim_end_date.label("discharge_date"), norm(H.c.diagnosis_code_1).label("pdx"),
                   H.c.discharge_disposition_code)
            .where(obs_line, H.c.claim_type == "institutional",
                   ~in_vs(t2, ctx, "acute_inpatient_tob", "nonacute_inpatient_tob"))
            .cte("observation_stays"))


@_shared
def any_inpatient_admissions(ctx: BuildContext):
    """Every inpatient admission (acute or nonacute claims, unmerged): person_id, admit_date."""
    ic = inpatient_claims(ctx)
    return select(ic.c.person_id, ic.c.admit_date, ic.c.acute).distinct().cte("any_ip_admissions")


# --- ED visits, outpatient / BH services, pharmacy ----------------------------------------------------------


@_shared
def ed_claims(ctx: BuildContext):
    """Claims with an ED line (revenue 045x/0981 or CPT 99281-99285): person_id, visit_date, claim, pdx."""
    ed_line = or_(in_vs(L.c.revenue_center_code, ctx, "ed_rev"), in_vs(L.c.hcpcs_code, ctx, "ed_visit_cpt"))
    return (select(H.c.person_id, H.c.claim_id, H.c.data_source,
                   func.min(func.coalesce(L.c.claim_line_start_date, H.c.claim_start_date)).label("visit_date"),
                   func.max(norm(H.c.diagnosis_code_1)).label("pdx"))
            .select_from(L.join(H, and_(L.c.claim_id == H.c.claim_id, L.c.data_source == H.c.data_source)))
            .where(ed_line).group_by(H.c.person_id, H.c.claim_id, H.c.data_source).cte("ed_claims"))


def ed_visits(ctx: BuildContext, pdx_sets: tuple[str, ...] = (), any_dx_sets: tuple[str, ...] = (), name="ed"):
    """ED visits (one per person-date) whose claims on that date carry a principal dx in pdx_sets or any dx in
    any_dx_sets. Columns: person_id, visit_date, claim_id (first claim of the day), unit_id."""
    e = ed_claims(ctx)
    conds = [in_vs(e.c.pdx, ctx, s) for s in pdx_sets]
    conds += [claim_has_dx(ctx, e.c.claim_id, e.c.data_source, s) for s in any_dx_sets]
    q = (select(e.c.person_id, e.c.visit_date, func.min(e.c.claim_id).label("claim_id"))
         .where(or_(*conds) if conds else literal(True)).group_by(e.c.person_id, e.c.visit_date)).cte(f"{name}_visits")
    return select(q, (q.c.person_id + literal("|") + datestr(q.c.visit_date)).label("unit_id")).cte(f"{name}_visits_u")


@_shared
def ed_visits_all(ctx: BuildContext):
    e = ed_claims(ctx)
    return (select(e.c.person_id, e.c.visit_date, func.min(e.c.claim_id).label("claim_id"),
                   func.max(flag(e.c.pdx.like("F%"))).label("mh_cd_pdx"))
            .group_by(e.c.person_id, e.c.visit_date).cte("ed_visits_all"))


@_shared
def services(ctx: BuildContext):
    """Service lines: person_id, service_date, claim_id, hcpcs, rev, pos, pdx, mh_provider flag."""
    p1 = PROV.alias("p_rend")
    p2 = PROV.alias("p_bill")
    mh = lambda p: or_(p.c.is_mental_health_provider.is_(True), p.c.provider_type == "behavioral_health")  # noqa
    j = (L.join(H, and_(L.c.claim_id == H.c.claim_id, L.c.data_source == H.c.data_source))
         .outerjoin(p1, p1.c.npi == L.c.rendering_npi).outerjoin(p2, p2.c.npi == H.c.billing_npi))
    return (select(H.c.person_id, H.c.claim_id, H.c.data_source,
                   func.coalesce(L.c.claim_line_start_date, H.c.claim_start_date).label("service_date"),
                   func.upper(L.c.hcpcs_code).label("hcpcs"), L.c.revenue_center_code.label("rev"),
                   L.c.place_of_service_code.label("pos"), norm(H.c.diagnosis_code_1).label("pdx"),
                   tob2(H.c.bill_type_code).label("tob2"), H.c.claim_type,
                   flag(or_(mh(p1), mh(p2))).label("mh_provider"))
            .select_from(j).cte("services"))


@_shared
def rx_fills(ctx: BuildContext, value_set: str, name: str | None = None):
    """Pharmacy fills for an NDC value set: person_id, fill_date, days_supply, quantity, ndc, claim_id."""
    return (select(RX.c.person_id, RX.c.claim_id, RX.c.dispensing_date.label("fill_date"),
                   func.coalesce(RX.c.days_supply, 1).label("days_supply"), RX.c.quantity, RX.c.ndc_code.label("ndc"))
            .where(in_vs(RX.c.ndc_code, ctx, value_set)).cte(name or f"rx_{value_set}"))


# --- exclusions ----------------------------------------------------------------------------------------------


@_shared
def hospice_persons(ctx: BuildContext, start_off: int = 0):
    """Persons with hospice services (revenue, TOB 81x/82x, HCPCS) or an enrollment hospice flag in the MY."""
    s, e = ctx.ymd(start_off, 1, 1), ctx.my_end
    by_line = (select(H.c.person_id).select_from(L.join(H, and_(L.c.claim_id == H.c.claim_id,
                                                               L.c.data_source == H.c.data_source)))
               .where(or_(in_vs(L.c.revenue_center_code, ctx, "hospice_rev"),
                          in_vs(L.c.hcpcs_code, ctx, "hospice_hcpcs")),
                      func.coalesce(L.c.claim_line_start_date, H.c.claim_start_date).between(s, e)))
    by_tob = select(H.c.person_id).where(in_vs(tob2(H.c.bill_type_code), ctx, "hospice_tob"),
                                         H.c.claim_start_date <= e, H.c.claim_end_date >= s)
    by_flag = select(MM.c.person_id).where(MM.c.hospice_flag.is_(True), MM.c.month_start.between(s, e))
    return union_all(by_line, by_tob, by_flag).cte(f"hospice_{start_off}")


@_cached
def deceased_persons(ctx: BuildContext):
    return select(P.c.person_id).where(P.c.death_date.between(ctx.my_start, ctx.my_end)).cte("deceased")


@_shared
def ltc_persons(ctx: BuildContext):
    return select(MM.c.person_id).where(MM.c.long_term_institutional_flag.is_(True),
                                        MM.c.month_start.between(ctx.my_start, ctx.my_end)).distinct().cte("ltc")


def in_set(person_col, cte):
    return exists().where(cte.c.person_id == person_col)


# --- enrollment ---------------------------------------------------------------------------------------------


@_shared
def enrollment_islands(ctx: BuildContext):
    """Merged enrollment (any payer/plan): adjacent or overlapping spans become one island per person."""
    order = (ES.c.start_date, ES.c.end_date, ES.c.span_id)
    w1 = select(ES.c.person_id, ES.c.start_date, ES.c.end_date, ES.c.span_id,
                func.max(ES.c.end_date).over(partition_by=ES.c.person_id, order_by=order, rows=(None, -1))
                .label("prev_max")).cte("es_w1")
    new = flag(or_(w1.c.prev_max.is_(None), w1.c.start_date > add_days(w1.c.prev_max, 1)))
    w2 = select(w1, func.sum(new).over(partition_by=w1.c.person_id,
                                       order_by=(w1.c.start_date, w1.c.end_date, w1.c.span_id), rows=(None, 0))
                .label("grp")).cte("es_w2")
    return (select(w2.c.person_id, func.min(w2.c.start_date).label("s"), func.max(w2.c.end_date).label("e"))
            .group_by(w2.c.person_id, w2.c.grp).cte("enrollment_islands"))


def window_bounds(ctx: BuildContext, w: CEWindow, anchor_col, units=None):
    if w.ref == "unit":
        return units.c.ce_start, units.c.ce_end
    if w.ref == "anchor":
        return add_days(anchor_col, w.start), add_days(anchor_col, w.end)
    return ctx.ymd(w.start, 1, 1), ctx.ymd(w.start, 12, 31)


def ce_window_ok(ctx: BuildContext, units, w: CEWindow, idx: int):
    """units: CTE (unit_id, person_id, anchor_date). Returns CTE (unit_id, ok) for one window."""
    isl = enrollment_islands(ctx)
    ws, we = window_bounds(ctx, w, units.c.anchor_date, units)
    u = select(units.c.unit_id, units.c.person_id, ws.label("ws"), we.label("we")).cte(f"ce{idx}_u")
    j = (select(u.c.unit_id, u.c.ws, u.c.we, func.greatest(isl.c.s, u.c.ws).label("cs"),
                func.least(isl.c.e, u.c.we).label("ce"))
         .select_from(u.join(isl, and_(isl.c.person_id == u.c.person_id, isl.c.s <= u.c.we, isl.c.e >= u.c.ws)))
         ).cte(f"ce{idx}_j")
    k = select(j, func.lag(j.c.ce).over(partition_by=j.c.unit_id, order_by=j.c.cs).label("prev_ce"),
               func.row_number().over(partition_by=j.c.unit_id, order_by=j.c.cs).label("rn"),
               func.row_number().over(partition_by=j.c.unit_id, order_by=j.c.cs.desc()).label("rn_desc")
               ).cte(f"ce{idx}_k")
    gap_before = case((k.c.rn == 1, days_between(k.c.ws, k.c.cs)), else_=days_between(k.c.prev_ce, k.c.cs) - 1)
    gap_after = case((k.c.rn_desc == 1, days_between(k.c.ce, k.c.we)), else_=0)
    g = select(k.c.unit_id, gap_before.label("gb"), gap_after.label("ga")).cte(f"ce{idx}_g")
    agg = (select(g.c.unit_id, (func.sum(flag(g.c.gb > 0)) + func.sum(flag(g.c.ga > 0))).label("n_gaps"),
                  func.max(func.greatest(g.c.gb, g.c.ga)).label("max_gap"))
           .group_by(g.c.unit_id)).cte(f"ce{idx}_agg")
    ok = and_(agg.c.unit_id.is_not(None), agg.c.n_gaps <= w.max_gaps, agg.c.max_gap <= w.max_gap_days)
    return (select(units.c.unit_id, flag(ok).label("ok"))
            .select_from(units.outerjoin(agg, agg.c.unit_id == units.c.unit_id)).cte(f"ce{idx}_ok"))


# --- member months -------------------------------------------------------------------------------------------


# the member-month columns measures read (carrying all of member_month through the ranking doubled its cost)
MM_DEDUP_COLS = ("person_id", "month_start", "payer", "delivery_system", "health_home_program_id", "icm_program_id",
                 "icm_entity_id", "long_term_institutional_flag", "age_at_month_start", "sex", "county_fips")


def _ranked_member_months(ctx: BuildContext, name: str, *conditions, columns: tuple[str, ...] = MM_DEDUP_COLS):
    """One member-month per person and month (the plan with most enrolled days wins) among the months measures
    read (Jan of MY - 1 to Dec of MY), for the rows that also meet `conditions`."""
    rn = func.row_number().over(partition_by=(MM.c.person_id, MM.c.month_start),
                                order_by=(MM.c.days_enrolled.desc(), MM.c.payer, MM.c.plan, MM.c.data_source))
    q = (select(*[MM.c[c] for c in columns], rn.label("rn"))
         .where(MM.c.month_start.between(ctx.ymd(-1, 1, 1), ctx.my_end), *conditions).cte(f"{name}_rank"))
    return select(*[q.c[c] for c in columns]).where(q.c.rn == 1).cte(name)


@_shared
def member_months_dedup(ctx: BuildContext):
    """One member-month per person and month for the whole population, for the months measures read: ranking the
    whole history cost seconds per measure on a large state."""
    return _ranked_member_months(ctx, "mm_dedup")


@_shared
def member_months_dedup_with(ctx: BuildContext, extra_columns: tuple[str, ...]):
    """member_months_dedup carrying further member_month columns (e.g. eligibility group and dual status for the
    strata of utilization norms); the measures keep the narrow default."""
    return _ranked_member_months(ctx, "mm_dedup_with", columns=MM_DEDUP_COLS + tuple(extra_columns))


def member_months_dedup_for(ctx: BuildContext, persons, name: str):
    """member_months_dedup restricted to the persons of `persons` (a CTE with person_id), ranked only over their
    rows: the ranking is per person and month, so each person's rows are those of the whole-population table. A
    measure with a few thousand denominator persons no longer ranks every member's months."""
    return _ranked_member_months(ctx, name, MM.c.person_id.in_(select(persons.c.person_id)))


def member_month_rows(ctx: BuildContext, events, rates: dict, min_age: int | None = None, community_only=False,
                      name: str = "mmr", max_age: int | None = None):
    """Per-1,000/100,000 member-month rates. Returns a Select of detail rows grouped by person x strata attributes
    (unit = member-month group).

    events: CTE (person_id, event_date, claim_id, <value columns>) with optional columns
      * attach_date - the date whose member month carries the event (default event_date). An event counts only
        when the person has a member month containing attach_date (e.g. PQI: enrolled on the admission date; IU:
        enrolled in the discharge month). The event belongs to MY by event_date, so a stay admitted in December
        of the prior year and discharged in MY attaches to that December month.
      * age - the event's own age (e.g. age at admission). The age rule of the specification then applies to the
        event, not to the month: an admission after the 18th birthday in the birthday month counts although that
        month (age 17 at its start) is not in the denominator. Without it, an event takes its month's age.
      * payer - the claim's payer: the event is stratified by the payer that paid it, not the month's plan.
    rates: rate_id -> (numerator value column name or None for count, denominator: 'mm' or a column name).
    Denominator member months: months of MY, one per person (the plan with most enrolled days), age at the start
    of the month within [min_age, max_age]; community_only drops long-term institutional months (for events too).
    """
    mm = member_months_dedup(ctx)
    eligible = [mm.c.month_start.between(ctx.ymd(-1, 1, 1), ctx.my_end)]
    if community_only:
        eligible.append(func.coalesce(mm.c.long_term_institutional_flag, False).is_(False))

    def age_ok(age):
        return and_(*([age >= min_age] if min_age is not None else []),
                    *([age <= max_age] if max_age is not None else []), literal(True))

    value_cols = sorted({c for r in rates.values() for c in r if c not in (None, "mm")})
    has_age, has_payer = "age" in events.c, "payer" in events.c
    attach = events.c.attach_date if "attach_date" in events.c else events.c.event_date
    ev_age = events.c.age if has_age else cast(null(), Integer)
    ev_payer = events.c.payer if has_payer else cast(null(), String)
    own = [c for c, present in ((ev_age, has_age), (ev_payer, has_payer)) if present]
    ev = (select(events.c.person_id, month_start(attach).label("month_start"), ev_age.label("ev_age"),
                 ev_payer.label("ev_payer"), func.count().label("n_events"),
                 func.min(events.c.claim_id).label("claim_id"),
                 *[func.sum(events.c[c]).label(c) for c in value_cols])
          .where(events.c.event_date.between(ctx.my_start, ctx.my_end))
          .group_by(events.c.person_id, month_start(attach), *own)).cte(f"{name}_ev")
    program = func.coalesce(mm.c.health_home_program_id, mm.c.icm_program_id)
    month_rows = (select(mm.c.person_id, mm.c.age_at_month_start.label("age"), mm.c.sex, mm.c.payer,
                         mm.c.delivery_system, program.label("program_id"), mm.c.icm_entity_id, mm.c.county_fips,
                         literal(1).label("mm"), literal(0).label("n_events"), cast(null(), String).label("claim_id"),
                         mm.c.month_start.label("last_month"), *[literal(0).label(c) for c in value_cols])
                  .where(*eligible, mm.c.month_start.between(ctx.my_start, ctx.my_end),
                         age_ok(mm.c.age_at_month_start)))
    event_age = func.coalesce(ev.c.ev_age, mm.c.age_at_month_start) if has_age else mm.c.age_at_month_start
    event_rows = (select(mm.c.person_id, event_age.label("age"), mm.c.sex,
                         func.coalesce(ev.c.ev_payer, mm.c.payer).label("payer"), mm.c.delivery_system,
                         program.label("program_id"), mm.c.icm_entity_id, mm.c.county_fips, literal(0).label("mm"),
                         ev.c.n_events, ev.c.claim_id, mm.c.month_start.label("last_month"),
                         *[ev.c[c] for c in value_cols])
                  .select_from(ev.join(mm, and_(mm.c.person_id == ev.c.person_id,
                                                mm.c.month_start == ev.c.month_start)))
                  .where(*eligible, age_ok(event_age)))
    rows = union_all(month_rows, event_rows).cte(f"{name}_rows")
    keys = [rows.c.person_id, rows.c.age, rows.c.sex, rows.c.payer, rows.c.delivery_system, rows.c.program_id,
            rows.c.icm_entity_id, rows.c.county_fips]
    g = (select(*keys, func.sum(rows.c.mm).label("mm"), func.sum(rows.c.n_events).label("n_events"),
                func.min(rows.c.claim_id).label("claim_id"), func.max(rows.c.last_month).label("last_month"),
                *[func.sum(rows.c[c]).label(c) for c in value_cols])
         .group_by(*keys)).cte(f"{name}_grp0")
    # unit id and the person's race/ethnicity once per group (not once per rate row of the union below)
    unit_id = (g.c.person_id + literal("|") + func.coalesce(cast(g.c.age, String), "") + "|"
               + func.coalesce(g.c.payer, "") + "|" + func.coalesce(g.c.delivery_system, "") + "|"
               + func.coalesce(g.c.program_id, "") + "|" + func.coalesce(g.c.icm_entity_id, "") + "|"
               + func.coalesce(g.c.county_fips, "") + "|" + func.coalesce(g.c.sex, ""))
    g = (select(g, unit_id.label("unit_id"), P.c.race, P.c.ethnicity)
         .select_from(g.outerjoin(P, P.c.person_id == g.c.person_id)).cte(f"{name}_grp"))
    parts = []
    for rate_id, (num, den) in rates.items():
        numv = g.c.n_events if num is None else g.c[num]
        denv = g.c.mm if den == "mm" else (g.c.n_events if den is None else g.c[den])
        parts.append(select(g.c.unit_id, literal("member_month_group").label("unit_type"),
                            g.c.person_id, g.c.last_month.label("anchor_date"), literal(rate_id).label("rate_id"),
                            literal(False).label("excluded"), cast(null(), String).label("exclusion_reason"),
                            (numv > 0).label("numerator_met"), numv.label("numerator_value"),
                            denv.label("denominator_value"),
                            case((numv > 0, g.c.claim_id), else_=None).label("numerator_claim_id"),
                            g.c.age.label("age"), g.c.sex, g.c.payer, g.c.delivery_system,
                            g.c.program_id, g.c.icm_entity_id.label("entity_id"), g.c.county_fips, g.c.race,
                            g.c.ethnicity))
    return union_all(*parts)


# --- windows & one-per-period ---------------------------------------------------------------------------------


def one_per_window(ctx: BuildContext, units, days: int, name: str):
    """Keep the first unit, drop later units within `days` of the last kept one (recursive CTE, per person).
    units: CTE with person_id, unit_id, unit_date. Returns CTE (unit_id) of kept units."""
    o = select(units.c.person_id, units.c.unit_id, units.c.unit_date,
               func.row_number().over(partition_by=units.c.person_id,
                                      order_by=(units.c.unit_date, units.c.unit_id)).label("rn")).cte(f"{name}_ord")
    base = (select(o.c.person_id, o.c.rn, o.c.unit_id, o.c.unit_date, o.c.unit_date.label("win_start"),
                   literal(1).label("keep")).where(o.c.rn == 1).cte(f"{name}_rec", recursive=True))
    r = base.alias(f"{name}_prev")
    starts_new = o.c.unit_date >= add_days(r.c.win_start, days)
    step = (select(o.c.person_id, o.c.rn, o.c.unit_id, o.c.unit_date,
                   case((starts_new, o.c.unit_date), else_=r.c.win_start).label("win_start"),
                   flag(starts_new).label("keep"))
            .select_from(o.join(r, and_(o.c.person_id == r.c.person_id, o.c.rn == r.c.rn + 1))))
    rec = base.union_all(step)
    return select(rec.c.unit_id).where(rec.c.keep == 1).cte(f"{name}_kept")


def first_match(units, events, on, order_cols, name: str, extra_cols=()):
    """For each unit, the first event satisfying `on` (ordered by order_cols): unit_id, event columns."""
    rn = func.row_number().over(partition_by=units.c.unit_id, order_by=order_cols)
    q = (select(units.c.unit_id, *extra_cols, rn.label("rn")).select_from(units.join(events, on))).cte(f"{name}_fm")
    return select(q).where(q.c.rn == 1).cte(name)


def detail_row(unit_id, unit_type: str, person_id, anchor_date, rate_id: str, numerator_met, numerator_claim_id,
               excluded=None, exclusion_reason=None, numerator_value=None, denominator_value=None, age=None):
    """Standard detail-row select list for event/member measures."""
    cols = [unit_id.label("unit_id"), literal(unit_type).label("unit_type"), person_id.label("person_id"),
            anchor_date.label("anchor_date"), literal(rate_id).label("rate_id"),
            (excluded if excluded is not None else literal(False)).label("excluded"),
            (exclusion_reason if exclusion_reason is not None else cast(null(), String)).label("exclusion_reason"),
            numerator_met.label("numerator_met"),
            (numerator_value if numerator_value is not None else case((numerator_met, 1), else_=0)).label("numerator_value"),
            (denominator_value if denominator_value is not None else literal(1)).label("denominator_value"),
            numerator_claim_id.label("numerator_claim_id")]
    if age is not None:
        cols.append(cast(age, Integer).label("age"))
    return cols





# --- pharmacy coverage ---------------------------------------------------------------------------------------


def fill_intervals(ctx: BuildContext, fills, name: str, cap_end=None):
    """fills (person_id, fill_date, days_supply, claim_id) -> merged coverage islands (person_id, s, e)."""
    end = add_days(fills.c.fill_date, fills.c.days_supply - 1)
    if cap_end is not None:
        end = func.least(end, cap_end)
    src = select(fills.c.person_id, fills.c.claim_id, fills.c.fill_date.label("admit_date"),
                 end.label("discharge_date")).cte(f"{name}_src")
    w3 = _merge_islands(src, name, gap_days=1)
    return (select(w3.c.person_id, func.min(w3.c.admit_date).label("s"), func.max(w3.c.discharge_date).label("e"))
            .group_by(w3.c.person_id, w3.c.grp)).cte(f"{name}_islands")


def covered_days(islands, units, ws_col, we_col, name: str):
    """Days of [ws, we] covered by islands, per unit (units: unit_id, person_id, plus ws/we expressions)."""
    overlap = func.greatest(days_between(func.greatest(islands.c.s, ws_col), func.least(islands.c.e, we_col)) + 1, 0)
    return (select(units.c.unit_id, func.coalesce(func.sum(overlap), 0).label("covered"))
            .select_from(units.outerjoin(islands, and_(islands.c.person_id == units.c.person_id,
                                                       islands.c.s <= we_col, islands.c.e >= ws_col)))
            .group_by(units.c.unit_id)).cte(name)
