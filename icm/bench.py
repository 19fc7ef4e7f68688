"""`icm bench` / `make bench`: generation, load throughput, derived tables, measures and settlement, as JSON."""
from __future__ import annotations

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
    # the floor: DuckDB reading the same files by itself, (a) parsing every column into a table (what a load
    # must do at least), (b) only counting rows (projection pushdown skips most parsing) and (c) loading each file
    # into a table of a database file, checkpointed (what writing to disk costs, whoever does it)
    from warehouse.engine import create_duckdb_file, duckdb_config, no_progress_bar, no_vacuum_at_checkpoint

    con = duckdb.connect(config=duckdb_config())
    no_progress_bar(con)
    own_file = workdir / "duckdb-own-load.duckdb"
    create_duckdb_file(own_file)  # the warehouse's storage format
    own = duckdb.connect(str(own_file), config=duckdb_config())
    no_progress_bar(own)
    no_vacuum_at_checkpoint(own)  # as the warehouse does
    read_seconds = count_seconds = own_load_seconds = 0.0
    for i, s in enumerate(claim_sources):
        delim = f", delim='{s.delimiter}'" if s.delimiter else ""
        scan = f"read_csv('{s.path}', all_varchar=true, header=true{delim})"
        start = time.perf_counter()
        con.execute(f"CREATE OR REPLACE TEMP TABLE floor_read AS SELECT * FROM {scan}")
        read_seconds += time.perf_counter() - start
        con.execute("DROP TABLE floor_read")
        start = time.perf_counter()
        con.execute(f"SELECT count(*) FROM {scan}").fetchone()
        count_seconds += time.perf_counter() - start
        start = time.perf_counter()
        own.execute(f"CREATE TABLE file_{i} AS SELECT * FROM {scan}")
        own.execute("CHECKPOINT")
        own_load_seconds += time.perf_counter() - start
    con.close()
    own.close()
    final, final_seconds = _timed(rebuild_final_action, engine)
    mm, mm_seconds = _timed(rebuild_member_months, engine)
    engine.dispose()
    return {
        "members": members, "generation_seconds": round(gen_seconds, 2),
        "claim_lines_loaded_or_quarantined": lines, "load_seconds": round(load_seconds, 2),
        "load_claim_lines_per_second": round(lines / load_seconds) if load_seconds else None,
        "duckdb_read_seconds": round(read_seconds, 2),
        "load_to_duckdb_read_ratio": round(load_seconds / read_seconds, 2) if read_seconds else None,
        "duckdb_count_only_seconds": round(count_seconds, 2),
        "duckdb_own_load_to_file_seconds": round(own_load_seconds, 2),
        "load_to_duckdb_own_load_ratio": round(load_seconds / own_load_seconds, 2) if own_load_seconds else None,
        "load_to_duckdb_count_only_ratio": round(load_seconds / count_seconds, 2) if count_seconds else None,
        "final_action_seconds": round(final_seconds, 2), "member_months_seconds": round(mm_seconds, 2),
        **final, **mm,
    }, url


def bench_settlement(url: str, year: int) -> dict:
    """The warehouse path: attribution -> cost -> risk -> benchmark -> settlement for the demo methodology."""
    import savings.population
    from savings.population import settle_year
    from warehouse.engine import make_engine

    demo = Path(savings.population.__file__).parent / "methodologies"
    engine = make_engine(url)
    rows, seconds = _timed(settle_year, engine, str(demo / "aco-demo.yaml"), year,
                           population=str(demo / "aco-demo-population.yaml"))
    engine.dispose()
    return {"year": year, "seconds": round(seconds, 2), "settlement_rows": len(rows),
            "entities": len({r["entity_id"] for r in rows})}


def _progress(members: int, part: str, figures: dict) -> None:
    """Each part's figures on stderr as soon as they exist: a long run (1,000,000 members) reports as it goes."""
    import json
    import sys

    print(json.dumps({"members": members, "part": part, **figures}, default=str), file=sys.stderr, flush=True)


def run_one(members: int, seed: int, wanted: set[str]) -> dict:
    from warehouse.synthetic import DEFAULT_FIRST_YEAR, DEFAULT_YEARS

    year = DEFAULT_FIRST_YEAR + DEFAULT_YEARS - 1
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="icm-bench-") as tmp:
        if wanted & {"load", "measures", "settle", "dur", "utilization"}:
            out["load"], url = bench_load(members, seed, Path(tmp))
            _progress(members, "load", out["load"])
            if "measures" in wanted:
                from measures.bench import run as run_measures
                from warehouse.engine import make_engine

                engine = make_engine(url)
                out["measures"] = run_measures(engine, year)
                engine.dispose()
                _progress(members, "measures", out["measures"])
            if "settle" in wanted:
                out["settlement_warehouse_path"] = bench_settlement(url, year)
                _progress(members, "settle", out["settlement_warehouse_path"])
            if "utilization" in wanted:
                from utilization.bench import run as run_utilization

                out["utilization"] = run_utilization(url, year, out.get("measures", {}).get("total_seconds"))
                _progress(members, "utilization", out["utilization"])
            if "dur" in wanted:
                from pharmacy.bench import run as run_dur_mtm

                out["dur_mtm"] = run_dur_mtm(url, year)
                _progress(members, "dur", out["dur_mtm"])
    import resource

    out["peak_rss_gb_so_far"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)
    return out


def run_bench(members: str | int = "200000", seed: int = 7, parts: str = "load,measures,settle,utilization,sweep,dur") -> dict:
    """Benchmarks for each member count in `members` (comma list); with two or more sizes, the time ratios of
    each size to the previous one (doubling members should cost <= 2.2x)."""
    wanted = {p.strip() for p in parts.split(",") if p.strip()}
    sizes = [int(m) for m in str(members).split(",") if m.strip()]
    out: dict = {"cpu_count": os.cpu_count(), "runs": {}}
    for n in sizes:
        out["runs"][str(n)] = run_one(n, seed, wanted)
    if len(sizes) > 1:
        out["scaling"] = _scaling(sizes, out["runs"])
    if "sweep" in wanted:
        from savings.bench import sweep

        out["savings_sweep"] = sweep()
    return out


def _scaling(sizes: list[int], runs: dict) -> list[dict]:
    def seconds(run: dict) -> dict:
        got = {}
        if "load" in run:
            got["load_seconds"] = run["load"]["load_seconds"]
        if "measures" in run:
            got["measures_total_seconds"] = run["measures"]["total_seconds"]
        if "settlement_warehouse_path" in run:
            got["settlement_seconds"] = run["settlement_warehouse_path"]["seconds"]
        return got

    out = []
    for small, large in zip(sizes, sizes[1:]):
        a, b = seconds(runs[str(small)]), seconds(runs[str(large)])
        out.append({"members": [small, large], "member_ratio": round(large / small, 2),
                    **{f"{k}_ratio": round(b[k] / a[k], 2) for k in a if k in b and a[k]}})
    return out
