"""Benchmark part `utilization` of `icm bench`: the utilization and profiling run for a year, step by step, as a
ratio to the measure suite of the same run (the issue's yardstick)."""
from __future__ import annotations

import datetime as dt
import time

from warehouse.engine import make_engine


def run(url: str, year: int, measure_suite_seconds: float | None = None) -> dict:
    from utilization.metrics import build_person_months, build_unit_metrics
    from utilization.no_use import no_utilization_report
    from utilization.outliers import judge_year
    from utilization.sample import draw_sample

    engine = make_engine(url)
    steps: dict[str, float] = {}
    figures: dict = {}
    try:
        for name, fn in (("person_months", lambda: build_person_months(engine, year)),
                         ("unit_metrics", lambda: build_unit_metrics(engine, year)),
                         ("outliers", lambda: judge_year(engine, year)),
                         ("verification_sample", lambda: draw_sample(engine, dt.date(year, 6, 1))),
                         ("no_utilization", lambda: no_utilization_report(engine, year))):
            t0 = time.perf_counter()
            result = fn()
            steps[name] = round(time.perf_counter() - t0, 2)
            figures[name] = {k: v for k, v in result.items() if isinstance(v, (int, float, str)) and k != "year"}
    finally:
        engine.dispose()
    total = round(sum(steps.values()), 2)
    out = {"year": year, "seconds": steps, "total_seconds": total, "figures": figures}
    if measure_suite_seconds:
        out["ratio_to_measure_suite"] = round(total / measure_suite_seconds, 2)
    return out
