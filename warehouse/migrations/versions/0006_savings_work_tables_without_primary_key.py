"""attribution, cost_person_month, cost_person_year and risk_score without PRIMARY KEY constraints

These tables are rebuilt for a whole year at every settlement run. On DuckDB their primary-key indexes made the
yearly DELETE and INSERT ... SELECT the slowest part of the warehouse settlement path (at 100,000 members, 43 s to
delete and 25 s to insert one year of cost_person_month). Rows stay unique by construction (one row per GROUP BY
key / first-ranked member-month), and the settlement checks verify it (savings.population.run.check_settlement:
`work_tables_unique`). Same approach as 0004 and 0005.

Revision ID: 0006
Revises: 0005
"""
from warehouse.migrations.primary_keys import drop_primary_keys, restore_primary_keys

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


def upgrade() -> None:
    drop_primary_keys(KEYS)


def downgrade() -> None:
    restore_primary_keys(KEYS)
