"""A Medicaid risk model such as CDPS+Rx as the risk band of the standardisation, instead of CMS-HCC. CDPS+Rx is
licensed by UC San Diego, so its tables are not shipped: the user loads their copy (diagnosis map, MRx NDC map,
weights, hierarchy) through the savings engine's custom-model loader (savings.population.load_custom_model) and
names it in `standardisation.risk_model`."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from savings.population import load_custom_model, score_year
from savings.work_tables import risk_score
from tests.utilization.scenario import Builder
from utilization.metrics import build_person_months
from utilization.tables import utilization_person_month as UPM
from warehouse.engine import make_engine

INSULIN, ANTIPSYCHOTIC = "00002850101", "00093707001"   # any NDCs: the map is the user's


def test_strata_take_the_risk_band_from_the_named_custom_model(warehouse_url, tmp_path):
    b = Builder()
    b.provider("1000000001")
    for pid, dx in (("psychosis", "F200"), ("diabetes", "E119"), ("healthy", "Z0000"), ("insulin", "Z0000"),
                    ("antipsychotic-and-psychosis", "F200")):
        b.member(pid)
        b.claim(pid, dt.date(2024, 5, 1), billing_npi="1000000001", dx=dx, lines=[dict(hcpcs="99213", pos="11")])
    b.rx("insulin", dt.date(2024, 8, 1), ndc=INSULIN)
    b.rx("insulin", dt.date(2025, 8, 1), ndc=ANTIPSYCHOTIC)          # a fill of the payment year itself: not used
    b.rx("antipsychotic-and-psychosis", dt.date(2024, 8, 1), ndc=ANTIPSYCHOTIC)
    b.write(warehouse_url).dispose()
    (tmp_path / "map.csv").write_text("diagnosis_code,category\nF20.0,PSYH\nE11.9,DIA2L\n")
    # the map may spell NDCs hyphenated: 0093-7070-01 (4-4-2) is 00093707001
    (tmp_path / "ndc.csv").write_text(f"ndc,category\n{INSULIN},MRX3\n0093-7070-01,MRX7\n")
    (tmp_path / "w.csv").write_text("type,category,sex,age_min,age_max,weight\ncategory,PSYH,,,,1.6\n"
                                    "category,DIA2L,,,,0.5\ncategory,MRX3,,,,0.6\ncategory,MRX7,,,,0.9\n"
                                    "demographic,,,0,200,0.5\n")
    (tmp_path / "h.csv").write_text("parent,child\nPSYH,MRX7\n")   # the diagnosis outranks the drug category
    engine = make_engine(warehouse_url)
    load_custom_model(engine, "cdps", tmp_path / "map.csv", tmp_path / "w.csv", tmp_path / "h.csv",
                      ndc_map_csv=tmp_path / "ndc.csv")
    score_year(engine, {"cost": {"risk_adjustment": {"model": "custom", "custom_name": "cdps"}}}, 2025)
    build_person_months(engine, 2025, {"standardisation": {"risk_model": "custom:cdps", "risk_bands": [0.75, 2.0]}})
    with engine.connect() as conn:
        strata = dict(conn.execute(select(UPM.c.person_id, UPM.c.stratum).where(
            UPM.c.year == 2025, UPM.c.month_start == dt.date(2025, 6, 1))).all())
    engine.dispose()
    # scores 0.5 + 1.6 = 2.1; 0.5 + 0.5 = 1.0; 0.5; 0.5 + 0.6 (MRX3 from the 2024 fill) = 1.1; 0.5 + 1.6 (MRX7 dropped
    # under PSYH) = 2.1
    assert {p: s.rsplit("|", 1)[1] for p, s in strata.items()} == {
        "psychosis": "2+", "diabetes": "0.75-2", "healthy": "0-0.75", "insulin": "0.75-2",
        "antipsychotic-and-psychosis": "2+"}
    with make_engine(warehouse_url).connect() as conn:
        raw = dict(conn.execute(select(risk_score.c.person_id, risk_score.c.raw_score).where(
            risk_score.c.year == 2025, risk_score.c.model_version == "custom:cdps")).all())
    assert {p: round(float(v), 6) for p, v in raw.items()} == {
        "psychosis": 2.1, "diabetes": 1.0, "healthy": 0.5, "insulin": 1.1, "antipsychotic-and-psychosis": 2.1}


def test_ndc_map_with_a_bad_ndc_names_its_file_and_line(warehouse_url, tmp_path):
    (tmp_path / "map.csv").write_text("diagnosis_code,category\nF20.0,PSYH\n")
    (tmp_path / "w.csv").write_text("type,category,sex,age_min,age_max,weight\ncategory,PSYH,,,,1.6\n")
    (tmp_path / "ndc.csv").write_text("ndc,category\n00002-850-01,MRX3\n0002850101,MRX3\n")   # 10 digits: ambiguous
    engine = make_engine(warehouse_url)
    with pytest.raises(ValueError, match=r"ndc.csv line 3: ndc"):
        load_custom_model(engine, "cdps", tmp_path / "map.csv", tmp_path / "w.csv", ndc_map_csv=tmp_path / "ndc.csv")
    engine.dispose()
