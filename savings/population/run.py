"""Settle a performance year on the warehouse: prepare (attribution, cost, risk, inputs) for the base years and the
performance year, build benchmarks, score quality, settle every program x entity x payer (and 'combined'), write
`settlement` rows, and check them.

The settlement arithmetic is the settlement engine's (`savings.settlement`) when it offers a function this module
knows how to call; otherwise `settle_amounts` below (MSR/MLR corridor, first-dollar or net, quality-scaled sharing,
withhold, savings and loss caps) is used and the breakdown says which one ran.

Money and rates are `Decimal` end to end (savings/README.md, "Warehouse path rounding"):
* benchmarks, expenditure, savings, savings rate, MSR, generated and shared amounts are exact / unrounded
  Decimals (common.DECIMAL_CONTEXT); the MSR comparison uses the unrounded rate; caps compare unrounded amounts;
* `settle_amounts` rounds its final earned and owed to cents, half-up (once, after the caps);
* the settlement engine path hands the engine the benchmark and expenditure rounded to cents, half-up, and
  keeps the engine's own rounding of its result (`money_quantum`);
* `write_settlement` rounds benchmark, expenditure, savings, generated, earned, owed to cents (half-up) and
  person-years, per-capita and rates to the table's 8 d.p. (half-up); `settle_year` returns those rows as written.
"""
from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from decimal import Decimal, localcontext

from sqlalchemy import Engine, delete, func, insert, select

from savings.population import completion, uncertainty
from savings.population.attribution import attribute, check_attribution
from savings.population.benchmark import build_inputs, compute_benchmarks, load_inputs
from savings.population.common import (
    DECIMAL_CONTEXT, ONE, ZERO, CheckOutcome, decimal_json, money, rate, to_decimal,
)
from savings.population.config import PopulationConfig, SettlementConfig
from savings.population.cost import build_cost
from savings.population.risk import score_year
from savings.paying import COMBINED, row_pays
from savings.work_tables import attribution, cost_person_month, cost_person_year, risk_score, savings_input, settlement
from warehouse import models



def prepare_year(engine: Engine, config, year: int) -> dict:
    """Attribution, cost, risk and settlement inputs of one year (performance or base)."""
    cfg = PopulationConfig.from_any(config)
    if cfg.cost.completion_factor == "estimated":       # this year's estimate (settle_year passes a number)
        cfg = completion.with_factors(cfg, completion.factors_for_years(engine, cfg, year, [year]), year)
    return {"attribution": attribute(engine, cfg, year), "cost": build_cost(engine, cfg, year),
            "risk": score_year(engine, cfg, year), "inputs": build_inputs(engine, cfg, year)}


# --- quality ------------------------------------------------------------------------------------------------


def load_quality_inputs(engine: Engine, year: int, measures: list[str] | None = None) -> dict[str, list[dict]]:
    """entity_id -> measure results (stratum_type 'entity') of the measurement year."""
    try:
        from measures.tables import measure_result
    except ImportError:
        return {}
    q = select(measure_result.c.measure_id, measure_result.c.rate_id, measure_result.c.rate_type,
               measure_result.c.stratum_value,
               measure_result.c.numerator, measure_result.c.denominator, measure_result.c.rate,
               measure_result.c.status).where(measure_result.c.measurement_year == year,
                                              measure_result.c.stratum_type == "entity")
    if measures:
        q = q.where(measure_result.c.measure_id.in_(measures))
    out: dict[str, list[dict]] = defaultdict(list)
    with engine.connect() as conn:
        for r in conn.execute(q):
            out[r.stratum_value].append({"measure_id": r.measure_id, "rate_id": r.rate_id, "rate": r.rate,
                                         "rate_type": r.rate_type,
                                         "numerator": float(r.numerator) if r.numerator is not None else None,
                                         "denominator": float(r.denominator) if r.denominator is not None else None,
                                         "status": r.status})
    return dict(out)


