"""Prescriber profiles with the peer outlier rule, the DUR survey export (suppressed small cells) and the
intervention record with alert resolution at the next run."""
from __future__ import annotations

import csv

import pytest
from sqlalchemy import insert

from pharmacy.profiles import InterventionFileError, intervention_status, load_interventions, prescriber_profiles
from pharmacy.survey import survey_rows, write_survey
from tests.pharmacy.scenario import HYDROCODONE_10, OXYCODONE_30, D
from warehouse.models import Provider


def _prescribers(wh):
    with wh.engine.begin() as conn:
        conn.execute(insert(Provider.__table__), [dict(npi=f"D{i}", specialty="family medicine",
                                                       provider_type="pcp") for i in range(1, 5)])
    # D1-D3: 4 patients each, 10 days at 40 MME/day (no rule fires); D4: 4 patients at 180 MME/day for 30 days
    for i in range(1, 5):
        for j in range(4):
            pid = wh.member(f"p{i}{j}")
            ndc, days, qty = (OXYCODONE_30, 30, 120) if i == 4 else (HYDROCODONE_10, 10, 40)
            wh.fill(pid, ndc, D(2025, 3, 1), days, qty, prescriber=f"D{i}", pharmacy="F1")


def test_prescriber_outlier_against_specialty_peers(wh):
    _prescribers(wh)
    wh.dur()
    rows = {r["npi"]: r for r in prescriber_profiles(wh.engine, 2025, min_patients=4, min_peers=3)}
    d4 = rows["D4"]
    assert d4["patients"] == 4 and d4["fills"] == 4
    assert d4["alerted_patients_per_100"] == 100.0 and d4["outlier"]
    assert d4["peer_group"] == "family medicine" and d4["peers"] == 4
    assert d4["peer_p80_per_100"] == 40.0  # 80th percentile of 0, 0, 0, 100
    assert all(rows[f"D{i}"]["alerted_patients_per_100"] == 0 and not rows[f"D{i}"]["outlier"] for i in (1, 2, 3))


def test_survey_suppresses_small_cells(wh, tmp_path):
    for j in range(12):
        wh.fill(wh.member(f"h{j}"), OXYCODONE_30, D(2025, 3, 1), 30, 120)
    for j in range(3):
        wh.fill(wh.member(f"b{j}"), HYDROCODONE_10, D(2025, 3, 1), 30, 60)
        wh.fill(f"b{j}", "00228203010", D(2025, 3, 5), 30, 60)
    wh.dur()
    rows = {r["item"]: r for r in survey_rows(wh.engine, 2025)}
    assert rows["mme_90"]["persons"] == 12 and rows["mme_90"]["enrollees"] == 15
    assert rows["opioid_benzodiazepine"]["suppressed"] and rows["opioid_benzodiazepine"]["persons"] in (None, "")
    assert rows["opioid_antipsychotic"]["persons"] == 0 and not rows["opioid_antipsychotic"]["suppressed"]
    path = write_survey(wh.engine, 2025, tmp_path)
    with open(path) as fh:
        written = list(csv.DictReader(fh))
    assert all(not (1 <= int(r["persons"]) <= 10) for r in written if r["persons"])


def test_intervention_pending_then_resolved_or_persisting(wh, tmp_path):
    for pid in ("stays", "stops"):
        wh.member(pid)
        wh.fill(pid, OXYCODONE_30, D(2025, 3, 1), 30, 120)
    wh.fill("stays", OXYCODONE_30, D(2025, 12, 20), 30, 120)  # still at 180 MME/day in January
    wh.dur(2025)
    f = tmp_path / "interventions.csv"
    f.write_text("intervention_id,year,rule_id,person_id,prescriber_npi,action,action_date,outcome\n"
                 "I1,2025,high_dose_90,stays,P1,letter_sent,2025-04-15,\n"
                 "I2,2025,high_dose_90,stops,P1,prescriber_contacted,2025-04-15,tapered\n")
    assert load_interventions(wh.engine, f) == 2
    assert {r["status"] for r in intervention_status(wh.engine, 2025)} == {"pending"}
    wh.dur(2026)
    status = {r["intervention_id"]: r["status"] for r in intervention_status(wh.engine, 2025)}
    assert status == {"I1": "persisting", "I2": "resolved"}


def test_bad_intervention_row_names_line_and_field(wh, tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("intervention_id,year,rule_id,person_id,prescriber_npi,action,action_date,outcome\n"
                 "I1,2025,high_dose_90,x,P1,phoned,2025-04-15,\n")
    with pytest.raises(InterventionFileError, match=r"line 2: invalid action"):
        load_interventions(wh.engine, f)
