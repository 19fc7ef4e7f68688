"""Engines and schema management for the warehouse (DuckDB embedded by default, PostgreSQL as a server)."""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

DEFAULT_WAREHOUSE_PATH = Path(os.environ.get("ICM_HOME", ".icm")) / "warehouse.duckdb"
_MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def default_url() -> str:
    """WAREHOUSE_URL if set, else the embedded DuckDB file under ./.icm/."""
    return os.environ.get("WAREHOUSE_URL") or f"duckdb:///{DEFAULT_WAREHOUSE_PATH}"


def duckdb_config() -> dict:
    """Memory settings for the DuckDB instances a load opens (the warehouse, with the limit set per connection
    in make_engine, and the private staging database; the benchmark's read floor uses them too). DuckDB's default lets *each* instance take 80 % of RAM, so a load (staging + warehouse
    in one process) could ask for 160 % and be killed by the kernel; with a limit per instance and a spill folder,
    large files spill to disk instead. ICM_DUCKDB_MEMORY_LIMIT overrides the limit (e.g. "6GB")."""
    limit = os.environ.get("ICM_DUCKDB_MEMORY_LIMIT")
    if not limit:
        try:
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
            limit = f"{max(1, int(total * 0.3 / 2**30))}GB"
        except (ValueError, OSError, AttributeError):
            limit = "4GB"
    spill = Path(os.environ.get("ICM_DUCKDB_SPILL_DIR") or Path(tempfile.gettempdir()) / "icm-duckdb-spill")
    spill.mkdir(parents=True, exist_ok=True)
    return {"memory_limit": limit, "temp_directory": str(spill)}


def no_progress_bar(con) -> None:
    """DuckDB draws a progress bar on stdout for long queries, and stdout carries the JSON reports of icm load and
    bench: turn it off. Inside Jupyter DuckDB refuses to touch the setting without ipywidgets; leave it there."""
    try:
        con.execute("SET enable_progress_bar = false")
    except Exception:  # noqa: BLE001 - duckdb.InvalidInputException in a kernel without ipywidgets
        pass


def no_vacuum_at_checkpoint(con) -> None:
    """A bulk insert on two threads leaves a partly filled row group where each thread's share ends; at the next
    checkpoint DuckDB's vacuum rewrites (recompresses) the neighbouring row groups to merge them: 3-4 s for
    an 800,000-line claim file (at 100,000 members the load's commits took 14 s of 76 s with it, 2 s without),
    for a scan-speed gain too small to measure. Row groups whose rows are all deleted (derived tables are
    rebuilt by DELETE + INSERT) are still dropped; only partly deleted row groups keep their holes."""
    con.execute("SET max_vacuum_tasks = 0")


# DuckDB writes new files in its v0.10.2 storage format unless told otherwise (so that old DuckDB versions can
# read them). The 1.5 format's DICT_FSST string compression writes the claim tables, with their many
# mostly-empty code columns, about a third faster (200,000 members: the claim-table inserts took 27 s instead
# of 40 s), and the derived tables, measures and settlement that read them ran faster too (README, Benchmarks).
# We pin duckdb>=1.5, so nothing here needs the old format.
DUCKDB_STORAGE_VERSION = "v1.5.0"


def create_duckdb_file(path: str | Path) -> None:
    """Create an empty DuckDB database file in DUCKDB_STORAGE_VERSION's format, unless it exists. The format is
    fixed when a file is created (a later SET does not change it); files made before keep theirs."""
    import duckdb

    path = Path(path)
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        duckdb.connect(str(path), config={"storage_compatibility_version": DUCKDB_STORAGE_VERSION}).close()
    except duckdb.ConnectionException:
        # this process still holds a connection to a file of that name that has since been deleted (e.g. a
        # cleared staging file): DuckDB hands out that instance, whose configuration differs; keep its format
        pass


