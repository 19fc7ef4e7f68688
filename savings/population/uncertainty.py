"""Uncertainty of every settlement: intervals, the chance of savings of that size, and a size warning.

For each settlement row (program x entity x payer, and 'combined') of a performance year the unit of
randomness is an attributed person's cost in one payer x enrollment type ("cell"): its expenditure e_i (the
attributed person-months' included cost, truncated as the person's annual cost is, scaled so the cells of a
payer x type add up to the settled expenditure, which carries the completion factor and the cents rounding) and
its benchmark b_i = benchmark per capita of its type x its person-years. The savings rate is
r = 1 - sum e_i / sum b_i (= (B - E) / B, spec §A.8). The benchmark per capita is held fixed: the question is
how much the performance-year cost of n persons varies by chance, which is the MSR's question (below).

Order of operations
1. **Analytic interval (ratio estimator).** R = sum e / sum b; se(r) = sqrt(n / (n - 1) x sum (e_i - R b_i)^2)
   / sum b (the linearised standard error of a ratio, Cochran, *Sampling Techniques*, 3rd ed., §6.3);
   interval r -/+ z2 x se with z2 = Phi^-1((1 + level) / 2), level = `confidence_level` (0.90): a confidence
   interval of the rate is two-sided (it bounds the rate both ways). `cost_cv` = se x sqrt(n) reports the entity's
   CV; with equal benchmarks per person se = CV / sqrt(n), the form the MSSP MSR table is built on.
2. **Chance probability.** Under no true savings (r = 0), the probability that a savings rate at least as far
   from 0 as the observed one, in its direction, arises from random variation: 1 - Phi(|r| / se) (one-sided,
   normal approximation). 0.5 when r = 0.
3. **Size warning: the MSR read as ONE-sided.** The MSR protects against paying for random variation when
   P(savings rate >= MSR | no true savings) <= 1 - level, i.e. MSR >= z1 x se with z1 = Phi^-1(level) (1.2816
   at 90 %); otherwise `msr_protects` is false and `warning` says so (also for an MSR of 0). Why one-sided
   (CMS-1345-P, 2011 proposed rule, pp. 265-268, re-read 2026-12-07 through the public page copies cited in the
   spec §A.9): (a) the rule states the MSR's purpose as confidence that an ACO of average cost "would be
   unlikely to achieve a shared savings payment by random chance" (p. 267): a payment needs savings beyond the
   MSR, one tail; losses have their own MLR. (b) The table itself decides it: the rule blends MSRs "between the
   two neighboring confidence intervals" from 5,000 to 20,000 and 20,000 to 50,000 (p. 268), and larger ACOs get
   "a higher confidence interval" (p. 267). With one cost CV for all sizes, MSR x sqrt(n) at 5,000 / 20,000 /
   50,000 (3.9 % / 2.5 % / 2.2 %, 425.604(b)) is 1 : 1.282 : 1.784; one-sided z at 90 / 95 / 99 % gives
   1 : 1.284 : 1.815, two-sided 1 : 1.191 : 1.566 (the 95 % and 99 % anchor levels are inferred [K]: p. 266, which
   would name them, was not found in a public copy). The same reading is the settlement engine's
   `msr.type: confidence_interval` (savings.settlement.msr_for, z = Phi^-1(confidence_level)). On that reading
   the sub-6,000 band ends (500 -> 12.2 %, ..., 5,000 -> 3.9 %) are z1(90 %) x 2.15 / sqrt(n) within 1 % (a
   Medicare beneficiary-cost CV of about 2.15; tests/savings_population/test_uncertainty.py).
4. **Bootstrap.** `replicates` resamples of the n cells with replacement (numpy Generator PCG64 seeded with
   `seed`, recorded in the row): each gives B*, E*, r* = 1 - E*/B* and earned* - owed* from the same settlement
   function as the row (so MSR, sharing, quality and caps apply as settled). Percentile interval at
   `confidence_level`. Resampling runs in chunks of replicates of about 2 million drawn indices each.
Rounding: the analytic and bootstrap rates are float64 (statistics, never multiplied into money) written to 8 d.p.;
dollar bounds are the settlement function's cents (Decimal), each bound the inverted-CDF order statistic of the
sorted replicates (numpy `method="inverted_cdf"`), so a bound is an amount some replicate settled.
"""
from __future__ import annotations

import math
from decimal import Decimal
from statistics import NormalDist
from typing import Callable

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, Numeric, and_, case, func, literal, select, type_coerce

from savings.population.common import rate
from savings.work_tables import attribution, cost_person_month, cost_person_year


