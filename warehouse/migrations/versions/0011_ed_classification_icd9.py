"""NYU/Johnston ED classification reference for ICD-9-CM principal diagnoses (DE-SynPUF and other pre-October-2015
claims), beside the ICD-10-CM table of 0009

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'ref_ed_classification_icd9',
        sa.Column('icd9', sa.String(), nullable=False),
        *[sa.Column(c, sa.Numeric(18, 6), nullable=False)
          for c in ('edcnnpa', 'edcnpa', 'epct', 'noner', 'injury', 'psych', 'alcohol', 'drug')],
    )


def downgrade() -> None:
    op.drop_table('ref_ed_classification_icd9')
