"""utilization management tables: person-month utilization, unit metrics, outlier flags, verification sample and
results, enrollee outreach, NYU/Johnston ED classification reference

No PRIMARY KEY constraints (as 0004-0006): the tables are rebuilt per year or month by set-based statements that
are unique by construction, and the utilization checks verify the keys.

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

TABLES = ('utilization_person_month', 'utilization_unit_metric', 'utilization_outlier_flag', 'verification_sample',
          'verification_result', 'verification_import_row', 'enrollee_outreach', 'ref_ed_classification')


def upgrade() -> None:
    op.create_table(
        'utilization_person_month',
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.String(), nullable=False),
        sa.Column('month_start', sa.Date(), nullable=False),
        sa.Column('payer', sa.String(), nullable=False),
        sa.Column('icm_entity_id', sa.String(), nullable=True),
        sa.Column('program_id', sa.String(), nullable=True),
        sa.Column('billing_npi', sa.String(), nullable=True),
        sa.Column('practice_id', sa.String(), nullable=True),
        sa.Column('stratum', sa.String(), nullable=False),
        sa.Column('person_anchor', sa.Integer(), nullable=False),
        sa.Column('ip_admissions', sa.Integer(), nullable=False),
        sa.Column('ip_days', sa.Integer(), nullable=False),
        sa.Column('readmissions', sa.Integer(), nullable=False),
        sa.Column('ed_visits', sa.Integer(), nullable=False),
        sa.Column('lab_services', sa.Integer(), nullable=False),
        sa.Column('imaging_services', sa.Integer(), nullable=False),
        sa.Column('dme_services', sa.Integer(), nullable=False),
        sa.Column('outpatient_visits', sa.Integer(), nullable=False),
        sa.Column('primary_care_visits', sa.Integer(), nullable=False),
        sa.Column('preventive_visits', sa.Integer(), nullable=False),
        sa.Column('bh_ip_admissions', sa.Integer(), nullable=False),
        sa.Column('bh_op_visits', sa.Integer(), nullable=False),
        sa.Column('rx_fills', sa.Integer(), nullable=False),
        sa.Column('out_of_network_claims', sa.Integer(), nullable=False),
        sa.Column('out_of_area_claims', sa.Integer(), nullable=False),
        sa.Column('discharges_without_followup', sa.Integer(), nullable=False),
        sa.Column('paid_inpatient', sa.Numeric(14, 2), nullable=False),
        sa.Column('paid_outpatient', sa.Numeric(14, 2), nullable=False),
        sa.Column('paid_professional', sa.Numeric(14, 2), nullable=False),
        sa.Column('paid_pharmacy', sa.Numeric(14, 2), nullable=False),
        sa.Column('paid_behavioral_health', sa.Numeric(14, 2), nullable=False),
        sa.Column('paid_ltss', sa.Numeric(14, 2), nullable=False),
        sa.Column('paid_ed', sa.Numeric(14, 2), nullable=False),
        sa.Column('paid_other', sa.Numeric(14, 2), nullable=False),
        sa.Column('persons_without_primary_care', sa.Integer(), nullable=False),
        sa.Column('persons_without_preventive', sa.Integer(), nullable=False),
        sa.Column('ed_nonemergent', sa.Numeric(18, 6), nullable=False),
        sa.Column('ed_primary_care_treatable', sa.Numeric(18, 6), nullable=False),
        sa.Column('ed_preventable', sa.Numeric(18, 6), nullable=False),
        sa.Column('ed_not_preventable', sa.Numeric(18, 6), nullable=False),
        sa.Column('ed_injury', sa.Numeric(18, 6), nullable=False),
        sa.Column('ed_behavioral', sa.Numeric(18, 6), nullable=False),
        sa.Column('ed_unclassified', sa.Numeric(18, 6), nullable=False),
    )
    op.create_table(
        'utilization_unit_metric',
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('unit_type', sa.String(), nullable=False),
        sa.Column('unit_id', sa.String(), nullable=False),
        sa.Column('metric', sa.String(), nullable=False),
        sa.Column('peer_group', sa.String(), nullable=False),
        sa.Column('persons', sa.Integer(), nullable=False),
        sa.Column('member_months', sa.Integer(), nullable=False),
        sa.Column('exposure', sa.Numeric(18, 6), nullable=False),
        sa.Column('observed', sa.Numeric(18, 6), nullable=False),
        sa.Column('expected', sa.Numeric(18, 6), nullable=False),
        sa.Column('rate', sa.Numeric(18, 6), nullable=True),
        sa.Column('expected_rate', sa.Numeric(18, 6), nullable=True),
    )
    op.create_table(
        'utilization_outlier_flag',
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('unit_type', sa.String(), nullable=False),
        sa.Column('unit_id', sa.String(), nullable=False),
        sa.Column('metric', sa.String(), nullable=False),
        sa.Column('peer_group', sa.String(), nullable=False),
        sa.Column('method', sa.String(), nullable=False),
        sa.Column('verdict', sa.String(), nullable=False),
        sa.Column('statistic', sa.Numeric(18, 6), nullable=True),
        sa.Column('lower_limit', sa.Numeric(18, 6), nullable=True),
        sa.Column('upper_limit', sa.Numeric(18, 6), nullable=True),
        sa.Column('threshold', sa.String(), nullable=False),
        sa.Column('detail', sa.String(), nullable=True),
    )
    op.create_table(
        'verification_sample',
        sa.Column('sample_month', sa.Date(), nullable=False),
        sa.Column('person_id', sa.String(), nullable=False),
        sa.Column('stratum', sa.String(), nullable=False),
        sa.Column('sample_rank', sa.Integer(), nullable=False),
        sa.Column('seed', sa.Integer(), nullable=False),
        sa.Column('method', sa.String(), nullable=False),
        sa.Column('services', sa.String(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
    )
    op.create_table(
        'verification_result',
        sa.Column('sample_month', sa.Date(), nullable=False),
        sa.Column('person_id', sa.String(), nullable=False),
        sa.Column('contact_date', sa.Date(), nullable=False),
        sa.Column('contact_method', sa.String(), nullable=False),
        sa.Column('response', sa.String(), nullable=False),
        sa.Column('service_received', sa.String(), nullable=True),
        sa.Column('source_file', sa.String(), nullable=False),
        sa.Column('source_row', sa.Integer(), nullable=False),
    )
    op.create_table(
        'verification_import_row',
        sa.Column('import_id', sa.String(), nullable=False),
        sa.Column('source_file', sa.String(), nullable=False),
        sa.Column('source_row', sa.Integer(), nullable=False),
        sa.Column('sample_month', sa.Date(), nullable=True),
        sa.Column('status', sa.String(), nullable=False),
        sa.Column('reason', sa.String(), nullable=True),
        sa.Column('imported_at', sa.DateTime(), nullable=False),
    )
    op.create_table(
        'enrollee_outreach',
        sa.Column('person_id', sa.String(), nullable=False),
        sa.Column('outreach_date', sa.Date(), nullable=False),
        sa.Column('outreach_method', sa.String(), nullable=False),
        sa.Column('outcome', sa.String(), nullable=True),
    )
    op.create_table(
        'ref_ed_classification',
        sa.Column('icd10', sa.String(), nullable=False),
        sa.Column('edcnnpa', sa.Numeric(18, 6), nullable=False),
        sa.Column('edcnpa', sa.Numeric(18, 6), nullable=False),
        sa.Column('epct', sa.Numeric(18, 6), nullable=False),
        sa.Column('noner', sa.Numeric(18, 6), nullable=False),
        sa.Column('injury', sa.Numeric(18, 6), nullable=False),
        sa.Column('psych', sa.Numeric(18, 6), nullable=False),
        sa.Column('alcohol', sa.Numeric(18, 6), nullable=False),
        sa.Column('drug', sa.Numeric(18, 6), nullable=False),
    )


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
