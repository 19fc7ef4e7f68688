"""measure_detail without a PRIMARY KEY constraint

The detail table is replaced wholesale per measure and year and is unique by construction (checked by the
measure consistency check `detail_unique`). On DuckDB the primary-key index made inserting and deleting the
member-month detail of a large state several times slower than the measure query itself.

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

TABLE = 'measure_detail'
KEY = ['measure_id', 'measurement_year', 'rate_id', 'unit_id']


def _rebuild(with_key: bool) -> None:
    """DuckDB cannot drop or add a primary key in place: create the table anew and copy the rows."""
    bind = op.get_bind()
    columns = [sa.Column(c['name'], c['type'], nullable=c['nullable']) for c in sa.inspect(bind).get_columns(TABLE)]
    new = f'{TABLE}__rebuilt'
    extra = [sa.PrimaryKeyConstraint(*KEY)] if with_key else []
    op.create_table(new, *columns, *extra)
    names = ', '.join(c.name for c in columns)
    op.execute(f'INSERT INTO {new} ({names}) SELECT {names} FROM {TABLE}')
    op.drop_table(TABLE)
    op.rename_table(new, TABLE)


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_constraint(f'{TABLE}_pkey', TABLE, type_='primary')
    else:
        _rebuild(with_key=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.create_primary_key(f'{TABLE}_pkey', TABLE, KEY)
    else:
        _rebuild(with_key=True)
