"""Dagster resources: the warehouse (a SQLAlchemy URL) and the landing folder."""
from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field
from sqlalchemy import Engine

from warehouse.engine import make_engine, schema_problem, upgrade

_ENGINES: dict[str, Engine] = {}


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse database. DuckDB file by default; PostgreSQL with a postgresql+psycopg:// URL."""

    url: str = Field("duckdb:///.icm/warehouse.duckdb",
                     description="SQLAlchemy URL of the warehouse: duckdb:///path/to/file.duckdb, or "
                                 "postgresql+psycopg://user@host/db (password from the environment, not here).")

    def get_engine(self, *, migrate: bool = False) -> Engine:
        """The run's engine. Only the ingest assets migrate (migrate=True), as only `icm migrate`/`icm load` do on
        the command line; every other asset fails with one sentence when the schema is behind the code."""
        if self.url not in _ENGINES:
            if migrate:
                upgrade(self.url)
            engine = make_engine(self.url)
            if not migrate and (problem := schema_problem(engine)) is not None:
                engine.dispose()
                raise dg.Failure(description=problem)
            _ENGINES[self.url] = engine
        return _ENGINES[self.url]

    def teardown_after_execution(self, context) -> None:
        engine = _ENGINES.pop(self.url, None)
        if engine is not None:
            engine.dispose()  # releases the DuckDB file lock for the next step / process


class LandingResource(dg.ConfigurableResource):
    """Where payer files land, and where staged rows wait for loading."""

    path: str = Field(".icm/landing", description="Landing folder: one sub-folder per payer feed (CSV/Parquet).")
    staging_path: str = Field(".icm/staging.duckdb",
                              description="DuckDB file where staged rows wait for loading (private to the ingest).")

    @property
    def landing(self) -> Path:
        return Path(self.path)

    @property
    def staging_db(self) -> Path:
        return Path(self.staging_path)
