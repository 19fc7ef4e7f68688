"""quality-measure result tables (measure_detail, measure_result)

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('measure_detail',
    sa.Column('measure_id', sa.String(), nullable=False),
    sa.Column('measurement_year', sa.Integer(), nullable=False),
    sa.Column('rate_id', sa.String(), nullable=False),
    sa.Column('unit_id', sa.String(), nullable=False),
    sa.Column('unit_type', sa.String(), nullable=False),
    sa.Column('person_id', sa.String(), nullable=False),
    sa.Column('anchor_date', sa.Date(), nullable=True),
    sa.Column('age', sa.Integer(), nullable=True),
    sa.Column('age_band', sa.String(), nullable=True),
    sa.Column('sex', sa.String(), nullable=True),
    sa.Column('race', sa.String(), nullable=True),
    sa.Column('ethnicity', sa.String(), nullable=True),
    sa.Column('payer', sa.String(), nullable=True),
    sa.Column('delivery_system', sa.String(), nullable=True),
    sa.Column('program_id', sa.String(), nullable=True),
    sa.Column('entity_id', sa.String(), nullable=True),
    sa.Column('county_fips', sa.String(), nullable=True),
    sa.Column('excluded', sa.Boolean(), nullable=False),
    sa.Column('exclusion_reason', sa.String(), nullable=True),
    sa.Column('numerator_met', sa.Boolean(), nullable=False),
    sa.Column('numerator_value', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('denominator_value', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('numerator_claim_id', sa.String(), nullable=True),
    sa.PrimaryKeyConstraint('measure_id', 'measurement_year', 'rate_id', 'unit_id')
    )
    op.create_table('measure_result',
    sa.Column('measure_id', sa.String(), nullable=False),
    sa.Column('measurement_year', sa.Integer(), nullable=False),
    sa.Column('rate_id', sa.String(), nullable=False),
    sa.Column('stratum_type', sa.String(), nullable=False),
    sa.Column('stratum_value', sa.String(), nullable=False),
    sa.Column('rate_type', sa.String(), nullable=False),
    sa.Column('numerator', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('denominator', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('exclusions', sa.Integer(), nullable=True),
    sa.Column('rate', sa.Numeric(precision=24, scale=8), nullable=True),
    sa.Column('small_cell', sa.Boolean(), nullable=True),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('value_set_versions', sa.String(), nullable=True),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('measure_id', 'measurement_year', 'rate_id', 'stratum_type', 'stratum_value')
    )


def downgrade() -> None:
    op.drop_table('measure_result')
    op.drop_table('measure_detail')
