"""A Medicaid risk model such as CDPS+Rx as the risk band of the standardisation, instead of CMS-HCC. CDPS+Rx is
licensed by UC San Diego, so its tables are not shipped: the user loads their copy through the savings engine's
custom-model loader (savings.population.load_custom_model) and names it in `standardisation.risk_model`."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from savings.population import load_custom_model, score_year
from tests.utilization.scenario import Builder
from utilization.metrics import build_person_months
from utilization.tables import utilization_person_month as UPM
from warehouse.engine import make_engine


def test_strata_take_the_risk_band_from_the_named_custom_model(warehouse_url, tmp_path):
    b = Builder()
    b.provider("1000000001")
    for pid, dx in (("psychosis", "F200"), ("diabetes", "E119"), ("healthy", "Z0000")):
        b.member(pid)
        b.claim(pid, dt.date(2024, 5, 1), billing_npi="1000000001", dx=dx, lines=[dict(hcpcs="99213", pos="11")])
    b.write(warehouse_url).dispose()
    (tmp_path / "map.csv").write_text("diagnosis_code,category\nF20.0,PSYH\nE11.9,DIA2L\n")
    (tmp_path / "w.csv").write_text("type,category,sex,age_min,age_max,weight\ncategory,PSYH,,,,1.6\n"
                                    "category,DIA2L,,,,0.5\ndemographic,,,0,200,0.5\n")
    engine = make_engine(warehouse_url)
    load_custom_model(engine, "cdps", tmp_path / "map.csv", tmp_path / "w.csv")
    score_year(engine, {"cost": {"risk_adjustment": {"model": "custom", "custom_name": "cdps"}}}, 2025)
    build_person_months(engine, 2025, {"standardisation": {"risk_model": "custom:cdps", "risk_bands": [0.75, 2.0]}})
    with engine.connect() as conn:
        strata = dict(conn.execute(select(UPM.c.person_id, UPM.c.stratum).where(
            UPM.c.year == 2025, UPM.c.month_start == dt.date(2025, 6, 1))).all())
    engine.dispose()
    # scores 0.5 + 1.6 = 2.1, 0.5 + 0.5 = 1.0, 0.5
    assert {p: s.rsplit("|", 1)[1] for p, s in strata.items()} == {"psychosis": "2+", "diabetes": "0.75-2",
                                                                   "healthy": "0-0.75"}
