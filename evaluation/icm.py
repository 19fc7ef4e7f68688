"""Did the ICM save money? A comparison-group difference-in-differences evaluation per entity.

Benchmark savings (savings.population) compare an entity with its own trended past; this module asks the causal
question: how did the cost and use of care of an entity's enrollees change from the year before to the
performance year, relative to matched enrollees outside the program? It reads the settlement's work tables (run
`icm settle` first): `attribution` (who belongs to which entity) and `cost_person_month` (every member-month of
in-scope payers with its cost by service category), plus `member_month` (covariates) and the claims (ED visits and
admissions through measures.blocks). Aggregation is set-based SQL; Python sees one row per person x year.

Design, for performance year Y (pre = Y - 1, post = Y, placebo pre = Y - 2)
1. **Persons.** Enrollees with in-scope member-months in both Y - 1 and Y. Treated for entity E (`assignment`):
   * `roster` (used when the program's enrollment roster, member_month.icm_program_id / icm_entity_id, has members
     in Y): on E's roster in Y (the entity of most months). Comparison pool: on no ICM or health-home roster in
     Y - 1 or Y.
   * `attribution` (no roster): attributed to E in Y - 1 (the entity of most attributed months). Comparison pool:
     attributed to no entity of the program in Y - 1 or Y.
   Why not the performance year's retrospective attribution: it is decided by the year's own primary-care visits,
   so the persons it leaves out are those without visits in the outcome year, whose cost is low by selection (on
   the synthetic state this halved the "comparison" PMPM from Y - 1 to Y). Dual eligibles are kept out of the
   pool when the attribution excludes them (they cannot be attributed).
2. **Propensity score** (statsmodels GLM, binomial logit) of being treated, on the pre year: age, age², sex,
   eligibility group (indicators), dual status, region (county, the 10 most frequent, others pooled), risk score
   (risk_score of year Y - 1 when present) and log(1 + pre-year PMPM cost). Rosenbaum & Rubin (1983), Biometrika
   70(1).
3. **Matching.** Each treated person gets up to 5 nearest comparison persons on the logit of the propensity score
   within the same eligibility group and dual status, with replacement, within a caliper of 0.2 standard deviations
   of the logit (Austin 2011, Pharmaceutical Statistics 10(2)); each of its m matches weighs 1/m (a comparison
   person's weight is the sum over the treated persons it matches). Treated persons without a match are left out
   and counted. Balance: standardized mean differences before and after matching.
4. **Outcomes** per person-year: PMPM total cost (the methodology's included cost categories, no truncation, no
   completion factor), ED visits (measures.blocks.ed_visits_all, one per person-date) and inpatient admissions
   (measures.blocks.any_inpatient_admissions) per 1,000 member-months. Weights = match weight x member-months, so
   each group's mean is its member-month-weighted rate.
5. **DiD** (evaluation.did, the shared implementation): weighted least squares y ~ treated + post + treated:post,
   standard errors clustered by person, 95 % intervals. For PMPM cost the relative effect divides the estimate and
   its bounds by the treated group's counterfactual post-year PMPM (treated post mean - estimate).
6. **Parallel trends:** the same DiD on Y - 2 -> Y - 1 for the matched persons (a placebo: its interval should
   include 0). **Regression to the mean:** in the comparison pool, the slope b of post-year on pre-year PMPM; an
   entity whose pre-year PMPM differs from its comparison group's by d would drift by about -(1 - b) x d without
   any effect. Reported before matching (what a naive comparison would absorb) and after matching.
Deviations (documented): no doubly robust adjustment, matching with replacement (variance from clustering by person
ignores the repeated use of a comparison person: intervals are slightly narrow when many treated persons share a
match, reported as `comparison_reuse`).
"""
from __future__ import annotations

import datetime as dt
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
from sqlalchemy import Engine, Float, Integer, and_, cast, extract, func, literal, select

from evaluation.did import fit_did, verdict
from savings.population.common import is_dual
from savings.population.config import PopulationConfig
from savings.work_tables import attribution, cost_person_month, risk_score
from warehouse import models

