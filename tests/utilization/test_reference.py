"""An independent pandas reference, written from the definitions in utilization/metrics.py's docstring and the
indirect-standardisation formula (E_i = sum_k n_ik r_k), reproduces the counts and O/E values in the database."""
from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import select

from savings.work_tables import risk_score
from utilization.tables import utilization_unit_metric as UUM
from warehouse.models import MedicalClaimFinal, MedicalClaimLineFinal, MemberMonth, PharmacyClaimFinal, Provider

AGE_CUTS = [0, 18, 45, 65]
RISK_CUTS = [0.0, 0.75, 1.25, 2.0]


def _frame(conn, table):
    return pd.DataFrame([dict(r._mapping) for r in conn.execute(select(table))])


def _band(value, cuts):
    if pd.isna(value):
        return "unscored"
    label = None
    for c in cuts:
        if value >= c:
            label = c
    return label


@pytest.fixture(scope="module")
def reference(planted_engine):
    with planted_engine.connect() as conn:
        mm = _frame(conn, MemberMonth.__table__)
        h = _frame(conn, MedicalClaimFinal.__table__)
        ln = _frame(conn, MedicalClaimLineFinal.__table__)
        rx = _frame(conn, PharmacyClaimFinal.__table__)
        prov = _frame(conn, Provider.__table__)
        risk = _frame(conn, risk_score.select().where(risk_score.c.year == 2025).subquery())
    mm = mm[mm.month_start.map(lambda d: d.year) == 2025].copy()
    lines = ln.merge(h, on=["claim_id", "data_source"], suffixes=("_line", ""))
    # ED visits: one per person-date with an ED revenue code or ED E&M code
    ed = lines[lines.revenue_center_code.fillna("").str.startswith("045") | lines.hcpcs_code.isin(
        ["99281", "99282", "99283", "99284", "99285"])]
    ed = ed[["person_id", "claim_start_date"]].drop_duplicates()
    ed["month_start"] = ed.claim_start_date.map(lambda d: d.replace(day=1))
    # primary-care visits: E&M person-dates billed by a pcp; assignment = plurality NPI
    pcp_npis = set(prov[prov.provider_type == "pcp"].npi)
    pc = lines[lines.hcpcs_code.isin(["99213"]) & lines.billing_npi.isin(pcp_npis)]
    assign = (pc.groupby(["person_id", "billing_npi"]).claim_start_date.nunique().reset_index()
              .sort_values(["person_id", "claim_start_date"], ascending=[True, False])
              .drop_duplicates("person_id").set_index("person_id").billing_npi)
    rx = rx.assign(month_start=rx.dispensing_date.map(lambda d: d.replace(day=1)))
    pm = mm[["person_id", "month_start", "age_at_month_start", "sex", "eligibility_group", "dual_status_code"]].copy()
    pm = pm.merge(risk[["person_id", "normalized_score"]], on="person_id", how="left")
    pm["stratum"] = [
        (_band(a, AGE_CUTS), s, e, "dual" if d not in ("00", "NA", "") else "non-dual", _band(float(r), RISK_CUTS)
         if not pd.isna(r) else "unscored")
        for a, s, e, d, r in zip(pm.age_at_month_start, pm.sex, pm.eligibility_group, pm.dual_status_code,
                                 pm.normalized_score)]
    pm["ed_visits"] = pm.merge(ed.groupby(["person_id", "month_start"]).size().rename("n").reset_index(),
                               on=["person_id", "month_start"], how="left").n.fillna(0).to_numpy()
    pm["rx_fills"] = pm.merge(rx.groupby(["person_id", "month_start"]).size().rename("n").reset_index(),
                              on=["person_id", "month_start"], how="left").n.fillna(0).to_numpy()
    pm["unit"] = pm.person_id.map(assign)
    out = {}
    for metric in ("ed_visits", "rx_fills"):
        rates = pm.groupby("stratum")[metric].sum() / pm.groupby("stratum").size()
        pm["e"] = pm.stratum.map(rates)
        g = pm.dropna(subset=["unit"]).groupby("unit").agg(o=(metric, "sum"), e=("e", "sum"), mm=("e", "size"))
        out[metric] = g
    return out


@pytest.mark.parametrize("metric", ["ed_visits", "rx_fills"])
def test_pandas_reference_reproduces_counts_and_oe(planted_engine, reference, metric):
    with planted_engine.connect() as conn:
        rows = conn.execute(select(UUM.c.unit_id, UUM.c.observed, UUM.c.expected, UUM.c.member_months).where(
            UUM.c.unit_type == "billing_npi", UUM.c.metric == metric, UUM.c.year == 2025)).all()
    ref = reference[metric]
    assert sorted(r.unit_id for r in rows) == sorted(ref.index)
    for r in rows:
        assert float(r.observed) == ref.loc[r.unit_id, "o"]
        assert r.member_months == ref.loc[r.unit_id, "mm"]
        assert float(r.expected) == pytest.approx(ref.loc[r.unit_id, "e"], rel=1e-6)
        assert float(r.observed) / float(r.expected) == pytest.approx(ref.loc[r.unit_id, "o"] / ref.loc[r.unit_id, "e"],
                                                                      rel=1e-6)


def test_ed_visits_classified_by_the_nyu_johnston_table(planted_engine):
    # every planted ED visit has principal diagnosis R10.9: epct 0.6697247706, edcnnpa 0.3302752294 in the table
    with planted_engine.connect() as conn:
        rows = conn.execute(select(UUM.c.unit_id, UUM.c.metric, UUM.c.observed).where(
            UUM.c.unit_type == "billing_npi", UUM.c.year == 2025,
            UUM.c.metric.in_(("ed_visits", "ed_nonemergent", "ed_primary_care_treatable", "ed_not_preventable",
                              "ed_unclassified")))).all()
    by_unit: dict = {}
    for r in rows:
        by_unit.setdefault(r.unit_id, {})[r.metric] = float(r.observed)
    for unit, m in by_unit.items():
        assert m["ed_primary_care_treatable"] == pytest.approx(0.6697247706 * m["ed_visits"], abs=1e-3), unit
        assert m["ed_nonemergent"] == 0
        assert m["ed_not_preventable"] == pytest.approx(0.3302752294 * m["ed_visits"], abs=1e-3), unit
        assert m["ed_unclassified"] == 0
