"""Dagster wiring: definitions load, the ingest job materializes with passing GX checks on DuckDB and PostgreSQL,
a failing blocking check stops downstream assets, and the landing sensor notices new files."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import create_engine, text

from tests.conftest import FIXTURES, REPO
from orchestration.definitions import build_definitions, landing_folder_sensor
from orchestration.resources import LandingResource


def _landing(tmp_path: Path) -> Path:
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURES / "tuva", landing / "medicare_cclf")
    return landing


def _run(url: str, landing: Path, tmp_path: Path):
    defs = build_definitions(warehouse_url=url, landing_path=str(landing),
                             staging_path=str(tmp_path / "staging.duckdb"))
    job = defs.resolve_job_def("ingest_job")
    with dg.instance_for_test() as instance:
        return job.execute_in_process(instance=instance, raise_on_error=False)


def test_definitions_have_layered_assets_checks_jobs_sensor_and_schedule():
    defs = build_definitions(warehouse_url="duckdb:///:memory:")
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"landing_files", "staged_files", "warehouse_core", "final_action_claims", "member_months"} <= keys
    checks = {c.name for c in defs.resolve_asset_graph().asset_check_keys}
    assert {"staged_files_valid", "keys_and_references", "load_reconciliation", "final_action_valid",
            "member_months_valid"} <= checks
    assert {n.name for n in defs.resolve_job_def("ingest_job").nodes_in_topological_order} >= {
        "landing_files", "staged_files", "warehouse_core", "final_action_claims", "member_months"}
    assert defs.resolve_sensor_def("landing_folder_sensor").job_name == "ingest_job"
    assert defs.resolve_schedule_def("monthly_refresh").cron_schedule == "0 6 5 * *"


def test_no_dagster_import_outside_orchestration():
    offenders = []
    for package in ("warehouse", "measures", "savings"):
        for path in (REPO / package).rglob("*.py"):
            if re.search(r"^\s*(import dagster|from dagster)", path.read_text(), re.MULTILINE):
                offenders.append(str(path.relative_to(REPO)))
    assert offenders == []


def test_ingest_job_materializes_all_layers_with_passing_checks(warehouse_url, tmp_path):
    landing = _landing(tmp_path)
    result = _run(warehouse_url, landing, tmp_path)
    assert result.success
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == {"landing_files", "staged_files", "warehouse_core", "final_action_claims", "member_months"}
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) >= 6 and all(e.passed for e in evaluations)
    meta = {e.check_name: e.metadata for e in evaluations}
    assert "load_reconciliation.evaluated_expectations" in meta["load_reconciliation"]
    engine = create_engine(warehouse_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM member_month")).scalar_one() > 0
        batches = conn.execute(text("SELECT count(*) FROM load_batch")).scalar_one()
    engine.dispose()
    again = _run(warehouse_url, landing, tmp_path)   # idempotent: nothing new to load
    assert again.success
    engine = create_engine(warehouse_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM load_batch")).scalar_one() == batches
    engine.dispose()


def test_failing_blocking_check_stops_downstream_assets(warehouse_url, tmp_path):
    from warehouse.engine import upgrade

    upgrade(warehouse_url)
    engine = create_engine(warehouse_url)
    with engine.begin() as conn:   # a claim whose person does not exist: keys_and_references must fail
        conn.execute(text("INSERT INTO medical_claim (claim_id, data_source, claim_family_id, adjustment_type, "
                          "adjustment_sequence, person_id, member_id, payer, plan, claim_type, claim_start_date, "
                          "claim_end_date, line_count, batch_id) VALUES ('X1', 'x', 'X1', 'original', 0, 'GHOST', "
                          "'GHOST', 'p', 'p', 'professional', DATE '2024-01-01', DATE '2024-01-01', 1, 'manual')"))
    engine.dispose()
    result = _run(warehouse_url, _landing(tmp_path), tmp_path)
    assert not result.success
    failed = {e.check_name for e in result.get_asset_check_evaluations() if not e.passed}
    assert "keys_and_references" in failed
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "warehouse_core" in materialized
    assert "final_action_claims" not in materialized and "member_months" not in materialized


def test_landing_sensor_requests_a_run_only_when_files_change(tmp_path):
    landing = _landing(tmp_path)
    resource = LandingResource(path=str(landing))
    ctx = dg.build_sensor_context(cursor=None, resources={"landing": resource})
    first = landing_folder_sensor(ctx)
    assert isinstance(first, dg.RunRequest)
    ctx2 = dg.build_sensor_context(cursor=ctx.cursor, resources={"landing": resource})
    assert isinstance(landing_folder_sensor(ctx2), dg.SkipReason)
    (landing / "medicare_cclf" / "pharmacy_claim_2.csv").write_text((landing / "medicare_cclf" / "pharmacy_claim.csv").read_text())
    ctx3 = dg.build_sensor_context(cursor=ctx.cursor, resources={"landing": resource})
    assert isinstance(landing_folder_sensor(ctx3), dg.RunRequest)


def test_one_measure_materializes_alone_with_its_own_checks(warehouse_url, tmp_path):
    """The measures are one subsettable multi-asset: selecting one measure computes and checks only that one."""
    landing = _landing(tmp_path)
    assert _run(warehouse_url, landing, tmp_path).success
    defs = build_definitions(warehouse_url=warehouse_url, landing_path=str(landing),
                             staging_path=str(tmp_path / "staging.duckdb"))
    job = defs.resolve_job_def("measures_job")
    fuh = dg.AssetKey(["measures", "fuh_hh"])
    with dg.instance_for_test() as instance:
        result = job.execute_in_process(instance=instance, partition_key="2024", asset_selection=[fuh])
    assert result.success
    assert [e.asset_key for e in result.get_asset_materialization_events()] == [fuh]
    evaluations = {(e.asset_key, e.check_name): e for e in result.get_asset_check_evaluations()}
    assert set(evaluations) == {(fuh, "consistency"), (fuh, "plausibility")}
    assert evaluations[(fuh, "consistency")].passed
    engine = create_engine(warehouse_url)
    with engine.connect() as conn:
        measured = {r[0] for r in conn.execute(text("SELECT DISTINCT measure_id FROM measure_result"))}
    engine.dispose()
    assert measured == {"FUH-HH"}
