"""CMS-HCC scores computed in SQL against hand calculations from the published coefficient tables, and a
state-supplied Medicaid model through the same machinery."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from savings.population import load_custom_model, score_year
from savings.work_tables import risk_score
from tests.savings_population.scenario import Feed

NO_NORM = {"cost": {"risk_adjustment": {"model": "CMS-HCC", "normalize": False,
                                        "blend": {"CMS-HCC-V24": 0.67, "CMS-HCC-V28": 0.33}}}}


@pytest.fixture
def risk_feed(tmp_path):
    f = Feed(tmp_path / "feed")
    # aged female, 72 on 1 Feb 2024, community non-dual (Medicare)
    f.member("AGED", start="2023-01-01", payer="medicare", birth="1951-06-01", medicare_status_code="10")
    for dx in ("E1122", "E119", "I5022", "J449"):
        f.claim("AGED", "2023-05-01", "10.00", payer="medicare", dx=dx)
    f.claim("AGED", "2024-05-01", "10.00", payer="medicare", dx="C7951")   # PY diagnosis: not used prospectively
    # disabled male, 50, schizophrenia, Medicaid only -> community non-dual disabled segment
    f.member("DIS", start="2023-01-01", birth="1973-07-04", gender="male")
    f.claim("DIS", "2023-08-01", "10.00", dx="F200")
    # aged full-dual female, 82, no diagnoses -> demographic only
    f.member("DUAL", start="2023-01-01", payer="medicare", birth="1941-03-03", dual_status_code="02",
             medicare_status_code="10")
    return f


def _scores(engine, year=2024):
    with engine.connect() as conn:
        return {(r.person_id, r.model_version): r for r in conn.execute(
            select(risk_score).where(risk_score.c.year == year))}


def test_cms_hcc_known_profiles(risk_feed, warehouse_url):
    engine = risk_feed.load(warehouse_url)
    out = score_year(engine, NO_NORM, 2024)
    assert out["persons"] == 3
    s = _scores(engine)
    v24 = s[("AGED", "CMS-HCC-V24")]
    assert v24.segment == "CNA"
    assert float(v24.demographic_score) == pytest.approx(0.386)                     # CNA F70-74
    assert float(v24.disease_score) == pytest.approx(0.302 + 0.331 + 0.335)        # HCC18 (drops HCC19), HCC85, HCC111
    assert float(v24.interaction_score) == pytest.approx(0.121 + 0.155)            # DIABETES_CHF, CHF_gCopdCF
    assert float(v24.count_score) == pytest.approx(0.0)                             # D3
    assert float(v24.raw_score) == pytest.approx(1.630)
    v28 = s[("AGED", "CMS-HCC-V28")]
    # CNA F70-74 0.395; HCC37 (drops 38) 0.166, HCC226 0.360, HCC280 0.319; DIABETES_HF 0.112, HF_CHR_LUNG 0.078
    assert float(v28.raw_score) == pytest.approx(0.395 + 0.166 + 0.360 + 0.319 + 0.112 + 0.078)
    assert float(s[("AGED", "BLEND")].raw_score) == pytest.approx(0.67 * 1.630 + 0.33 * 1.430)
    dis = s[("DIS", "CMS-HCC-V24")]
    assert dis.segment == "CND" and float(dis.raw_score) == pytest.approx(0.241 + 0.352)   # CND M45-54 + HCC57
    dual = s[("DUAL", "CMS-HCC-V24")]
    assert dual.segment == "CFA" and float(dual.raw_score) == pytest.approx(0.716)          # CFA F80-84
    # normalisation divides
    score_year(engine, {"cost": {"risk_adjustment": {"model": "CMS-HCC", "blend": {"CMS-HCC-V24": 1.0},
                                                     "normalization": {"CMS-HCC-V24": 1.1}}}}, 2024)
    assert float(_scores(engine)[("AGED", "BLEND")].normalized_score) == pytest.approx(1.630 / 1.1)


def test_custom_medicaid_model(risk_feed, warehouse_url, tmp_path):
    engine = risk_feed.load(warehouse_url)
    (tmp_path / "map.csv").write_text("diagnosis_code,category\nF20.0,PSY_HIGH\nE11.9,DIA_LOW\nE11.22,DIA_MED\n")
    (tmp_path / "w.csv").write_text("type,category,sex,age_min,age_max,weight\n"
                                    "category,PSY_HIGH,,,,1.25\ncategory,DIA_LOW,,,,0.2\ncategory,DIA_MED,,,,0.4\n"
                                    "demographic,,F,0,64,0.3\ndemographic,,M,0,64,0.25\ndemographic,,,65,200,0.6\n")
    (tmp_path / "h.csv").write_text("parent,child\nDIA_MED,DIA_LOW\n")
    load_custom_model(engine, "cdps", tmp_path / "map.csv", tmp_path / "w.csv", tmp_path / "h.csv")
    score_year(engine, {"cost": {"risk_adjustment": {"model": "custom", "custom_name": "cdps"}}}, 2024)
    s = _scores(engine)
    assert float(s[("DIS", "BLEND")].raw_score) == pytest.approx(0.25 + 1.25)
    assert float(s[("AGED", "BLEND")].raw_score) == pytest.approx(0.6 + 0.4)
    assert float(s[("DUAL", "BLEND")].raw_score) == pytest.approx(0.6)
    with pytest.raises(ValueError, match="weight"):
        (tmp_path / "bad.csv").write_text("type,category,sex,age_min,age_max,weight\ncategory,X,,,,abc\n")
        load_custom_model(engine, "bad", tmp_path / "map.csv", tmp_path / "bad.csv")
