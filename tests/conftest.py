"""Suite-wide fixtures: a PostgreSQL server for every run, fresh warehouses per test on DuckDB and PostgreSQL.

If PG_URL is set, tests use that server (each test gets its own database). Otherwise a throwaway server is
started on 127.0.0.1 for the session and stopped afterwards. ICM_SKIP_PG=1 skips PostgreSQL explicitly.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.pg_server import ThrowawayPostgres

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

_server: ThrowawayPostgres | None = None


def pytest_configure(config):
    global _server
    if os.environ.get("PG_URL") or os.environ.get("ICM_SKIP_PG") == "1":
        return
    _server = ThrowawayPostgres()
    os.environ["PG_URL"] = _server.start()


def pytest_unconfigure(config):
    if _server is not None:
        _server.stop()


def new_pg_database() -> str:
    """Create an empty database on the test server and return its URL."""
    base = make_url(os.environ["PG_URL"])
    name = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def backends() -> list:
    params = [pytest.param("duckdb", id="duckdb")]
    params.append(pytest.param("postgres", id="postgres", marks=pytest.mark.skipif(
        os.environ.get("ICM_SKIP_PG") == "1", reason="ICM_SKIP_PG=1")))
    return params


@pytest.fixture(params=backends())
def empty_warehouse_url(request, tmp_path) -> str:
    """A URL to an empty database (no schema) on each backend."""
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    return new_pg_database()


@pytest.fixture
def warehouse_url(empty_warehouse_url) -> str:
    """A URL to a fresh warehouse with the schema at Alembic head, on each backend."""
    from warehouse.engine import upgrade

    upgrade(empty_warehouse_url)
    return empty_warehouse_url


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip("../shared/data is not available on this machine")
    return SHARED_DATA
