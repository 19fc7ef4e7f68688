"""Plain DuckDB connections opened exactly as duckdb-engine opens them.

DuckDB refuses a second in-process connection to a file with a different configuration, and duckdb-engine
adds a `custom_user_agent`. Opening staging files through this helper lets SQLAlchemy/GX engines and plain
connections to the same file coexist in one process (e.g. a Dagster step and its asset checks).
"""
from __future__ import annotations

import duckdb
import duckdb_engine

from warehouse.engine import create_duckdb_file


def connect(path) -> duckdb.DuckDBPyConnection:
    create_duckdb_file(path)
    return duckdb_engine.Dialect().connect(str(path))._ConnectionWrapper__c
