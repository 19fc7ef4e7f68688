"""The planted warehouse (tests/utilization/scenario.py) built once per module and backend, with utilization,
unit metrics and outlier verdicts computed on it."""
from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from warehouse.engine import upgrade


def _backends():
    return [pytest.param("duckdb", id="duckdb"), pytest.param("postgres", id="postgres")]


@pytest.fixture(scope="session", params=_backends())
def planted_url(request, tmp_path_factory):
    from tests.utilization.scenario import planted
    from utilization.metrics import build_person_months, build_unit_metrics
    from utilization.outliers import judge_year

    if request.param == "duckdb":
        url = f"duckdb:///{tmp_path_factory.mktemp('util') / 'warehouse.duckdb'}"
        admin = name = None
    else:
        if not os.environ.get("PG_URL"):
            pytest.skip("PG_URL not set")
        base = make_url(os.environ["PG_URL"])
        name = "u_" + uuid.uuid4().hex[:12]
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = base.set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    engine = planted(url).write(url)
    build_person_months(engine, 2025)
    build_unit_metrics(engine, 2025)
    judge_year(engine, 2025)
    engine.dispose()
    yield url
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def planted_engine(planted_url):
    from warehouse.engine import make_engine

    engine = make_engine(planted_url)
    yield engine
    engine.dispose()
