"""Helpers for the actuary notebooks: open a warehouse read-only, load settlement inputs once, re-settle in memory.

The person-level inputs (one row per person x entity x payer x enrollment type x year, aggregated in SQL from
attribution, cost and risk) let a notebook re-apply truncation, trend, MSR, sharing and quality in pandas /
Python for every entity in well under a second. In-memory truncation uses the attributed population's
distribution (the warehouse uses everyone enrolled with the payer), so it is a sensitivity approximation.

Money is `Decimal` here as in the warehouse path (savings/README.md, "Warehouse path rounding"): person costs are
read as NUMERIC, annualised costs and truncated costs are rounded to cents like cost_person_year, the rebuilt
inputs like savings_input (expenditure in cents, person-years and risk to 8 d.p.), and `resettle` returns the
Decimal rows of `settle_from_inputs`. Only the truncation percentile itself is computed in float (as
percentile_cont is in the warehouse) before it is rounded to cents. `as_float` converts a result for plotting.
"""
from __future__ import annotations

import json
import tempfile
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path

import pandas as pd
from sqlalchemy import Double, and_, case, cast, func, inspect, literal, select

from savings.population.common import CENT, DECIMAL_CONTEXT, ONE, ZERO, money, rate, to_decimal
from savings.population.config import PopulationConfig, SettlementConfig, TruncationConfig
from savings.population.benchmark import load_inputs
from savings.population.cost import completed_amount
from savings.population.run import entity_arrangements, load_quality_inputs, settle_from_inputs
from savings.work_tables import attribution, cost_person_month, cost_person_year, risk_score, savings_input, settlement
from warehouse.engine import default_url, display_url, is_duckdb, make_engine
from warehouse.roles import LOADER, least_role_engine
from warehouse.snapshot import SnapshotUnavailable, snapshot_for_reading


def _df(conn, q) -> pd.DataFrame:
    result = conn.execute(q)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


class NoWarehouse(RuntimeError):
    """The notebook has no warehouse to read: the message says which one and what to do."""


SAMPLE_PATH = Path(tempfile.gettempdir()) / "icm-notebooks" / "sample_savings.duckdb"
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def warehouse_url() -> str:
    """The warehouse the command line uses (warehouse.engine.default_url: WAREHOUSE_URL, else .icm/warehouse.duckdb
    under the working directory); a notebook's kernel starts in notebooks/, so a relative DuckDB path that is not
    there is looked up from the project root too."""
    url = default_url()
    path = duckdb_path(url)
    if path is not None and not path.is_absolute() and not path.exists() and (PROJECT_ROOT / path).exists():
        return f"duckdb:///{PROJECT_ROOT / path}"
    return url


def duckdb_path(url: str) -> Path | None:
    return Path(url.split(":///", 1)[1]) if is_duckdb(url) and ":///" in url and not url.endswith(":memory:") \
        else None


def _settlement_count(engine) -> int:
    if "settlement" not in inspect(engine).get_table_names():
        return 0
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(settlement)).scalar_one()


def open_warehouse(use_sample: bool = False):
    """(engine, url, note): the warehouse the command line uses, opened read-only. A DuckDB warehouse is read
    through its snapshot (warehouse/snapshot.py), so a pipeline writing it meanwhile neither blocks the notebook
    nor is blocked by it; `url` is then the snapshot's.

    Raises NoWarehouse (one sentence saying what to do) when it does not exist, cannot be opened (a pipeline is
    writing it and no snapshot was published yet) or holds no settlement. A generated sample warehouse is used only
    when asked for (`use_sample=True`); it is built once in the system's temporary folder, never in the repository."""
    if use_sample:
        if not SAMPLE_PATH.exists():
            from savings.population.sample import build_sample_warehouse

            SAMPLE_PATH.parent.mkdir(parents=True, exist_ok=True)
            build_sample_warehouse(f"duckdb:///{SAMPLE_PATH}")
        url = f"duckdb:///{SAMPLE_PATH}"
        return make_engine(url, read_only=True), url, f"generated sample warehouse {url} (use_sample=True)"
    url = warehouse_url()
    path = duckdb_path(url)
    if path is not None and not path.exists():
        raise NoWarehouse(f"no warehouse at {path}: run `make demo` (or `icm load` and `icm settle`), or set "
                          "WAREHOUSE_URL; for a generated sample set USE_SAMPLE = True")
    try:
        url, note = snapshot_for_reading(url)
    except SnapshotUnavailable as exc:
        raise NoWarehouse(str(exc)) from None
    shown = display_url(url)
    # least role: these notebooks re-settle from person-level inputs (attribution x cost by person_id), which
    # icm_analyst may not read, so they read as icm_loader, read-only (README, Reliability)
    engine = least_role_engine(url, LOADER, read_only=True)
    try:
        n = _settlement_count(engine)
    except Exception:  # noqa: BLE001 - locked or unreachable: say so in one sentence
        engine.dispose()
        raise NoWarehouse(f"cannot open the warehouse {shown} read-only: if a pipeline is writing it, wait for it "
                          "to finish; otherwise check WAREHOUSE_URL") from None
    if not n:
        engine.dispose()
        raise NoWarehouse(f"the warehouse {shown} holds no settlement: run `icm settle --year YEAR` first")
    return engine, url, note


