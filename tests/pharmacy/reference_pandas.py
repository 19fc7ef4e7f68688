"""An independent DUR reference in plain pandas, written from the rule definitions (pharmacy/rules/dur_rules.yaml
and the spec: CDC analytic-file daily MME, PQA Poly-ACH/Poly-CNS, OMP), not from the SQL. It reads the same
reference data files (products, factors, classes, interaction pairs) and the same thresholds, and returns the set
of persons each rule fires for."""
from __future__ import annotations

import datetime as dt

import pandas as pd

from measures.mme import FACTORS_FILE
from pharmacy import reference as ref
from pharmacy.config import RuleSet

FORM_GROUP = {"transdermal": "transdermal", "patch": "transdermal", "buccal_tablet": "buccal",
              "sublingual_tablet": "buccal", "lozenge": "buccal", "buccal_film": "buccal_film",
              "oral_spray": "buccal_film", "nasal_spray": "nasal"}


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _product_table(products_file, ndcs: set[str]) -> pd.DataFrame:
    """The products of the given NDCs (the shipped reference holds ~45,000) with their MME factor."""
    factors = pd.read_csv(FACTORS_FILE, dtype=str)
    rows = []
    for p in ref.load_products(products_file).values():
        if p.ndc not in ndcs:
            continue
        group = FORM_GROUP.get(p.dose_form or "", "any")
        # CDC factors are for oral/transmucosal/transdermal doses: an injection gets none
        allowed = [group] if (p.dose_form or "").startswith("injection") else [group, "any"]
        fr = factors[(factors.ingredient == p.ingredient) & (factors.dose_form_group.isin(allowed))]
        fr = fr.sort_values("dose_form_group", key=lambda s: s != group)
        factor = None
        if len(fr) and p.strength is not None and fr.iloc[0].strength_unit == (p.strength_unit or ""):
            factor = float(fr.iloc[0].factor_per_unit)
        rows.append(dict(ndc=p.ndc, ingredient=p.ingredient, strength=p.strength, factor=factor))
    return pd.DataFrame(rows, columns=["ndc", "ingredient", "strength", "factor"])


def reference_alerts(fills: pd.DataFrame, persons: pd.DataFrame, foster_months: set, rules: RuleSet, year: int,
                     products_file, exempt: dict[str, set[str]] | None = None) -> dict[str, set[str]]:
    """fills: claim_id, person_id, fill_date, ndc, days_supply, quantity, prescriber, pharmacy.
    persons: person_id, birth_date. foster_months: {(person_id, month_start)} with the foster-care group.
    exempt: rule id -> persons exempt from it (hospice, cancer, ... as the warehouse's exclusion blocks find them;
    those definitions are the measures' and tested there)."""
    classes = pd.read_csv(ref.HERE / "drug_classes.csv")
    members = classes.groupby("drug_class").ingredient.apply(set).to_dict()
    members["cns"] = set().union(*(members[c] for c in rules.cns_classes))
    y0, y1 = dt.date(year, 1, 1), dt.date(year, 12, 31)
    lo = y0 - dt.timedelta(days=rules.lookback_days)
    f = fills.merge(_product_table(products_file, set(fills.ndc)), on="ndc", how="inner")
    f = f[(f.days_supply.fillna(0) > 0) & (f.fill_date >= lo) & (f.fill_date <= y1)].copy()
    f["opioid"] = f.ingredient.isin(members["opioid"])
    f["mme"] = [s * q / d * k if o and k == k and k is not None and q == q and q > 0 else 0.0
                for s, q, d, k, o in zip(f.strength, f.quantity, f.days_supply, f.factor, f.opioid)]
    days = []
    for r in f.itertuples():
        for i in range(int(r.days_supply)):
            d = r.fill_date + dt.timedelta(days=i)
            if d > y1:
                break
            days.append((r.person_id, d, r.ingredient, r.mme, r.opioid))
    fd = pd.DataFrame(days, columns=["person_id", "day", "ingredient", "mme", "opioid"])
    birth = persons.set_index("person_id").birth_date.to_dict()
    fd["age"] = [_age(birth[p], d) for p, d in zip(fd.person_id, fd.day)]
    in_year = fd[(fd.day >= y0)]
    pdays = fd.groupby(["person_id", "day"]).agg(mme=("mme", "sum"), opioid=("opioid", "max")).reset_index()
    out: dict[str, set[str]] = {}
    for r in rules.enabled():
        out[r.id] = _rule(r, f, fd, in_year, pdays, members, foster_months, y0, y1) - (exempt or {}).get(r.id, set())
    return out


