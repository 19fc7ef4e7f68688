"""Dagster resources: the warehouse (a SQLAlchemy URL) and the landing folder."""
from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field
from sqlalchemy import Engine

from warehouse.engine import is_duckdb, make_engine, schema_problem, upgrade
from warehouse.roles import LOADER, grant_roles, least_role_engine, may_create_roles, roles_granted

_ENGINES: dict[tuple, Engine] = {}


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse database. DuckDB file by default; PostgreSQL with a postgresql+psycopg:// URL."""

    url: str = Field("duckdb:///.icm/warehouse.duckdb",
                     description="SQLAlchemy URL of the warehouse: duckdb:///path/to/file.duckdb, or "
                                 "postgresql+psycopg://user@host/db (password from the environment, not here).")

    def get_engine(self, *, migrate: bool = False, read_only: bool = False) -> Engine:
        """The run's engine. Only the ingest assets migrate (migrate=True), as only `icm migrate`/`icm load` do on
        the command line; every other asset fails with one sentence when the schema is behind the code.

        Least role (README, Reliability): on a PostgreSQL warehouse whose roles `icm migrate` granted, every asset
        works as icm_loader (each group writes its tables, or counts persons to publish them), the exports
        read-only; migrations run as the URL's own user (the schema owner), who re-grants new tables. DuckDB has
        no roles and keeps one writable engine per run (a second, read-only one in the same process is refused)."""
        read_only = read_only and not is_duckdb(self.url)
        key = (self.url, read_only)
        if key not in _ENGINES:
            if migrate:
                self._migrate()
            engine = least_role_engine(self.url, LOADER, read_only=read_only)
            if not migrate and (problem := schema_problem(engine)) is not None:
                engine.dispose()
                raise dg.Failure(description=problem)
            _ENGINES[key] = engine
        return _ENGINES[key]

    def _migrate(self) -> None:
        owner = make_engine(self.url)
        try:
            behind = schema_problem(owner) is not None
            upgrade(self.url)
            if behind and roles_granted(owner) and may_create_roles(owner):
                grant_roles(owner)   # tables a new revision created
        finally:
            owner.dispose()

    def teardown_after_execution(self, context) -> None:
        for key in [k for k in _ENGINES if k[0] == self.url]:
            _ENGINES.pop(key).dispose()  # releases the DuckDB file lock for the next step / process


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
