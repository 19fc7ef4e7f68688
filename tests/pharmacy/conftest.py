"""Fixtures for DUR scenarios: a migrated warehouse per test module on DuckDB and PostgreSQL (the measures
scenarios' fixture), emptied before each test."""
from __future__ import annotations

import pytest

from tests.measures.conftest import TABLES as MEASURE_TABLES
from tests.measures.conftest import _module_warehouse  # noqa: F401 - module-scoped warehouse fixture
from tests.measures.conftest import clear_tables

TABLES = MEASURE_TABLES + ("dur_alert", "dur_alert_trace", "dur_mme_person", "dur_run", "dur_intervention",
                          "mtm_eligible", "mtm_service")


def empty_warehouse(url: str) -> str:
    """Delete every row the DUR scenarios write."""
    return clear_tables(url, TABLES)


@pytest.fixture
def warehouse_url(_module_warehouse) -> str:  # noqa: F811
    return empty_warehouse(_module_warehouse)


@pytest.fixture
def wh(warehouse_url):
    from tests.pharmacy.scenario import RxWarehouse

    w = RxWarehouse(warehouse_url)
    yield w
    w.engine.dispose()
