"""medical_claim, medical_claim_line and pharmacy_claim without PRIMARY KEY constraints

On DuckDB the primary-key indexes made inserting a file's claims about three times slower than the insert
itself. Keys stay unique without them: the loader quarantines a key that repeats within a file and a claim
(line) already loaded by an earlier batch, and the Great Expectations key check verifies uniqueness
(warehouse.quality). Same approach as 0004 (measure_detail) and the derived tables.

Revision ID: 0005
Revises: 0004
"""
from warehouse.migrations.primary_keys import drop_primary_keys, restore_primary_keys

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

KEYS = {
    'medical_claim': ['claim_id', 'data_source'],
    'medical_claim_line': ['claim_id', 'data_source', 'claim_line_number'],
    'pharmacy_claim': ['claim_id', 'claim_line_number', 'data_source'],
}


def upgrade() -> None:
    drop_primary_keys(KEYS)


def downgrade() -> None:
    restore_primary_keys(KEYS)