def load_person_inputs(engine, cfg: PopulationConfig, years: list[int], completion: dict | None = None) -> pd.DataFrame:
    """Person x entity x payer x enrollment type x year: member-months, cost (included categories, completed;
    Decimal), risk (member-month weighted, Decimal). Aggregated in the warehouse; a few rows per attributed person.
    `completion`: the settlement's completion record (breakdown["completion"]); an estimated methodology's costs
    are completed with the factors the settlement applied to each year."""
    a, rs = attribution, risk_score
    frames = []
    for year in years:
        cost = completed_amount(year_config(cfg, completion, year))    # as the settlement completed it (cost.py)
        q = (select(a.c.year, a.c.program_id, a.c.entity_id, a.c.payer, cost_person_month.c.enrollment_type,
                    a.c.person_id, func.count().label("member_months"), func.sum(cost).label("cost"),
                    func.avg(rs.c.normalized_score).label("risk"))
             .select_from(a.join(cost_person_month, and_(cost_person_month.c.person_id == a.c.person_id,
                                                         cost_person_month.c.month_start == a.c.month_start,
                                                         cost_person_month.c.payer == a.c.payer))
                          .outerjoin(rs, and_(rs.c.year == a.c.year, rs.c.person_id == a.c.person_id,
                                              rs.c.model_version == "BLEND")))
             .where(a.c.year == year)
             .group_by(a.c.year, a.c.program_id, a.c.entity_id, a.c.payer, cost_person_month.c.enrollment_type,
                       a.c.person_id))
        if cfg.program_id:
            q = q.where(a.c.program_id == cfg.program_id)
        with engine.connect() as conn:
            frames.append(_df(conn, q))
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    df["cost"] = [to_decimal(c) or ZERO for c in df["cost"]]
    df["risk"] = [to_decimal(r) for r in df["risk"]]
    return df


def year_config(cfg: PopulationConfig, completion: dict | None, year: int) -> PopulationConfig:
    """`cfg` with the completion factor(s) the settlement applied to `year` (a number methodology: unchanged)."""
    if cfg.cost.completion_factor != "estimated":
        return cfg
    record = completion or {}
    factor = (record.get("year_factors", {}).get(str(year)) or {}).get("completion_factor")
    if factor is None:
        raise ValueError(f"completion: the settlement record has no estimated factor for {year}")
    applied = {p: {c: to_decimal(f) for c, f in cats.items()}
               for p, cats in (record.get("applied", {}).get(str(year)) or {}).items()}
    cost = cfg.cost.model_copy(update={"completion_factor": to_decimal(factor), "completion_factors": applied})
    return cfg.model_copy(update={"cost": cost})


def inputs_from_persons(persons: pd.DataFrame, truncation: dict | TruncationConfig | None) -> list[dict]:
    """savings_input-shaped rows (Decimal) from person-level inputs, with truncation re-applied in memory.

    As in the warehouse: annualised cost = cost x 12 / months rounded to cents; the threshold (a percentile of
    the annualised costs, or the configured dollar amount) rounded to cents; a person above it counts
    threshold x months / 12 rounded to cents. Totals like savings_input: expenditure in cents, person-years and
    risk to 8 d.p. (all half-up)."""
    t = TruncationConfig.model_validate(truncation or {}) if not isinstance(truncation, TruncationConfig) else truncation
    with localcontext(DECIMAL_CONTEXT):
        return _inputs_from_persons(persons, t)


