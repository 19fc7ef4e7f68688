"""`icm demo`: generate a synthetic multi-payer state and materialize the whole pipeline on the embedded DuckDB."""
from __future__ import annotations

import json
import os
from pathlib import Path

from sqlalchemy import func, select

ICM_HOME = Path(os.environ.get("ICM_HOME", ".icm"))
SUMMARY_TABLES = ("person", "enrollment_span", "provider", "icm_program", "icm_entity", "medical_claim",
                  "medical_claim_line", "pharmacy_claim", "medical_claim_final", "pharmacy_claim_final",
                  "member_month", "load_batch", "quarantine")


def generator_fingerprint() -> str:
    """A hash of the synthetic generator's source: landing files written by another version of it are stale."""
    import hashlib

    import warehouse.synthetic as synthetic

    digest = hashlib.sha256()
    for module in sorted(Path(synthetic.__file__).parent.glob("*.py")):
        digest.update(module.name.encode() + b"\0" + module.read_bytes())
    return digest.hexdigest()[:16]


def _generate(landing: Path, members: int, seed: int) -> dict:
    """Generate the landing files unless the same members/seed were already written by this version of the
    generator (generation is deterministic for a given seed and generator source)."""
    from warehouse.synthetic import generate

    stamp = landing / ".generated.json"
    wanted = {"members": members, "seed": seed, "generator": generator_fingerprint()}
    if stamp.exists() and json.loads(stamp.read_text()).get("params") == wanted:
        return {"reused": True, **json.loads(stamp.read_text())}
    summary = generate(landing, members=members, seed=seed)
    stamp.write_text(json.dumps({"params": wanted, "summary": summary}, default=str))
    return {"reused": False, "params": wanted, "summary": summary}


