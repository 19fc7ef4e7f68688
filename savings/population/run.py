"""Settle a performance year on the warehouse: prepare (attribution, cost, risk, inputs) for the base years and the
performance year, build benchmarks, score quality, settle every program x entity x payer (and 'combined'), write
`settlement` rows, and check them.

The settlement arithmetic is the settlement engine's (`savings.settlement`) when it offers a function this module
knows how to call; otherwise `settle_amounts` below (MSR/MLR corridor, first-dollar or net, quality-scaled sharing,
withhold, savings and loss caps) is used and the breakdown says which one ran.
"""
from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import Engine, delete, func, insert, select

from savings.population.attribution import attribute, check_attribution
from savings.population.benchmark import build_inputs, compute_benchmarks, load_inputs
from savings.population.common import CheckOutcome
from savings.population.config import PopulationConfig, SettlementConfig
from savings.population.cost import build_cost
from savings.population.risk import score_year
from savings.tables import savings_input, settlement
from warehouse import models

COMBINED = "combined"


def prepare_year(engine: Engine, config, year: int) -> dict:
    """Attribution, cost, risk and settlement inputs of one year (performance or base)."""
    cfg = PopulationConfig.from_any(config)
    return {"attribution": attribute(engine, cfg, year), "cost": build_cost(engine, cfg, year),
            "risk": score_year(engine, cfg, year), "inputs": build_inputs(engine, cfg, year)}


# --- quality ------------------------------------------------------------------------------------------------


def load_quality_inputs(engine: Engine, year: int, measures: list[str] | None = None) -> dict[str, list[dict]]:
    """entity_id -> measure results (stratum_type 'entity') of the measurement year."""
    try:
        from measures.tables import measure_result
    except ImportError:
        return {}
    q = select(measure_result.c.measure_id, measure_result.c.rate_id, measure_result.c.stratum_value,
               measure_result.c.numerator, measure_result.c.denominator, measure_result.c.rate,
               measure_result.c.status).where(measure_result.c.measurement_year == year,
                                              measure_result.c.stratum_type == "entity")
    if measures:
        q = q.where(measure_result.c.measure_id.in_(measures))
    out: dict[str, list[dict]] = defaultdict(list)
    with engine.connect() as conn:
        for r in conn.execute(q):
            out[r.stratum_value].append({"measure_id": r.measure_id, "rate_id": r.rate_id, "rate": r.rate,
                                         "numerator": float(r.numerator) if r.numerator is not None else None,
                                         "denominator": float(r.denominator) if r.denominator is not None else None,
                                         "status": r.status})
    return dict(out)


def quality_score(cfg: PopulationConfig, entity_id: str, results: list[dict], year: int) -> tuple[float, str]:
    """(score in [0, 1], note). With a quality scheme, the settlement engine's savings.quality.score_quality
    scores the entity's measure results; otherwise pay-for-reporting (score 1) with a note saying so."""
    if cfg.quality.scaling == "none":
        return 1.0, "no quality regime: full sharing rate"
    if year in cfg.quality.pay_for_reporting_years:
        return 1.0, f"pay-for-reporting year; {len(results)} measure results reported"
    scheme = cfg.quality.scheme
    if scheme:
        try:
            from savings.quality import MeasureResult, score_quality
        except ImportError:
            scheme = None
    if scheme:
        wanted = set((scheme.get("measures") or {}).keys())
        picked = {}
        for r in results:
            for key in (f"{r['measure_id']}:{r['rate_id']}", r["measure_id"]):
                if key in wanted and key not in picked and r["rate"] is not None:
                    picked[key] = MeasureResult(key, Decimal(str(r["rate"])))
        q = score_quality(list(picked.values()), scheme)
        return float(q.score), (f"quality scored by savings.quality.score_quality from {len(picked)} of "
                                f"{len(wanted)} scheme measures")
    return 1.0, (f"pay-for-reporting: {len(results)} measure results reported for {entity_id}; "
                 "no quality scheme configured")


# --- settlement arithmetic ------------------------------------------------------------------------------------