class UncertaintySettings(BaseModel):
    """`uncertainty` in a methodology."""
    model_config = ConfigDict(extra="forbid")
    confidence_level: float = Field(0.90, gt=0.5, lt=1)
    replicates: int = Field(1000, ge=0, le=100_000)          # 0: no bootstrap (analytic interval only)
    seed: int = Field(20_261_207, ge=0)


def person_cells(engine: Engine, cfg, year: int) -> list[tuple]:
    """(program, entity, payer, enrollment type, person-months, cost) per attributed person x payer x type of
    the year, set-based in SQL (the person's included cost over the attributed months, scaled by truncated /
    annual cost when truncated). No member identifiers leave the query."""
    a, cpm, cpy = attribution, cost_person_month, cost_person_year
    cats = cfg.cost.categories
    num = Numeric()
    pm = type_coerce(sum((cpm.c[c] for c in cats), literal(0)) if cats else literal(0), num)
    annual, truncated = type_coerce(cpy.c.cost, num), type_coerce(cpy.c.truncated_cost, num)
    share = case((annual > 0, truncated / annual), else_=literal(1))
    q = (select(a.c.program_id, a.c.entity_id, a.c.payer, cpm.c.enrollment_type, func.count(),
                func.sum(pm) * func.max(share))
         .select_from(a.join(cpm, and_(cpm.c.person_id == a.c.person_id, cpm.c.month_start == a.c.month_start,
                                       cpm.c.payer == a.c.payer))
                      .join(cpy, and_(cpy.c.year == year, cpy.c.person_id == a.c.person_id,
                                      cpy.c.payer == a.c.payer, cpy.c.enrollment_type == cpm.c.enrollment_type)))
         .where(a.c.year == year)
         .group_by(a.c.program_id, a.c.entity_id, a.c.payer, cpm.c.enrollment_type, a.c.person_id))
    if cfg.program_id:
        q = q.where(a.c.program_id == cfg.program_id)
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(q)]


def group_cells(cells: list[tuple]) -> dict[tuple, tuple[np.ndarray, np.ndarray]]:
    """(program, entity, payer, type) -> (person-months, cost) arrays, grouped with numpy (no per-person loop)."""
    if not cells:
        return {}
    cols = list(zip(*cells))
    keys = np.array(["\x1f".join(k) for k in zip(*cols[:4])])
    months = np.asarray(cols[4], dtype=float)
    cost = np.asarray([float(c or 0) for c in cols[5]], dtype=float)
    uniq, inverse = np.unique(keys, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(uniq) + 1))
    return {tuple(u.split("\x1f")): (months[order[bounds[i]:bounds[i + 1]]], cost[order[bounds[i]:bounds[i + 1]]])
            for i, u in enumerate(uniq)}


