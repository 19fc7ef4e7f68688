"""Prescriber and pharmacy DUR profiles, the intervention record and alert resolution.

Profiles (42 CFR 456 subpart B provider service profiles; SUPPORT Act s.1004 prescriber/pharmacy review): per
prescriber (or pharmacy) in a year, patients with a fill, fills, alerted patients (a patient counts for every
prescriber whose fill is `contributing` on the trace of one of the patient's alerts), alerts per 100 patients
and per 1,000 fills. Aggregation runs in the database; the provider-level rows (one per provider, no claims) are
ranked in Python.

Outlier rule (documented choice until the utilization-management outlier methods exist; after PEPPER, spec 6.1
and 6.6): within peers of the same specialty (pharmacies: all pharmacies), a provider is an outlier when its alerts
per 100 patients is at or above the peers' 80th percentile (linear interpolation), it has at least
MIN_PATIENTS patients (n < 30 is reported but never flagged) and the peer group has at least MIN_PEERS members.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import case, exists, func, select

from measures.blocks import PROV, RX
from pharmacy.inputs import InputFileError, load_rows
from pharmacy.tables import dur_alert, dur_alert_trace, dur_intervention, dur_run

MIN_PATIENTS = 30
MIN_PEERS = 5
PEER_PERCENTILE = 80


def _profile_rows(conn, year: int, npi_col, trace_col) -> list[dict]:
    y0, y1 = dt.date(year, 1, 1), dt.date(year, 12, 31)
    base = (select(npi_col.label("npi"), func.count(func.distinct(RX.c.person_id)).label("patients"),
                   func.count().label("fills"))
            .where(RX.c.dispensing_date.between(y0, y1), npi_col.is_not(None)).group_by(npi_col)).cte("prof_base")
    t = dur_alert_trace
    alerted = (select(trace_col.label("npi"), func.count(func.distinct(t.c.person_id)).label("alerted_patients"),
                      func.count(func.distinct(t.c.rule_id + "|" + t.c.person_id)).label("alerts"))
               .where(t.c.year == year, t.c.role == "contributing", trace_col.is_not(None))
               .group_by(trace_col)).cte("prof_alerted")
    q = (select(base.c.npi, PROV.c.specialty, PROV.c.provider_type, base.c.patients, base.c.fills,
                func.coalesce(alerted.c.alerted_patients, 0).label("alerted_patients"),
                func.coalesce(alerted.c.alerts, 0).label("alerts"))
         .select_from(base.outerjoin(alerted, alerted.c.npi == base.c.npi).outerjoin(PROV, PROV.c.npi == base.c.npi)))
    return [dict(r._mapping) for r in conn.execute(q)]


def _rank(rows: list[dict], peer_key, min_patients: int, min_peers: int) -> list[dict]:
    for r in rows:
        r["alerted_patients_per_100"] = round(100.0 * r["alerted_patients"] / r["patients"], 2) if r["patients"] else None
        r["alerts_per_1000_fills"] = round(1000.0 * r["alerts"] / r["fills"], 2) if r["fills"] else None
        r["peer_group"] = peer_key(r)
    groups: dict = {}
    for r in rows:
        if r["patients"] >= min_patients:
            groups.setdefault(r["peer_group"], []).append(r["alerted_patients_per_100"])
    for r in rows:
        peers = groups.get(r["peer_group"], [])
        r["peers"] = len(peers)
        r["peer_median_per_100"] = round(float(np.median(peers)), 2) if peers else None
        r["peer_p80_per_100"] = round(float(np.percentile(peers, PEER_PERCENTILE)), 2) if peers else None
        r["outlier"] = bool(len(peers) >= min_peers and r["patients"] >= min_patients
                            and r["alerted_patients_per_100"] >= r["peer_p80_per_100"] and r["alerted_patients"] > 0)
    return sorted(rows, key=lambda r: (not r["outlier"], -(r["alerted_patients_per_100"] or 0), r["npi"]))


def prescriber_profiles(engine, year: int, min_patients: int = MIN_PATIENTS, min_peers: int = MIN_PEERS) -> list[dict]:
    with engine.connect() as conn:
        rows = _profile_rows(conn, year, RX.c.prescribing_provider_npi, dur_alert_trace.c.prescriber_npi)
    return _rank(rows, lambda r: r["specialty"] or "unknown specialty", min_patients, min_peers)


def pharmacy_profiles(engine, year: int, min_patients: int = MIN_PATIENTS, min_peers: int = MIN_PEERS) -> list[dict]:
    with engine.connect() as conn:
        rows = _profile_rows(conn, year, RX.c.dispensing_provider_npi, dur_alert_trace.c.pharmacy_npi)
    return _rank(rows, lambda r: "pharmacy", min_patients, min_peers)


# --- interventions -----------------------------------------------------------------------------------------

class Intervention(BaseModel):
    """One row of the state's intervention record (CSV with these columns)."""
    model_config = ConfigDict(extra="forbid")
    intervention_id: str = Field(min_length=1)
    year: int = Field(ge=1900, le=2200)
    rule_id: str = Field(min_length=1)
    person_id: str = Field(min_length=1)
    prescriber_npi: str | None = None
    action: str = Field(pattern=r"^(letter_sent|prescriber_contacted|pharmacy_contacted|profile_reviewed)$")
    action_date: dt.date
    outcome: str | None = None


InterventionFileError = InputFileError


def load_interventions(engine, path: str | Path) -> int:
    """Validate every row of the CSV, then replace those interventions (by id) in one transaction."""
    return load_rows(engine, path, Intervention, dur_intervention, "intervention_id")


def intervention_status(engine, year: int) -> list[dict]:
    """Interventions on alerts of `year` and whether the alert resolved at the next run: `persisting` when the same
    rule fires for the person in year + 1, `resolved` when year + 1 has been reviewed and it does not, `pending`
    when year + 1 has not been reviewed yet."""
    i, a = dur_intervention, dur_alert
    nxt = year + 1
    again = exists().where(a.c.year == nxt, a.c.rule_id == i.c.rule_id, a.c.person_id == i.c.person_id)
    reviewed = exists().where(dur_run.c.year == nxt)
    status = case((again, "persisting"), (reviewed, "resolved"), else_="pending")
    q = select(i.c.intervention_id, i.c.rule_id, i.c.action, i.c.action_date, i.c.outcome,
               status.label("status")).where(i.c.year == year).order_by(i.c.intervention_id)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