def quality_score(cfg: PopulationConfig, entity_id: str, results: list[dict], year: int) -> tuple[Decimal, str]:
    """(score in [0, 1] as a Decimal, note). With a quality scheme, the settlement engine's
    savings.quality.score_quality scores the entity's measure results; otherwise pay-for-reporting (score 1) with
    a note saying so."""
    if cfg.quality.scaling == "none":
        return ONE, "no quality regime: full sharing rate"
    if year in cfg.quality.pay_for_reporting_years:
        return ONE, f"pay-for-reporting year; {len(results)} measure results reported"
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
                    picked[key] = MeasureResult(key, to_decimal(r["rate"]))
        q = score_quality(list(picked.values()), scheme)
        return to_decimal(q.score), (f"quality scored by savings.quality.score_quality from {len(picked)} of "
                                     f"{len(wanted)} scheme measures")
    return ONE, (f"pay-for-reporting: {len(results)} measure results reported for {entity_id}; "
                 "no quality scheme configured")


# --- settlement arithmetic ------------------------------------------------------------------------------------


def settle_amounts(benchmark, expenditure, s: SettlementConfig, *, risk_arrangement: str,
                   quality, persons: int = 0) -> dict:
    """One settlement: savings, rate, corridor, generated, sharing, caps -> earned / owed, with every step.

    Decimal throughout (float arguments are taken through their decimal text). Every step is exact / unrounded;
    only the final earned and owed are rounded, to cents half-up (in the `result` step and the returned dict)."""
    with localcontext(DECIMAL_CONTEXT):
        return _settle_amounts(to_decimal(benchmark), to_decimal(expenditure), s, risk_arrangement,
                               to_decimal(quality), persons)


def _settle_amounts(benchmark: Decimal, expenditure: Decimal, s: SettlementConfig, risk_arrangement: str,
                    quality: Decimal, persons: int) -> dict:
    steps = []
    savings = benchmark - expenditure
    rate_ = savings / benchmark if benchmark else ZERO
    two_sided = risk_arrangement == "two_sided"
    msr = s.msr_for(persons)
    mlr = msr if s.mlr is None else to_decimal(s.mlr)
    max_share, withhold = to_decimal(s.max_share_rate), to_decimal(s.withhold)
    savings_cap, loss_cap = to_decimal(s.savings_cap_pct), to_decimal(s.loss_cap_pct)
    steps.append({"step": "savings", "benchmark": benchmark, "expenditure": expenditure, "savings": savings,
                  "savings_rate": rate_})
    generated = ZERO
    if savings > 0 and rate_ >= msr:
        generated = savings if s.first_dollar else savings - msr * benchmark
    elif savings < 0 and two_sided and -rate_ >= mlr:
        generated = savings if s.first_dollar else savings + mlr * benchmark
    steps.append({"step": "corridor", "msr": msr, "mlr": mlr if two_sided else None, "first_dollar": s.first_dollar,
                  "generated": generated,
                  "outcome": ("savings" if generated > 0 else "losses" if generated < 0 else "inside corridor")})
    earned = owed = ZERO
    sharing = max_share * quality
    if generated > 0:
        earned = generated * sharing
        steps.append({"step": "sharing", "max_share_rate": max_share, "quality_score": quality,
                      "sharing_rate": sharing, "shared": earned})
        if withhold:
            earned *= (ONE - withhold)
            steps.append({"step": "withhold", "rate": withhold, "after": earned})
        if savings_cap is not None:
            cap = savings_cap * benchmark
            steps.append({"step": "savings_cap", "cap_pct": savings_cap, "cap": cap, "capped": earned > cap})
            earned = min(earned, cap)
    elif generated < 0:
        loss_rate = s.loss_rate_for(quality)
        owed = -generated * loss_rate
        steps.append({"step": "loss_sharing", "rule": s.loss_rate_rule, "loss_share_rate": loss_rate, "shared": owed})
        if loss_cap is not None:
            cap = loss_cap * benchmark
            steps.append({"step": "loss_cap", "cap_pct": loss_cap, "cap": cap, "capped": owed > cap})
            owed = min(owed, cap)
    earned, owed = money(earned), money(owed)          # the one rounding point: cents, half-up
    steps.append({"step": "result", "earned": earned, "owed": owed})
    return {"savings": savings, "savings_rate": rate_, "msr": msr, "mlr": mlr if two_sided else None,
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


def settle_with_engine(m, b: dict, year: int, arrangement: str, quality) -> dict:
    """Settle one benchmark/expenditure pair with savings.settlement.settle; map its statement to our row.

    The engine takes the totals as given: benchmark and expenditure are rounded to cents (half-up) here; the
    engine rounds its money lines to the methodology's `money_quantum`. All values stay Decimal."""
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
                          total_benchmark=money(b["benchmark"]), total_expenditure=money(b["expenditure"]),
                          quality_score=to_decimal(quality), level=m.level,
                          payer=None if b["payer"] == COMBINED else b["payer"])
    res = settle(m, inp)
    earned = to_decimal(res.earned)
    steps = [{"step": label, "value": v} for label, v in res.statement_lines()]
    return {"engine": "savings.settlement.settle", "savings": to_decimal(res.savings),
            "savings_rate": to_decimal(res.savings_rate), "msr": to_decimal(res.msr),
            "mlr": to_decimal(res.mlr) if m.settlement.two_sided else None, "generated": to_decimal(res.generated),
            "sharing_rate": to_decimal(res.final_sharing_rate),
            "earned": earned if earned > 0 else ZERO, "owed": -earned if earned < 0 else ZERO,   # no negative zero
            "steps": steps + ([{"step": "notes", "value": "; ".join(notes + [res.notes] if res.notes else notes)}]
                              if notes or res.notes else [])}


