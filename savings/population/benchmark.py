"""Settlement inputs per program x entity x payer x enrollment type x year, and benchmarks built from them.

`build_inputs` aggregates inside the warehouse (attribution x cost x truncation x risk) into `savings_input`, a few
rows per entity. Everything after that is arithmetic on those small rows (`compute_benchmarks`), so a notebook can
re-run benchmarks and settlement for every entity in milliseconds after loading the inputs once.

Benchmark for performance year PY, per (program, entity, payer) and enrollment type t (spec §A.6-A.7 adapted to
Medicaid: base years trended straight to PY):
  X_k,t   = expenditure / person-years of base year k (truncated, completed)
  trend   = (1 + trend)^(PY - k)
  rr_k,t  = RS_PY,t / RS_k,t, capped at 1 + cap_growth when configured (1 when no risk model)
  B_t     = sum_k w_k X_k,t trend_k rr_k,t        (weights renormalised over the base years that have data)
  B       = sum_t B_t x PY person-years_t,  E = sum_t PY expenditure_t
An entity with no base-year data for a type borrows the program's per-capita for that payer and type (noted in the
breakdown); with no program data either, the PY per-capita of the type is used (benchmark = expenditure, noted).

Numbers (see savings/README.md, "Warehouse path rounding"): `savings_input` holds expenditure in NUMERIC(18, 2)
(each entity x payer x type total rounded half-up to cents once, in SQL, from NUMERIC person-month amounts; only a
truncated person's pro-rated months pass through a 10-d.p. division) and person-years / risk in NUMERIC(18, 8).
`load_inputs` returns them as `Decimal`, and `compute_benchmarks` works in exact `Decimal` (common.DECIMAL_CONTEXT,
34 digits): trend factors are integer powers (exact), per-capita and risk ratios are the only divisions. Nothing is
rounded here: per-capita, trend factors, risk ratios and benchmarks are returned unrounded; the settlement rounds
money to cents when it is written (savings.population.run).
"""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal, localcontext

from sqlalchemy import (
    Engine, Double, Integer, Numeric, and_, case, cast, delete, distinct, func, insert, literal, or_, select,
    type_coerce,
)

from savings.population.common import DECIMAL_CONTEXT, ONE, ZERO, to_decimal
from savings.population.config import PopulationConfig
from savings.population.cost import completed_amount
from savings.work_tables import attribution, cost_person_month, cost_person_year, risk_score, savings_input


def build_inputs(engine: Engine, config, year: int) -> int:
    """Rebuild savings_input rows of `year` from attribution, cost and risk of that year."""
    cfg = PopulationConfig.from_any(config)
    a, cpm, cpy, rs = attribution, cost_person_month, cost_person_year, risk_score
    cats = cfg.cost.categories
    cf = to_decimal(cfg.cost.completion_factor)
    # NUMERIC throughout: a person-month's included amount (completed), scaled by truncated/annual cost only for
    # truncated persons. A division (completion factor(s), truncation share) is kept to 10 d.p. (DuckDB divides
    # DECIMALs in DOUBLE); untruncated months with completion factor 1 are summed exactly.
    # (operands typed as unconstrained NUMERIC: SQLAlchemy casts a PostgreSQL divisor to the expression's type)
    num = Numeric()
    pm_raw = type_coerce(sum((cpm.c[c] for c in cats), literal(0)) if cats else literal(0), num)
    frac = Numeric(28, 10)
    if cfg.cost.completion_factors:          # per payer x category (cost.completed_amount)
        pm_cost = completed_amount(cfg)
        truncated_share = cast(type_coerce(pm_cost, num) * cpy.c.truncated_cost / type_coerce(cpy.c.cost, num), frac)
    elif cf == 1:
        pm_cost = pm_raw
        truncated_share = cast(pm_raw * cpy.c.truncated_cost / type_coerce(cpy.c.cost, num), frac)
    else:
        cf_lit = literal(cf, num)
        pm_cost = cast(pm_raw / cf_lit, frac)
        truncated_share = cast(pm_raw * cpy.c.truncated_cost / (type_coerce(cpy.c.cost, num) * cf_lit), frac)
    untruncated = or_(cpy.c.cost <= 0, cpy.c.truncated_cost == cpy.c.cost)
    pm_expenditure = case((untruncated, pm_cost), else_=truncated_share)
    model = "BLEND" if cfg.cost.risk_adjustment.model != "none" else None
    rs_join = and_(rs.c.year == year, rs.c.person_id == a.c.person_id, rs.c.model_version == (model or "-"))
    sel = (select(literal(year, Integer), a.c.program_id, a.c.entity_id, a.c.payer, cpm.c.enrollment_type,
                  func.count(distinct(a.c.person_id)), func.count(), cast(func.count(), Double) / 12.0,
                  cast(func.sum(pm_expenditure), Numeric(18, 2)), cast(func.sum(pm_cost), Numeric(18, 2)),
                  func.avg(rs.c.normalized_score))
           .select_from(a.join(cpm, and_(cpm.c.person_id == a.c.person_id, cpm.c.month_start == a.c.month_start,
                                         cpm.c.payer == a.c.payer))
                        .join(cpy, and_(cpy.c.year == year, cpy.c.person_id == a.c.person_id,
                                        cpy.c.payer == a.c.payer, cpy.c.enrollment_type == cpm.c.enrollment_type))
                        .outerjoin(rs, rs_join))
           .where(a.c.year == year)
           .group_by(a.c.program_id, a.c.entity_id, a.c.payer, cpm.c.enrollment_type))
    if cfg.program_id:
        sel = sel.where(a.c.program_id == cfg.program_id)
    with engine.begin() as conn:
        d = delete(savings_input).where(savings_input.c.year == year)
        if cfg.program_id:
            d = d.where(savings_input.c.program_id == cfg.program_id)
        conn.execute(d)
        conn.execute(insert(savings_input).from_select(
            ["year", "program_id", "entity_id", "payer", "enrollment_type", "persons", "member_months", "person_years",
             "expenditure", "expenditure_untruncated", "risk_score"], sel))
        return conn.execute(select(func.count()).select_from(savings_input)
                            .where(savings_input.c.year == year)).scalar_one()