def execute_job(job_name: str, warehouse_url: str, landing: Path, partition_key: str | None = None) -> dict:
    """Run a Dagster job in-process; returns success and the check results."""
    import dagster as dg

    from orchestration.definitions import build_definitions
    from orchestration.instance import ensure_instance_yaml

    home = (ICM_HOME / "dagster_home").resolve()
    ensure_instance_yaml(home)
    os.environ.setdefault("DAGSTER_HOME", str(home))
    defs = build_definitions(warehouse_url=warehouse_url, landing_path=str(landing),
                             staging_path=str(ICM_HOME / "staging.duckdb"))
    job = defs.resolve_job_def(job_name)
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(
            instance=instance, partition_key=partition_key, raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": os.environ.get("ICM_DAGSTER_LOG", "WARNING")}}}})
    checks = []
    for ev in result.get_asset_check_evaluations():
        checks.append({"asset": ev.asset_key.to_user_string(), "check": ev.check_name, "passed": ev.passed,
                       "severity": ev.severity.value})
    failures = [e.step_key for e in result.all_events if e.is_step_failure]
    return {"job": job_name, "partition": partition_key, "success": result.success, "checks": checks,
            "failed_steps": failures}


DEMO_JOBS = ("ingest_job", "measures_job", "savings_job", "reporting_job", "pharmacy_job", "utilization_job")


def start_from_an_empty_warehouse(url: str) -> None:
    """New landing files (other members, seed or generator version) must not be loaded beside an earlier demo
    state, or the claims of two synthetic states mix: the demo's own DuckDB file goes, with its WAL, snapshot and
    the staging file. A warehouse the user named is theirs and is left as it is."""
    from warehouse.engine import _duckdb_file
    from warehouse.snapshot import snapshot_path

    path = _duckdb_file(url)
    if path is not None:
        for stale in (path, path.with_name(path.name + ".wal"), snapshot_path(path), ICM_HOME / "staging.duckdb"):
            stale.unlink(missing_ok=True)


def run_demo(members: int = 20_000, seed: int = 42, warehouse_url: str | None = None) -> dict:
    """Generate, migrate and run every job; the summary (also written to $ICM_HOME/demo_summary.json) carries
    per-stage seconds and the warehouse URL with its password masked."""
    from icm.progress import Stages
    from measures.progress import listening
    from orchestration import definitions
    from warehouse.engine import display_url, make_engine, upgrade

    ICM_HOME.mkdir(parents=True, exist_ok=True)
    landing = ICM_HOME / "landing"
    url = warehouse_url or os.environ.get("WAREHOUSE_URL") or f"duckdb:///{ICM_HOME / 'warehouse.duckdb'}"
    jobs = [j for j in DEMO_JOBS if j == "ingest_job" or any(d.name == j for d in definitions.JOBS)]
    runs: list[dict] = []
    with Stages("demo", ["generate", "migrate", *jobs]) as stages:
        with stages.stage("generate"):
            generation = _generate(landing, members, seed)
            if not generation["reused"] and not (warehouse_url or os.environ.get("WAREHOUSE_URL")):
                start_from_an_empty_warehouse(url)
        with stages.stage("migrate"):
            upgrade(url)
        for job in jobs:
            if runs and not runs[-1]["success"]:
                break
            partition = None if job == "ingest_job" else str(demo_measurement_year())
            with stages.stage(job), listening(stages.items("measures")):   # progress per measure, in process
                runs.append(execute_job(job, url, landing, partition_key=partition))
    engine = make_engine(url)
    summary = {"warehouse": display_url(url), "landing": str(landing), "generation": generation, "runs": runs,
               "tables": table_counts(engine), "quarantine": quarantine_reasons(engine),
               "measures": measure_totals(engine), "settlement": settlement_rows(engine),
               "exports": export_manifest(demo_measurement_year()),
               "seconds": round(sum(stages.seconds.values()), 1), "stage_seconds": stages.seconds,
               "measure_seconds": stages.item_seconds.get("measures", {})}
    summary["success"] = all(r["success"] for r in runs)
    engine.dispose()
    (ICM_HOME / "demo_summary.json").write_text(json.dumps(summary, indent=2, default=str))
    return summary


def export_manifest(year: int) -> dict | None:
    path = ICM_HOME / "exports" / str(year) / "manifest.json"
    return {"folder": str(path.parent), **json.loads(path.read_text())} if path.exists() else None


def demo_measurement_year() -> int:
    from warehouse.synthetic import DEFAULT_FIRST_YEAR, DEFAULT_YEARS

    return DEFAULT_FIRST_YEAR + DEFAULT_YEARS - 1


def table_counts(engine) -> dict:
    from warehouse.models import metadata

    with engine.connect() as conn:
        return {t: conn.execute(select(func.count()).select_from(metadata.tables[t])).scalar_one()
                for t in SUMMARY_TABLES}


def quarantine_reasons(engine) -> list[dict]:
    from warehouse.models import QuarantineRow

    q = QuarantineRow.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(q.c.target_table, q.c.reason, func.count().label("n"))
                            .group_by(q.c.target_table, q.c.reason).order_by(func.count().desc())).all()
    return [{"table": r.target_table, "reason": r.reason, "rows": r.n} for r in rows]


def measure_totals(engine) -> list[dict]:
    """State-level (total stratum) rates of the latest measurement year, for the summary; `rate` in its reported
    unit (measures/units.py, as in the QMR export) with `rate_unit`."""
    from sqlalchemy import func, select

    from measures.tables import measure_result as result
    from measures.units import rate_unit, reported_rate

    latest = select(func.max(result.c.measurement_year)).scalar_subquery()
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(result.c.measure_id, result.c.rate_id, result.c.rate_type, result.c.numerator,
                                       result.c.denominator, result.c.status)
                                .where(result.c.stratum_type == "total", result.c.measurement_year == latest)
                                .order_by(result.c.measure_id, result.c.rate_id)).all()
    except Exception:  # noqa: BLE001 - before the measure tables exist
        return []
    return [dict(r._mapping, rate=reported_rate(r.rate_type, r.numerator, r.denominator),
                 rate_unit=rate_unit(r.rate_type)) for r in rows]