mm = models.MemberMonth.__table__
OUTCOMES = ("pmpm_total", "ed_visits_per_1000", "admissions_per_1000")
CALIPER_SD = 0.2
NEIGHBOURS = 5
TOP_REGIONS = 10
ASSIGNMENT_NOTES = {
    "roster": "roster: the entity on the program's enrollment roster in the performance year (member_month)",
    "attribution": "attribution: the entity attributed in the year before the performance year (attribution table)"}
METHOD = ("comparison-group difference-in-differences (propensity-score matched non-ICM enrollees; "
          "evaluation.icm)")


# --- data (set-based SQL) -------------------------------------------------------------------------------------


def _person_years(conn, cfg: PopulationConfig, years: list[int]) -> pd.DataFrame:
    """person_id, year, member_months, cost, ed_visits, admissions for every in-scope enrollee and year."""
    from measures.blocks import any_inpatient_admissions, ed_visits_all
    from measures.definition import BuildContext
    from measures.valuesets import default_registry

    cpm = cost_person_month
    categories = cfg.cost.categories
    cost = sum((cpm.c[c] for c in categories), literal(0)) if categories else literal(0)
    where = [cpm.c.year.in_(years)]
    if cfg.payer_scope:
        where.append(cpm.c.payer.in_(cfg.payer_scope))
    base = (select(cpm.c.person_id, cpm.c.year, func.count(func.distinct(cpm.c.month_start)).label("member_months"),
                   func.sum(cost).label("cost"))
            .where(*where).group_by(cpm.c.person_id, cpm.c.year)).cte("eval_person_year")
    ctx = BuildContext(max(years), default_registry(), SimpleNamespace(params={}, id="ICM-EVAL"), conn.dialect.name)
    first, last = dt.date(min(years), 1, 1), dt.date(max(years), 12, 31)

    def per_year(src, date_col, name):
        yr = cast(extract("year", date_col), Integer)
        return (select(src.c.person_id, yr.label("year"), func.count().label(name))
                .where(date_col.between(first, last)).group_by(src.c.person_id, yr)).cte(f"eval_{name}")

    ed_src, ip_src = ed_visits_all(ctx), any_inpatient_admissions(ctx)
    ed = per_year(ed_src, ed_src.c.visit_date, "ed_visits")
    ip = per_year(ip_src, ip_src.c.admit_date, "admissions")
    q = (select(base.c.person_id, base.c.year, base.c.member_months, cast(base.c.cost, Float).label("cost"),
                func.coalesce(ed.c.ed_visits, 0).label("ed_visits"),
                func.coalesce(ip.c.admissions, 0).label("admissions"))
         .select_from(base.outerjoin(ed, and_(ed.c.person_id == base.c.person_id, ed.c.year == base.c.year))
                      .outerjoin(ip, and_(ip.c.person_id == base.c.person_id, ip.c.year == base.c.year))))
    frame = pd.DataFrame(conn.execute(q).mappings().all(),
                         columns=["person_id", "year", "member_months", "cost", "ed_visits", "admissions"])
    return frame.astype({"year": int, "member_months": float, "cost": float, "ed_visits": float,
                         "admissions": float})


def _roster_entity(cfg: PopulationConfig, year: int):
    """person_id, entity_id: the ICM entity of most enrolled months in `year` on the program roster (member_month
    icm_program_id / icm_entity_id)."""
    program = [mm.c.icm_program_id == cfg.program_id] if cfg.program_id else [mm.c.icm_program_id.is_not(None)]
    where = [mm.c.month_start.between(dt.date(year, 1, 1), dt.date(year, 12, 31)), mm.c.icm_entity_id.is_not(None),
             *program]
    if cfg.payer_scope:
        where.append(mm.c.payer.in_(cfg.payer_scope))
    return (select(mm.c.person_id, mm.c.icm_entity_id.label("entity_id"),
                   func.count(func.distinct(mm.c.month_start)).label("n"))
            .where(*where).group_by(mm.c.person_id, mm.c.icm_entity_id))


def _attributed_entity(cfg: PopulationConfig, year: int):
    """person_id, entity_id, n: attributed months per entity in `year` (the `attribution` work table)."""
    a = attribution
    program = [a.c.program_id == cfg.program_id] if cfg.program_id else []
    return (select(a.c.person_id, a.c.entity_id, func.count(func.distinct(a.c.month_start)).label("n"))
            .where(a.c.year == year, *program).group_by(a.c.person_id, a.c.entity_id))


