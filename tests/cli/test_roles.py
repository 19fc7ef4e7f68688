"""Least privilege on PostgreSQL (issue 24 item 10): `icm migrate` creates icm_loader, icm_analyst and
icm_reporter; a login in each role can do what the role is for and nothing more."""
from __future__ import annotations

import datetime as dt
import os
import uuid

import pytest
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from tests.cli.conftest import run_icm

pytestmark = pytest.mark.skipif(os.environ.get("ICM_SKIP_PG") == "1", reason="ICM_SKIP_PG=1")


@pytest.fixture(scope="module")
def migrated() -> str:
    from tests.conftest import new_pg_database
    from measures.tables import measure_result
    from warehouse.models import Person

    url = new_pg_database()
    result = run_icm("migrate", "--warehouse", url)
    assert result.code == 0 and "icm_analyst reads" in result.out, result.err
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(insert(Person.__table__).values(person_id="P-SECRET-1", sex="F", birth_date=dt.date(1980, 1, 1)))
        conn.execute(insert(measure_result).values(
            measure_id="FUH-HH", measurement_year=2025, rate_id="30_day", stratum_type="total", stratum_value="total",
            rate_type="proportion", numerator=12, denominator=20, exclusions=0, rate=0.6, small_cell=False,
            status="ok", computed_at=dt.datetime(2026, 1, 1)))
    engine.dispose()
    return url


def _login(url: str, role: str) -> str:
    """A new login (trust authentication on the test server) that is a member of `role`."""
    user = f"t_{role}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{user}" LOGIN IN ROLE {role}'))
    admin.dispose()
    return make_url(url).set(username=user).render_as_string(hide_password=False)


def _can(url: str, sql: str) -> bool:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(sql))
        return True
    except ProgrammingError as exc:
        assert "permission denied" in str(exc) or "must be owner" in str(exc)
        return False
    finally:
        engine.dispose()


def test_analyst_reads_results_and_deidentified_columns_but_no_identifier(migrated):
    analyst = _login(migrated, "icm_analyst")
    assert _can(analyst, "SELECT rate FROM measure_result")
    assert _can(analyst, "SELECT sex, race FROM person")
    assert _can(analyst, "SELECT paid_amount, hcpcs_code FROM medical_claim_line")
    assert not _can(analyst, "SELECT person_id FROM person")
    assert not _can(analyst, "SELECT birth_date FROM person")
    assert not _can(analyst, "SELECT * FROM person")
    assert not _can(analyst, "SELECT claim_id FROM medical_claim_line")
    assert not _can(analyst, "SELECT member_id FROM enrollment_span")
    assert not _can(analyst, "SELECT raw_row FROM quarantine")
    assert not _can(analyst, "INSERT INTO icm_program (program_id) VALUES ('X')")


def test_reporter_reads_only_published_results(migrated):
    reporter = _login(migrated, "icm_reporter")
    assert _can(reporter, "SELECT * FROM measure_result")
    assert _can(reporter, "SELECT * FROM settlement")
    assert not _can(reporter, "SELECT sex FROM person")
    assert not _can(reporter, "SELECT paid_amount FROM medical_claim_line")
    stored = run_icm("measures", "--stored", "--year", "2025", "--measure", "FUH-HH", "--warehouse", reporter)
    assert stored.code == 0 and '"numerator": 12' in stored.out, stored.err
    refused = run_icm("measures", "--year", "2025", "--warehouse", reporter)
    assert refused.code == 2 and "lacks the privilege" in refused.err, refused.err


def test_loader_writes_and_reads_everything(migrated):
    loader = _login(migrated, "icm_loader")
    assert _can(loader, "INSERT INTO icm_program (program_id, program_name, program_type, state) "
                        "VALUES ('HH-1', 'Health Home', 'health_home', 'MN')")
    assert _can(loader, "SELECT person_id FROM person")
    assert _can(loader, "DELETE FROM icm_program WHERE program_id = 'HH-1'")
    assert not _can(loader, "CREATE ROLE should_not_exist")   # role management stays with the DBA
    assert not _can(loader, "DROP TABLE person")


def test_migrate_twice_keeps_the_grants(migrated):
    assert run_icm("migrate", "--warehouse", migrated).code == 0
    assert not _can(_login(migrated, "icm_analyst"), "SELECT person_id FROM person")


def test_read_only_engine_refuses_writes_on_postgresql(migrated):
    """make_engine(read_only=True) is read-only on PostgreSQL too (default_transaction_read_only at login): it
    reads, and a write fails with the one sentence the CLI prints."""
    from sqlalchemy.exc import DBAPIError

    from icm.warehouse_access import describe_database_error
    from warehouse.engine import make_engine

    engine = make_engine(migrated, read_only=True)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT numerator FROM measure_result")).scalar_one() == 12
        with pytest.raises(DBAPIError) as refused, engine.begin() as conn:
            conn.execute(text("DELETE FROM measure_result"))
    finally:
        engine.dispose()
    assert describe_database_error(refused.value).startswith("the warehouse is read-only and this command writes")
    writable = make_engine(migrated)
    with writable.connect() as conn:   # nothing was deleted, and a writing engine is not read-only
        assert conn.execute(text("SELECT count(*) FROM measure_result")).scalar_one() == 1
        assert conn.execute(text("SHOW default_transaction_read_only")).scalar_one() == "off"
    writable.dispose()
