"""The planted warehouse (tests/utilization/scenario.py) built once per session and backend, with utilization,
unit metrics and outlier verdicts computed on it."""
from __future__ import annotations

import os

import pytest

from warehouse.engine import make_engine, upgrade


def _backends():
    return [pytest.param("duckdb", id="duckdb"), pytest.param("postgres", id="postgres")]


@pytest.fixture(scope="session", params=_backends())
def planted_url(request, tmp_path_factory):
    from tests.conftest import new_pg_database
    from tests.utilization.scenario import planted
    from utilization.run import run_year

    if request.param == "duckdb":
        url = f"duckdb:///{tmp_path_factory.mktemp('util') / 'warehouse.duckdb'}"
    elif os.environ.get("PG_URL") and os.environ.get("ICM_SKIP_PG") != "1":
        url = new_pg_database()
    else:
        pytest.skip("PG_URL not set")
    upgrade(url)
    engine = planted(url).write(url)
    run_year(engine, 2025)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def planted_engine(planted_url):
    engine = make_engine(planted_url)
    yield engine
    engine.dispose()
