"""Per-run scratch tables: shared building blocks materialised once per `compute()` run.

A block decorated with `blocks._shared` (claim diagnosis/procedure unpivots, stays, ED claims, services, member
months, enrollment islands, ...) that two or more measures of the run use is, when the BuildContext carries a
Scratch, created on first use as a temporary table (`CREATE TEMPORARY TABLE ... AS SELECT`) on the run's connection,
and every later measure of the run reads that table instead of recomputing the block. `engine.compute` finds the
shared keys by building every measure's statement once without executing it (`shared_keys`). A block only one
measure uses stays an inline CTE: materialising it whole would cost more than the inline CTE, into which the
database pushes that measure's filters and projections (a one-measure run is therefore unchanged). The tables are
dropped when the run ends (and vanish with the connection anyway). Works on DuckDB and PostgreSQL (temporary tables
live on one connection)."""
from __future__ import annotations

import itertools
import re

from sqlalchemy import Column, MetaData, Table, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ClauseElement, Executable


class CreateTempAs(Executable, ClauseElement):
    inherit_cache = False

    def __init__(self, name: str, query):
        self.name = name
        self.query = query


@compiles(CreateTempAs)
def _compile_create_temp_as(element, compiler, **kw):
    return f"CREATE TEMPORARY TABLE {element.name} AS {compiler.process(element.query, **kw)}"


_run_ids = itertools.count(1)


class Scratch:
    """Temporary tables for one compute() run on one connection, keyed by (block name, arguments)."""

    def __init__(self, conn, year: int, share=None):
        self.conn = conn
        self.year = year
        self.share = share  # keys worth materialising (None: every shared block)
        self.run = next(_run_ids)
        self.tables: dict = {}
        self.md = MetaData()

    def has(self, key: tuple) -> bool:
        """Whether the block is already materialised in this run."""
        return key in self.tables

    def shares(self, key: tuple) -> bool:
        return self.share is None or key in self.share

    def table(self, key: tuple, build):
        """The temp table for key, creating it from build() (a CTE or Select) on first use."""
        if key in self.tables:
            return self.tables[key]
        src = build()
        q = src.select() if hasattr(src, "select") and not hasattr(src, "selected_columns") else src
        slug = re.sub(r"[^a-z0-9_]", "_", "_".join(str(k) for k in key).lower())[:40]
        name = f"icm_s{self.run}_{len(self.tables)}_{slug}"
        self.conn.execute(CreateTempAs(name, q))
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(text(f"ANALYZE {name}"))
        t = Table(name, self.md, *[Column(c.name, c.type) for c in q.selected_columns])
        self.tables[key] = t
        return t

    def drop(self) -> None:
        for t in self.tables.values():
            self.conn.execute(text(f"DROP TABLE IF EXISTS {t.name}"))
        self.tables.clear()
