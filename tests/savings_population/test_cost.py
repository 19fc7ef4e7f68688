"""Cost of care: service categories, month/payer matching, run-out, completion, truncation, enrollment types."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from savings.population import build_cost
from savings.work_tables import cost_person_month, cost_person_year
from tests.savings_population.scenario import Feed


@pytest.fixture
def cost_feed(tmp_path):
    f = Feed(tmp_path / "feed")
    f.member("A")
    inst = dict(claim_type="institutional", place_of_service_code="")
    f.claim("A", "2024-03-10", "5000.00", bill_type_code="111", revenue_center_code="0120", **inst)
    f.claim("A", "2024-03-20", "800.00", bill_type_code="131", revenue_center_code="0450", **inst)
    f.claim("A", "2024-04-02", "200.00", bill_type_code="0131", revenue_center_code="0300", **inst)
    f.claim("A", "2024-04-05", "100.00")                                     # professional office visit
    f.claim("A", "2024-04-06", "150.00", dx="F329")                          # depression -> behavioural health
    f.claim("A", "2024-05-01", "3000.00", bill_type_code="211", **inst)     # SNF -> LTSS
    f.claim("A", "2024-05-02", "75.00", hcpcs_code="99283", place_of_service_code="23")   # ED professional
    f.claim("A", "2024-06-01", "999.00", paid_date="2025-06-15")             # paid after the run-out
    f.fill("A", "2024-04-10", "50.00")
    # B: Medicaid Jan-Jun, Medicare Jul-Dec (aged, non-dual); each claim counts with its own payer's month
    f.member("B", end="2024-06-30", birth="1950-01-01")
    f.member("B", start="2024-07-01", payer="medicare", birth="1950-01-01", medicare_status_code="10")
    f.claim("B", "2024-02-01", "300.00")
    f.claim("B", "2024-08-01", "700.00", payer="medicare")
    # truncation population
    for p, amount in (("C", "1000.00"), ("D", "2000.00"), ("E", "100000.00")):
        f.member(p)
        f.claim(p, "2024-02-02", amount)
    return f


def _pm(engine, person):
    with engine.connect() as conn:
        return {(r.month_start, r.payer): r for r in conn.execute(
            select(cost_person_month).where(cost_person_month.c.person_id == person))}


def _py(engine):
    with engine.connect() as conn:
        return {(r.person_id, r.payer): r for r in conn.execute(select(cost_person_year))}


def test_categories_payers_runout(cost_feed, warehouse_url):
    engine = cost_feed.load(warehouse_url)
    out = build_cost(engine, {"cost": {"runout_months": 3}}, 2024)
    a = _pm(engine, "A")
    assert len(a) == 12, "every member-month gets a row, with or without claims"
    mar, apr, may = (a[(dt.date(2024, m, 1), "medicaid")] for m in (3, 4, 5))
    assert float(mar.inpatient) == 5000 and float(mar.ed) == 800
    assert float(apr.outpatient) == 200 and float(apr.professional) == 100
    assert float(apr.behavioral_health) == 150 and float(apr.pharmacy) == 50
    assert float(may.ltss) == 3000 and float(may.ed) == 75
    assert float(a[(dt.date(2024, 6, 1), "medicaid")].professional) == 0, "paid after run-out"
    b = _pm(engine, "B")
    assert float(b[(dt.date(2024, 2, 1), "medicaid")].professional) == 300
    assert float(b[(dt.date(2024, 8, 1), "medicare")].professional) == 700
    assert b[(dt.date(2024, 8, 1), "medicare")].enrollment_type == "AGND"
    py = _py(engine)
    assert float(py[("A", "medicaid")].cost) == 5000 + 800 + 200 + 100 + 150 + 3000 + 75 + 50
    assert py[("B", "medicare")].member_months == 6
    assert float(py[("B", "medicare")].annualized_cost) == 1400
    assert out["thresholds"] == {}


def test_excluded_categories_completion_and_dollar_truncation(cost_feed, warehouse_url):
    engine = cost_feed.load(warehouse_url)
    cfg = {"cost": {"excluded": ["ltss", "rx"], "completion_factor": 0.8,
                    "truncation": {"type": "per_member_annual", "threshold_usd": 50000}}}
    build_cost(engine, cfg, 2024)
    py = _py(engine)
    assert py[("A", "medicaid")].cost == Decimal("7906.25"), "(5000 + 800 + 200 + 100 + 150 + 75) / 0.8"
    e = py[("E", "medicaid")]
    assert float(e.cost) == 125000 and float(e.truncated_cost) == 50000
    assert float(py[("C", "medicaid")].truncated_cost) == 1250
    # part-year member: the threshold is pro-rated by months (B's medicare half-year)
    cfg["cost"]["truncation"]["threshold_usd"] = 1000
    build_cost(engine, cfg, 2024)
    assert float(_py(engine)[("B", "medicare")].truncated_cost) == 500


def test_percentile_truncation_by_enrollment_type(cost_feed, warehouse_url):
    engine = cost_feed.load(warehouse_url)
    out = build_cost(engine, {"cost": {"truncation": {"type": "percentile", "percentile": 0.5}}}, 2024)
    py = _py(engine)
    # Medicaid 'unknown' eligibility group: A, B (6 months), C, D, E -> median of annualised totals
    thr = out["thresholds"]["medicaid/unknown"]
    annual = sorted(r.annualized_cost for (p, payer), r in py.items() if payer == "medicaid")
    assert annual == [Decimal("600.00"), Decimal("1000.00"), Decimal("2000.00"), Decimal("9375.00"),
                      Decimal("100000.00")]
    assert isinstance(thr, Decimal) and thr == Decimal("2000.00") == annual[len(annual) // 2]
    assert py[("E", "medicaid")].truncated_cost == thr
    assert float(py[("C", "medicaid")].truncated_cost) == 1000
    assert "medicare/AGND" in out["thresholds"]
