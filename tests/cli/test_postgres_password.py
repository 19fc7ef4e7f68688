"""A PostgreSQL warehouse whose URL carries a password (issue 24 item 6): no command shows it anywhere (stdout,
stderr, logs, the demo summary, Dagster's storage, export files), and every connection failure is one sentence."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.cli.conftest import FIXTURES, run_icm

pytestmark = pytest.mark.skipif(os.environ.get("ICM_SKIP_PG") == "1", reason="ICM_SKIP_PG=1")

ICM = str(Path(sys.executable).parent / "icm")
PASSWORD = "Pw-" + uuid.uuid4().hex[:16]


@pytest.fixture(scope="module")
def password_url() -> str:
    """A role that must give its password (scram-sha-256, set in the test server's pg_hba.conf) and owns a new
    database; the URL carries the password."""
    admin = create_engine(make_url(os.environ["PG_URL"]), isolation_level="AUTOCOMMIT")
    role, database = "icm_pw_" + uuid.uuid4().hex[:8], "t_pw_" + uuid.uuid4().hex[:8]
    with admin.connect() as conn:
        hba = Path(conn.execute(text("SHOW hba_file")).scalar_one())
        if not os.access(hba, os.W_OK):
            pytest.skip("the PostgreSQL server's pg_hba.conf is not writable here (PG_URL names a remote server)")
        conn.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'"))
        conn.execute(text(f"CREATE DATABASE {database} OWNER {role}"))
        hba.write_text(f"host all {role} 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
        conn.execute(text("SELECT pg_reload_conf()"))
    admin.dispose()
    base = make_url(os.environ["PG_URL"])
    return base.set(username=role, password=PASSWORD, database=database).render_as_string(hide_password=False)


def _icm(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([ICM, *args], capture_output=True, text=True, env={**os.environ, **env}, timeout=600)


def _files_with(folder: Path, secret: str) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]


def test_no_output_log_report_or_dagster_record_shows_the_password(password_url, tmp_path):
    home = tmp_path / "icm_home"
    env = {"ICM_HOME": str(home), "WAREHOUSE_URL": password_url, "DAGSTER_HOME": str(home / "dagster_home")}
    method = tmp_path / "m.yaml"
    method.write_text(yaml.safe_dump({"id": "t", "benchmark": {"base_years": [2016], "base_weights": [1]}}))
    runs = {
        "migrate": _icm("migrate", env=env),
        "load": _icm("load", "--format", "tuva", str(FIXTURES / "tuva"), env=env),
        "measures": _icm("measures", "--year", "2017", "--measure", "FUH-HH", env=env),
        "settle": _icm("settle", "--methodology", str(method), "--year", "2017", env=env),
        "export": _icm("export", "--year", "2017", "--out", str(tmp_path / "export"), env=env),
        "migrate-debug": _icm("--debug", "migrate", env=env),
        "demo": _icm("demo", "--members", "200", "--seed", "3", env=env),
    }
    for name, proc in runs.items():
        assert proc.returncode in (0, 1), f"{name}: {proc.stderr[-2000:]}"
        assert PASSWORD not in proc.stdout and PASSWORD not in proc.stderr, f"{name} showed the password"
    assert "icm_pw_" in runs["migrate"].stdout and ":***@" in runs["migrate"].stdout
    assert ":***@" in runs["demo"].stdout
    assert (home / "demo_summary.json").exists()
    assert _files_with(home, PASSWORD) == [] and _files_with(tmp_path / "export", PASSWORD) == []


@pytest.mark.parametrize("change,expected", [
    (lambda u: u.set(password="wrong"), "refused the user name or password"),
    (lambda u: u.set(database="no_such_database"), "has no database 'no_such_database'"),
    (lambda u: u.set(username="no_such_user"), "no such user"),
    (lambda u: u.set(port=9), "cannot reach the PostgreSQL server"),
    (lambda u: u.set(host="no-such-host.invalid"), "cannot reach the PostgreSQL server"),
])
@pytest.mark.parametrize("command", [["migrate"], ["measures", "--year", "2017"], ["export", "--year", "2017"]])
def test_connection_failures_are_one_sentence(password_url, change, expected, command, tmp_path):
    url = change(make_url(password_url)).render_as_string(hide_password=False)
    result = run_icm(*command, "--warehouse", url)
    lines = result.err.strip().splitlines()
    assert result.code == 2 and len(lines) == 1, result.err
    assert expected in lines[0] and "OperationalError" not in lines[0] and PASSWORD not in result.err
