"""Dagster resources: the warehouse (a SQLAlchemy URL) and the landing folder."""
from __future__ import annotations

from pathlib import Path

import dagster as dg
from sqlalchemy import Engine

from warehouse.engine import make_engine, upgrade

_ENGINES: dict[str, Engine] = {}


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse database. DuckDB file by default; PostgreSQL with a postgresql+psycopg:// URL."""

    url: str = "duckdb:///.icm/warehouse.duckdb"

    def get_engine(self) -> Engine:
        if self.url not in _ENGINES:
            upgrade(self.url)  # schema always at Alembic head before an asset writes
            _ENGINES[self.url] = make_engine(self.url)
        return _ENGINES[self.url]

    def teardown_after_execution(self, context) -> None:
        engine = _ENGINES.pop(self.url, None)
        if engine is not None:
            engine.dispose()  # releases the DuckDB file lock for the next step / process


class LandingResource(dg.ConfigurableResource):
    """Where payer files land, and where staged rows wait for loading."""

    path: str = ".icm/landing"
    staging_path: str = ".icm/staging.duckdb"

    @property
    def landing(self) -> Path:
        return Path(self.path)

    @property
    def staging_db(self) -> Path:
        return Path(self.staging_path)
