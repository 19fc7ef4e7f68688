"""Outlier criteria, several methods side by side, on the small per-unit table (utilization_unit_metric).

The counting happened in the database; here each peer group x metric is a handful to a few thousand rows, so the
statistics run in Python (numpy/scipy/statsmodels). Every verdict row records the method, its number, its limits
and the rule with its parameters. Notation: O observed, E expected (indirect standardisation), SR = O/E.

Methods (sources: shared/spec/pharmacy-and-utilization.md section 6; what was checked is in utilization/README.md):
  percentile    PEPPER-style on the unadjusted rate: high at or above the 80th percentile of the assessable peers,
                low at or below the 20th (CMS PEPPER FAQ); a rate equal to both (no spread) is neither. Not
                risk-adjusted on purpose: it shows what a raw rule flags.
  zscore        standardised score of SR among the peers, (SR - peer mean) / peer SD (QRUR-style); |z| >= threshold.
  poisson_ci    exact (Garwood) Poisson interval of O, divided by E: L = chi2(a/2; 2O)/2, U = chi2(1-a/2; 2O+2)/2;
                high when L/E > 1, low when U/E < 1. Counts only.
  funnel_multiplicative / funnel_additive  Spiegelhalter (2005) funnel limits on the square-root scale (the CQC
                variant FunnelPlotR implements): y = sqrt(SR), s = 1/(2 sqrt(E)), target 1; z winsorised at the
                `winsor` tails; phi = mean(z_w^2); multiplicative limits 1 +- k sqrt(phi) s (phi > 1 only),
                additive (DerSimonian-Laird) tau^2 = max(0, (I phi - (I-1)) / (sum w - sum w^2 / sum w)), w = 1/s^2,
                limits 1 +- k sqrt(s^2 + tau^2); squared back to the SR scale. Counts only.
  empirical_bayes  Gamma-Poisson (Clayton & Kaldor 1987): theta ~ Gamma(a, b) fitted by moments on the peers,
                posterior Gamma(O + a, E + b); the shrunk SR is (O + a)/(E + b); high when P(theta > ratio) >= p,
                low when P(theta < 1/ratio) >= p. Counts only.
  fdr           Benjamini-Hochberg over the peer group's units (statsmodels multipletests, fdr_bh) on two-sided
                p-values of the overdispersion-adjusted (additive) z-scores; the statistic is the BH-adjusted p.
A unit below the minimum exposure (member-months, expected events) is "not_assessable" for every method, and so is
every unit of a peer group with fewer than `min_peers` assessable units; neither is ever flagged. Dollar metrics
(PMPM) are not Poisson counts: only percentile and zscore judge them.
"""
from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
from scipy import stats
from sqlalchemy import Engine, delete, insert, select
from statsmodels.stats.multitest import multipletests

from utilization.config import OutlierConfig, UtilizationConfig
from utilization.metrics import metric_kind
from utilization.tables import utilization_outlier_flag as FLAG, utilization_unit_metric as UUM

METHODS = ("percentile", "zscore", "poisson_ci", "funnel_multiplicative", "funnel_additive", "empirical_bayes", "fdr")
COUNT_ONLY = {"poisson_ci", "funnel_multiplicative", "funnel_additive", "empirical_bayes", "fdr"}


def garwood_interval(observed: float, level: float) -> tuple[float, float]:
    """Exact Poisson confidence interval of a count (Garwood 1936), through chi-square quantiles."""
    a = 1 - level
    lower = 0.0 if observed <= 0 else stats.chi2.ppf(a / 2, 2 * observed) / 2
    upper = stats.chi2.ppf(1 - a / 2, 2 * (observed + 1)) / 2
    return float(lower), float(upper)


def overdispersion(o: np.ndarray, e: np.ndarray, winsor: float) -> tuple[float, float, np.ndarray]:
    """(phi, tau^2, s) on the square-root scale of SR (see module docstring)."""
    y = np.sqrt(o / e)
    s = 1 / (2 * np.sqrt(e))
    z = (y - 1) / s
    if winsor > 0 and len(z) > 2:
        lo, hi = np.quantile(z, [winsor, 1 - winsor])
        z = np.clip(z, lo, hi)
    n = len(z)
    phi = float(np.mean(z ** 2))
    w = 1 / s ** 2
    denom = w.sum() - (w ** 2).sum() / w.sum()
    tau2 = max(0.0, (n * phi - (n - 1)) / denom) if denom > 0 and n * phi >= n - 1 else 0.0
    return phi, tau2, s


