"""claims carry their enrollment match (load, then flag): medical_claim.enrollment_match and
pharmacy_claim.enrollment_match (values in warehouse/enrollment_match.py). Rows loaded before this revision keep
NULL: they passed the enrollment check of their load or were loaded without one, and stay usable as before.

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

TABLES = ('medical_claim', 'pharmacy_claim')


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column('enrollment_match', sa.String(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        op.drop_column(table, 'enrollment_match')
