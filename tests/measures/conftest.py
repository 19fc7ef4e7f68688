"""Fixtures for measure scenarios: a migrated warehouse per test module on DuckDB and (when PG_URL is set)
PostgreSQL; each test starts from empty tables."""
from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from warehouse.engine import make_engine, upgrade

TABLES = ("person", "enrollment_span", "provider", "medical_claim_final", "medical_claim_line_final",
          "pharmacy_claim_final", "member_month", "measure_detail", "measure_result")


def _backends():
    return [pytest.param("duckdb", id="duckdb"),
            pytest.param("postgres", id="postgres")]


@pytest.fixture(scope="module", params=_backends())
def _module_warehouse(request, tmp_path_factory):
    if request.param == "duckdb":
        url = f"duckdb:///{tmp_path_factory.mktemp('wh') / 'warehouse.duckdb'}"
        upgrade(url)
        yield url
        return
    if not os.environ.get("PG_URL"):
        pytest.skip("PG_URL not set")
    base = make_url(os.environ["PG_URL"])
    name = "m_" + uuid.uuid4().hex[:12]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def clear_tables(url: str, tables: tuple[str, ...] = TABLES) -> str:
    """Delete every row of `tables` (a module's warehouse is reused by its tests)."""
    eng = make_engine(url)
    with eng.begin() as conn:
        for t in tables:
            conn.execute(text(f"DELETE FROM {t}"))
    eng.dispose()
    return url


@pytest.fixture
def warehouse_url(_module_warehouse) -> str:
    return clear_tables(_module_warehouse)


@pytest.fixture(scope="module")
def module_wh(_module_warehouse):
    """One emptied warehouse for a module's many-case scenario (build every case as its own person, compute
    once); function-scoped `wh` tests of the module empty it again."""
    from tests.measures.scenario import Warehouse

    w = Warehouse(clear_tables(_module_warehouse))
    yield w
    w.engine.dispose()


@pytest.fixture
def wh(warehouse_url):
    from tests.measures.scenario import Warehouse

    w = Warehouse(warehouse_url)
    yield w
    w.engine.dispose()