def _inputs_from_persons(persons: pd.DataFrame, t: TruncationConfig) -> list[dict]:
    months = [int(m) for m in persons["member_months"]]
    cost = [to_decimal(c) or ZERO for c in persons["cost"]]
    annual = [(c * 12 / m).quantize(CENT, rounding=ROUND_HALF_UP) for c, m in zip(cost, months)]
    if t.type == "percentile":
        keys = ["year", "payer", "enrollment_type"] if t.by_enrollment_type else ["year", "payer"]
        af = pd.Series([float(a) for a in annual], index=persons.index)
        q = af.groupby([persons[k] for k in keys]).transform(lambda s: s.quantile(t.percentile)).tolist()
        rounded = {x: money(x) for x in set(q)}          # one threshold per group
        thr = [rounded[x] for x in q]
    elif t.type == "per_member_annual":
        thr = [money(t.threshold_usd)] * len(cost)
    else:
        thr = [None] * len(cost)
    risk = [to_decimal(r) for r in persons["risk"]]
    groups: dict[tuple, dict] = {}
    cols = zip(persons["year"].tolist(), persons["program_id"].tolist(), persons["entity_id"].tolist(),
               persons["payer"].tolist(), persons["enrollment_type"].tolist(), persons["person_id"].tolist())
    for (year, program, entity, payer, etype, person), m, c, a, th, r in zip(cols, months, cost, annual, thr, risk):
        g = groups.get((year, program, entity, payer, etype))
        if g is None:
            g = groups[(year, program, entity, payer, etype)] = {
                "persons": set(), "member_months": 0, "expenditure": ZERO, "expenditure_untruncated": ZERO,
                "risk_mm": ZERO}
        g["persons"].add(person)
        g["member_months"] += m
        g["expenditure"] += c if th is None or a <= th else money(th * m / 12)
        g["expenditure_untruncated"] += c
        if r is not None:
            g["risk_mm"] += r * m
    no_risk = all(r is None for r in risk)
    out = []
    for (year, program, entity, payer, etype), g in sorted(groups.items()):
        mm = g["member_months"]
        out.append({"year": year, "program_id": program, "entity_id": entity, "payer": payer,
                    "enrollment_type": etype, "persons": len(g["persons"]), "member_months": mm,
                    "expenditure": money(g["expenditure"]),
                    "expenditure_untruncated": money(g["expenditure_untruncated"]),
                    "person_years": rate(Decimal(mm) / 12),
                    "risk_score": None if no_risk else rate(g["risk_mm"] / mm)})
    return out


def load_context(engine, year: int | None = None, methodology_id: str | None = None) -> dict:
    """Everything a notebook needs, loaded once: the settled methodology (with the settlement engine's, when it
    settled), the stored settlement inputs (savings_input), person inputs, quality, arrangements."""
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
    breakdown = json.loads(row.breakdown)
    cfg = PopulationConfig.model_validate(breakdown["methodology"])
    if breakdown.get("engine_methodology"):
        from savings.methodology import parse_methodology

        cfg.source = parse_methodology(breakdown["engine_methodology"])
    years = sorted(set(cfg.benchmark.years_for(row.year)) | {row.year})
    quality = load_quality_inputs(engine, row.year, cfg.quality.measures or None)
    return {"year": row.year, "cfg": cfg, "years": years, "persons": load_person_inputs(engine, cfg, years, breakdown.get("completion")),
            "inputs": load_inputs(engine, years, cfg.program_id),
            "quality": quality, "arrangements": entity_arrangements(engine), "stored": stored}


def settled_parameters(ctx: dict) -> dict:
    """The parameters the settlement used: the notebook's starting values (re-settling with them reproduces the
    stored settlement to the cent). msr is None when the methodology's MSR is not one fixed rate."""
    cfg: PopulationConfig = ctx["cfg"]
    return {"msr": cfg.settlement.msr if cfg.settlement.msr_type == "fixed" else None,
            "sharing_rate": cfg.settlement.max_share_rate, "trend": cfg.benchmark.trend.value,
            "truncation": cfg.cost.truncation.model_dump(mode="json"), "quality_scheme": "as_settled"}


QUALITY_SCHEMES = ("as_settled", "pay_for_reporting", "measure_mean", "proportion_mean")


