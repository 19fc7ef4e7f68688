"""Evaluation of an MTM targeting rule: enrolled versus eligible-not-enrolled, difference-in-differences.

Design (CMS Enhanced MTM evaluation logic, simplified): treated = persons listed eligible in year Y under the
preset and with an MTM enrollment record starting in Y; comparison = persons listed eligible in Y with no MTM
enrollment. Outcomes per person for the pre year (Y - 1) and the post year (Y): total paid (medical + pharmacy),
pharmacy paid, ED visits (measures.blocks.ed_visits_all: one per person-date) and inpatient admissions
(measures.blocks.any_inpatient_admissions). Aggregation runs in the database; the person-level panel (two rows per
person, no claims) is fitted by the shared evaluation.did: OLS y ~ treated + post + treated:post with standard errors
clustered by person (statsmodels). The treated:post coefficient is the estimate; its 95 % CI decides the plain-
language verdict. No matching or risk adjustment: selection into MTM is not random, so read the estimate as descriptive.
"""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pandas as pd
from sqlalchemy import Float, cast, exists, func, literal, select, union_all

from evaluation.did import fit_outcomes
from measures.blocks import H, RX, any_inpatient_admissions, ed_visits_all, flag
from measures.definition import BuildContext
from pharmacy.tables import mtm_eligible, mtm_service

OUTCOMES = ("total_paid", "pharmacy_paid", "ed_visits", "admissions")


def _panel(engine, year: int, preset: str) -> pd.DataFrame:
    from measures.valuesets import default_registry

    e = mtm_eligible
    s = mtm_service
    enrolled = exists().where(s.c.person_id == e.c.person_id, s.c.record_type == "enrollment",
                              s.c.start_date.between(dt.date(year, 1, 1), dt.date(year, 12, 31)))
    cohort = (select(e.c.person_id, func.max(flag(enrolled)).label("treated"))
              .where(e.c.year == year, e.c.preset == preset).group_by(e.c.person_id)).cte("did_cohort")
    with engine.connect() as conn:
        ctx = BuildContext(year, default_registry(), SimpleNamespace(params={}, id="MTM-EVAL"), conn.dialect.name)
        ed, ip = ed_visits_all(ctx), any_inpatient_admissions(ctx)
        parts = []
        for post, yr in ((0, year - 1), (1, year)):
            y0, y1 = dt.date(yr, 1, 1), dt.date(yr, 12, 31)

            def per_person(col, where_date, src, name, value):
                return (select(col.label("person_id"), value.label(name)).select_from(src)
                        .where(where_date.between(y0, y1)).group_by(col)).cte(f"did_{name}_{post}")
            med = per_person(H.c.person_id, H.c.claim_start_date, H, "med", func.sum(cast(H.c.paid_amount, Float)))
            rx = per_person(RX.c.person_id, RX.c.dispensing_date, RX, "rx", func.sum(cast(RX.c.paid_amount, Float)))
            edv = per_person(ed.c.person_id, ed.c.visit_date, ed, "ed", func.count())
            adm = per_person(ip.c.person_id, ip.c.admit_date, ip, "adm", func.count())
            c = cohort
            parts.append(
                select(c.c.person_id, c.c.treated, literal(post).label("post"),
                       (func.coalesce(med.c.med, 0.0) + func.coalesce(rx.c.rx, 0.0)).label("total_paid"),
                       func.coalesce(rx.c.rx, 0.0).label("pharmacy_paid"),
                       func.coalesce(edv.c.ed, 0).label("ed_visits"), func.coalesce(adm.c.adm, 0).label("admissions"))
                .select_from(c.outerjoin(med, med.c.person_id == c.c.person_id)
                             .outerjoin(rx, rx.c.person_id == c.c.person_id)
                             .outerjoin(edv, edv.c.person_id == c.c.person_id)
                             .outerjoin(adm, adm.c.person_id == c.c.person_id)))
        rows = conn.execute(union_all(*parts)).mappings().all()
    return pd.DataFrame(rows, columns=["person_id", "treated", "post", *OUTCOMES])


def evaluate_targeting(engine, year: int, preset: str, alpha: float = 0.05) -> dict:
    panel = _panel(engine, year, preset)
    treated = int(panel.loc[panel.post == 1, "treated"].sum()) if len(panel) else 0
    comparison = int((panel.loc[panel.post == 1, "treated"] == 0).sum()) if len(panel) else 0
    out = {"year": year, "preset": preset, "treated": treated, "comparison": comparison, "outcomes": {},
           "design": "difference-in-differences, enrolled vs eligible-not-enrolled, pre = year - 1, post = year; "
                     "OLS with person-clustered standard errors; not risk adjusted"}
    if treated < 2 or comparison < 2:
        out["verdict"] = "not estimable: fewer than 2 persons in the enrolled or the comparison group"
        return out
    return out | fit_outcomes(panel, OUTCOMES, alpha=alpha)     # evaluation.did: the shared DiD
