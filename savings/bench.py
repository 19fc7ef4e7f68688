"""Sensitivity sweep benchmark: settle N entities under P parameter sets.

``sweep(n_entities=1000, n_params=1000)`` times a vectorised numpy (float64) settlement of the full
N x P grid and checks a random sample of cells against the Decimal engine (the authority): every
sampled cell must agree within one cent. Returns JSON-able figures. ``python -m savings.bench``.

The fast path covers the methodology subset a sweep varies: variable-table or fixed MSR/MLR, first-dollar
or beyond-threshold sharing, max sharing rate x quality score (multiplicative regime) with the quality
standard, sequestration before the performance payment limit, flat loss rate, loss limit as % of
benchmark, PHE loss mitigation.
"""
from __future__ import annotations

import json
import time
from decimal import Decimal

import numpy as np

from .methodology import CMS_VARIABLE_TABLE, parse_methodology
from .settlement import SettlementInput, settle


def _variable_msr_np(n: np.ndarray) -> np.ndarray:
    out = np.full(n.shape, float(CMS_VARIABLE_TABLE[0].low))
    for b in CMS_VARIABLE_TABLE:
        if b.max_n is None:
            sel = n >= b.min_n
            out[sel] = float(b.low)
        else:
            sel = (n >= b.min_n) & (n <= b.max_n)
            lo, hi = float(b.low), float(b.high)
            out[sel] = lo - (n[sel] - b.min_n) / (b.max_n - b.min_n) * (lo - hi)
    return out


def random_entities(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    size = rng.integers(500, 120_000, n)
    pc = rng.normal(11_000, 1_500, n).clip(5_000, 30_000)
    bench = np.round(size * pc)
    exp = np.round(bench * (1 - rng.normal(0.01, 0.05, n)))
    q = np.round(rng.uniform(0.5, 1.0, n), 4)
    met = rng.random(n) > 0.05
    return {"n": size.astype(float), "bench": bench, "exp": exp, "q": q, "met": met}


def random_params(p: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "fixed_msr": rng.random(p) < 0.5,
        "msr_value": np.round(rng.choice([0.0, 0.005, 0.01, 0.015, 0.02, 0.03], p), 3),
        "first_dollar": rng.random(p) < 0.7,
        "max_rate": np.round(rng.uniform(0.3, 0.8, p), 2),
        "cap": np.round(rng.uniform(0.03, 0.2, p), 3),
        "seq": np.round(rng.choice([0.0, 0.02], p), 2),
        "two_sided": rng.random(p) < 0.5,
        "loss_rate": np.round(rng.uniform(0.3, 0.75, p), 2),
        "loss_cap": np.round(rng.uniform(0.01, 0.15, p), 3),
        "phe": np.round(rng.choice([0.0, 0.0, 0.5, 1.0], p), 2),
    }


def settle_fast(ent: dict, par: dict) -> np.ndarray:
    """Earned (+) / owed (-) for every (parameter set, entity): shape (P, N), float64 dollars (cents)."""
    B, E, q, met = ent["bench"][None, :], ent["exp"][None, :], ent["q"][None, :], ent["met"][None, :]
    S = B - E
    rate = S / B
    var = _variable_msr_np(ent["n"])[None, :]
    msr = np.where(par["fixed_msr"][:, None], par["msr_value"][:, None], var)
    gen_pos = (S > 0) & (rate >= msr)
    gen_neg = (S < 0) & (rate <= -msr)
    fd = par["first_dollar"][:, None]
    share_pos = np.where(fd, S, S - msr * B)
    share_neg = np.where(fd, -S, -S - msr * B)
    fsr = par["max_rate"][:, None] * q * met
    net = share_pos * fsr * (1 - par["seq"][:, None])
    earned_pos = np.minimum(net, par["cap"][:, None] * B)
    owed = np.minimum(share_neg * par["loss_rate"][:, None], par["loss_cap"][:, None] * B)
    owed = owed * (1 - par["phe"][:, None])
    earned = np.where(gen_pos, earned_pos, 0.0)
    earned = np.where(gen_neg & par["two_sided"][:, None], -owed, earned)
    return np.round(earned, 2)


def methodology_for(par: dict, k: int):
    s = {"first_dollar": bool(par["first_dollar"][k]), "max_share_rate": str(par["max_rate"][k]),
         "performance_payment_limit": str(par["cap"][k]), "sequestration_rate": str(par["seq"][k]),
         "two_sided": bool(par["two_sided"][k]), "money_quantum": "0.01",
         "report_one_sided_generated_losses": True}
    if par["two_sided"][k]:
        s.update(loss_rate={"rule": "flat", "flat_rate": str(par["loss_rate"][k])},
                 loss_limit={"type": "pct_benchmark", "pct_benchmark": str(par["loss_cap"][k])},
                 phe_loss_mitigation=str(par["phe"][k]))
    msr = ({"type": "fixed", "value": str(par["msr_value"][k])} if par["fixed_msr"][k]
           else {"type": "variable_table"})
    return parse_methodology({"name": f"sweep-{k}", "provenance": {"source": ["bench"]}, "msr": msr,
                              "settlement": s, "quality": {"regime": "multiplicative"}})


def sweep(n_entities: int = 1000, n_params: int = 1000, sample: int = 2000, seed: int = 7) -> dict:
    rng = np.random.default_rng(seed)
    ent, par = random_entities(n_entities, rng), random_params(n_params, rng)
    t0 = time.perf_counter()
    grid = settle_fast(ent, par)
    fast_s = time.perf_counter() - t0

    cells = [(int(rng.integers(n_params)), int(rng.integers(n_entities))) for _ in range(sample)]
    meths: dict[int, object] = {}
    t1 = time.perf_counter()
    max_diff = Decimal(0)
    for k, j in cells:
        m = meths.get(k) or meths.setdefault(k, methodology_for(par, k))
        r = settle(m, SettlementInput(
            entity_id=str(j), performance_year=2020, track="x", assigned_beneficiaries=int(ent["n"][j]),
            total_benchmark=Decimal(int(ent["bench"][j])), total_expenditure=Decimal(int(ent["exp"][j])),
            quality_score=Decimal(str(ent["q"][j])), met_quality_standard=bool(ent["met"][j])))
        max_diff = max(max_diff, abs(r.earned - Decimal(str(grid[k, j]))))
    dec_s = time.perf_counter() - t1
    per = dec_s / len(cells)
    return {
        "n_entities": n_entities, "n_params": n_params, "settlements": n_entities * n_params,
        "fast_seconds": round(fast_s, 4),
        "fast_settlements_per_second": round(n_entities * n_params / fast_s),
        "decimal_sample": len(cells), "decimal_seconds_per_settlement": round(per, 7),
        "decimal_full_grid_seconds_estimate": round(per * n_entities * n_params, 1),
        "max_abs_diff_fast_vs_decimal": float(max_diff), "agree_within_cent": bool(max_diff <= Decimal("0.01")),
        "total_earned_median_param_set": round(float(np.median(grid.sum(axis=1))), 2),
    }


if __name__ == "__main__":
    print(json.dumps(sweep(), indent=2))
