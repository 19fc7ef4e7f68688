"""Dropping and restoring PRIMARY KEY constraints of tables that are rebuilt wholesale (migrations 0005, 0006).

PostgreSQL drops and adds the `<table>_pkey` constraint in place. DuckDB cannot alter a primary key, so the table
is created anew (same columns, types and nullability) and its rows are copied over.
"""
from alembic import op
import sqlalchemy as sa


def _rebuild(table: str, key: list[str] | None) -> None:
    bind = op.get_bind()
    columns = [sa.Column(c['name'], c['type'], nullable=c['nullable']) for c in sa.inspect(bind).get_columns(table)]
    new = f'{table}__rebuilt'
    extra = [sa.PrimaryKeyConstraint(*key)] if key else []
    op.create_table(new, *columns, *extra)
    names = ', '.join(f'"{c.name}"' for c in columns)
    op.execute(f'INSERT INTO {new} ({names}) SELECT {names} FROM {table}')
    op.drop_table(table)
    op.rename_table(new, table)


def drop_primary_keys(keys: dict[str, list[str]]) -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    for table in keys:
        if postgres:
            op.drop_constraint(f'{table}_pkey', table, type_='primary')
        else:
            _rebuild(table, None)


def restore_primary_keys(keys: dict[str, list[str]]) -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    for table, key in keys.items():
        if postgres:
            op.create_primary_key(f'{table}_pkey', table, key)
        else:
            _rebuild(table, key)