NUMERIC_INPUTS = ("expenditure", "expenditure_untruncated", "person_years", "risk_score")


def load_inputs(engine: Engine, years: list[int], program_id: str | None = None) -> list[dict]:
    """savings_input rows of the given years as plain dicts, expenditure / person-years / risk as `Decimal` (the
    NUMERIC columns as stored), for compute_benchmarks and notebooks."""
    q = select(savings_input).where(savings_input.c.year.in_(years))
    if program_id:
        q = q.where(savings_input.c.program_id == program_id)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(q)]
    for r in rows:
        for k in NUMERIC_INPUTS:
            r[k] = to_decimal(r[k])
    return rows


def compute_benchmarks(inputs: list[dict], cfg: PopulationConfig, year: int, *,
                       trend: Decimal | float | str | None = None) -> dict[tuple, dict]:
    """(program, entity, payer) -> {benchmark, expenditure, person_years, by_type: [...], notes: [...]}.

    Exact Decimal arithmetic (inputs given as floats are taken through their decimal text); every amount, rate
    and factor in the result is an unrounded `Decimal` (money is rounded to cents only when settled / written)."""
    with localcontext(DECIMAL_CONTEXT):
        return _compute_benchmarks(inputs, cfg, year, trend)


def _compute_benchmarks(inputs: list[dict], cfg: PopulationConfig, year: int, trend) -> dict[tuple, dict]:
    b = cfg.benchmark
    trend = to_decimal(b.trend.value if trend is None else trend)
    base_years = b.years_for(year)
    weights = {k: to_decimal(w) for k, w in zip(base_years, b.base_weights)}
    cap = to_decimal(cfg.cost.risk_adjustment.cap_growth)
    use_risk = cfg.cost.risk_adjustment.model != "none"
    cell: dict[tuple, dict] = {}                      # (year, program, entity, payer, type) -> row
    # (year, program, payer, type) -> [expenditure, person-years, risk x person-years]
    program_cell: dict[tuple, list] = defaultdict(lambda: [ZERO, ZERO, ZERO])
    for r in inputs:
        r = {**r, **{k: to_decimal(r.get(k)) for k in NUMERIC_INPUTS}}
        cell[(r["year"], r["program_id"], r["entity_id"], r["payer"], r["enrollment_type"])] = r
        pc = program_cell[(r["year"], r["program_id"], r["payer"], r["enrollment_type"])]
        pc[0] += r["expenditure"]
        pc[1] += r["person_years"]
        pc[2] += (r["risk_score"] or ZERO) * r["person_years"]
    out: dict[tuple, dict] = {}
    for (y, program, entity, payer, etype), py_row in sorted(cell.items()):
        if y != year:
            continue
        key = (program, entity, payer)
        res = out.setdefault(key, {"program_id": program, "entity_id": entity, "payer": payer, "benchmark": ZERO,
                                   "expenditure": ZERO, "person_years": ZERO, "persons": 0, "by_type": [],
                                   "notes": []})
        py_years = py_row["person_years"]
        rs_py = py_row["risk_score"]
        parts, wsum = [], ZERO
        for k in base_years:
            src = cell.get((k, program, entity, payer, etype))
            source = "entity"
            if src and src["person_years"] > 0:
                x_k, rs_k = src["expenditure"] / src["person_years"], src["risk_score"]
            else:
                pc = program_cell.get((k, program, payer, etype))
                if not pc or pc[1] <= 0:
                    continue
                x_k, rs_k, source = pc[0] / pc[1], (pc[2] / pc[1] if use_risk else None), "program"
                res["notes"].append(f"{etype} {k}: no entity base data; program per-capita used")
            rr = ONE
            if use_risk and rs_py and rs_k:
                rr = rs_py / rs_k
                if cap is not None:
                    rr = min(rr, ONE + cap)
            tf = (ONE + trend) ** (year - k)          # integer exponent: exact
            parts.append({"base_year": k, "source": source, "per_capita": x_k, "trend_factor": tf,
                          "risk_ratio": rr, "weight": weights[k], "restated": x_k * tf * rr})
            wsum += weights[k]
        if parts:
            bench_pc = sum(p["weight"] * p["restated"] for p in parts) / wsum
        else:
            bench_pc = py_row["expenditure"] / py_years if py_years else ZERO
            res["notes"].append(f"{etype}: no base-year data; benchmark = performance-year per-capita")
        res["by_type"].append({"enrollment_type": etype, "person_years": py_years, "risk_score": rs_py,
                               "benchmark_pc": bench_pc, "expenditure": py_row["expenditure"],
                               "expenditure_untruncated": py_row["expenditure_untruncated"],
                               "base_years": parts})
        res["benchmark"] += bench_pc * py_years
        res["expenditure"] += py_row["expenditure"]
        res["person_years"] += py_years
        res["persons"] += py_row["persons"]
    return out
