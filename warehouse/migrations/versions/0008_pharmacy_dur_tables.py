"""pharmacy DUR and MTM tables

dur_alert, dur_alert_trace, dur_mme_person and mtm_eligible have no primary key (replaced per year, unique by
construction, as 0004-0006); dur_run (one row per reviewed year), dur_intervention (the state's record of letters
and calls) and mtm_service (the MTM program's service record, an input) are keyed.

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dur_alert',
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.String(), nullable=False),
    sa.Column('rule_version', sa.Integer(), nullable=False),
    sa.Column('rule_set_version', sa.String(), nullable=False),
    sa.Column('person_id', sa.String(), nullable=False),
    sa.Column('alert_date', sa.Date(), nullable=False),
    sa.Column('qualifying_days', sa.Integer(), nullable=False),
    sa.Column('value', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    )
    op.create_table('dur_alert_trace',
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.String(), nullable=False),
    sa.Column('person_id', sa.String(), nullable=False),
    sa.Column('claim_id', sa.String(), nullable=False),
    sa.Column('data_source', sa.String(), nullable=False),
    sa.Column('fill_date', sa.Date(), nullable=False),
    sa.Column('ndc', sa.String(), nullable=True),
    sa.Column('ingredient', sa.String(), nullable=True),
    sa.Column('prescriber_npi', sa.String(), nullable=True),
    sa.Column('pharmacy_npi', sa.String(), nullable=True),
    sa.Column('role', sa.String(), nullable=False),
    sa.Column('quality_flag', sa.String(), nullable=True),
    )
    op.create_table('dur_mme_person',
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.String(), nullable=False),
    sa.Column('factor_set', sa.String(), nullable=False),
    sa.Column('mme_episode', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('mme_daily_sum', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('mme_calendar', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('max_daily_mme', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('covered_days', sa.Integer(), nullable=False),
    sa.Column('opioid_fills', sa.Integer(), nullable=False),
    sa.Column('fills_not_computable', sa.Integer(), nullable=False),
    )
    op.create_table('dur_run',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('rule_set_version', sa.String(), nullable=False),
    sa.Column('factor_set', sa.String(), nullable=False),
    sa.Column('fills', sa.Integer(), nullable=False),
    sa.Column('opioid_mme_coverage', sa.Numeric(precision=8, scale=4), nullable=True),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('year')
    )
    op.create_table('dur_intervention',
    sa.Column('intervention_id', sa.String(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.String(), nullable=False),
    sa.Column('person_id', sa.String(), nullable=False),
    sa.Column('prescriber_npi', sa.String(), nullable=True),
    sa.Column('action', sa.String(), nullable=False),
    sa.Column('action_date', sa.Date(), nullable=False),
    sa.Column('outcome', sa.String(), nullable=True),
    sa.PrimaryKeyConstraint('intervention_id')
    )
    op.create_table('mtm_eligible',
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('preset', sa.String(), nullable=False),
    sa.Column('month_start', sa.Date(), nullable=False),
    sa.Column('person_id', sa.String(), nullable=False),
    sa.Column('chronic_diseases', sa.Integer(), nullable=False),
    sa.Column('drugs', sa.Integer(), nullable=False),
    sa.Column('annualized_drug_cost', sa.Numeric(precision=14, scale=2), nullable=False),
    )
    op.create_table('mtm_service',
    sa.Column('record_id', sa.String(), nullable=False),
    sa.Column('person_id', sa.String(), nullable=False),
    sa.Column('record_type', sa.String(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('provider_npi', sa.String(), nullable=True),
    sa.PrimaryKeyConstraint('record_id')
    )


def downgrade() -> None:
    for name in ('mtm_service', 'mtm_eligible', 'dur_intervention', 'dur_run', 'dur_mme_person', 'dur_alert_trace', 'dur_alert'):
        op.drop_table(name)
