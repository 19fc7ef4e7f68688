"""Benchmark hook: time each measure against a floor query (one full scan-and-aggregate of the claim lines)."""
from __future__ import annotations

import time

from sqlalchemy import Engine, func, select

from measures.registry import all_measures
from warehouse.models import MedicalClaimLineFinal

L = MedicalClaimLineFinal.__table__


def floor_query(engine: Engine) -> float:
    q = (select(L.c.revenue_center_code, func.count(), func.sum(L.c.paid_amount),
                func.count(func.distinct(L.c.hcpcs_code))).group_by(L.c.revenue_center_code))
    t0 = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(q).all()
    return time.perf_counter() - t0


def run(engine: Engine, year: int, measure_ids: list[str] | None = None) -> dict:
    from measures.engine import compute

    floor = max(floor_query(engine), 1e-6)
    per = {}
    for m in all_measures():
        if measure_ids and m.id not in measure_ids:
            continue
        t0 = time.perf_counter()
        rows = compute(engine, year, [m.id])
        s = time.perf_counter() - t0
        per[m.id] = {"seconds": round(s, 4), "ratio_to_floor": round(s / floor, 2),
                     "status": sorted({r["status"] for r in rows if r["stratum"]["type"] == "total"})}
    total = sum(v["seconds"] for v in per.values())
    return {"year": year, "floor_seconds": round(floor, 4), "measures": per, "total_seconds": round(total, 4),
            "total_ratio_to_floor": round(total / floor, 2)}