def _any_icm(cfg: PopulationConfig, years: list[int], assignment: str):
    """Persons in an ICM in any of `years`: on any ICM or health-home roster (roster assignment), or attributed by
    the program (attribution assignment). They never serve as comparison persons."""
    if assignment == "attribution":
        a = attribution
        program = [a.c.program_id == cfg.program_id] if cfg.program_id else []
        return select(a.c.person_id).where(a.c.year.in_(years), *program).distinct()
    return (select(mm.c.person_id)
            .where(mm.c.month_start.between(dt.date(min(years), 1, 1), dt.date(max(years), 12, 31)),
                   (mm.c.icm_program_id.is_not(None)) | (mm.c.health_home_program_id.is_not(None)))
            .distinct())


def roster_available(conn, cfg: PopulationConfig, year: int) -> bool:
    """Whether the program's enrollment roster (member_month.icm_entity_id) has members in `year`."""
    sub = _roster_entity(cfg, year).subquery()
    return bool(conn.execute(select(func.count()).select_from(sub)).scalar_one())


def _persons(conn, cfg: PopulationConfig, year: int, assignment: str) -> pd.DataFrame:
    """One row per enrollee in scope in the pre year: covariates of the latest pre-year month, entity (None = in no
    entity), in_icm (Y - 1 or Y, never a comparison person), risk score of Y - 1. The entity is the roster's in Y
    (roster) or the attribution's in Y - 1, the year before the outcome year (attribution)."""
    pre0, pre1 = dt.date(year - 1, 1, 1), dt.date(year - 1, 12, 31)
    where = [mm.c.month_start.between(pre0, pre1)]
    if cfg.payer_scope:
        where.append(mm.c.payer.in_(cfg.payer_scope))
    ranked = (select(mm.c.person_id, mm.c.eligibility_group, is_dual(mm.c.dual_status_code).label("dual"),
                     mm.c.age_at_month_start.label("age"), mm.c.sex, mm.c.county_fips,
                     func.row_number().over(partition_by=mm.c.person_id,
                                            order_by=[mm.c.month_start.desc(), mm.c.payer, mm.c.plan,
                                                      mm.c.data_source]).label("rk"))
              .where(*where)).subquery("eval_latest")
    months = (_roster_entity(cfg, year) if assignment == "roster" else _attributed_entity(cfg, year - 1)
              ).subquery("eval_months")
    top = (select(months.c.person_id, months.c.entity_id,
                  func.row_number().over(partition_by=months.c.person_id,
                                         order_by=[months.c.n.desc(), months.c.entity_id]).label("rk"))
           .subquery("eval_entity"))
    icm = _any_icm(cfg, [year - 1, year], assignment).subquery("eval_icm")
    risk = (select(risk_score.c.person_id, func.max(risk_score.c.normalized_score).label("risk"))
            .where(risk_score.c.year == year - 1).group_by(risk_score.c.person_id).subquery("eval_risk"))
    q = (select(ranked.c.person_id, ranked.c.eligibility_group, ranked.c.dual, ranked.c.age, ranked.c.sex,
                ranked.c.county_fips, top.c.entity_id, icm.c.person_id.is_not(None).label("in_icm"),
                cast(risk.c.risk, Float).label("risk"))
         .select_from(ranked.outerjoin(top, and_(top.c.person_id == ranked.c.person_id, top.c.rk == 1))
                      .outerjoin(icm, icm.c.person_id == ranked.c.person_id)
                      .outerjoin(risk, risk.c.person_id == ranked.c.person_id))
         .where(ranked.c.rk == 1))
    cols = ["person_id", "eligibility_group", "dual", "age", "sex", "county_fips", "entity_id", "in_icm", "risk"]
    return pd.DataFrame(conn.execute(q).mappings().all(), columns=cols)


