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
"""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Engine, Double, Integer, Numeric, and_, case, cast, delete, distinct, func, insert, literal, select

from savings.population.config import PopulationConfig
from savings.tables import attribution, cost_person_month, cost_person_year, risk_score, savings_input


def build_inputs(engine: Engine, config, year: int) -> int:
    """Rebuild savings_input rows of `year` from attribution, cost and risk of that year."""
    cfg = PopulationConfig.from_any(config)
    a, cpm, cpy, rs = attribution, cost_person_month, cost_person_year, risk_score
    cats = cfg.cost.categories
    cf = float(cfg.cost.completion_factor)
    pm_cost = sum((cpm.c[c] for c in cats), literal(0)) / cf if cats else literal(0.0)
    ratio = case((cpy.c.cost > 0, cast(cpy.c.truncated_cost, Double) / cast(cpy.c.cost, Double)), else_=1.0)
    model = "BLEND" if cfg.cost.risk_adjustment.model != "none" else None
    rs_join = and_(rs.c.year == year, rs.c.person_id == a.c.person_id, rs.c.model_version == (model or "-"))
    sel = (select(literal(year, Integer), a.c.program_id, a.c.entity_id, a.c.payer, cpm.c.enrollment_type,
                  func.count(distinct(a.c.person_id)), func.count(), cast(func.count(), Double) / 12.0,
                  cast(func.sum(pm_cost * ratio), Numeric(18, 2)), cast(func.sum(pm_cost), Numeric(18, 2)),
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


def load_inputs(engine: Engine, years: list[int], program_id: str | None = None) -> list[dict]:
    """savings_input rows of the given years as plain dicts (floats), for compute_benchmarks and notebooks."""
    q = select(savings_input).where(savings_input.c.year.in_(years))
    if program_id:
        q = q.where(savings_input.c.program_id == program_id)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(q)]
    for r in rows:
        for k in ("expenditure", "expenditure_untruncated", "person_years", "risk_score"):
            r[k] = float(r[k]) if r[k] is not None else None
    return rows


def compute_benchmarks(inputs: list[dict], cfg: PopulationConfig, year: int, *,
                       trend: float | None = None) -> dict[tuple, dict]:
    """(program, entity, payer) -> {benchmark, expenditure, person_years, by_type: [...], notes: [...]}."""
    b = cfg.benchmark
    trend = b.trend.value if trend is None else trend
    base_years = b.years_for(year)
    weights = dict(zip(base_years, b.base_weights))
    cap = cfg.cost.risk_adjustment.cap_growth
    use_risk = cfg.cost.risk_adjustment.model != "none"
    cell: dict[tuple, dict] = {}                      # (year, program, entity, payer, type) -> row
    program_cell: dict[tuple, list] = defaultdict(lambda: [0.0, 0.0, 0.0])   # (year, program, payer, type) -> exp, py, rs*py
    for r in inputs:
        cell[(r["year"], r["program_id"], r["entity_id"], r["payer"], r["enrollment_type"])] = r
        pc = program_cell[(r["year"], r["program_id"], r["payer"], r["enrollment_type"])]
        pc[0] += r["expenditure"]
        pc[1] += r["person_years"]
        pc[2] += (r["risk_score"] or 0.0) * r["person_years"]
    out: dict[tuple, dict] = {}
    for (y, program, entity, payer, etype), py_row in sorted(cell.items()):
        if y != year:
            continue
        key = (program, entity, payer)
        res = out.setdefault(key, {"program_id": program, "entity_id": entity, "payer": payer, "benchmark": 0.0,
                                   "expenditure": 0.0, "person_years": 0.0, "persons": 0, "by_type": [],
                                   "notes": []})
        py_years = py_row["person_years"]
        rs_py = py_row["risk_score"]
        parts, wsum = [], 0.0
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
            rr = 1.0
            if use_risk and rs_py and rs_k:
                rr = rs_py / rs_k
                if cap is not None:
                    rr = min(rr, 1.0 + cap)
            tf = (1.0 + trend) ** (year - k)
            parts.append({"base_year": k, "source": source, "per_capita": x_k, "trend_factor": tf,
                          "risk_ratio": rr, "weight": weights[k], "restated": x_k * tf * rr})
            wsum += weights[k]
        if parts:
            bench_pc = sum(p["weight"] * p["restated"] for p in parts) / wsum
        else:
            bench_pc = py_row["expenditure"] / py_years if py_years else 0.0
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
