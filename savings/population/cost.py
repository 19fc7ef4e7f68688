"""Total cost of care per person-month by service category, and annual truncated totals per person.

Service categories come from final-action claims, first match wins:
  ltss               institutional bill types 21-23/28 (SNF), 32-34 (home health), 65-66 (ICF), 81-82 (hospice);
                     professional POS 31-33 (nursing facility); HCBS HCPCS T10xx/T20xx/S51xx
  behavioral_health  principal diagnosis F10-F99 (mental, behavioural, substance use; not dementia F01-F09) or a
                     psychiatric place of service (51-53, 55-58)
  inpatient          institutional bill types 11, 12
  ed                 revenue centres 0450-0459/0981, HCPCS 99281-99285, POS 23
  outpatient         any other institutional claim
  professional       any other professional claim
  pharmacy           pharmacy_claim_final
  other              everything else
Amounts are line paid amounts (pharmacy: paid amount), attributed to the month of the line's service date and
counted only when the person has a member-month with the claim's own payer in that month. Claims paid after the
run-out (runout_months after the year) are left out; the completion factor divides the annual totals.
Truncation caps each person's annual (annualised) total per payer x enrollment type at a dollar threshold or at a
percentile of the annualised totals of everyone enrolled with that payer (by enrollment type when configured).

Money stays NUMERIC in the warehouse and `Decimal` in Python (savings/README.md, "Warehouse path rounding"): person-
year cost, annualised cost and truncated cost are rounded half-up to cents; a percentile threshold (percentile_cont
computes in double precision) is taken through its decimal text and rounded half-up to cents before it is applied.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Date, Engine, Integer, Numeric, and_, case, cast, delete, func, insert, literal, or_, select, type_coerce,
    union_all, update,
)

from savings.population.common import medicare_enrollment_type, money, month_add, to_decimal, year_bounds
from savings.population.config import SERVICE_CATEGORIES, PopulationConfig
from savings.work_tables import cost_person_month, cost_person_year
from warehouse import models

mm = models.MemberMonth.__table__
claim_t = models.MedicalClaimFinal.__table__
line_t = models.MedicalClaimLineFinal.__table__
rx_t = models.PharmacyClaimFinal.__table__

LTSS_BILL_TYPES = ("21", "22", "23", "28", "32", "33", "34", "65", "66", "81", "82")
INPATIENT_BILL_TYPES = ("11", "12")
ED_REVENUE = tuple(str(n) for n in range(450, 460)) + ("981",)
ED_HCPCS = ("99281", "99282", "99283", "99284", "99285")
BH_POS = ("51", "52", "53", "55", "56", "57", "58")
LTSS_POS = ("31", "32", "33")


def service_category(claim_type, bill_type, revenue, hcpcs, pos, dx1):
    """A CASE expression naming the service category of one medical claim line (see module docstring)."""
    bt = func.substr(func.ltrim(func.coalesce(bill_type, ""), "0"), 1, 2)
    rev = func.ltrim(func.coalesce(revenue, ""), "0")
    code = func.upper(func.coalesce(hcpcs, ""))
    place = func.coalesce(pos, "")
    dx = func.upper(func.replace(func.coalesce(dx1, ""), ".", ""))
    institutional = claim_type == "institutional"
    return case(
        (or_(and_(institutional, bt.in_(LTSS_BILL_TYPES)), place.in_(LTSS_POS),
             func.substr(code, 1, 3).in_(("T10", "T20", "S51"))), literal("ltss")),
        (or_(and_(func.substr(dx, 1, 1) == "F", func.substr(dx, 2, 2) >= "10"), place.in_(BH_POS)),
         literal("behavioral_health")),
        (and_(institutional, bt.in_(INPATIENT_BILL_TYPES)), literal("inpatient")),
        (or_(rev.in_(ED_REVENUE), code.in_(ED_HCPCS), place == "23"), literal("ed")),
        (institutional, literal("outpatient")),
        (claim_type == "professional", literal("professional")),
        else_=literal("other"),
    )


def _month_of(d):
    return cast(func.date_trunc("month", d), Date)


def _claim_amounts(cfg: PopulationConfig, year: int):
    """(person_id, payer, month_start, category, amount) for every final claim line / fill of the year."""
    first = dt.date(year, 1, 1)
    last = dt.date(year, 12, 31)
    paid_by = month_add(dt.date(year + 1, 1, 1), cfg.cost.runout_months) - dt.timedelta(days=1)
    svc = func.coalesce(line_t.c.claim_line_start_date, claim_t.c.claim_start_date)
    medical = (select(claim_t.c.person_id, claim_t.c.payer, _month_of(svc).label("month_start"),
                      service_category(claim_t.c.claim_type, claim_t.c.bill_type_code, line_t.c.revenue_center_code,
                                       line_t.c.hcpcs_code, line_t.c.place_of_service_code,
                                       claim_t.c.diagnosis_code_1).label("category"),
                      func.coalesce(line_t.c.paid_amount, 0).label("amount"))
               .select_from(line_t.join(claim_t, and_(line_t.c.claim_id == claim_t.c.claim_id,
                                                      line_t.c.data_source == claim_t.c.data_source)))
               .where(svc >= first, svc <= last,
                      or_(claim_t.c.paid_date.is_(None), claim_t.c.paid_date <= paid_by)))
    pharmacy = (select(rx_t.c.person_id, rx_t.c.payer, _month_of(rx_t.c.dispensing_date).label("month_start"),
                       literal("pharmacy").label("category"), func.coalesce(rx_t.c.paid_amount, 0).label("amount"))
                .where(rx_t.c.dispensing_date >= first, rx_t.c.dispensing_date <= last,
                       or_(rx_t.c.paid_date.is_(None), rx_t.c.paid_date <= paid_by)))
    return union_all(medical, pharmacy).subquery("amounts")


def build_cost(engine: Engine, config, year: int) -> dict:
    """Rebuild cost_person_month and cost_person_year for `year` (every member-month of in-scope payers)."""
    cfg = PopulationConfig.from_any(config)
    first, last = year_bounds(year)
    amounts = _claim_amounts(cfg, year)
    per_month = (select(amounts.c.person_id, amounts.c.payer, amounts.c.month_start,
                        *[func.sum(case((amounts.c.category == c, amounts.c.amount), else_=0)).label(c)
                          for c in SERVICE_CATEGORIES])
                 .group_by(amounts.c.person_id, amounts.c.payer, amounts.c.month_start).subquery("per_month"))
    etype = medicare_enrollment_type(mm.c.payer_type, mm.c.medicare_status_code, mm.c.dual_status_code,
                                     mm.c.age_at_month_start, mm.c.eligibility_group)
    where = [mm.c.month_start >= first, mm.c.month_start <= last]
    if cfg.payer_scope:
        where.append(mm.c.payer.in_(cfg.payer_scope))
    ranked = (select(mm.c.person_id, mm.c.month_start, mm.c.payer, mm.c.payer_type, etype.label("enrollment_type"),
                     func.row_number().over(partition_by=[mm.c.person_id, mm.c.month_start, mm.c.payer],
                                            order_by=[mm.c.days_enrolled.desc(), mm.c.plan, mm.c.data_source]
                                            ).label("rk"))
              .where(*where).subquery("months"))
    sel = (select(literal(year, Integer), ranked.c.person_id, ranked.c.month_start, ranked.c.payer,
                  ranked.c.payer_type, ranked.c.enrollment_type,
                  *[func.coalesce(per_month.c[c], 0) for c in SERVICE_CATEGORIES])
           .select_from(ranked.outerjoin(per_month, and_(per_month.c.person_id == ranked.c.person_id,
                                                         per_month.c.payer == ranked.c.payer,
                                                         per_month.c.month_start == ranked.c.month_start)))
           .where(ranked.c.rk == 1))
    cols = ["year", "person_id", "month_start", "payer", "payer_type", "enrollment_type", *SERVICE_CATEGORIES]
    cpm, cpy = cost_person_month, cost_person_year
    included = cfg.cost.categories
    total = sum((cpm.c[c] for c in included), literal(0)) if included else literal(0)
    cf = to_decimal(cfg.cost.completion_factor)
    completed = func.sum(completed_amount(cfg)) if cfg.cost.completion_factors else func.sum(total) / cf
    with engine.begin() as conn:
        conn.execute(delete(cpm).where(cpm.c.year == year))
        conn.execute(delete(cpy).where(cpy.c.year == year))
        conn.execute(insert(cpm).from_select(cols, sel))
        cost = cast(completed, Numeric(16, 2))
        months = func.count()
        person_year = (select(literal(year, Integer), cpm.c.person_id, cpm.c.payer, cpm.c.enrollment_type,
                              months, cost, cast(completed * 12 / months, Numeric(16, 2)), cost)
                       .where(cpm.c.year == year)
                       .group_by(cpm.c.person_id, cpm.c.payer, cpm.c.enrollment_type))
        conn.execute(insert(cpy).from_select(
            ["year", "person_id", "payer", "enrollment_type", "member_months", "cost", "annualized_cost",
             "truncated_cost"], person_year))
        thresholds = _apply_truncation(conn, cfg, year)
        n_months = conn.execute(select(func.count()).select_from(cpm).where(cpm.c.year == year)).scalar_one()
        n_years, total_cost, total_trunc = conn.execute(
            select(func.count(), func.sum(cpy.c.cost), func.sum(cpy.c.truncated_cost)).where(cpy.c.year == year)).one()
    return {"year": year, "cost_person_month": n_months, "cost_person_year": n_years,
            "cost": to_decimal(total_cost or 0), "truncated_cost": to_decimal(total_trunc or 0),
            "thresholds": thresholds}


COMPLETED = Numeric(28, 10)     # a completed amount: a division kept to 10 d.p. (DuckDB divides DECIMALs in DOUBLE)


def completed_amount(cfg: PopulationConfig):
    """A cost_person_month row's included cost divided by its completion factors, as SQL.

    With `cost.completion_factors` (payer x service category, savings.population.completion.with_factors) each
    category is divided by its payer's factor (CASE on the payer, factors as bound parameters; unlisted = 1)
    and the sum kept to 10 d.p.; otherwise the sum of the included categories divided by `completion_factor`
    (left exact when the factor is 1)."""
    cpm, num = cost_person_month, Numeric()
    cats = cfg.cost.categories
    if not cats:
        return literal(0)
    factors = cfg.cost.completion_factors
    if factors:
        def factor(c):
            whens = [(cpm.c.payer == p, literal(to_decimal(f[c]), num)) for p, f in sorted(factors.items()) if c in f]
            return case(*whens, else_=literal(1, num)) if whens else literal(1, num)
        return cast(sum(type_coerce(cpm.c[c], num) / factor(c) for c in cats), COMPLETED)
    raw = type_coerce(sum(cpm.c[c] for c in cats), num)
    cf = to_decimal(cfg.cost.completion_factor)
    return raw if cf == 1 else cast(raw / literal(cf, num), COMPLETED)


def _apply_truncation(conn, cfg: PopulationConfig, year: int) -> dict:
    t = cfg.cost.truncation
    cpy = cost_person_year
    if t.type == "none":
        return {}
    groups = [cpy.c.payer, cpy.c.enrollment_type] if t.by_enrollment_type else [cpy.c.payer]
    if t.type == "per_member_annual":
        if t.threshold_usd is None:
            raise ValueError("cost.truncation.threshold_usd is required when cost.truncation.type is per_member_annual")
        keys = conn.execute(select(*groups).where(cpy.c.year == year).distinct()).all()
        found = {tuple(k): money(t.threshold_usd) for k in keys}
    else:
        rows = conn.execute(select(*groups, func.percentile_cont(t.percentile).within_group(cpy.c.annualized_cost))
                            .where(cpy.c.year == year).group_by(*groups)).all()
        found = {tuple(r[:-1]): money(r[-1]) for r in rows}
    for key, thr in found.items():
        conds = [cpy.c.year == year] + [g == k for g, k in zip(groups, key)]
        conn.execute(update(cpy).where(*conds).values(
            truncation_threshold=thr,
            truncated_cost=case((cpy.c.annualized_cost > thr,
                                 cast(thr * cpy.c.member_months / 12, Numeric(16, 2))), else_=cpy.c.cost)))
    return {"/".join(k): v for k, v in found.items()}
