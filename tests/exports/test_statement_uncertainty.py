"""Settlement statements carry each paying row's uncertainty (savings.population.uncertainty): the analytic 90 %
interval of the savings rate, the chance probability and whether the MSR protects; a suppressed row hides them."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from sqlalchemy import insert

from exports.settlement import UNCERTAINTY_COLUMNS, statement_rows
from savings.work_tables import attribution, settlement
from warehouse.engine import make_engine

YEAR = 2025


def _uncertainty(low: float, high: float, chance: float, protects: bool) -> str:
    return json.dumps({"uncertainty": {"analytic": {"rate_low": low, "rate_high": high, "chance_probability": chance,
                                                    "msr_protects": protects}}})


def _row(entity, payer, binding, breakdown):
    return dict(year=YEAR, methodology_id="demo", program_id="ACO-1", entity_id=entity, payer=payer,
                risk_arrangement="one_sided", person_years=Decimal("30"), benchmark=Decimal(100000),
                expenditure=Decimal(95000), savings=Decimal(5000), savings_rate=Decimal("0.05"), msr=Decimal("0.02"),
                generated=Decimal(5000), quality_score=Decimal(1), sharing_rate=Decimal("0.5"), earned=Decimal(2500),
                owed=Decimal(0), binding=binding, breakdown=breakdown, computed_at=dt.datetime(2026, 1, 1))


def test_paying_rows_show_interval_and_chance_and_suppressed_rows_hide_them(warehouse_url):
    engine = make_engine(warehouse_url)
    sizes = {"E1": 40, "E2": 40, "E3": 40, "E4": 5}
    att = [dict(year=YEAR, program_id="ACO-1", person_id=f"{e}-{k}", month_start=dt.date(YEAR, 1, 1),
                payer="medicaid", entity_id=e, method="roster", reason="roster")
           for e, n in sizes.items() for k in range(n)]
    rows = [_row(e, "combined", 1, _uncertainty(0.01 * i, 0.09, 0.001 * i, i != 2)) for i, e in enumerate(sizes, 1)]
    rows.append(_row("E1", "medicaid", 0, _uncertainty(0.5, 0.6, 0.5, True)))      # not paying: not shown
    with engine.begin() as conn:
        conn.execute(insert(attribution), att)
        conn.execute(insert(settlement), rows)
    got = {(r["entity_id"], r["payer"]): r for r in statement_rows(engine, YEAR)}
    engine.dispose()
    assert got[("E4", "combined")]["suppressed"] and all(got[("E4", "combined")][c] is None
                                                          for c in UNCERTAINTY_COLUMNS)
    hidden = [k for k, r in got.items() if r["suppressed"]]
    shown = [k for k in [("E1", "combined"), ("E2", "combined"), ("E3", "combined")] if k not in hidden]
    assert len(shown) == 2          # hidden: E4 (5 persons) and one paying row complementary to it
    for entity, payer in shown:
        i = int(entity[1])
        r = got[(entity, payer)]
        assert r["rate_low_analytic"] == Decimal(str(0.01 * i)).quantize(Decimal("1e-8"))
        assert r["rate_high_analytic"] == Decimal("0.09") and r["msr_protects"] is (i != 2)
        assert r["chance_probability"] == Decimal(str(0.001 * i)).quantize(Decimal("1e-8"))
    assert all(got[("E1", "medicaid")][c] is None for c in UNCERTAINTY_COLUMNS)
