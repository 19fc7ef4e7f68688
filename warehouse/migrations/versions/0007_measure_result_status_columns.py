"""measure_result: core-set and look-back status of every result row

core_set_status says whether the measure is in the Core Set of the FFY the measurement year reports to (FFY = MY + 1)
or only computed because states still use it; lookback_status says whether the warehouse holds the measure's whole
look-back ("full") or only part of it ("partial: ..."). Both are NULL on rows written before this revision.

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

COLUMNS = ('core_set_status', 'lookback_status')


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column('measure_result', sa.Column(name, sa.String(), nullable=True))


def downgrade() -> None:
    for name in reversed(COLUMNS):
        op.drop_column('measure_result', name)