def quality_scores(ctx: dict, scheme: str) -> dict[str, Decimal] | None:
    """as_settled -> None (the methodology's own quality rule); pay_for_reporting -> 1 for everyone; measure_mean ->
    mean reported rate per entity, refused when an entity's rates are in different units (a percent and a rate
    per 1,000 member months cannot be averaged); proportion_mean -> mean of the entity's proportions only."""
    if scheme == "as_settled":
        return None
    if scheme == "pay_for_reporting":
        return {e: ONE for e in ctx["arrangements"]}
    if scheme not in QUALITY_SCHEMES:
        raise ValueError(f"QUALITY_SCHEME: unknown scheme {scheme!r} ({' | '.join(QUALITY_SCHEMES)})")
    scores = {}
    with localcontext(DECIMAL_CONTEXT):
        for entity, results in ctx["quality"].items():
            rates = [r for r in results if r["rate"] is not None
                     and (scheme == "measure_mean" or r.get("rate_type") == "proportion")]
            units = sorted({r.get("rate_type") or "unknown" for r in rates})
            if len(units) > 1:
                raise ValueError(f"QUALITY_SCHEME {scheme!r}: entity {entity}'s measure rates are in different "
                                 f"units ({', '.join(units)}) and cannot be averaged; use 'proportion_mean'")
            if rates:
                scores[entity] = min(ONE, max(ZERO, sum((to_decimal(r["rate"]) for r in rates), ZERO) / len(rates)))
    return scores


def _engine_with(m, msr, sharing_rate):
    """The settlement engine's methodology with a fixed MSR and / or another maximum sharing rate."""
    update = {}
    if msr is not None:
        update["msr"] = m.msr.model_copy(update={"type": "fixed", "value": msr})
    if sharing_rate is not None:
        update["settlement"] = m.settlement.model_copy(update={"max_share_rate": sharing_rate})
    return m.model_copy(update=update)


def resettle(ctx: dict, *, msr=None, sharing_rate=None, trend=None, truncation: dict | None = None,
             quality_scheme: str = "as_settled", inputs: list[dict] | None = None) -> pd.DataFrame:
    """Re-settle every entity with changed parameters; returns all rows (binding column marks the paying row).

    A parameter left at None, or equal to the settled value (settled_parameters), is the settlement's own: with
    every parameter as settled the rows equal the stored settlement to the cent (same inputs from savings_input,
    same settlement engine). A changed truncation rebuilds the inputs from person-level costs in memory.
    msr / sharing_rate / trend: Decimal, str or float (0.1 is taken as Decimal('0.1')). The frame's amounts and
    rates are Decimal (object columns): sums stay exact; `as_float(frame)` for plots and rounding displays."""
    cfg: PopulationConfig = ctx["cfg"]
    settled = settled_parameters(ctx)
    msr = None if msr is None or to_decimal(msr) == settled["msr"] else to_decimal(msr)
    sharing_rate = None if sharing_rate is None or to_decimal(sharing_rate) == settled["sharing_rate"] \
        else to_decimal(sharing_rate)
    run_cfg = cfg
    if msr is not None or sharing_rate is not None:
        update = {**({"msr": msr, "msr_type": "fixed"} if msr is not None else {}),
                  **({"max_share_rate": sharing_rate} if sharing_rate is not None else {})}
        run_cfg = cfg.model_copy(update={"settlement": SettlementConfig.model_validate({**dict(cfg.settlement),
                                                                                          **update})})
        run_cfg.source = None if cfg.source is None else _engine_with(cfg.source, msr, sharing_rate)
    if inputs is None:
        same = truncation is None or TruncationConfig.model_validate(truncation) == cfg.cost.truncation
        inputs = ctx["inputs"] if same and "inputs" in ctx else inputs_from_persons(
            ctx["persons"], truncation or cfg.cost.truncation)
    rows = settle_from_inputs(inputs, run_cfg, ctx["year"], arrangements=ctx["arrangements"], quality=ctx["quality"],
                              trend=None if trend is None else to_decimal(trend),
                              quality_scores=quality_scores(ctx, quality_scheme))
    return pd.DataFrame(rows)


def reproduces_settlement(ctx: dict, frame: pd.DataFrame) -> list[str]:
    """Rows of `frame` whose earned or owed differ from the stored settlement (empty = reproduced to the cent)."""
    def paid(rows: pd.DataFrame) -> dict:
        return {(r.program_id, r.entity_id, r.payer): (money(r.earned), money(r.owed)) for r in rows.itertuples()}

    stored, now = paid(ctx["stored"]), paid(frame)
    return [f"{k}: settled {stored.get(k)}, now {now.get(k)}" for k in sorted(set(stored) | set(now))
            if stored.get(k) != now.get(k)]


def as_float(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with Decimal columns as float, for matplotlib and `.round()` displays (not for arithmetic)."""
    out = frame.copy()
    for col in out.columns:
        values = out[col]
        if values.dtype == object and values.map(lambda v: isinstance(v, Decimal)).any():
            values = values.map(lambda v: float(v) if isinstance(v, Decimal) else v)
            try:
                values = values.astype(float)              # None -> NaN
            except (TypeError, ValueError):
                pass
            out[col] = values
    return out


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