def settle_amounts(benchmark: float, expenditure: float, s: SettlementConfig, *, risk_arrangement: str,
                   quality: float, persons: int = 0) -> dict:
    """One settlement: savings, rate, corridor, generated, sharing, caps -> earned / owed, with every step."""
    steps = []
    savings = benchmark - expenditure
    rate = savings / benchmark if benchmark else 0.0
    two_sided = risk_arrangement == "two_sided"
    msr = s.msr_for(persons)
    mlr = msr if s.mlr is None else s.mlr
    s = s.model_copy(update={"msr": msr})
    steps.append({"step": "savings", "benchmark": benchmark, "expenditure": expenditure, "savings": savings,
                  "savings_rate": rate})
    generated = 0.0
    if savings > 0 and rate >= s.msr:
        generated = savings if s.first_dollar else savings - s.msr * benchmark
    elif savings < 0 and two_sided and -rate >= mlr:
        generated = savings if s.first_dollar else savings + mlr * benchmark
    steps.append({"step": "corridor", "msr": s.msr, "mlr": mlr if two_sided else None, "first_dollar": s.first_dollar,
                  "generated": generated,
                  "outcome": ("savings" if generated > 0 else "losses" if generated < 0 else "inside corridor")})
    earned = owed = 0.0
    sharing = s.max_share_rate * quality
    if generated > 0:
        earned = generated * sharing
        steps.append({"step": "sharing", "max_share_rate": s.max_share_rate, "quality_score": quality,
                      "sharing_rate": sharing, "shared": earned})
        if s.withhold:
            earned *= (1 - s.withhold)
            steps.append({"step": "withhold", "rate": s.withhold, "after": earned})
        if s.savings_cap_pct is not None:
            cap = s.savings_cap_pct * benchmark
            steps.append({"step": "savings_cap", "cap_pct": s.savings_cap_pct, "cap": cap, "capped": earned > cap})
            earned = min(earned, cap)
    elif generated < 0:
        loss_rate = s.loss_rate_for(quality)
        owed = -generated * loss_rate
        steps.append({"step": "loss_sharing", "rule": s.loss_rate_rule, "loss_share_rate": loss_rate, "shared": owed})
        if s.loss_cap_pct is not None:
            cap = s.loss_cap_pct * benchmark
            steps.append({"step": "loss_cap", "cap_pct": s.loss_cap_pct, "cap": cap, "capped": owed > cap})
            owed = min(owed, cap)
    steps.append({"step": "result", "earned": earned, "owed": owed})
    return {"savings": savings, "savings_rate": rate, "msr": s.msr, "mlr": mlr if two_sided else None,
            "generated": generated, "sharing_rate": sharing if generated >= 0 else s.loss_rate_for(quality),
            "earned": earned, "owed": owed, "steps": steps}


def _engine_methodology(cfg: PopulationConfig, override):
    """The settlement engine's Methodology when the config came from one (and no override is given)."""
    m = cfg.source
    if override is not None or m is None or not (hasattr(m, "settlement") and hasattr(m, "msr")):
        return None
    try:
        from savings.settlement import settle  # noqa: F401
    except ImportError:
        return None
    return m


def settle_with_engine(m, b: dict, year: int, arrangement: str, quality: float) -> dict:
    """Settle one benchmark/expenditure pair with savings.settlement.settle; map its statement to our row."""
    from savings.settlement import SettlementInput, settle

    notes = []
    if m.settlement.two_sided and arrangement != "two_sided":
        m = m.model_copy(update={"settlement": m.settlement.model_copy(
            update={"two_sided": False, "loss_rate": None, "loss_limit": None, "loss_corridors": None})})
        notes.append("entity is one-sided in icm_entity: losses not shared")
    elif arrangement == "two_sided" and not m.settlement.two_sided:
        notes.append("entity is two-sided in icm_entity but the methodology is one-sided")
    inp = SettlementInput(entity_id=b["entity_id"], performance_year=year, track=m.track or "medicaid",
                          assigned_beneficiaries=int(b["persons"]),
                          total_benchmark=Decimal(str(round(b["benchmark"], 2))),
                          total_expenditure=Decimal(str(round(b["expenditure"], 2))),
                          quality_score=Decimal(str(quality)), level=m.level,
                          payer=None if b["payer"] == COMBINED else b["payer"])
    res = settle(m, inp)
    earned = float(res.earned)
    steps = [{"step": label, "value": (float(v) if isinstance(v, Decimal) else v)}
             for label, v in res.statement_lines()]
    return {"engine": "savings.settlement.settle", "savings": float(res.savings),
            "savings_rate": float(res.savings_rate), "msr": float(res.msr),
            "mlr": float(res.mlr) if m.settlement.two_sided else None, "generated": float(res.generated),
            "sharing_rate": float(res.final_sharing_rate), "earned": earned if earned > 0 else 0.0,
            "owed": -earned if earned < 0 else 0.0,
            "steps": steps + ([{"step": "notes", "value": "; ".join(notes + [res.notes] if res.notes else notes)}]
                              if notes or res.notes else [])}


