"""Difference-in-differences on a person-level panel, with standard errors clustered by person.

The one implementation used by every evaluation (pharmacy.mtm.evaluation, evaluation.icm). A panel has one row per
person x period with 0/1 columns `treated` and `post`, the outcome columns, and optionally a weight column. Each
outcome is fitted by (weighted) least squares

    y = b0 + b1 treated + b2 post + b3 treated:post + e

with statsmodels (`ols`, or `wls` when weights are given) and a cluster-robust covariance by person
(`cov_type="cluster"`: CR1 with the small-sample factor G/(G-1) x (N-1)/(N-K), statsmodels' default). b3 is the
difference-in-differences estimate; its (1 - alpha) interval is b3 -/+ z(1 - alpha/2) x SE, the normal approximation
statsmodels uses for a clustered fit by default (the pharmacy evaluation's behaviour before this module; with few
clusters a t(G - 1) interval would be wider). A result is "significant" when the interval excludes 0.
Reference: Angrist & Pischke, *Mostly Harmless Econometrics* (2009), ch. 5.2 (DiD) and 8.2 (clustering).
"""
from __future__ import annotations

import math
import warnings

import pandas as pd

TERM = "treated:post"


def fit_did(panel: pd.DataFrame, outcome: str, *, alpha: float = 0.05, weights: str | None = None,
            cluster: str = "person_id") -> dict:
    """The DiD estimate of `outcome` with its interval, p-value and significance (floats, 4 d.p.).

    An outcome with no variation gives estimate 0 and no interval (nothing to fit)."""
    import statsmodels.formula.api as smf

    if panel[outcome].nunique() < 2:
        return {"estimate": 0.0, "ci_low": None, "ci_high": None, "p_value": None, "significant": False,
                "note": "no variation in this outcome"}
    data = panel.astype({outcome: float, "treated": float, "post": float})
    formula = f"{outcome} ~ treated + post + {TERM}"
    model = smf.wls(formula, data=data, weights=data[weights].astype(float)) if weights else smf.ols(formula, data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)      # a zero variance gives NaN bounds, handled below
        fit = model.fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(data[cluster])[0]})
        lo, hi = fit.conf_int(alpha).loc[TERM]
    if not (math.isfinite(lo) and math.isfinite(hi)):     # every person's change is the same: nothing to infer from
        return {"estimate": round(float(fit.params[TERM]), 4), "ci_low": None, "ci_high": None, "p_value": None,
                "significant": False, "note": "no variation in the within-person change of this outcome"}
    sig = not (lo <= 0 <= hi)
    return {"estimate": round(float(fit.params[TERM]), 4), "ci_low": round(float(lo), 4),
            "ci_high": round(float(hi), 4), "p_value": round(float(fit.pvalues[TERM]), 4), "significant": sig}


def fit_outcomes(panel: pd.DataFrame, outcomes, *, alpha: float = 0.05, weights: str | None = None) -> dict:
    """{"outcomes": {name: fit_did(...)}, "verdict": plain language over all outcomes}."""
    fits = {o: fit_did(panel, o, alpha=alpha, weights=weights) for o in outcomes}
    return {"outcomes": fits, "verdict": verdict(fits, alpha)}


def verdict(fits: dict, alpha: float = 0.05) -> str:
    level = f"{1 - alpha:.0%}"
    significant = [o for o, f in fits.items() if f["significant"]]
    if not significant:
        return "no statistically significant effect on any outcome (every " + level + " CI includes 0)"
    return "significant at " + level + " for: " + ", ".join(significant)
