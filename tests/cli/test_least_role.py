"""Least role on PostgreSQL (issue 24 item 10): the Dagster WarehouseResource and the notebooks' helpers work as
the least role they need (SET ROLE at login through make_engine's `role`), and fail with one sentence where that
role is not enough. The login is a service account that is a member of all three roles."""
from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from icm.warehouse_access import describe_database_error
from tests.cli.conftest import run_icm
from tests.warehouse.helpers import eligibility_row, medical_row, write_feed
from warehouse.roles import ANALYST, LOADER, REPORTER, least_role_engine

pytestmark = pytest.mark.skipif(os.environ.get("ICM_SKIP_PG") == "1", reason="ICM_SKIP_PG=1")


@pytest.fixture(scope="module")
def service_url() -> str:
    """A migrated warehouse (roles granted) and a login that is a member of icm_loader, icm_analyst, icm_reporter."""
    from tests.conftest import new_pg_database

    url = new_pg_database()
    assert run_icm("migrate", "--warehouse", url).code == 0
    user = f"svc_{uuid.uuid4().hex[:6]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{user}" LOGIN IN ROLE icm_loader, icm_analyst, icm_reporter'))
    admin.dispose()
    return make_url(url).set(username=user).render_as_string(hide_password=False)


def _as(engine) -> tuple[str, str]:
    with engine.connect() as conn:
        return (conn.execute(text("SELECT current_user")).scalar_one(),
                conn.execute(text("SHOW default_transaction_read_only")).scalar_one())


def _refusal(engine, sql: str) -> str:
    with pytest.raises(DBAPIError) as refused, engine.begin() as conn:
        conn.execute(text(sql))
    return describe_database_error(refused.value)


def test_dagster_assets_load_as_icm_loader_and_export_reads_read_only(service_url, tmp_path):
    from orchestration.resources import WarehouseResource
    from warehouse.formats import discover
    from warehouse.loading import load_sources

    resource = WarehouseResource(url=service_url)
    try:
        engine = resource.get_engine(migrate=True)
        assert _as(engine) == (LOADER, "off")
        feed = write_feed(tmp_path / "feed", eligibility=[eligibility_row("P1")],
                          medical=[medical_row("C1", 1), medical_row("C2", 1)])
        reports = {r.target_table: r for r in load_sources(engine, discover(feed, "tuva"))}
        assert reports["medical_claim"].rows_loaded == 2   # the whole load path (staging, derived) as icm_loader
        exporting = resource.get_engine(read_only=True)
        assert _as(exporting) == (LOADER, "on")
        with exporting.connect() as conn:   # the export counts persons: it reads person ids, nothing else
            assert conn.execute(text("SELECT count(DISTINCT person_id) FROM person")).scalar_one() == 1
        assert _refusal(exporting, "DELETE FROM icm_program").startswith("the warehouse is read-only")
    finally:
        resource.teardown_after_execution(None)


def test_analyst_notebook_reads_metrics_but_no_person_id(service_url):
    from utilization.tables import utilization_unit_metric
    from warehouse.snapshot import open_for_reading

    engine, _note = open_for_reading(service_url, ANALYST)   # the utilization_methods notebook's line
    try:
        assert _as(engine) == (ANALYST, "on")
        with engine.connect() as conn:
            conn.execute(select(utilization_unit_metric)).all()
        assert "lacks the privilege" in _refusal(engine, "SELECT person_id FROM person")
    finally:
        engine.dispose()


def test_settlement_notebook_helper_reads_as_loader_read_only(service_url, monkeypatch):
    from savings.population.explore import NoWarehouse, open_warehouse

    monkeypatch.setenv("WAREHOUSE_URL", service_url)
    with pytest.raises(NoWarehouse, match="holds no settlement"):   # it connected and read, as icm_loader
        open_warehouse()


def test_reporter_cannot_compute_what_the_loader_computes(service_url):
    engine = least_role_engine(service_url, REPORTER, read_only=True)
    try:
        assert _as(engine) == (REPORTER, "on")
        assert "lacks the privilege" in _refusal(engine, "SELECT paid_amount FROM medical_claim_line")
    finally:
        engine.dispose()


def test_warehouse_without_granted_roles_uses_the_logins_own_privileges():
    from tests.conftest import new_pg_database
    from warehouse.engine import upgrade

    url = new_pg_database()
    upgrade(url)   # no `icm migrate`: the roles (server-wide) hold no grants in this database
    engine = least_role_engine(url, ANALYST, read_only=True)
    try:
        assert _as(engine) == (make_url(url).username, "on")
    finally:
        engine.dispose()


def test_cli_reading_commands_work_as_icm_loader_read_only(service_url):
    """`icm` commands that only read open the warehouse through open_warehouse: loader role, read-only session."""
    from argparse import Namespace

    from icm.warehouse_access import open_warehouse

    engine = open_warehouse(Namespace(warehouse=service_url), read_only=True)
    try:
        assert _as(engine) == (LOADER, "on")
    finally:
        engine.dispose()


def test_login_outside_the_roles_keeps_its_own_privileges(service_url):
    """A login its administrator did not make a member of icm_loader is not switched (SET ROLE would be refused);
    it works with the privileges granted to it directly."""
    admin_url = make_url(os.environ["PG_URL"]).set(database=make_url(service_url).database)
    outsider = f"out_{uuid.uuid4().hex[:6]}"
    admin = create_engine(admin_url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{outsider}" LOGIN'))
        conn.execute(text(f'GRANT SELECT ON alembic_version TO "{outsider}"'))
    admin.dispose()
    engine = least_role_engine(make_url(service_url).set(username=outsider).render_as_string(hide_password=False),
                               LOADER, read_only=True)
    try:
        assert _as(engine) == (outsider, "on")
    finally:
        engine.dispose()
