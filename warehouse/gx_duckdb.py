"""Great Expectations 1.x on DuckDB through SQLAlchemy: a buffered-cursor adapter.

GX executes a query, releases the connection (which rolls back) and only then fetches. psycopg buffers
rows client-side so that works on PostgreSQL; DuckDB drops the pending result on ROLLBACK and GX fails
with IndexError (GX issues #10738, #11579). This adapter fetches at execute time. It relies on
duckdb-engine 0.17.0 internals (name-mangled attributes), which is why duckdb-engine is pinned and this
module has its own test. Drop it when GX ships a native DuckDB execution engine.
"""
from __future__ import annotations

import duckdb_engine


class _BufferedCursor(duckdb_engine.CursorWrapper):
    def execute(self, statement, parameters=None, context=None):
        super().execute(statement, parameters, context)
        raw = self._CursorWrapper__c
        self._desc = raw.description
        self._rows = raw.fetchall() if self._desc else []
        self._pos = 0

    @property
    def description(self):
        return self._desc

    def fetchone(self):
        if self._pos >= len(self._rows):
            return None
        row = self._rows[self._pos]
        self._pos += 1
        return row

    def fetchmany(self, size=None):
        size = size or 1
        rows = self._rows[self._pos:self._pos + size]
        self._pos += len(rows)
        return rows

    def fetchall(self):
        rows = self._rows[self._pos:]
        self._pos = len(self._rows)
        return rows


class BufferedDuckDBConnection(duckdb_engine.ConnectionWrapper):
    def cursor(self):
        return _BufferedCursor(self._ConnectionWrapper__c, self)


def gx_duckdb_kwargs(path: str, read_only: bool = False) -> dict:
    """`create_engine` kwargs for GX's SQL datasource: connections made through duckdb-engine's own
    Dialect().connect(), so the DuckDB config matches the application's engine in the same process."""

    def creator():
        kwargs = {"read_only": True} if read_only else {}
        base = duckdb_engine.Dialect().connect(path, **kwargs)
        return BufferedDuckDBConnection(base._ConnectionWrapper__c)

    return {"creator": creator}