def gamma_prior(o: np.ndarray, e: np.ndarray) -> tuple[float, float]:
    """Method-of-moments Gamma(a, b) for theta across units: mean m = sum O / sum E; between-unit variance = the
    E-weighted variance of SR less its Poisson part m / mean(E). No between-unit variance: a near-point prior."""
    m = o.sum() / e.sum()
    sr = np.divide(o, e, out=np.zeros_like(o), where=e > 0)
    weighted_var = float(np.sum(e * (sr - m) ** 2) / e.sum())
    between = weighted_var - m / float(np.mean(e))
    between = max(between, 1e-6 * max(m, 1e-9) ** 2)
    return m * m / between, m / between


def _row(unit: dict, method: str, verdict: str, statistic=None, lower=None, upper=None, threshold="", detail=None):
    return {"year": unit["year"], "unit_type": unit["unit_type"], "unit_id": unit["unit_id"], "metric": unit["metric"],
            "peer_group": unit["peer_group"], "method": method, "verdict": verdict,
            "statistic": None if statistic is None or not math.isfinite(statistic) else round(float(statistic), 6),
            "lower_limit": None if lower is None or not math.isfinite(lower) else round(float(lower), 6),
            "upper_limit": None if upper is None or not math.isfinite(upper) else round(float(upper), 6),
            "threshold": threshold, "detail": detail}


def _between(value, lower, upper) -> str:
    return "high" if value > upper else "low" if value < lower else "within"


def assessable_reason(unit: dict, cfg: OutlierConfig) -> str | None:
    if unit["member_months"] < cfg.min_member_months:
        return f"member_months {unit['member_months']} < minimum {cfg.min_member_months}"
    if metric_kind(unit["metric"]) != "paid" and unit["expected"] < cfg.min_expected:
        return f"expected {unit['expected']:.2f} < minimum {cfg.min_expected:g}"
    return None