def settle_from_inputs(inputs: list[dict], cfg: PopulationConfig, year: int, *,
                       arrangements: dict[str, str] | None = None,
                       quality: dict[str, list[dict]] | None = None,
                       settlement_config: SettlementConfig | None = None,
                       trend: float | None = None,
                       quality_scores: dict[str, float] | None = None) -> list[dict]:
    """Pure settlement of every program x entity x payer and combined row from loaded inputs (no database)."""
    s = settlement_config or cfg.settlement
    arrangements = arrangements or {}
    quality = quality or {}
    bench = compute_benchmarks(inputs, cfg, year, trend=trend)
    combined: dict[tuple, dict] = {}
    for (program, entity, payer), b in bench.items():
        c = combined.setdefault((program, entity), {"program_id": program, "entity_id": entity, "payer": COMBINED,
                                                    "benchmark": 0.0, "expenditure": 0.0, "person_years": 0.0,
                                                    "persons": 0, "by_type": [], "notes": []})
        c["benchmark"] += b["benchmark"]
        c["expenditure"] += b["expenditure"]
        c["person_years"] += b["person_years"]
        c["persons"] += b["persons"]
        c["by_type"] += [{**t, "payer": payer} for t in b["by_type"]]
        c["notes"] += b["notes"]
    rows = []
    method_dump = cfg.model_dump(mode="json", exclude={"source": True, "attribution": {"em_codes"}})
    scores: dict[str, tuple[float, str]] = {}
    for b in [*bench.values(), *combined.values()]:
        entity = b["entity_id"]
        if entity not in scores:
            if quality_scores is not None and entity in quality_scores:
                scores[entity] = (float(quality_scores[entity]), "quality score supplied by the caller")
            else:
                scores[entity] = quality_score(cfg, entity, quality.get(entity, []), year)
        q, q_note = scores[entity]
        arrangement = arrangements.get(entity, "one_sided")
        engine_m = _engine_methodology(cfg, settlement_config)
        if engine_m is not None:
            r = settle_with_engine(engine_m, b, year, arrangement, q)
        else:
            r = settle_amounts(b["benchmark"], b["expenditure"], s, risk_arrangement=arrangement, quality=q,
                               persons=b["persons"])
        binding = (b["payer"] == COMBINED) == (s.settle_by == "combined")
        py = b["person_years"]
        rows.append({
            "year": year, "methodology_id": cfg.id, "program_id": b["program_id"], "entity_id": entity,
            "payer": b["payer"], "risk_arrangement": arrangement, "person_years": py,
            "benchmark_pc": b["benchmark"] / py if py else None, "benchmark": b["benchmark"],
            "expenditure_pc": b["expenditure"] / py if py else None, "expenditure": b["expenditure"],
            "savings": r["savings"], "savings_rate": r["savings_rate"], "msr": r["msr"], "mlr": r["mlr"],
            "generated": r["generated"], "quality_score": q, "sharing_rate": r["sharing_rate"],
            "earned": r["earned"], "owed": r["owed"], "binding": int(binding),
            "breakdown": {"engine": r.get("engine", "savings.population.run.settle_amounts"), "by_type": b["by_type"],
                          "steps": r["steps"], "quality_note": q_note, "notes": sorted(set(b["notes"])),
                          "settlement": s.model_dump(), "trend": cfg.benchmark.trend.value if trend is None else trend,
                          "methodology": method_dump},
        })
    rows.sort(key=lambda r: (r["program_id"], r["entity_id"], r["payer"] == COMBINED, r["payer"]))
    return rows


def entity_arrangements(engine: Engine) -> dict[str, str]:
    ent = models.IcmEntity.__table__
    with engine.connect() as conn:
        return {e: (a or "one_sided") for e, a in conn.execute(select(ent.c.entity_id, ent.c.risk_arrangement))}


def settle_year(engine: Engine, methodology, year: int, *, population=None, prepare: bool = True) -> list[dict]:
    """Prepare base and performance years, settle every entity, replace this methodology's settlement rows.

    `methodology`: a PopulationConfig / dict / YAML path / preset name / savings.methodology.Methodology.
    `population`: optional attribution + cost + risk rules (PopulationConfig, dict or YAML) used with a
    settlement-engine methodology, which carries none of its own.
    """
    cfg = PopulationConfig.from_any(methodology).with_population(population)
    years = sorted(set(cfg.benchmark.years_for(year)) | {year})
    if prepare:
        for y in years:
            prepare_year(engine, cfg, y)
    inputs = load_inputs(engine, years, cfg.program_id)
    rows = settle_from_inputs(inputs, cfg, year, arrangements=entity_arrangements(engine),
                              quality=load_quality_inputs(engine, year, cfg.quality.measures or None))
    write_settlement(engine, rows, year, cfg.id)
    return rows