def load(engine: Engine, config, year: int, assignment: str = "auto") -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """(persons, person_years, assignment used) of the evaluation of `year` (module docstring, step 1)."""
    cfg = PopulationConfig.from_any(config)
    with engine.connect() as conn:
        if assignment == "auto":
            assignment = "roster" if roster_available(conn, cfg, year) else "attribution"
        persons = _persons(conn, cfg, year, assignment)
        person_years = _person_years(conn, cfg, [year - 2, year - 1, year])
    return persons, person_years, assignment


# --- propensity score and matching (numpy, vectorised) ----------------------------------------------------------


def _design(frame: pd.DataFrame) -> pd.DataFrame:
    """Covariates of the propensity model (module docstring, step 2); constant columns dropped."""
    age = frame["age"].astype(float).fillna(frame["age"].astype(float).mean())
    x = pd.DataFrame({"age": age / 10, "age2": (age / 10) ** 2,
                      "female": frame["sex"].astype(str).str.lower().str.startswith("f").astype(float),
                      "dual": frame["dual"].astype(float),
                      "log_pre_pmpm": np.log1p(frame["pre_pmpm"].clip(lower=0))}, index=frame.index)
    if frame["risk"].notna().any():
        x["risk"] = frame["risk"].fillna(frame["risk"].mean())
    groups = pd.get_dummies(frame["eligibility_group"].fillna("unknown"), prefix="elig", drop_first=True,
                            dtype=float)
    region = frame["county_fips"].fillna("unknown")
    top = region.value_counts().index[:TOP_REGIONS]
    regions = pd.get_dummies(region.where(region.isin(top), "other"), prefix="region", drop_first=True, dtype=float)
    x = pd.concat([x, groups, regions], axis=1)
    return x.loc[:, x.std(ddof=0) > 0]


def propensity_logit(frame: pd.DataFrame) -> np.ndarray:
    """Logit of the propensity score of `frame.treated` (statsmodels GLM binomial; a ridge-penalised fit when the
    plain fit does not converge, e.g. under separation)."""
    import warnings

    import statsmodels.api as sm

    x = sm.add_constant(_design(frame), has_constant="add")
    y = frame["treated"].astype(float)
    model = sm.GLM(y, x, family=sm.families.Binomial())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            params = model.fit().params
        except Exception:       # perfect separation or singular design: penalised fit instead
            params = model.fit_regularized(alpha=1e-3, L1_wt=0.0).params
    return np.asarray(x @ np.asarray(params), dtype=float)


def match_nearest(logit: np.ndarray, treated: np.ndarray, stratum: np.ndarray, caliper: float,
                  k: int = NEIGHBOURS) -> np.ndarray:
    """Comparison weights of k-nearest-neighbour matching with replacement: each treated row gives weight 1/m to
    each of its m <= k nearest comparison rows on `logit` in the same `stratum` within `caliper` (m = 0: the
    treated row is unmatched). Returns (comparison weight per row, 1/0 matched flag per treated row), vectorised
    per stratum (a handful of strata, never a loop over persons)."""
    weight = np.zeros(len(logit))
    matched = np.zeros(len(logit), dtype=bool)
    offsets = np.arange(-k, k)
    for s in np.unique(stratum):
        t_idx = np.nonzero(treated & (stratum == s))[0]
        c_idx = np.nonzero(~treated & (stratum == s))[0]
        if len(t_idx) == 0 or len(c_idx) == 0:
            continue
        order = c_idx[np.argsort(logit[c_idx], kind="stable")]
        pos = np.searchsorted(logit[order], logit[t_idx])
        cand = pos[:, None] + offsets[None, :]                     # k candidates on each side of the insertion point
        valid = (cand >= 0) & (cand < len(order))
        dist = np.where(valid, np.abs(logit[order][np.clip(cand, 0, len(order) - 1)] - logit[t_idx][:, None]), np.inf)
        nearest = np.argsort(dist, axis=1, kind="stable")[:, :k]
        d = np.take_along_axis(dist, nearest, axis=1)
        ok = d <= caliper
        m = ok.sum(axis=1)
        rows = np.take_along_axis(np.clip(cand, 0, len(order) - 1), nearest, axis=1)
        share = np.where(ok, 1.0 / np.maximum(m, 1)[:, None], 0.0)
        np.add.at(weight, order[rows[ok]], share[ok])
        matched[t_idx[m > 0]] = True
    return weight, matched


