"""How commands open the warehouse: the --warehouse option, read-only or writing, and one-line database errors.

* Reading commands (`export`, `measures --stored`, `settle --stored`; README "Who writes the warehouse") open it
  read-only. No command but the migrating ones creates it: a missing DuckDB file is reported with the command
  that makes one.
* Commands that write result tables (`measures`, `settle`, also with --no-prepare) open it for writing but never
  migrate.
* Only `icm migrate`, `icm load`, `icm demo` and the Dagster ingest job run migrations.
A schema behind the code's head is reported as one line saying to run `icm migrate`.
"""
from __future__ import annotations

import argparse
import logging
import re
import sys

from sqlalchemy import Engine

from icm.errors import UserError
from icm.options import non_negative_float

log = logging.getLogger(__name__)

HOW_TO_MAKE_ONE = "create one with `icm demo` or `icm migrate` + `icm load`"


def add_warehouse_option(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--warehouse", metavar="URL",
                        help="SQLAlchemy URL of the warehouse, e.g. duckdb:///path/warehouse.duckdb or "
                             "postgresql+psycopg://user@host/db (default: $WAREHOUSE_URL or .icm/warehouse.duckdb)")
    parser.add_argument("--lock-timeout", type=non_negative_float, metavar="SECONDS",
                        help="how long to wait while another process uses the DuckDB warehouse file "
                             "(default: $ICM_LOCK_TIMEOUT or 60)")
    return parser


def wait_for_warehouse(args, url: str, *, read_only: bool) -> None:
    """Wait (bounded) while another process holds the DuckDB file, saying so once on stderr. A warehouse opened
    for writing gets a fresh read-only snapshot when the command ends (publish_snapshots)."""
    from warehouse.engine import wait_for_duckdb_lock

    wait_for_duckdb_lock(url, read_only=read_only, timeout=getattr(args, "lock_timeout", None),
                         on_wait=lambda message: print(f"icm: {message}", file=sys.stderr, flush=True))
    if not read_only:
        _WRITTEN.add(url)


_WRITTEN: set[str] = set()


def publish_snapshots() -> None:
    """After a command: publish the read-only snapshot the notebooks read (warehouse/snapshot.py) of each DuckDB
    warehouse it opened for writing. Skipped when another process is writing it by then (readers keep the
    previous snapshot and refresh it themselves later); a file-system error is one line on stderr."""
    from warehouse.snapshot import SnapshotUnavailable, publish_snapshot

    while _WRITTEN:
        url = _WRITTEN.pop()
        try:
            publish_snapshot(url)
        except SnapshotUnavailable as exc:
            log.debug("no snapshot published: %s", exc)
        except OSError as exc:
            print(f"icm: note: the read-only snapshot for notebooks was not published ({exc})", file=sys.stderr)


def warehouse_url(args) -> str:
    from warehouse.engine import default_url

    return getattr(args, "warehouse", None) or default_url()