def _mask(frame, flags) -> pd.Series:
    return pd.Series(flags, index=frame.index, dtype=bool)


def _rule(r, f, fd, in_year, pdays, members, foster_months, y0, y1) -> set[str]:
    def has(cls):
        return in_year[in_year.ingredient.isin(members[cls])]

    if r.kind == "high_dose":
        d = pdays[(pdays.day >= y0) & (pdays.mme >= r.threshold_mme)]
        return set(d.person_id)
    if r.kind == "concurrent":
        a = set(zip(has(r.class_a).person_id, has(r.class_a).day))
        b = set(zip(has(r.class_b).person_id, has(r.class_b).day))
        both = pd.Series([p for p, _ in a & b])
        counts = both.value_counts()
        return set(counts[counts >= r.min_overlap_days].index)
    if r.kind == "multiple_providers":
        op = f[f.opioid]
        fired = set()
        for a in op[op.fill_date >= y0].itertuples():
            start = a.fill_date - dt.timedelta(days=r.window_days - 1)
            w = op[(op.person_id == a.person_id) & (op.fill_date >= start) & (op.fill_date <= a.fill_date)]
            pw = pdays[(pdays.person_id == a.person_id) & (pdays.day >= start) & (pdays.day <= a.fill_date)]
            if (w.prescriber.nunique() >= r.min_prescribers and w.pharmacy.nunique() >= r.min_pharmacies
                    and len(pw) and pw.mme.max() >= r.min_daily_mme):
                fired.add(a.person_id)
        return fired
    if r.kind == "long_term_opioid":
        covered = pdays[pdays.opioid]
        fired = set()
        for a in f[f.opioid & (f.fill_date >= y0)].itertuples():
            c = covered[covered.person_id == a.person_id]
            for w in r.windows:
                end = a.fill_date + dt.timedelta(days=w.window_days - 1)
                if ((c.day >= a.fill_date) & (c.day <= end)).sum() >= w.min_days:
                    fired.add(a.person_id)
        return fired
    if r.kind == "child_antipsychotic":
        d = has("antipsychotic")
        d = d[d.age < r.max_age_exclusive]
        if r.eligibility_groups:
            d = d[_mask(d, [(p, dt.date(x.year, x.month, 1)) in foster_months for p, x in zip(d.person_id, d.day)])]
        n = d.groupby(["person_id", "day"]).ingredient.nunique()
        n = n[n >= r.min_ingredients].reset_index().groupby("person_id").size()
        return set(n[n >= r.min_days].index)
    if r.kind == "older_polypharmacy":
        ings = set().union(*(members[c] for c in r.drug_classes))
        fy = f[f.ingredient.isin(ings) & (f.fill_date >= y0)]
        ok = fy.groupby(["person_id", "ingredient"]).fill_date.nunique()
        ok = set(ok[ok >= r.min_fill_dates_per_ingredient].index)
        d = in_year[_mask(in_year, [(p, i) in ok for p, i in zip(in_year.person_id, in_year.ingredient)])]
        d = d[d.age >= r.min_age]
        n = d.groupby(["person_id", "day"]).ingredient.nunique()
        n = n[n >= r.min_ingredients].reset_index().groupby("person_id").size()
        return set(n[n >= r.min_days].index)
    if r.kind == "early_refill":
        ings = set().union(*(members[c] for c in r.drug_classes))
        fired = set()
        g = f[f.ingredient.isin(ings)].sort_values(["fill_date", "claim_id"])
        for (_, _), s in g.groupby(["person_id", "ingredient"]):
            prev = None
            for x in s.itertuples():
                if prev is not None and x.fill_date >= y0:
                    if (x.fill_date - prev.fill_date).days / prev.days_supply < r.min_elapsed_share:
                        fired.add(x.person_id)
                prev = x
        return fired
    if r.kind == "therapeutic_duplication":
        fired = set()
        for cls in r.drug_classes:
            n = has(cls).groupby(["person_id", "day"]).ingredient.nunique()
            n = n[n >= 2].reset_index().groupby("person_id").size()
            fired |= set(n[n >= r.min_days].index)
        return fired
    if r.kind == "interaction":
        pairs = {(a, b) for _, a, b in ref.load_ddi_ingredient_pairs()}
        per_day = in_year.groupby(["person_id", "day"]).ingredient.apply(set)
        hits = pd.Series([p for (p, _), s in per_day.items() if any((a, b) in pairs for a in s for b in s)])
        counts = hits.value_counts()
        return set(counts[counts >= r.min_overlap_days].index)
    raise AssertionError(f"no reference for {r.kind}")