def standardized_differences(x: pd.DataFrame, treated: np.ndarray, weights: np.ndarray) -> dict:
    """Weighted standardized mean difference per covariate (pooled unweighted SD, Austin 2009)."""
    out = {}
    for col in x.columns:
        v = x[col].to_numpy(float)
        sd = math.sqrt((v[treated].var() + v[~treated].var()) / 2) if treated.any() and (~treated).any() else 0
        wt, wc = weights[treated], weights[~treated]
        if sd == 0 or wt.sum() == 0 or wc.sum() == 0:
            continue
        out[col] = round((np.average(v[treated], weights=wt) - np.average(v[~treated], weights=wc)) / sd, 4)
    return out


# --- the evaluation -----------------------------------------------------------------------------------------------


def _panel(matched: pd.DataFrame, person_years: pd.DataFrame, pre: int, post: int) -> pd.DataFrame:
    """Rows of the matched persons' pre and post years with the outcome rates and the WLS weight."""
    p = matched[["person_id", "treated", "match_weight"]].merge(
        person_years[person_years.year.isin([pre, post])], on="person_id")
    p = p[p.member_months > 0].copy()
    p["post"] = (p.year == post).astype(float)
    p["pmpm_total"] = p.cost / p.member_months
    p["ed_visits_per_1000"] = p.ed_visits / p.member_months * 1000
    p["admissions_per_1000"] = p.admissions / p.member_months * 1000
    p["weight"] = p.match_weight * p.member_months
    return p


def _means(panel: pd.DataFrame, outcome: str) -> dict:
    def mean(t, post):
        s = panel[(panel.treated == t) & (panel.post == post)]
        return round(float(np.average(s[outcome], weights=s.weight)), 4) if s.weight.sum() > 0 else None
    return {"treated_pre": mean(1, 0), "treated_post": mean(1, 1), "comparison_pre": mean(0, 0),
            "comparison_post": mean(0, 1)}


def _regression_to_mean(pool: pd.DataFrame, treated: pd.DataFrame, matched_comparison: pd.DataFrame) -> dict:
    """Slope of post on pre PMPM in the comparison pool (member-month weighted) and the drift it implies."""
    w = pool.post_mm.to_numpy(float)
    if len(pool) < 3 or pool.pre_pmpm.nunique() < 2:
        return {"note": "comparison pool too small for the regression-to-the-mean diagnostic"}
    x, y = pool.pre_pmpm.to_numpy(float), pool.post_pmpm.to_numpy(float)
    xm, ym = np.average(x, weights=w), np.average(y, weights=w)
    slope = float(np.sum(w * (x - xm) * (y - ym)) / np.sum(w * (x - xm) ** 2))
    t_pre = float(np.average(treated.pre_pmpm, weights=treated.pre_mm))
    d_unmatched = t_pre - float(np.average(x, weights=pool.pre_mm))
    d_matched = t_pre - float(np.average(matched_comparison.pre_pmpm,
                                         weights=matched_comparison.pre_mm * matched_comparison.match_weight))
    return {"pre_to_post_slope": round(slope, 4),
            "pre_pmpm_difference_unmatched": round(d_unmatched, 2),
            "pre_pmpm_difference_matched": round(d_matched, 2),
            "expected_drift_unmatched": round(-(1 - slope) * d_unmatched, 2),
            "expected_drift_matched": round(-(1 - slope) * d_matched, 2)}