def check_url(url: str) -> None:
    """Refuse a URL that is not DuckDB or PostgreSQL (or not a URL) before any driver is imported."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from warehouse.engine import display_url

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise UserError(f"--warehouse {display_url(url)!r} is not a database URL; use duckdb:///path/file.duckdb "
                        "or postgresql+psycopg://user@host/database") from None
    backend = parsed.get_backend_name()
    if backend not in ("duckdb", "postgresql"):
        raise UserError(f"--warehouse: unsupported database {backend!r} in {display_url(url)!r}; "
                        "use duckdb:///path/file.duckdb or postgresql+psycopg://user@host/database")
    if backend == "duckdb" and (parsed.database or ":memory:") == ":memory:":
        raise UserError("--warehouse: an in-memory DuckDB holds no warehouse; give a file, e.g. "
                        "duckdb:///.icm/warehouse.duckdb")


def _refuse_folder(url: str) -> None:
    from warehouse.engine import _duckdb_file

    path = _duckdb_file(url)
    if path is not None and path.is_dir():
        raise UserError(f"--warehouse: {path} is a folder, not a DuckDB file; name a file such as "
                        f"{path / 'warehouse.duckdb'}")


def _require_existing_duckdb_file(url: str) -> None:
    from warehouse.engine import _duckdb_file

    _refuse_folder(url)
    path = _duckdb_file(url)
    if path is not None and not path.exists():
        raise UserError(f"no warehouse at {path}: {HOW_TO_MAKE_ONE}, or pass --warehouse / set WAREHOUSE_URL")


def require_schema_at_head(engine: Engine) -> None:
    """One line when the warehouse was never migrated or is behind the code (never migrates itself)."""
    from warehouse.engine import schema_problem

    problem = schema_problem(engine)
    if problem is not None:
        raise UserError(problem if "has no schema" not in problem else f"{problem} (or {HOW_TO_MAKE_ONE})")


def open_warehouse(args, *, read_only: bool) -> Engine:
    """An engine on an existing warehouse whose schema is at head; read-only for commands that only read.
    Least role (README, roles): on a PostgreSQL warehouse with the roles granted, the session works as icm_loader
    (every command reads person-level rows: measures, settlement, the exports' distinct-person counts), read-only
    when the command only reads; the analyst and reporter roles are for people and tools outside the pipeline."""
    from warehouse.roles import LOADER, least_role_engine

    url = warehouse_url(args)
    check_url(url)
    _require_existing_duckdb_file(url)
    wait_for_warehouse(args, url, read_only=read_only)
    engine = least_role_engine(url, LOADER, read_only=read_only)
    try:
        require_schema_at_head(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


def migrate_warehouse(args, revision: str = "head") -> str:
    """Create the warehouse if needed and bring its schema to `revision` (migrate, load, demo only)."""
    from warehouse.engine import DEFAULT_WAREHOUSE_PATH, _duckdb_file, downgrade, upgrade

    url = warehouse_url(args)
    check_url(url)
    _refuse_folder(url)
    path = _duckdb_file(url)
    if path is not None and not path.parent.is_dir() and path != DEFAULT_WAREHOUSE_PATH:
        raise UserError(f"--warehouse: folder {path.parent} does not exist; create it first or fix the path")
    _require_known_revision(url, revision)
    wait_for_warehouse(args, url, read_only=False)
    (downgrade if revision == "base" else upgrade)(url, revision)
    return url


def _require_known_revision(url: str, revision: str) -> None:
    from alembic.script import ScriptDirectory

    from warehouse.engine import alembic_config

    if revision in ("head", "base"):
        return
    known = [s.revision for s in ScriptDirectory.from_config(alembic_config(url)).walk_revisions()]
    if revision not in known:
        raise UserError(f"migrate: unknown revision {revision!r}; use head, base or one of {', '.join(sorted(known))}")


def describe_database_error(exc: BaseException) -> str | None:
    """A sentence for a database failure the user can fix (server down, no such database, bad password, a file
    locked by another process, a read-only warehouse); None when it is not one of those."""
    from sqlalchemy.exc import DBAPIError, NoSuchModuleError

    if isinstance(exc, NoSuchModuleError):
        return "--warehouse: unsupported database URL; use duckdb:///path/file.duckdb or postgresql+psycopg://..."
    original = exc.orig if isinstance(exc, DBAPIError) else exc
    text = str(original)
    low = text.lower()
    if "could not set lock" in low or "conflicting lock" in low:
        pid = re.search(r"PID (\d+)", text)
        holder = f" (process {pid.group(1)})" if pid else ""
        return (f"the warehouse file is in use by another process{holder}; wait for it to finish "
                "(a writing command waits up to ICM_LOCK_TIMEOUT seconds) and try again")
    if "not a valid duckdb database file" in low:
        path = re.search(r'file "([^"]+)"', text)
        return f"{path.group(1) if path else 'the --warehouse file'} is not a DuckDB warehouse file; check --warehouse"
    if "read-only" in low or "read only" in low or "readonly" in low:
        return "the warehouse is read-only and this command writes to it: open a writable copy or ask for write access"
    if "password authentication failed" in low:
        return "PostgreSQL refused the user name or password in the warehouse URL: check them in --warehouse / WAREHOUSE_URL"
    if "does not exist" in low and "database" in low:
        name = re.search(r'database "([^"]+)" does not exist', text)
        return (f"PostgreSQL has no database {name.group(1) if name else ''!r}: create it (createdb) or fix the "
                "database name in --warehouse / WAREHOUSE_URL")
    if "role" in low and "does not exist" in low:
        return "PostgreSQL has no such user: fix the user name in --warehouse / WAREHOUSE_URL"
    if ("connection refused" in low or "could not connect" in low or "connection to server" in low
            or "timeout expired" in low or "name or service not known" in low or "could not translate host" in low):
        return ("cannot reach the PostgreSQL server named in --warehouse / WAREHOUSE_URL: is it running, and are "
                "host and port right?")
    if "permission denied" in low or "must be owner" in low:
        return "the warehouse refused this user: it lacks the privilege this command needs (see README, roles)"
    return None
