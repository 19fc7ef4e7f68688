"""Only the ingest assets migrate the warehouse in Dagster; every other asset refuses a schema behind the code."""
from __future__ import annotations

import dagster as dg
import pytest
from sqlalchemy import create_engine, text

from orchestration.resources import WarehouseResource, _ENGINES
from warehouse.engine import schema_problem, upgrade


def test_a_non_ingest_asset_does_not_migrate_and_says_run_icm_migrate(tmp_path):
    url = f"duckdb:///{tmp_path / 'never_migrated.duckdb'}"
    create_engine(url).dispose()
    with pytest.raises(dg.Failure, match="has no schema: run `icm migrate`"):
        WarehouseResource(url=url).get_engine()
    assert url not in _ENGINES


def test_the_ingest_path_migrates(tmp_path):
    url = f"duckdb:///{tmp_path / 'ingest.duckdb'}"
    engine = WarehouseResource(url=url).get_engine(migrate=True)
    try:
        assert schema_problem(engine) is None
    finally:
        _ENGINES.pop((url, False)).dispose()


def test_a_schema_behind_the_code_is_named(tmp_path):
    url = f"duckdb:///{tmp_path / 'behind.duckdb'}"
    upgrade(url, "0006")
    engine = create_engine(url)
    try:
        problem = schema_problem(engine)
        assert problem is not None and "is at 0006" in problem and problem.endswith("run `icm migrate`")
        with engine.begin() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0006"
    finally:
        engine.dispose()