def evaluate_entity(entity_id: str, persons: pd.DataFrame, person_years: pd.DataFrame, year: int, *,
                    alpha: float = 0.05, exclude_duals: bool = True) -> dict:
    """The evaluation of one entity (module docstring, steps 2-6) from the frames `load` returns."""
    wide = _wide(persons, person_years, year)
    treated = wide[wide.entity_id == entity_id]
    pool = wide[~wide.in_icm.astype(bool)]
    if exclude_duals:
        pool = pool[~pool.dual.astype(bool)]
    out = {"entity_id": entity_id, "year": year, "pre_year": year - 1, "method": METHOD,
           "treated": len(treated), "comparison_pool": len(pool)}
    if len(treated) < 2 or len(pool) < 2:
        return out | {"verdict": "not estimable: fewer than 2 persons in the entity or the comparison pool"}
    frame = pd.concat([treated.assign(treated=1), pool.assign(treated=0)], ignore_index=True)
    logit = propensity_logit(frame)
    is_treated = frame.treated.to_numpy() == 1
    stratum = (frame.eligibility_group.fillna("unknown").astype(str) + "|" + frame.dual.astype(str)).to_numpy()
    caliper = CALIPER_SD * float(np.std(logit))
    weights, found = match_nearest(logit, is_treated, stratum, caliper)
    weights[found] = 1.0
    frame["match_weight"] = weights
    matched = frame[frame.match_weight > 0]
    n_matched, n_comparison = int(found.sum()), int((~is_treated & (weights > 0)).sum())
    x = _design(frame)
    out |= {"treated_matched": n_matched, "treated_unmatched": int(is_treated.sum()) - n_matched,
            "comparison_matched": n_comparison, "neighbours": NEIGHBOURS,
            "comparison_reuse": round(NEIGHBOURS * n_matched / max(n_comparison, 1), 3),
            "caliper_logit": round(caliper, 4),
            "balance_smd": {"before": standardized_differences(x, is_treated, np.ones(len(frame))),
                            "after": standardized_differences(x, is_treated, weights)}}
    if n_matched < 2:
        return out | {"verdict": "not estimable: fewer than 2 treated persons matched"}
    panel = _panel(matched, person_years, year - 1, year)
    fits = {}
    for o in OUTCOMES:
        fits[o] = fit_did(panel, o, alpha=alpha, weights="weight", cluster="person_id") | {"means": _means(panel, o)}
    cost = fits["pmpm_total"]
    counterfactual = (cost["means"]["treated_post"] or 0) - cost["estimate"]
    if counterfactual > 0 and cost["ci_low"] is not None:
        cost["relative"] = {k: round(cost[k] / counterfactual, 4) for k in ("estimate", "ci_low", "ci_high")}
    out["outcomes"] = fits
    out["verdict"] = verdict(fits, alpha)
    placebo = _panel(matched, person_years, year - 2, year - 1)
    if placebo.post.nunique() == 2 and placebo.treated.nunique() == 2:
        trend = fit_did(placebo, "pmpm_total", alpha=alpha, weights="weight", cluster="person_id")
        out["parallel_trends"] = {"years": [year - 2, year - 1], "pmpm_total": trend,
                                  "holds": not trend["significant"]}
    else:
        out["parallel_trends"] = {"years": [year - 2, year - 1], "note": f"no cost data for {year - 2}"}
    out["regression_to_mean"] = _regression_to_mean(pool, treated, frame[(~is_treated) & (weights > 0)])
    return out


def _wide(persons: pd.DataFrame, person_years: pd.DataFrame, year: int) -> pd.DataFrame:
    """Persons with member-months in both Y - 1 and Y, with pre/post PMPM and member-months."""
    def side(y, tag):
        s = person_years[(person_years.year == y) & (person_years.member_months > 0)]
        return pd.DataFrame({"person_id": s.person_id, f"{tag}_mm": s.member_months,
                             f"{tag}_pmpm": s.cost / s.member_months})
    return persons.merge(side(year - 1, "pre"), on="person_id").merge(side(year, "post"), on="person_id")


def evaluate(engine: Engine, config, year: int, *, entities: list[str] | None = None, alpha: float = 0.05,
             assignment: str = "auto") -> dict:
    """The evaluation of every entity of `year` (or `entities`), from the settlement's work tables."""
    cfg = PopulationConfig.from_any(config)
    persons, person_years, assignment = load(engine, cfg, year, assignment)
    found = sorted(e for e in persons.entity_id.dropna().unique())
    wanted = entities or found
    exclude_duals = "dual_eligible" in (cfg.attribution.exclusions or [])
    return {"year": year, "program_id": cfg.program_id, "payer_scope": cfg.payer_scope, "method": METHOD,
            "assignment": ASSIGNMENT_NOTES[assignment], "alpha": alpha, "entities": [evaluate_entity(e, persons, person_years, year, alpha=alpha,
                                                         exclude_duals=exclude_duals) for e in wanted]}