def settle_from_inputs(inputs: list[dict], cfg: PopulationConfig, year: int, *,
                       arrangements: dict[str, str] | None = None,
                       quality: dict[str, list[dict]] | None = None,
                       settlement_config: SettlementConfig | None = None,
                       trend: Decimal | float | None = None,
                       quality_scores: dict[str, Decimal | float] | None = None) -> list[dict]:
    """Pure settlement of every program x entity x payer and combined row from loaded inputs (no database).

    Rows hold Decimals: earned / owed rounded to cents (half-up), everything else unrounded (`write_settlement`
    rounds the rest as it stores them)."""
    with localcontext(DECIMAL_CONTEXT):
        return _settle_from_inputs(inputs, cfg, year, arrangements, quality, settlement_config,
                                   None if trend is None else to_decimal(trend), quality_scores)


def _settle_from_inputs(inputs, cfg: PopulationConfig, year: int, arrangements, quality, settlement_config,
                        trend: Decimal | None, quality_scores) -> list[dict]:
    s = settlement_config or cfg.settlement
    s = type(s).model_validate(dict(s))     # re-validated: a model_copy(update=...) may have put floats in
    arrangements = arrangements or {}
    quality = quality or {}
    bench = compute_benchmarks(inputs, cfg, year, trend=trend)
    combined: dict[tuple, dict] = {}
    for (program, entity, payer), b in bench.items():
        c = combined.setdefault((program, entity), {"program_id": program, "entity_id": entity, "payer": COMBINED,
                                                    "benchmark": ZERO, "expenditure": ZERO, "person_years": ZERO,
                                                    "persons": 0, "by_type": [], "notes": []})
        c["benchmark"] += b["benchmark"]
        c["expenditure"] += b["expenditure"]
        c["person_years"] += b["person_years"]
        c["persons"] += b["persons"]
        c["by_type"] += [{**t, "payer": payer} for t in b["by_type"]]
        c["notes"] += b["notes"]
    rows = []
    method_dump = cfg.model_dump(mode="json", exclude={"source": True, "attribution": {"em_codes"}})
    scores: dict[str, tuple[Decimal, str]] = {}
    for b in [*bench.values(), *combined.values()]:
        entity = b["entity_id"]
        if entity not in scores:
            if quality_scores is not None and entity in quality_scores:
                scores[entity] = (to_decimal(quality_scores[entity]), "quality score supplied by the caller")
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
        binding = row_pays(b["payer"], s.settle_by)
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
                          "settlement": s.model_dump(),
                          "trend": to_decimal(cfg.benchmark.trend.value) if trend is None else trend,
                          "methodology": method_dump,
                          # the settlement engine's own methodology, so a notebook re-settles with the same engine
                          **({"engine_methodology": engine_m.model_dump(mode="json")} if engine_m is not None
                             else {})},
        })
    rows.sort(key=lambda r: (r["program_id"], r["entity_id"], r["payer"] == COMBINED, r["payer"]))
    return rows


def methodology_version(cfg: PopulationConfig) -> str:
    """A short content digest of the settled rules (what the UI shows beside the methodology id): it changes
    whenever any parameter does, and is the same on every machine (no file path in it)."""
    import hashlib

    dump = cfg.model_dump(mode="json", exclude={"source": True})
    return "sha256:" + hashlib.sha256(json.dumps(dump, sort_keys=True, default=str).encode()).hexdigest()[:12]


