"""Alembic environment: one migration tree for DuckDB and PostgreSQL."""
from alembic import context
from alembic.ddl.impl import DefaultImpl
from sqlalchemy import engine_from_config, pool

from warehouse.models import metadata

# Result tables of the measure and savings engines live on the same metadata, defined in their packages.
for _module in ("measures.tables", "savings.work_tables", "pharmacy.tables", "utilization.tables"):
    try:
        __import__(_module)
    except ImportError:
        pass


class AlembicDuckDBImpl(DefaultImpl):
    """Alembic has no DuckDB dialect of its own; the default impl is enough for our DDL."""

    __dialect__ = "duckdb"
    transactional_ddl = True


config = context.config
target_metadata = metadata


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        context.configure(connection=connectable, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
                                poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
