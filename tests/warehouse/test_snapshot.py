"""Reading a DuckDB warehouse while another process writes it (warehouse/snapshot.py): notebooks read the snapshot
the last write published, refresh it when the warehouse is free again, and with no snapshot stop with a sentence
saying what to do (never other data). A real second process holds DuckDB's write lock."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import text

import savings.population.explore as explore
from warehouse.snapshot import SnapshotUnavailable, open_for_reading, publish_snapshot, snapshot_path

HOLD_WRITE_LOCK = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])                   # the write lock, as a pipeline step holds it
con.execute("CREATE TABLE written_meanwhile AS SELECT 1 AS x")
print("holding", flush=True)
sys.stdin.read()                                    # until the test closes stdin
con.close()
"""


class Writer:
    """A second process holding the warehouse's write lock until stopped."""

    def __init__(self, path: Path):
        self.proc = subprocess.Popen([sys.executable, "-c", HOLD_WRITE_LOCK, str(path)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "holding"

    def stop(self):
        self.proc.stdin.close()
        assert self.proc.wait(timeout=60) == 0


@pytest.fixture
def warehouse(tmp_path, monkeypatch) -> Path:
    """A DuckDB file with a settlement table of three rows, named by WAREHOUSE_URL."""
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE settlement AS SELECT * FROM (VALUES ('E01', 100.00), ('E02', 0.00), ('E03', 7.50)) "
                "AS t(entity_id, earned)")
    con.close()
    monkeypatch.setenv("WAREHOUSE_URL", f"duckdb:///{path}")
    monkeypatch.setattr(explore, "SAMPLE_PATH", tmp_path / "sample" / "sample_savings.duckdb")
    return path


def _rows(engine, sql: str) -> list:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def test_the_notebook_reads_the_published_results_while_another_process_writes(warehouse):
    assert publish_snapshot(f"duckdb:///{warehouse}") == snapshot_path(warehouse)   # as `icm` does after a write
    writer = Writer(warehouse)
    try:
        with pytest.raises(duckdb.IOException):                 # the warehouse itself cannot be opened now
            duckdb.connect(str(warehouse), read_only=True)
        engine, url, note = explore.open_warehouse()
        try:
            assert _rows(engine, "SELECT entity_id, earned FROM settlement ORDER BY entity_id") == [
                ("E01", 100), ("E02", 0), ("E03", 7.5)]
            assert not _rows(engine, "SELECT * FROM duckdb_tables() WHERE table_name = 'written_meanwhile'")
        finally:
            engine.dispose()
        assert url == f"duckdb:///{snapshot_path(warehouse)}"
        assert "is writing the warehouse" in note and "last published state" in note
    finally:
        writer.stop()
    assert not explore.SAMPLE_PATH.parent.exists(), "no sample data instead"


def test_once_the_writer_has_finished_the_snapshot_is_refreshed(warehouse):
    publish_snapshot(f"duckdb:///{warehouse}")
    Writer(warehouse).stop()                                    # wrote a table, then finished
    engine, note = open_for_reading(f"duckdb:///{warehouse}")
    try:
        assert _rows(engine, "SELECT x FROM written_meanwhile") == [(1,)]
    finally:
        engine.dispose()
    assert "is writing" not in note


def test_without_a_snapshot_while_another_process_writes_the_notebook_says_what_to_do(warehouse):
    writer = Writer(warehouse)
    try:
        with pytest.raises(explore.NoWarehouse, match=r"is writing the warehouse .* no snapshot of it has been "
                                                      r"published yet: wait until it has finished"):
            explore.open_warehouse()
        with pytest.raises(SnapshotUnavailable, match="no snapshot"):
            open_for_reading(f"duckdb:///{warehouse}")
    finally:
        writer.stop()
    assert not snapshot_path(warehouse).exists() and not explore.SAMPLE_PATH.parent.exists()


def test_a_command_that_wrote_the_warehouse_publishes_its_snapshot(tmp_path):
    from icm.cli import main

    url = f"duckdb:///{tmp_path / 'fresh.duckdb'}"
    assert main(["migrate", "--warehouse", url]) == 0
    snapshot = snapshot_path(tmp_path / "fresh.duckdb")
    assert snapshot.exists()
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)
    finally:
        con.close()


def test_missing_warehouse_is_not_created_by_a_reader(tmp_path):
    with pytest.raises(SnapshotUnavailable, match=r"no warehouse at .*absent\.duckdb: run `make demo`"):
        open_for_reading(f"duckdb:///{tmp_path / 'absent.duckdb'}")
    assert list(tmp_path.iterdir()) == []