def _money(x):
    return None if x is None else Decimal(str(round(x, 2)))


def write_settlement(engine: Engine, rows: list[dict], year: int, methodology_id: str) -> None:
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    out = []
    for r in rows:
        out.append({**r, **{k: _money(r[k]) for k in ("benchmark", "expenditure", "savings", "generated", "earned",
                                                       "owed")},
                    "breakdown": json.dumps(r["breakdown"], default=str), "computed_at": now})
    with engine.begin() as conn:
        conn.execute(delete(settlement).where(settlement.c.year == year,
                                              settlement.c.methodology_id == methodology_id))
        if out:
            conn.execute(insert(settlement), out)


# --- checks -----------------------------------------------------------------------------------------------


def check_settlement(engine: Engine, year: int, methodology_id: str | None = None) -> list[CheckOutcome]:
    """Entity totals add up (payers -> combined; entities -> program inputs), caps respected, nobody both earns
    and owes, one-sided entities owe nothing, one entity per person-month per program."""
    q = select(settlement).where(settlement.c.year == year)
    if methodology_id:
        q = q.where(settlement.c.methodology_id == methodology_id)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(q)]
        inputs = {(p, pay): float(e) for p, pay, e in conn.execute(
            select(savings_input.c.program_id, savings_input.c.payer, func.sum(savings_input.c.expenditure))
            .where(savings_input.c.year == year).group_by(savings_input.c.program_id, savings_input.c.payer))}
    out = []
    tol = 0.05
    # payers add up to combined
    sums: dict[tuple, list] = defaultdict(lambda: [0.0, 0.0])
    comb: dict[tuple, tuple] = {}
    for r in rows:
        key = (r["methodology_id"], r["program_id"], r["entity_id"])
        if r["payer"] == COMBINED:
            comb[key] = (float(r["benchmark"]), float(r["expenditure"]))
        else:
            sums[key][0] += float(r["benchmark"])
            sums[key][1] += float(r["expenditure"])
    bad = [k for k, (b, e) in comb.items() if abs(sums[k][0] - b) > tol * 10 or abs(sums[k][1] - e) > tol * 10]
    out.append(CheckOutcome("payers_add_up_to_combined", not bad,
                            f"{len(comb)} entities checked" if not bad else f"{len(bad)} entities do not add up", bad[:20]))
    # entities add up to program inputs
    prog: dict[tuple, float] = defaultdict(float)
    for r in rows:
        if r["payer"] != COMBINED:
            prog[(r["methodology_id"], r["program_id"], r["payer"])] += float(r["expenditure"])
    bad = [k for k, e in prog.items() if abs(inputs.get((k[1], k[2]), 0.0) - e) > tol * 10]
    out.append(CheckOutcome("entities_add_up_to_program", not bad,
                            f"{len(prog)} program x payer totals checked" if not bad
                            else f"{len(bad)} program totals differ from the sum of entities", bad[:20]))
    # caps, earn-and-owe, one-sided
    cap_bad, both, one_sided_owes = [], [], []
    for r in rows:
        key = (r["methodology_id"], r["program_id"], r["entity_id"], r["payer"])
        earned, owed, bench = float(r["earned"] or 0), float(r["owed"] or 0), float(r["benchmark"] or 0)
        s = json.loads(r["breakdown"] or "{}").get("settlement", {})
        if s.get("savings_cap_pct") is not None and earned > s["savings_cap_pct"] * bench + tol:
            cap_bad.append(key)
        if s.get("loss_cap_pct") is not None and owed > s["loss_cap_pct"] * bench + tol:
            cap_bad.append(key)
        if earned < 0 or owed < 0:
            cap_bad.append(key)
        if earned > 0 and owed > 0:
            both.append(key)
        if r["risk_arrangement"] != "two_sided" and owed > 0:
            one_sided_owes.append(key)
    out.append(CheckOutcome("caps_respected", not cap_bad, f"{len(rows)} rows checked", cap_bad[:20]))
    out.append(CheckOutcome("no_entity_earns_and_owes", not both, f"{len(rows)} rows checked", both[:20]))
    out.append(CheckOutcome("one_sided_entities_owe_nothing", not one_sided_owes, f"{len(rows)} rows checked",
                            one_sided_owes[:20]))
    out.append(check_attribution(engine, year))
    return out
