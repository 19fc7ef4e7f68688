"""attribution, cost_person_month, cost_person_year and risk_score without PRIMARY KEY constraints

These tables are rebuilt for a whole year at every settlement run. On DuckDB their primary-key indexes made the
yearly DELETE and INSERT ... SELECT the slowest part of the warehouse settlement path (at 100,000 members, 43 s to
delete and 25 s to insert one year of cost_person_month). Rows stay unique by construction (one row per GROUP BY
key / first-ranked member-month), and the settlement checks verify it (savings.population.run.check_settlement:
`work_tables_unique`). Same approach as 0004 and 0005.

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

KEYS = {
    'attribution': ['year', 'program_id', 'person_id', 'month_start', 'payer'],
    'cost_person_month': ['person_id', 'month_start', 'payer'],
    'cost_person_year': ['year', 'person_id', 'payer', 'enrollment_type'],
    'risk_score': ['year', 'person_id', 'model_version'],
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