def judge_group(units: list[dict], cfg: OutlierConfig) -> list[dict]:
    """Verdicts of every method for the units of one year x unit type x metric x peer group."""
    out: list[dict] = []
    kind = metric_kind(units[0]["metric"]) if units else "count"
    reasons = {id(u): assessable_reason(u, cfg) for u in units}
    ok = [u for u in units if reasons[id(u)] is None]
    if len(ok) < cfg.min_peers:
        for u in units:
            why = reasons[id(u)] or f"peer group has {len(ok)} assessable units (< {cfg.min_peers})"
            out += [_row(u, m, "not_assessable", detail=why) for m in METHODS]
        return out
    for u in units:
        if reasons[id(u)] is not None:
            out += [_row(u, m, "not_assessable", detail=reasons[id(u)]) for m in METHODS]
    o = np.array([float(u["observed"]) for u in ok])
    e = np.array([float(u["expected"]) for u in ok])
    rate = np.array([float(u["rate"] or 0) for u in ok])
    sr = np.divide(o, e, out=np.zeros_like(o), where=e > 0)
    p_lo, p_hi = np.quantile(rate, [cfg.percentile_low, cfg.percentile_high])
    mean, sd = float(sr.mean()), float(sr.std(ddof=1))
    rule_pct = f"rate >= P{cfg.percentile_high * 100:g} (high) or <= P{cfg.percentile_low * 100:g} (low) of {len(ok)} peers"
    rule_z = f"|SR - peer mean {mean:.4f}| / peer SD {sd:.4f} >= {cfg.z_threshold:g}"
    for i, u in enumerate(ok):
        pct_rank = float(np.mean(rate <= rate[i]))
        # ties: a rate equal to both percentiles (no spread among the peers) is neither high nor low
        verdict = ("high" if rate[i] >= p_hi and rate[i] > p_lo else "low" if rate[i] <= p_lo and rate[i] < p_hi
                   else "within")
        out.append(_row(u, "percentile", verdict, pct_rank, p_lo, p_hi, rule_pct))
        z = (sr[i] - mean) / sd if sd > 0 else 0.0
        out.append(_row(u, "zscore", "high" if z >= cfg.z_threshold else "low" if z <= -cfg.z_threshold else "within",
                        z, mean - cfg.z_threshold * sd, mean + cfg.z_threshold * sd, rule_z))
    if kind == "paid":
        for u in ok:
            out += [_row(u, m, "not_assessable", detail="dollar amounts are not Poisson counts")
                    for m in METHODS if m in COUNT_ONLY]
        return out
    phi, tau2, s = overdispersion(o, e, cfg.winsor)
    a, b = gamma_prior(o, e)
    k = cfg.funnel_z
    z_additive = (np.sqrt(sr) - 1) / np.sqrt(s ** 2 + tau2)
    p_two_sided = 2 * stats.norm.sf(np.abs(z_additive))
    reject, q_values, _, _ = multipletests(p_two_sided, alpha=cfg.fdr_q, method="fdr_bh")
    for i, u in enumerate(ok):
        lo, hi = garwood_interval(o[i], cfg.ci_level)
        out.append(_row(u, "poisson_ci", "high" if lo / e[i] > 1 else "low" if hi / e[i] < 1 else "within", sr[i],
                        lo / e[i], hi / e[i], f"exact Poisson {cfg.ci_level:.0%} interval of O/E excludes 1"))
        mult = math.sqrt(phi) if phi > 1 else 1.0
        m_lo, m_hi = max(0.0, 1 - k * mult * s[i]) ** 2, (1 + k * mult * s[i]) ** 2
        out.append(_row(u, "funnel_multiplicative", _between(sr[i], m_lo, m_hi), sr[i], m_lo, m_hi,
                        f"sqrt scale, z={k:g}, phi={phi:.4f} ({'applied' if phi > 1 else 'not applied: <= 1'}), "
                        f"winsorised {cfg.winsor:.0%}"))
        sd_add = math.sqrt(s[i] ** 2 + tau2)
        a_lo, a_hi = max(0.0, 1 - k * sd_add) ** 2, (1 + k * sd_add) ** 2
        out.append(_row(u, "funnel_additive", _between(sr[i], a_lo, a_hi), sr[i], a_lo, a_hi,
                        f"sqrt scale, z={k:g}, tau2={tau2:.6f} (DerSimonian-Laird), winsorised {cfg.winsor:.0%}"))
        post = stats.gamma(o[i] + a, scale=1 / (e[i] + b))
        p_high, p_low = float(post.sf(cfg.eb_ratio)), float(post.cdf(1 / cfg.eb_ratio))
        eb_verdict = "high" if p_high >= cfg.eb_probability else "low" if p_low >= cfg.eb_probability else "within"
        out.append(_row(u, "empirical_bayes", eb_verdict, (o[i] + a) / (e[i] + b), post.ppf(0.05), post.ppf(0.95),
                        f"P(SR > {cfg.eb_ratio:g}) or P(SR < {1 / cfg.eb_ratio:.4g}) >= {cfg.eb_probability:g}; "
                        f"prior Gamma({a:.4g}, {b:.4g})", f"P(high)={p_high:.4f} P(low)={p_low:.4f}"))
        fdr_verdict = ("high" if sr[i] > 1 else "low") if reject[i] else "within"
        out.append(_row(u, "fdr", fdr_verdict, q_values[i], None, None,
                        f"Benjamini-Hochberg q <= {cfg.fdr_q:g} over {len(ok)} units, two-sided p of the additive "
                        f"overdispersion z", f"z={z_additive[i]:.4f} p={p_two_sided[i]:.6g}"))
    return out


def judge_year(engine: Engine, year: int, config=None) -> dict:
    """Rebuild utilization_outlier_flag for `year` from utilization_unit_metric."""
    cfg = UtilizationConfig.load(config).outliers
    with engine.connect() as conn:
        units = [dict(r._mapping) for r in conn.execute(select(UUM).where(UUM.c.year == year))]
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for u in units:
        u["expected"] = float(u["expected"])
        groups[(u["unit_type"], u["metric"], u["peer_group"])].append(u)
    rows = [r for key in sorted(groups) for r in judge_group(groups[key], cfg)]
    with engine.begin() as conn:
        conn.execute(delete(FLAG).where(FLAG.c.year == year))
        for i in range(0, len(rows), 5000):
            conn.execute(insert(FLAG), rows[i:i + 5000])
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        counts[r["method"]][r["verdict"]] += 1
    return {"year": year, "flag_rows": len(rows), "verdicts": {m: dict(v) for m, v in counts.items()}}
