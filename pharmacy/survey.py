"""Counts for the CMS Medicaid DUR annual survey (FFS), SUPPORT Act sections, per federal fiscal year.

The FFY runs 1 Oct (FFY - 1) to 30 Sep (FFY) (CMS-R-153; e.g. FFY 2024 = 1 Oct 2023 - 30 Sep 2024 [V: OMB ICR
202409-0938-002]). Section and item labels follow the survey's SUPPORT Act topics; the survey's own question
numbers change by year and are not reproduced [K]. Counts are distinct persons whose alert's first qualifying day
falls in the FFY, from the calendar-year DUR runs of FFY - 1 and FFY (deviation: a person whose qualifying days
began in the earlier calendar year before 1 Oct is counted in that earlier FFY only). Small cells (1-10) are
suppressed with exports.suppression.
"""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from sqlalchemy import and_, func, select

from exports.suppression import suppress
from measures.blocks import MM
from pharmacy.tables import dur_alert

# (section, item, description, rule ids, children only)
ITEMS = [
    ("opioids", "mme_50", "Persons with a day at or above 50 MME (daily sum of overlapping fills)", ("high_dose_50",)),
    ("opioids", "mme_90", "Persons with a day at or above 90 MME (daily sum of overlapping fills)", ("high_dose_90",)),
    ("opioids", "early_refill", "Persons with an early refill of an opioid or benzodiazepine", ("early_refill",)),
    ("opioids", "long_term_opioid", "Persons with long-term opioid use", ("long_term_opioid",)),
    ("opioids", "multiple_prescribers", "Persons with opioids from >= 4 prescribers and >= 4 pharmacies in 180 days",
     ("multiple_prescribers_pharmacies",)),
    ("concurrent_use", "opioid_benzodiazepine", "Persons with concurrent opioid and benzodiazepine",
     ("opioid_benzodiazepine",)),
    ("concurrent_use", "opioid_antipsychotic", "Persons with concurrent opioid and antipsychotic",
     ("opioid_antipsychotic",)),
    ("concurrent_use", "buprenorphine_opioid", "Persons with an opioid during buprenorphine (MOUD)",
     ("buprenorphine_opioid",)),
    ("antipsychotics_children", "children_on_antipsychotics", "Children under 18 with an antipsychotic",
     ("antipsychotic_child",)),
    ("antipsychotics_children", "foster_children_on_antipsychotics", "Children in foster care with an antipsychotic",
     ("antipsychotic_foster_child",)),
    ("antipsychotics_children", "children_antipsychotic_polypharmacy",
     "Children with two or more antipsychotics for >= 90 days", ("antipsychotic_child_polypharmacy",)),
]
COLUMNS = ["ffy", "period_start", "period_end", "section", "item", "description", "persons", "enrollees",
           "per_1000_enrollees", "suppressed", "suppression_reason"]


def ffy_bounds(ffy: int) -> tuple[dt.date, dt.date]:
    return dt.date(ffy - 1, 10, 1), dt.date(ffy, 9, 30)


def survey_rows(engine, ffy: int) -> list[dict]:
    start, end = ffy_bounds(ffy)
    with engine.connect() as conn:
        enrollees = conn.execute(select(func.count(func.distinct(MM.c.person_id)))
                                 .where(MM.c.month_start.between(start, end))).scalar_one()
        counts = dict(conn.execute(
            select(dur_alert.c.rule_id, func.count(func.distinct(dur_alert.c.person_id)))
            .where(and_(dur_alert.c.alert_date.between(start, end))).group_by(dur_alert.c.rule_id)).all())
    rows = []
    for section, item, description, rules in ITEMS:
        persons = sum(counts.get(r, 0) for r in rules)
        rows.append(dict(ffy=ffy, period_start=start, period_end=end, section=section, item=item,
                         description=description, persons=persons, enrollees=enrollees,
                         per_1000_enrollees=round(1000.0 * persons / enrollees, 2) if enrollees else None))
    return suppress(rows, count_fields=["persons"], blank_fields=["persons", "per_1000_enrollees"])


def write_survey(engine, ffy: int, out_dir: str | Path) -> Path:
    rows = survey_rows(engine, ffy)
    path = Path(out_dir) / f"dur_survey_support_act_FFY{ffy}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k) for k in COLUMNS})
    return path