def entity_arrangements(engine: Engine) -> dict[str, str]:
    ent = models.IcmEntity.__table__
    with engine.connect() as conn:
        return {e: (a or "one_sided") for e, a in conn.execute(select(ent.c.entity_id, ent.c.risk_arrangement))}


def settle_year(engine: Engine, methodology, year: int, *, population=None, prepare: bool = True) -> list[dict]:
    """Prepare base and performance years, settle every entity, replace this methodology's settlement rows.

    `methodology`: a PopulationConfig / dict / YAML path / preset name / savings.methodology.Methodology.
    `population`: optional attribution + cost + risk rules (PopulationConfig, dict or YAML) used with a
    settlement-engine methodology, which carries none of its own.
    Returns the rows as written to `settlement` (money in cents, rates at 8 d.p., Decimal; see `stored_row`).
    """
    cfg = PopulationConfig.from_any(methodology).with_population(population)
    years = sorted(set(cfg.benchmark.years_for(year)) | {year})
    completed = completion.factors_for_years(engine, cfg, year, years)
    if prepare:
        for y in years:
            prepare_year(engine, completion.with_factors(cfg, completed, y), y)
    inputs = load_inputs(engine, years, cfg.program_id)
    rows = settle_from_inputs(inputs, cfg, year, arrangements=entity_arrangements(engine),
                              quality=load_quality_inputs(engine, year, cfg.quality.measures or None))
    for r in rows:                         # the factors used are part of every settlement's record
        r["breakdown"]["completion"] = completion.summary(completed)
    uncertainty.attach(engine, cfg, year, rows, lambda r, n: net_settlement(cfg, r, n))
    stored = write_settlement(engine, rows, year, cfg.id)
    for r in stored:
        r.update(uncertainty.flat(r["breakdown"]["uncertainty"]))
    return stored


def net_settlement(cfg: PopulationConfig, row: dict, persons: int):
    """(benchmark, expenditure) -> earned - owed of this row's entity, as `settle_from_inputs` settled it (same
    methodology, arrangement, quality score, entity size): the settlement function the bootstrap re-runs."""
    engine_m = _engine_methodology(cfg, None)
    s = type(cfg.settlement).model_validate(dict(cfg.settlement))

    def net(benchmark: Decimal, expenditure: Decimal) -> Decimal:
        with localcontext(DECIMAL_CONTEXT):
            if engine_m is not None:
                b = {"entity_id": row["entity_id"], "payer": row["payer"], "persons": persons,
                     "benchmark": benchmark, "expenditure": expenditure}
                r = settle_with_engine(engine_m, b, row["year"], row["risk_arrangement"], row["quality_score"])
            else:
                r = settle_amounts(benchmark, expenditure, s, risk_arrangement=row["risk_arrangement"],
                                   quality=row["quality_score"], persons=persons)
        return r["earned"] - r["owed"]
    return net


MONEY_COLUMNS = ("benchmark", "expenditure", "savings", "generated", "earned", "owed")
RATE_COLUMNS = ("person_years", "benchmark_pc", "expenditure_pc", "savings_rate", "msr", "mlr", "quality_score",
                "sharing_rate")


def stored_row(r: dict) -> dict:
    """A settlement row as the table stores it: money rounded to cents and person-years, per-capita and rates to
    8 d.p., both half-up (Decimal); the breakdown keeps every unrounded step."""
    return {**r, **{k: money(r[k]) for k in MONEY_COLUMNS}, **{k: rate(r[k]) for k in RATE_COLUMNS}}


def write_settlement(engine: Engine, rows: list[dict], year: int, methodology_id: str) -> list[dict]:
    """Replace this methodology's settlement rows of `year`; returns the rows as written (see `stored_row`)."""
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    stored = [stored_row(r) for r in rows]
    out = [{**r, "breakdown": json.dumps(r["breakdown"], default=decimal_json), "computed_at": now} for r in stored]
    with engine.begin() as conn:
        conn.execute(delete(settlement).where(settlement.c.year == year,
                                              settlement.c.methodology_id == methodology_id))
        if out:
            conn.execute(insert(settlement), out)
    return stored


