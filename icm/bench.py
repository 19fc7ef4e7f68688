"""`icm bench` / `make bench`: generation, load throughput, derived tables, measures and settlement, as JSON."""
from __future__ import annotations

import importlib
import os
import tempfile
import time
from pathlib import Path


def _timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def bench_load(members: int, seed: int, workdir: Path) -> tuple[dict, str]:
    import duckdb

    from warehouse.derive import rebuild_final_action, rebuild_member_months
    from warehouse.engine import make_engine, upgrade
    from warehouse.loading import load_file
    from warehouse.pipeline import discover_landing
    from warehouse.synthetic import generate

    landing = workdir / "landing"
    summary, gen_seconds = _timed(generate, landing, members=members, seed=seed)
    url = f"duckdb:///{workdir / 'bench.duckdb'}"
    upgrade(url)
    engine = make_engine(url)
    sources = discover_landing(landing)
    claim_sources = [s for s in sources if s.target in ("medical_claim", "pharmacy_claim")]
    other_sources = [s for s in sources if s not in claim_sources]
    for s in other_sources:
        load_file(engine, s)
    lines = 0
    start = time.perf_counter()
    for s in claim_sources:
        report = load_file(engine, s)
        lines += report.rows_read
    load_seconds = time.perf_counter() - start
    # the floor: DuckDB reading the same files by itself
    con = duckdb.connect()
    start = time.perf_counter()
    for s in claim_sources:
        delim = f", delim='{s.delimiter}'" if s.delimiter else ""
        con.execute(f"SELECT count(*) FROM read_csv('{s.path}', all_varchar=true, header=true{delim})").fetchone()
    read_seconds = time.perf_counter() - start
    final, final_seconds = _timed(rebuild_final_action, engine)
    mm, mm_seconds = _timed(rebuild_member_months, engine)
    engine.dispose()
    return {
        "members": members, "generation_seconds": round(gen_seconds, 2),
        "claim_lines_loaded_or_quarantined": lines, "load_seconds": round(load_seconds, 2),
        "load_claim_lines_per_second": round(lines / load_seconds) if load_seconds else None,
        "duckdb_read_seconds": round(read_seconds, 2),
        "load_to_duckdb_read_ratio": round(load_seconds / read_seconds, 2) if read_seconds else None,
        "final_action_seconds": round(final_seconds, 2), "member_months_seconds": round(mm_seconds, 2),
        **final, **mm,
    }, url


def run_bench(members: int = 200_000, seed: int = 7, parts: str = "load,measures,savings") -> dict:
    wanted = {p.strip() for p in parts.split(",") if p.strip()}
    out: dict = {"cpu_count": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="icm-bench-") as tmp:
        url = None
        if "load" in wanted or "measures" in wanted:
            out["load"], url = bench_load(members, seed, Path(tmp))
        if "measures" in wanted and url:
            try:
                mbench = importlib.import_module("measures.bench")
                from warehouse.engine import make_engine
                from warehouse.synthetic import DEFAULT_FIRST_YEAR, DEFAULT_YEARS

                engine = make_engine(url)
                out["measures"] = mbench.run(engine, DEFAULT_FIRST_YEAR + DEFAULT_YEARS - 1)
                engine.dispose()
            except ImportError:
                out["measures"] = "measures.bench not available"
        if "savings" in wanted:
            try:
                out["savings_sweep"] = importlib.import_module("savings.bench").sweep()
            except ImportError:
                out["savings_sweep"] = "savings.bench not available"
    return out