def _duckdb_file(url: str) -> Path | None:
    """The database file a DuckDB URL names; None for other backends and in-memory databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "duckdb" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def display_url(url) -> str:
    """The URL as it may be shown anywhere (CLI output, logs, Dagster metadata, reports): password masked.
    Takes a string, a sqlalchemy URL or an Engine; a string that is not a URL has any `:secret@` masked."""
    if isinstance(url, Engine):
        url = url.url
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - not a URL: still never show what looks like a password
        return mask_passwords(str(url))


def mask_passwords(text: str) -> str:
    """Any `scheme://user:secret@host` inside free text (an error message, a log line) with the secret masked."""
    return re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1***@", text)


DEFAULT_LOCK_TIMEOUT_SECONDS = 60.0


class WarehouseLocked(Exception):
    """Another process holds the DuckDB warehouse file; raised after waiting `timeout` seconds."""

    def __init__(self, path: Path, holder: str | None, timeout: float):
        who = f" (process {holder})" if holder else ""
        super().__init__(f"the warehouse {path} is in use by another process{who}; waited {timeout:g} s. Try again "
                         "when it has finished, or wait longer with --lock-timeout / ICM_LOCK_TIMEOUT")


def lock_timeout(value: float | None = None) -> float:
    """Seconds to wait for another process's lock on a DuckDB warehouse: the option, else $ICM_LOCK_TIMEOUT,
    else DEFAULT_LOCK_TIMEOUT_SECONDS."""
    if value is not None:
        return value
    try:
        return float(os.environ.get("ICM_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT_SECONDS))
    except ValueError:
        return DEFAULT_LOCK_TIMEOUT_SECONDS


def wait_for_duckdb_lock(url: str, *, read_only: bool = False, timeout: float | None = None,
                         on_wait=None) -> None:
    """Wait until this process could open the DuckDB warehouse file (another process's write lock excludes
    everyone else), calling `on_wait(message)` once when it has to wait; raise WarehouseLocked after `timeout`
    seconds. Nothing to do for other backends or a file that does not exist yet."""
    import time

    import duckdb

    path = _duckdb_file(url)
    if path is None or not path.is_file():
        return
    timeout = lock_timeout(timeout)
    deadline = time.monotonic() + timeout
    told = False
    while True:
        try:
            duckdb.connect(str(path), read_only=read_only).close()
            return
        except duckdb.ConnectionException:  # this process already has it open (another configuration): no lock
            return
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            holder = re.search(r"PID (\d+)", str(exc))
            holder = holder.group(1) if holder else None
            if time.monotonic() >= deadline:
                raise WarehouseLocked(path, holder, timeout) from None
            if not told and on_wait is not None:
                on_wait(f"the warehouse {path} is in use by another process"
                        f"{f' (process {holder})' if holder else ''}; waiting up to {timeout:g} s for it")
                told = True
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))


def is_duckdb(url_or_engine) -> bool:
    url = url_or_engine.url if isinstance(url_or_engine, Engine) else make_url(str(url_or_engine))
    return url.get_backend_name() == "duckdb"


def make_engine(url: str | None = None, *, read_only: bool = False, role: str | None = None) -> Engine:
    """An engine on the warehouse. read_only: DuckDB opens the file read-only; PostgreSQL makes every transaction
    of the session read-only. role (PostgreSQL only, one of warehouse.roles.ROLES): the session runs as that
    role (SET ROLE at login), so it has that role's privileges only; the login must be a member of it."""
    url = url or default_url()
    parsed = make_url(url)
    kwargs: dict = {}
    if parsed.get_backend_name() == "duckdb":
        if (path := _duckdb_file(url)) and not read_only:
            create_duckdb_file(path)
        if read_only:
            kwargs["connect_args"] = {"read_only": True}
    if parsed.get_backend_name() == "postgresql" and (read_only or role):
        # set at login (libpq `options`), so it holds for every statement of the session; a write in a read-only
        # session is refused with "cannot execute ... in a read-only transaction"
        from warehouse.roles import ROLES

        if role is not None and role not in ROLES:
            raise ValueError(f"unknown warehouse role {role!r}; expected one of {', '.join(ROLES)}")
        options = [parsed.query.get("options"), read_only and "-c default_transaction_read_only=on",
                   role and f"-c role={role}"]
        kwargs["connect_args"] = {"options": " ".join(o for o in options if o)}
    engine = create_engine(url, **kwargs)
    if parsed.get_backend_name() == "duckdb":
        limit = duckdb_config()["memory_limit"]

        # SET after connecting, not a connect-time config: DuckDB refuses a second connection to the same file
        # with a different configuration (the Great Expectations datasource opens one). The warehouse file
        # spills next to itself (<file>.tmp).
        @event.listens_for(engine, "connect")
        def _memory_limit(dbapi_conn, _record):
            dbapi_conn.execute(f"SET memory_limit = '{limit}'")
            no_progress_bar(dbapi_conn)
            no_vacuum_at_checkpoint(dbapi_conn)
    if parsed.get_backend_name() == "postgresql":
        @event.listens_for(engine, "connect")
        def _utc(dbapi_conn, _record):  # dates only; keep the session predictable
            with dbapi_conn.cursor() as cur:
                cur.execute("SET TIME ZONE 'UTC'")
    return engine


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def schema_problem(engine: Engine) -> str | None:
    """None when the warehouse schema is at the code's Alembic head, else one sentence saying what is wrong and to
    run `icm migrate`. Reads alembic's version table without migrating (only `icm migrate`, `icm load`, `icm demo`
    and the Dagster ingest assets change the schema)."""
    from alembic.script import ScriptDirectory
    from sqlalchemy import column, inspect, select, table

    heads = set(ScriptDirectory.from_config(alembic_config(str(engine.url))).get_heads())
    with engine.connect() as conn:  # alembic's own version table, read without alembic (it knows no DuckDB)
        current = (set(conn.execute(select(column("version_num")).select_from(table("alembic_version"))).scalars())
                   if inspect(conn).has_table("alembic_version") else set())
    where = display_url(engine.url)
    if not current:
        return f"the warehouse at {where} has no schema: run `icm migrate`"
    if current != heads:
        return (f"the warehouse schema at {where} is at {', '.join(sorted(current))}, the code needs "
                f"{', '.join(sorted(heads))}: run `icm migrate`")
    return None


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Bring the warehouse schema to `revision` through Alembic (the only way tables are created)."""
    from alembic import command

    url = url or default_url()
    if path := _duckdb_file(url):
        create_duckdb_file(path)
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(alembic_config(url or default_url()), revision)
