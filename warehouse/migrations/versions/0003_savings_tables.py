"""shared-savings result and risk-reference tables (attribution, cost, risk, settlement inputs and results)

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('attribution',
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('program_id', sa.String(), nullable=False),
    sa.Column('person_id', sa.String(), nullable=False),
    sa.Column('month_start', sa.Date(), nullable=False),
    sa.Column('payer', sa.String(), nullable=False),
    sa.Column('entity_id', sa.String(), nullable=False),
    sa.Column('method', sa.String(), nullable=False),
    sa.Column('reason', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('year', 'program_id', 'person_id', 'month_start', 'payer')
    )
    op.create_table('cost_person_month',
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.String(), nullable=False),
    sa.Column('month_start', sa.Date(), nullable=False),
    sa.Column('payer', sa.String(), nullable=False),
    sa.Column('payer_type', sa.String(), nullable=True),
    sa.Column('enrollment_type', sa.String(), nullable=False),
    sa.Column('inpatient', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('outpatient', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('professional', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('pharmacy', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('behavioral_health', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('ltss', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('ed', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('other', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.PrimaryKeyConstraint('person_id', 'month_start', 'payer')
    )
    op.create_table('cost_person_year',
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.String(), nullable=False),
    sa.Column('payer', sa.String(), nullable=False),
    sa.Column('enrollment_type', sa.String(), nullable=False),
    sa.Column('member_months', sa.Integer(), nullable=False),
    sa.Column('cost', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('annualized_cost', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('truncation_threshold', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('truncated_cost', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.PrimaryKeyConstraint('year', 'person_id', 'payer', 'enrollment_type')
    )
    op.create_table('ref_risk_demographic',
    sa.Column('model_version', sa.String(), nullable=False),
    sa.Column('segment', sa.String(), nullable=False),
    sa.Column('sex', sa.String(), nullable=False),
    sa.Column('age_min', sa.Integer(), nullable=False),
    sa.Column('age_max', sa.Integer(), nullable=False),
    sa.Column('coefficient', sa.Numeric(precision=18, scale=8), nullable=False),
    sa.PrimaryKeyConstraint('model_version', 'segment', 'sex', 'age_min')
    )
    op.create_table('ref_risk_dx',
    sa.Column('model_version', sa.String(), nullable=False),
    sa.Column('diagnosis_code', sa.String(), nullable=False),
    sa.Column('category', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('model_version', 'diagnosis_code', 'category')
    )
    op.create_table('ref_risk_factor',
    sa.Column('model_version', sa.String(), nullable=False),
    sa.Column('segment', sa.String(), nullable=False),
    sa.Column('variable', sa.String(), nullable=False),
    sa.Column('coefficient', sa.Numeric(precision=18, scale=8), nullable=False),
    sa.PrimaryKeyConstraint('model_version', 'segment', 'variable')
    )
    op.create_table('ref_risk_hierarchy',
    sa.Column('model_version', sa.String(), nullable=False),
    sa.Column('parent', sa.String(), nullable=False),
    sa.Column('child', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('model_version', 'parent', 'child')
    )
    op.create_table('ref_risk_interaction',
    sa.Column('model_version', sa.String(), nullable=False),
    sa.Column('interaction', sa.String(), nullable=False),
    sa.Column('side', sa.String(), nullable=False),
    sa.Column('category', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('model_version', 'interaction', 'side', 'category')
    )
    op.create_table('risk_score',
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.String(), nullable=False),
    sa.Column('model_version', sa.String(), nullable=False),
    sa.Column('segment', sa.String(), nullable=True),
    sa.Column('demographic_score', sa.Numeric(precision=18, scale=8), nullable=False),
    sa.Column('disease_score', sa.Numeric(precision=18, scale=8), nullable=False),
    sa.Column('interaction_score', sa.Numeric(precision=18, scale=8), nullable=False),
    sa.Column('count_score', sa.Numeric(precision=18, scale=8), nullable=False),
    sa.Column('raw_score', sa.Numeric(precision=18, scale=8), nullable=False),
    sa.Column('normalized_score', sa.Numeric(precision=18, scale=8), nullable=False),
    sa.PrimaryKeyConstraint('year', 'person_id', 'model_version')
    )
    op.create_table('savings_input',
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('program_id', sa.String(), nullable=False),
    sa.Column('entity_id', sa.String(), nullable=False),
    sa.Column('payer', sa.String(), nullable=False),
    sa.Column('enrollment_type', sa.String(), nullable=False),
    sa.Column('persons', sa.Integer(), nullable=False),
    sa.Column('member_months', sa.Integer(), nullable=False),
    sa.Column('person_years', sa.Numeric(precision=18, scale=8), nullable=False),
    sa.Column('expenditure', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('expenditure_untruncated', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('risk_score', sa.Numeric(precision=18, scale=8), nullable=True),
    sa.PrimaryKeyConstraint('year', 'program_id', 'entity_id', 'payer', 'enrollment_type')
    )
    op.create_table('settlement',
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('methodology_id', sa.String(), nullable=False),
    sa.Column('program_id', sa.String(), nullable=False),
    sa.Column('entity_id', sa.String(), nullable=False),
    sa.Column('payer', sa.String(), nullable=False),
    sa.Column('risk_arrangement', sa.String(), nullable=True),
    sa.Column('person_years', sa.Numeric(precision=18, scale=8), nullable=True),
    sa.Column('benchmark_pc', sa.Numeric(precision=18, scale=8), nullable=True),
    sa.Column('benchmark', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('expenditure_pc', sa.Numeric(precision=18, scale=8), nullable=True),
    sa.Column('expenditure', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('savings', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('savings_rate', sa.Numeric(precision=18, scale=8), nullable=True),
    sa.Column('msr', sa.Numeric(precision=18, scale=8), nullable=True),
    sa.Column('mlr', sa.Numeric(precision=18, scale=8), nullable=True),
    sa.Column('generated', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('quality_score', sa.Numeric(precision=18, scale=8), nullable=True),
    sa.Column('sharing_rate', sa.Numeric(precision=18, scale=8), nullable=True),
    sa.Column('earned', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('owed', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('binding', sa.Integer(), nullable=False),
    sa.Column('breakdown', sa.String(), nullable=True),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('year', 'methodology_id', 'program_id', 'entity_id', 'payer')
    )



def downgrade() -> None:

    op.drop_table('settlement')
    op.drop_table('savings_input')
    op.drop_table('risk_score')
    op.drop_table('ref_risk_interaction')
    op.drop_table('ref_risk_hierarchy')
    op.drop_table('ref_risk_factor')
    op.drop_table('ref_risk_dx')
    op.drop_table('ref_risk_demographic')
    op.drop_table('cost_person_year')
    op.drop_table('cost_person_month')
    op.drop_table('attribution')