def row_arrays(row: dict, groups: dict[tuple, tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """(e, b) arrays of a settlement row's cells: expenditure scaled to the row's settled expenditure per payer x
    type, benchmark = benchmark per capita of the type x person-years (module docstring)."""
    e_parts, b_parts = [], []
    for t in row["breakdown"]["by_type"]:
        key = (row["program_id"], row["entity_id"], t.get("payer", row["payer"]), t["enrollment_type"])
        if key not in groups:
            continue
        months, cost = groups[key]
        settled, total = float(t["expenditure"]), cost.sum()
        e_parts.append(cost * (settled / total) if total else np.full(len(cost), settled / len(cost)))
        b_parts.append(float(t["benchmark_pc"]) * months / 12.0)
    if not e_parts:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(e_parts), np.concatenate(b_parts)


def msr_z(level: float) -> float:
    """z of the MSR's one-sided reading (module docstring, step 3): Phi^-1(level), 1.2816 at 90 %."""
    return NormalDist().inv_cdf(level)


def analytic(e: np.ndarray, b: np.ndarray, msr, level: float) -> dict:
    """Steps 1-3 of the module docstring for one row's cells."""
    n = len(e)
    B, E = float(b.sum()), float(e.sum())
    if n < 2 or B <= 0:
        return {"n": n, "note": "fewer than 2 persons or no benchmark: no interval"}
    r = 1 - E / B
    ratio = E / B
    se = math.sqrt(n / (n - 1) * float(((e - ratio * b) ** 2).sum())) / B
    z, z_msr = NormalDist().inv_cdf((1 + level) / 2), msr_z(level)
    chance = 0.5 if r == 0 or se == 0 else 1 - NormalDist().cdf(abs(r) / se)
    msr_f = float(msr or 0)
    protects = msr_f >= z_msr * se
    out = {"n": n, "savings_rate": r, "se": se, "cost_cv": se * math.sqrt(n), "z": z,
           "rate_low": r - z * se, "rate_high": r + z * se, "chance_probability": chance,
           "msr_reading": "one-sided", "z_msr": z_msr, "random_variation_threshold": z_msr * se,
           "msr_protects": protects}
    if not protects:
        out["warning"] = (f"entity too small for its MSR: {n} persons at cost CV {se * math.sqrt(n):.2f} reach a "
                          f"savings rate of {z_msr * se:.2%} by chance alone with probability {1 - level:.0%} "
                          f"(one-sided), above the MSR of {msr_f:.2%}")
    return out


def bootstrap(e: np.ndarray, b: np.ndarray, settle_net: Callable[[Decimal, Decimal], Decimal], *,
              replicates: int, seed: int, level: float) -> dict:
    """Step 4: percentile intervals of the savings rate and of earned - owed over `replicates` resamples."""
    n = len(e)
    if n < 2 or replicates <= 0 or b.sum() <= 0:
        return {}
    rng = np.random.Generator(np.random.PCG64(seed))
    chunk = max(1, min(replicates, 2_000_000 // n))
    Bs, Es = [], []
    for start in range(0, replicates, chunk):
        idx = rng.integers(0, n, size=(min(chunk, replicates - start), n))
        Bs.append(b[idx].sum(axis=1))
        Es.append(e[idx].sum(axis=1))
    B, E = np.concatenate(Bs), np.concatenate(Es)
    rates = 1 - E / B
    net = sorted(settle_net(Decimal(repr(float(x))), Decimal(repr(float(y)))) for x, y in zip(B, E))
    lo_q, hi_q = (1 - level) / 2, (1 + level) / 2
    at = lambda q: net[max(0, math.ceil(q * len(net)) - 1)]  # noqa: E731 - the inverted-CDF order statistic
    return {"replicates": replicates, "seed": seed, "generator": "numpy PCG64",
            "rate_low": float(np.quantile(rates, lo_q, method="inverted_cdf")),
            "rate_high": float(np.quantile(rates, hi_q, method="inverted_cdf")),
            "rate_se": float(rates.std(ddof=1)),
            "net_low": at(lo_q), "net_high": at(hi_q),
            "share_of_replicates_paying": sum(1 for x in net if x > 0) / len(net),
            "share_of_replicates_owing": sum(1 for x in net if x < 0) / len(net)}


def row_uncertainty(row: dict, groups: dict, settle_net_for, settings: UncertaintySettings) -> dict:
    """The uncertainty record of one settlement row (kept in its breakdown; flat columns in `flat`)."""
    e, b = row_arrays(row, groups)
    settle_net = settle_net_for(row, len(e))
    out = {"confidence_level": settings.confidence_level,
           "unit": "attributed person x payer x enrollment type (performance year)",
           "analytic": analytic(e, b, row["msr"], settings.confidence_level)}
    boot = bootstrap(e, b, settle_net, replicates=settings.replicates, seed=settings.seed,
                     level=settings.confidence_level)
    if boot:
        out["bootstrap"] = boot
    return out


FLAT_COLUMNS = ("rate_low_analytic", "rate_high_analytic", "rate_low_bootstrap", "rate_high_bootstrap",
                "net_low_bootstrap", "net_high_bootstrap", "bootstrap_seed", "chance_probability", "msr_protects",
                "size_warning")


def flat(record: dict) -> dict:
    """Columns for `icm settle` rows: rate bounds (analytic and bootstrap), dollar bounds, chance, warning."""
    a, bt = record.get("analytic", {}), record.get("bootstrap", {})
    r8 = lambda x: None if x is None else rate(x)  # noqa: E731
    return {"rate_low_analytic": r8(a.get("rate_low")), "rate_high_analytic": r8(a.get("rate_high")),
            "rate_low_bootstrap": r8(bt.get("rate_low")), "rate_high_bootstrap": r8(bt.get("rate_high")),
            "net_low_bootstrap": bt.get("net_low"), "net_high_bootstrap": bt.get("net_high"),
            "bootstrap_seed": bt.get("seed"), "chance_probability": r8(a.get("chance_probability")),
            "msr_protects": a.get("msr_protects"), "size_warning": a.get("warning")}


def attach(engine: Engine, cfg, year: int, rows: list[dict], settle_net_for) -> None:
    """Add `breakdown.uncertainty` to every row (in place). `settle_net_for(row, persons)` returns the row's
    settlement function (benchmark, expenditure) -> earned - owed (Decimal cents) for an entity of that size."""
    settings = cfg.uncertainty
    groups = group_cells(person_cells(engine, cfg, year))
    for r in rows:
        r["breakdown"]["uncertainty"] = row_uncertainty(r, groups, settle_net_for, settings)
