"""Benchmark hook: the measure suite in one engine call, each measure's share of it, and a floor query (one full
scan-and-aggregate of the claim lines)."""
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
    """The measure suite in one compute() call (the path of `icm measures` and the Dagster measures asset), with
    each measure's share of it; the floor query for the ratio."""
    from measures.engine import compute

    floor = max(floor_query(engine), 1e-6)
    wanted = [m.id for m in all_measures() if not measure_ids or m.id in measure_ids]
    timings: dict[str, float] = {}
    rows = compute(engine, year, wanted, timings=timings)
    per = {}
    for mid in wanted:
        s = timings[mid]
        per[mid] = {"seconds": round(s, 4), "ratio_to_floor": round(s / floor, 2),
                    "status": sorted({r["status"] for r in rows if r["measure"] == mid and r["stratum"]["type"] == "total"})}
    total = timings["_run"]
    return {"year": year, "floor_seconds": round(floor, 4), "measures": per, "total_seconds": round(total, 4),
            "total_ratio_to_floor": round(total / floor, 2),
            "shared_setup_seconds": round(total - sum(timings[m] for m in wanted), 4)}
