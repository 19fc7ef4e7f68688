"""`make bench` part `dur`: the whole DUR + MTM run for one year on the benchmark warehouse, and the same DUR rules
in plain pandas (the tests' independent reference) for the ratio. The pandas version loads every fill of the
window into memory and loops per opioid fill for two rules, so it is timed only up to PANDAS_MAX_FILLS fills."""
from __future__ import annotations

import time

PANDAS_MAX_FILLS = 2_000_000


def _timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def run(url: str, year: int) -> dict:
    from pharmacy.engine import run_dur
    from pharmacy.mtm.eligibility import run_eligibility
    from pharmacy.mtm.services import cmr_rate
    from warehouse.engine import make_engine

    engine = make_engine(url)
    try:
        dur, dur_s = _timed(run_dur, engine, year)
        mtm, mtm_s = _timed(run_eligibility, engine, year, "part_d_2025", None)
        _, cmr_s = _timed(cmr_rate, engine, year)
        out = {"year": year, "dur_seconds": round(dur_s, 2), "mtm_seconds": round(mtm_s + cmr_s, 2),
               "seconds": round(dur_s + mtm_s + cmr_s, 2), "alerts": sum(dur["alerts"].values()),
               "fills_in_year": dur["coverage"]["fills"], "mtm_eligible_persons": mtm["eligible_persons"]}
        out["pandas_dur_seconds"] = _pandas_seconds(engine, year, dur["coverage"]["fills"])
        if out["pandas_dur_seconds"]:
            out["sql_vs_pandas"] = round(dur_s / out["pandas_dur_seconds"], 3)
    finally:
        engine.dispose()
    return out


def _pandas_seconds(engine, year: int, fills: int) -> float | None:
    if fills > PANDAS_MAX_FILLS:
        return None
    import sys
    from pathlib import Path

    repo = str(Path(__file__).resolve().parents[1])
    if (Path(repo) / "tests" / "pharmacy").is_dir() and repo not in sys.path:
        sys.path.append(repo)  # the reference lives with the tests; `icm bench` runs from a checkout
    try:
        from tests.pharmacy.reference_pandas import reference_alerts
    except ImportError:  # an installed package without the test suite
        return None
    import datetime as dt

    import pandas as pd
    from sqlalchemy import select

    from pharmacy.config import load_rules
    from warehouse.models import MemberMonth, Person, PharmacyClaimFinal

    rx, p, mm = PharmacyClaimFinal.__table__, Person.__table__, MemberMonth.__table__
    t0 = time.perf_counter()
    lo = dt.date(year - 1, 7, 1)
    with engine.connect() as conn:
        f = pd.DataFrame(conn.execute(select(
            rx.c.claim_id, rx.c.person_id, rx.c.dispensing_date.label("fill_date"), rx.c.ndc_code.label("ndc"),
            rx.c.days_supply, rx.c.quantity, rx.c.prescribing_provider_npi.label("prescriber"),
            rx.c.dispensing_provider_npi.label("pharmacy")).where(rx.c.dispensing_date >= lo)).mappings().all())
        persons = pd.DataFrame(conn.execute(select(p.c.person_id, p.c.birth_date)).mappings().all())
        foster = {(r.person_id, r.month_start) for r in conn.execute(
            select(mm.c.person_id, mm.c.month_start).where(mm.c.eligibility_group == "foster_care"))}
    f["quantity"] = f["quantity"].astype(float)
    persons = persons[persons.birth_date.notna()]
    f = f[f.person_id.isin(set(persons.person_id))]
    reference_alerts(f, persons, foster, load_rules(), year, None)
    return round(time.perf_counter() - t0, 2)
