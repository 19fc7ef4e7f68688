"""medical_claim, medical_claim_line and pharmacy_claim without PRIMARY KEY constraints

On DuckDB the primary-key indexes made inserting a file's claims about three times slower than the insert
itself. Keys stay unique without them: the loader quarantines a key that repeats within a file and a claim
(line) already loaded by an earlier batch, and the Great Expectations key check verifies uniqueness
(warehouse.quality). Same approach as 0004 (measure_detail) and the derived tables.

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

KEYS = {
    'medical_claim': ['claim_id', 'data_source'],
    'medical_claim_line': ['claim_id', 'data_source', 'claim_line_number'],
    'pharmacy_claim': ['claim_id', 'claim_line_number', 'data_source'],
}


def _rebuild(table: str, key: list[str] | None) -> None:
    """DuckDB cannot drop or add a primary key in place: create the table anew and copy the rows."""
    bind = op.get_bind()
    columns = [sa.Column(c['name'], c['type'], nullable=c['nullable']) for c in sa.inspect(bind).get_columns(table)]
    new = f'{table}__rebuilt'
    extra = [sa.PrimaryKeyConstraint(*key)] if key else []
    op.create_table(new, *columns, *extra)
    names = ', '.join(f'"{c.name}"' for c in columns)
    op.execute(f'INSERT INTO {new} ({names}) SELECT {names} FROM {table}')
    op.drop_table(table)
    op.rename_table(new, table)


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    for table in KEYS:
        if postgres:
            op.drop_constraint(f'{table}_pkey', table, type_='primary')
        else:
            _rebuild(table, None)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    for table, key in KEYS.items():
        if postgres:
            op.create_primary_key(f'{table}_pkey', table, key)
        else:
            _rebuild(table, key)
