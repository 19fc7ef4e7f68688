"""Helpers for the actuary notebooks: open a warehouse read-only, load settlement inputs once, re-settle in memory.

The person-level inputs (one row per person x entity x payer x enrollment type x year, aggregated in SQL from
attribution, cost and risk) let a notebook re-apply truncation, trend, MSR, sharing and quality in pandas /
Python for every entity in well under a second. In-memory truncation uses the attributed population's
distribution (the warehouse uses everyone enrolled with the payer), so it is a sensitivity approximation.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
from sqlalchemy import Double, and_, case, cast, func, inspect, literal, select

from savings.population.config import PopulationConfig, SettlementConfig, TruncationConfig
from savings.population.run import entity_arrangements, load_quality_inputs, settle_from_inputs
from savings.tables import attribution, cost_person_month, cost_person_year, risk_score, savings_input, settlement
from warehouse.engine import is_duckdb, make_engine


def _df(conn, q) -> pd.DataFrame:
    result = conn.execute(q)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def warehouse_url() -> str:
    return os.environ.get("WAREHOUSE_URL") or f"duckdb:///{Path('.icm') / 'warehouse.duckdb'}"


def _has_settlement(url: str) -> bool:
    if is_duckdb(url):
        path = url.split(":///", 1)[1]
        if not Path(path).exists():
            return False
    engine = make_engine(url, read_only=is_duckdb(url))
    try:
        if "settlement" not in inspect(engine).get_table_names():
            return False
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(settlement)).scalar_one() > 0
    except Exception:  # noqa: BLE001 - unreadable warehouse: fall back to the sample
        return False
    finally:
        engine.dispose()


def open_warehouse(sample_path: str | Path = ".icm/sample_savings.duckdb"):
    """(engine, url, note): the configured warehouse read-only if it holds settlements, else a small sample
    warehouse built once at `sample_path` (so the notebooks always run)."""
    url = warehouse_url()
    note = f"warehouse {url}"
    if not _has_settlement(url):
        from savings.population.sample import build_sample_warehouse

        sample = Path(sample_path)
        sample_url = f"duckdb:///{sample}"
        if not _has_settlement(sample_url):
            sample.parent.mkdir(parents=True, exist_ok=True)
            if sample.exists():
                sample.unlink()
            build_sample_warehouse(sample_url)
        note = f"{url} has no settlement rows; using the generated sample warehouse {sample_url}"
        url = sample_url
    return make_engine(url, read_only=is_duckdb(url)), url, note


def load_person_inputs(engine, cfg: PopulationConfig, years: list[int]) -> pd.DataFrame:
    """Person x entity x payer x enrollment type x year: member-months, cost (included categories, completed),
    risk (member-month weighted). Aggregated in the warehouse; a few rows per attributed person."""
    a, cpm, rs = attribution, cost_person_month, risk_score
    cats = cfg.cost.categories
    cost = sum((cast(cpm.c[c], Double) for c in cats), literal(0.0)) / cfg.cost.completion_factor
    q = (select(a.c.year, a.c.program_id, a.c.entity_id, a.c.payer, cpm.c.enrollment_type, a.c.person_id,
                func.count().label("member_months"), func.sum(cost).label("cost"),
                func.avg(cast(rs.c.normalized_score, Double)).label("risk"))
         .select_from(a.join(cpm, and_(cpm.c.person_id == a.c.person_id, cpm.c.month_start == a.c.month_start,
                                       cpm.c.payer == a.c.payer))
                      .outerjoin(rs, and_(rs.c.year == a.c.year, rs.c.person_id == a.c.person_id,
                                          rs.c.model_version == "BLEND")))
         .where(a.c.year.in_(years))
         .group_by(a.c.year, a.c.program_id, a.c.entity_id, a.c.payer, cpm.c.enrollment_type, a.c.person_id))
    if cfg.program_id:
        q = q.where(a.c.program_id == cfg.program_id)
    with engine.connect() as conn:
        return _df(conn, q)


def inputs_from_persons(persons: pd.DataFrame, truncation: dict | TruncationConfig | None) -> list[dict]:
    """savings_input-shaped rows from person-level inputs, with truncation re-applied in memory."""
    t = TruncationConfig.model_validate(truncation or {}) if not isinstance(truncation, TruncationConfig) else truncation
    df = persons.copy()
    df["annual"] = df["cost"] * 12.0 / df["member_months"]
    keys = ["year", "payer", "enrollment_type"] if t.by_enrollment_type else ["year", "payer"]
    if t.type == "percentile":
        thr = df.groupby(keys)["annual"].transform(lambda s: s.quantile(t.percentile))
    elif t.type == "per_member_annual":
        thr = pd.Series(float(t.threshold_usd), index=df.index)
    else:
        thr = pd.Series(float("inf"), index=df.index)
    df["truncated"] = df["cost"].where(df["annual"] <= thr, thr * df["member_months"] / 12.0)
    df["risk_mm"] = df["risk"].fillna(0) * df["member_months"]
    g = df.groupby(["year", "program_id", "entity_id", "payer", "enrollment_type"], as_index=False).agg(
        persons=("person_id", "nunique"), member_months=("member_months", "sum"), expenditure=("truncated", "sum"),
        expenditure_untruncated=("cost", "sum"), risk_mm=("risk_mm", "sum"))
    g["person_years"] = g["member_months"] / 12.0
    g["risk_score"] = g["risk_mm"] / g["member_months"]
    if persons["risk"].isna().all():
        g["risk_score"] = None
    return g.drop(columns=["risk_mm"]).to_dict("records")


def load_context(engine, year: int | None = None, methodology_id: str | None = None) -> dict:
    """Everything a notebook needs, loaded once: the settled methodology, person inputs, quality, arrangements."""
    q = select(settlement.c.year, settlement.c.methodology_id, settlement.c.breakdown).order_by(
        settlement.c.year.desc(), settlement.c.computed_at.desc())
    if year is not None:
        q = q.where(settlement.c.year == year)
    if methodology_id is not None:
        q = q.where(settlement.c.methodology_id == methodology_id)
    with engine.connect() as conn:
        row = conn.execute(q.limit(1)).one()
        stored = _df(conn, select(settlement).where(
            settlement.c.year == row.year, settlement.c.methodology_id == row.methodology_id))
    cfg = PopulationConfig.model_validate(json.loads(row.breakdown)["methodology"])
    years = sorted(set(cfg.benchmark.years_for(row.year)) | {row.year})
    quality = load_quality_inputs(engine, row.year, cfg.quality.measures or None)
    return {"year": row.year, "cfg": cfg, "years": years, "persons": load_person_inputs(engine, cfg, years),
            "quality": quality, "arrangements": entity_arrangements(engine), "stored": stored}


def quality_scores(ctx: dict, scheme: str) -> dict[str, float] | None:
    """pay_for_reporting -> None (score 1); measure_mean -> mean reported rate per entity (0-1)."""
    if scheme == "pay_for_reporting":
        return None
    if scheme == "measure_mean":
        return {e: min(1.0, max(0.0, sum(r["rate"] or 0 for r in rs) / len(rs))) for e, rs in ctx["quality"].items()
                if rs}
    raise ValueError(f"QUALITY_SCHEME: unknown scheme {scheme!r} (pay_for_reporting | measure_mean)")


def resettle(ctx: dict, *, msr: float | None = None, sharing_rate: float | None = None, trend: float | None = None,
             truncation: dict | None = None, quality_scheme: str = "pay_for_reporting",
             inputs: list[dict] | None = None) -> pd.DataFrame:
    """Re-settle every entity with changed parameters; returns all rows (binding column marks the paying row)."""
    cfg: PopulationConfig = ctx["cfg"]
    s: SettlementConfig = cfg.settlement.model_copy(update={
        k: v for k, v in {"msr": msr, "max_share_rate": sharing_rate}.items() if v is not None})
    if msr is not None:
        s = s.model_copy(update={"msr_type": "fixed"})
    inputs = inputs if inputs is not None else inputs_from_persons(ctx["persons"], truncation or cfg.cost.truncation)
    rows = settle_from_inputs(inputs, cfg, ctx["year"], arrangements=ctx["arrangements"], quality=ctx["quality"],
                              settlement_config=s, trend=trend, quality_scores=quality_scores(ctx, quality_scheme))
    return pd.DataFrame(rows)


def entity_summary(engine, year: int, program_id: str, entity_id: str, cfg: PopulationConfig) -> dict:
    """Attribution, cost-by-category and truncation facts of one entity (SQL aggregates)."""
    from savings.population.config import SERVICE_CATEGORIES

    a, cpm, cpy = attribution, cost_person_month, cost_person_year
    where = [a.c.program_id == program_id, a.c.entity_id == entity_id]
    with engine.connect() as conn:
        reasons = _df(conn, 
            select(a.c.year, a.c.reason, a.c.payer, func.count(func.distinct(a.c.person_id)).label("persons"),
                   func.count().label("member_months")).where(*where)
            .group_by(a.c.year, a.c.reason, a.c.payer).order_by(a.c.year, a.c.payer))
        cost = _df(conn, 
            select(a.c.year, *[func.sum(cast(cpm.c[c], Double)).label(c) for c in SERVICE_CATEGORIES])
            .select_from(a.join(cpm, and_(cpm.c.person_id == a.c.person_id, cpm.c.month_start == a.c.month_start,
                                          cpm.c.payer == a.c.payer)))
            .where(*where).group_by(a.c.year).order_by(a.c.year))
        persons = select(a.c.year, a.c.person_id, a.c.payer).where(*where).distinct().subquery()
        trunc = _df(conn, 
            select(cpy.c.year, func.count().label("person_years_rows"),
                   func.sum(case((cpy.c.truncated_cost < cpy.c.cost, 1), else_=0)).label("persons_truncated"),
                   func.sum(cast(cpy.c.cost - cpy.c.truncated_cost, Double)).label("dollars_removed"))
            .select_from(cpy.join(persons, and_(persons.c.year == cpy.c.year, persons.c.person_id == cpy.c.person_id,
                                                persons.c.payer == cpy.c.payer)))
            .group_by(cpy.c.year).order_by(cpy.c.year))
        inputs = _df(conn, select(savings_input).where(
            savings_input.c.program_id == program_id, savings_input.c.entity_id == entity_id)
            .order_by(savings_input.c.year, savings_input.c.payer, savings_input.c.enrollment_type))
    included = cfg.cost.categories
    if not cost.empty:
        cost["included_total"] = cost[included].sum(axis=1)
    return {"attribution": reasons, "cost_by_category": cost, "truncation": trunc, "inputs": inputs}