# --- checks -----------------------------------------------------------------------------------------------


def check_settlement(engine: Engine, year: int, methodology_id: str | None = None) -> list[CheckOutcome]:
    """Entity totals add up (payers -> combined; entities -> program inputs), caps respected, nobody both earns
    and owes, one-sided entities owe nothing, one entity per person-month per program."""
    q = select(settlement).where(settlement.c.year == year)
    if methodology_id:
        q = q.where(settlement.c.methodology_id == methodology_id)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(q)]
        inputs = {(p, pay): to_decimal(e) for p, pay, e in conn.execute(
            select(savings_input.c.program_id, savings_input.c.payer, func.sum(savings_input.c.expenditure))
            .where(savings_input.c.year == year).group_by(savings_input.c.program_id, savings_input.c.payer))}
    out = []
    tol = Decimal("0.05")        # stored rows are rounded to cents one by one; sums may differ by a few cents
    d = lambda x: to_decimal(x) or ZERO  # noqa: E731
    # payers add up to combined
    sums: dict[tuple, list] = defaultdict(lambda: [ZERO, ZERO])
    comb: dict[tuple, tuple] = {}
    for r in rows:
        key = (r["methodology_id"], r["program_id"], r["entity_id"])
        if r["payer"] == COMBINED:
            comb[key] = (d(r["benchmark"]), d(r["expenditure"]))
        else:
            sums[key][0] += d(r["benchmark"])
            sums[key][1] += d(r["expenditure"])
    bad = [k for k, (b, e) in comb.items() if abs(sums[k][0] - b) > tol * 10 or abs(sums[k][1] - e) > tol * 10]
    out.append(CheckOutcome("payers_add_up_to_combined", not bad,
                            f"{len(comb)} entities checked" if not bad else f"{len(bad)} entities do not add up", bad[:20]))
    # entities add up to program inputs
    prog: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    for r in rows:
        if r["payer"] != COMBINED:
            prog[(r["methodology_id"], r["program_id"], r["payer"])] += d(r["expenditure"])
    bad = [k for k, e in prog.items() if abs(inputs.get((k[1], k[2]), ZERO) - e) > tol * 10]
    out.append(CheckOutcome("entities_add_up_to_program", not bad,
                            f"{len(prog)} program x payer totals checked" if not bad
                            else f"{len(bad)} program totals differ from the sum of entities", bad[:20]))
    # caps, earn-and-owe, one-sided
    cap_bad, both, one_sided_owes = [], [], []
    for r in rows:
        key = (r["methodology_id"], r["program_id"], r["entity_id"], r["payer"])
        earned, owed, bench = d(r["earned"]), d(r["owed"]), d(r["benchmark"])
        s = json.loads(r["breakdown"] or "{}").get("settlement", {})
        if s.get("savings_cap_pct") is not None and earned > to_decimal(s["savings_cap_pct"]) * bench + tol:
            cap_bad.append(key)
        if s.get("loss_cap_pct") is not None and owed > to_decimal(s["loss_cap_pct"]) * bench + tol:
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
    out.append(check_work_tables_unique(engine, year))
    return out


# Keys the yearly work tables are unique on (they carry no PRIMARY KEY; migration 0006).
WORK_TABLE_KEYS = {
    attribution: ("year", "program_id", "person_id", "month_start", "payer"),
    cost_person_month: ("year", "person_id", "month_start", "payer"),
    cost_person_year: ("year", "person_id", "payer", "enrollment_type"),
    risk_score: ("year", "person_id", "model_version"),
}


def check_work_tables_unique(engine: Engine, year: int) -> CheckOutcome:
    """No key of attribution, cost and risk rows repeats within the year (set-based, in the database)."""
    repeated = {}
    with engine.connect() as conn:
        for table, key in WORK_TABLE_KEYS.items():
            cols = [table.c[k] for k in key]
            dup = select(*cols).where(table.c.year == year).group_by(*cols).having(func.count() > 1).subquery()
            n = conn.execute(select(func.count()).select_from(dup)).scalar_one()
            if n:
                repeated[table.name] = n
    return CheckOutcome("work_tables_unique", not repeated,
                        f"{len(WORK_TABLE_KEYS)} tables checked" if not repeated
                        else f"repeated keys: {repeated}", [f"{t}: {n} keys" for t, n in repeated.items()])
