"""A read-only snapshot of a DuckDB warehouse, so notebooks never wait for, nor block, a pipeline that writes it.

DuckDB lets one process write a database file and then no other process may open it, not even read-only. Readers
such as the notebooks therefore read a copy, `<name>.snapshot.duckdb` beside the warehouse:

* The copy is taken while holding DuckDB's shared (read-only) lock on the warehouse, so no writer can change the
  file meanwhile: it is a committed, consistent state. It is put in place with an atomic rename, so a reader opens
  either the previous snapshot or the new one, never a half-written file.
* Every `icm` command that wrote the warehouse publishes one when it ends (icm/cli.py). A reader refreshes it first
  when the warehouse changed since and nobody is writing it; while a pipeline writes, the reader gets the last
  published snapshot, and its note says so. With no snapshot at all it raises SnapshotUnavailable saying what to
  do; it never substitutes other data.
* A write-ahead log left at rest (`<name>.duckdb.wal`, from an interrupted writer) holds committed changes the
  file does not: no copy is taken then, until a writing command folds the log in.
PostgreSQL needs none of this (readers see committed data while a writer works); its URL is read directly.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from pathlib import Path

from sqlalchemy import Engine

from warehouse.engine import _duckdb_file, display_url, make_engine


class SnapshotUnavailable(RuntimeError):
    """No snapshot can be taken or read now; the message is one sentence saying why and what to do."""


def snapshot_path(warehouse: Path) -> Path:
    return warehouse.with_name(f"{warehouse.stem}.snapshot{warehouse.suffix}")


def _log_at_rest(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".wal")


def _is_current(warehouse: Path, snapshot: Path) -> bool:
    # a snapshot carries the modification time of the warehouse file it copied
    return snapshot.exists() and snapshot.stat().st_mtime_ns == warehouse.stat().st_mtime_ns


def publish_snapshot(url: str) -> Path | None:
    """Copy the DuckDB warehouse at `url` to its snapshot (see the module docstring) and return the snapshot's
    path; None for other backends and a missing file. Raises SnapshotUnavailable when another process is writing
    the warehouse, or when an interrupted writer's log is at rest."""
    import duckdb

    warehouse = _duckdb_file(url)
    if warehouse is None or not warehouse.is_file():
        return None
    snapshot = snapshot_path(warehouse)
    try:
        shared_lock = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.IOException as exc:
        holder = re.search(r"PID (\d+)", str(exc))
        raise SnapshotUnavailable(f"another process{f' ({holder.group(1)})' if holder else ''} is writing the "
                                  f"warehouse {warehouse}") from None
    except duckdb.ConnectionException:
        raise SnapshotUnavailable(f"this process has the warehouse {warehouse} open for writing") from None
    try:
        if _log_at_rest(warehouse).exists():
            raise SnapshotUnavailable(f"an interrupted writer left committed changes in "
                                      f"{_log_at_rest(warehouse).name}; any icm command that writes the warehouse "
                                      "(e.g. `icm migrate`) folds them in")
        if _is_current(warehouse, snapshot):
            return snapshot
        partial = snapshot.with_name(f"{snapshot.name}.{os.getpid()}.partial")
        shutil.copyfile(warehouse, partial)
        stat = warehouse.stat()
        os.utime(partial, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        os.replace(partial, snapshot)
    finally:
        shared_lock.close()
    return snapshot


def snapshot_for_reading(url: str) -> tuple[str, str]:
    """(URL to read, a note saying what it is). DuckDB: the warehouse's snapshot, refreshed first when the
    warehouse changed and nobody writes it; the last published one while a pipeline writes. Other backends: `url`.
    Raises SnapshotUnavailable when there is no snapshot and none can be taken now."""
    warehouse = _duckdb_file(url)
    if warehouse is None:
        return url, f"warehouse {display_url(url)}"
    snapshot = snapshot_path(warehouse)
    why_older = None
    try:
        publish_snapshot(url)
    except SnapshotUnavailable as exc:
        if not snapshot.exists():
            raise SnapshotUnavailable(f"{exc}, and no snapshot of it has been published yet: wait until it has "
                                      "finished (every icm command that writes the warehouse publishes one), "
                                      "then open the warehouse again") from None
        why_older = str(exc)
    as_of = dt.datetime.fromtimestamp(snapshot.stat().st_mtime).strftime("%Y-%m-%d %H:%M:%S")
    note = f"snapshot {snapshot} of the warehouse as of {as_of} (read-only)"
    if why_older:
        note += f"; {why_older}, so this is its last published state"
    return f"duckdb:///{snapshot}", note


def open_for_reading(url: str, role: str | None = None) -> tuple[Engine, str]:
    """(read-only engine, note) on what snapshot_for_reading names; a missing DuckDB file is SnapshotUnavailable
    saying how to make a warehouse. role: on a PostgreSQL warehouse with roles, work as that least role
    (warehouse.roles.least_role_engine; DuckDB has none)."""
    warehouse = _duckdb_file(url)
    if warehouse is not None and not warehouse.is_file():
        raise SnapshotUnavailable(f"no warehouse at {warehouse}: run `make demo` (or `icm load`), or set "
                                  "WAREHOUSE_URL")
    read_url, note = snapshot_for_reading(url)
    if role is not None:
        from warehouse.roles import least_role_engine

        return least_role_engine(read_url, role, read_only=True), note
    return make_engine(read_url, read_only=True), note