def settlement_rows(engine) -> list[dict]:
    """The paying rows (savings/paying.py) of the latest settled year."""
    from sqlalchemy import func, select

    from savings.paying import paying_clause
    from savings.work_tables import settlement

    columns = [settlement.c[name] for name in ("year", "entity_id", "risk_arrangement", "benchmark", "expenditure",
                                               "savings", "savings_rate", "msr", "earned", "owed", "binding")]
    latest = select(func.max(settlement.c.year)).scalar_subquery()
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(*columns).where(paying_clause(settlement), settlement.c.year == latest)
                                .order_by(settlement.c.entity_id)).all()
    except Exception:  # noqa: BLE001 - before the savings tables exist
        return []
    return [dict(r._mapping) for r in rows]


def print_summary(summary: dict) -> None:
    print(f"\nICM Calculator demo ({'OK' if summary['success'] else 'FAILED'}) in {summary['seconds']} s")
    print(f"warehouse: {summary['warehouse']}\nlanding:   {summary['landing']}")
    print("\nrows per table:")
    for table, n in summary["tables"].items():
        print(f"  {table:<24}{n:>12,}")
    print("\nrows quarantined, by reason:")
    for q in summary["quarantine"][:15]:
        print(f"  {q['table']:<16}{q['rows']:>8,}  {q['reason']}")
    if summary.get("measures"):
        print("\nquality measures (state level):")
        for m in summary["measures"]:
            rate, unit = ("", "") if m["rate"] is None else (str(m["rate"]), m["rate_unit"])
            status = "" if m["status"] == "ok" else f"  ({m['status'][:60]})"
            num, den = (f"{float(v):,.0f}" if v is not None else "-" for v in (m["numerator"], m["denominator"]))
            print(f"  {m['measure_id']:<10}{m['rate_id']:<24}{rate:>10}  {num:>8} / {den:<8} {unit}{status}")
    if summary.get("settlement"):
        print("\nshared-savings settlement (the rows that pay):")
        for r in summary["settlement"]:
            print(f"  {r['year']} {r['entity_id']:<12}{r['risk_arrangement'] or '':<11} savings rate "
                  f"{float(r['savings_rate'] or 0):+.2%} (MSR {float(r['msr'] or 0):.1%})  earned "
                  f"{float(r['earned'] or 0):>12,.0f}  owed {float(r['owed'] or 0):>12,.0f}")
        from savings.paying import settlement_totals

        totals = settlement_totals(summary["settlement"])
        print(f"  total of the {totals['paying_rows']} paying rows: earned {totals['earned']:,.2f}  "
              f"owed {totals['owed']:,.2f}")
    if summary.get("exports"):
        ex = summary["exports"]
        print(f"\nCMS-facing exports (small cells suppressed): {ex['folder']}")
        for f in ex["files"].values():
            sup = "" if f["suppressed_rows"] is None else f", {f['suppressed_rows']:,} suppressed"
            print(f"  {f['path']:<36}{f['rows']:>8,} rows{sup}")
    if summary.get("stage_seconds"):
        print("\nseconds per stage: " + ", ".join(f"{k} {v:.1f}" for k, v in summary["stage_seconds"].items()))
    if summary.get("measure_seconds"):
        slowest = sorted(summary["measure_seconds"].items(), key=lambda item: -item[1])[:5]
        print(f"slowest of {len(summary['measure_seconds'])} measures (all in demo_summary.json): "
              + ", ".join(f"{k} {v:.1f}" for k, v in slowest))
    for run in summary["runs"]:
        passed = sum(c["passed"] for c in run["checks"])
        print(f"\n{run['job']}{' ' + run['partition'] if run['partition'] else ''}: "
              f"{'success' if run['success'] else 'FAILED ' + ', '.join(run['failed_steps'])}; "
              f"checks {passed}/{len(run['checks'])} passed")
        for c in run["checks"]:
            if not c["passed"]:
                print(f"  check failed: {c['asset']}:{c['check']} ({c['severity']})")
