"""Debit bank files: which pain.008 files staff downloaded for a collection date, and which debits they held.

Revision ID: b4e1c2d3a5f6
Revises: 7181ab6e50ab
Create Date: 2026-12-01 20:15:00+00:00
"""

from alembic import op
import sqlalchemy as sa

import portal.db

revision = 'b4e1c2d3a5f6'
down_revision = '7181ab6e50ab'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('debit_bank_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('collection_date', sa.Date(), nullable=False),
    sa.Column('message_id', sa.String(length=35), nullable=False),
    sa.Column('debit_count', sa.Integer(), nullable=False),
    sa.Column('total_cents', sa.Integer(), nullable=False),
    sa.Column('end_to_end_ids', sa.JSON(), nullable=False),
    sa.Column('downloaded_by', sa.String(length=254), nullable=False),
    sa.Column('downloaded_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_debit_bank_files'))
    )
    with op.batch_alter_table('debit_bank_files', schema=None) as batch_op:
        batch_op.create_index('ix_debit_bank_files_date', ['collection_date'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('debit_bank_files', schema=None) as batch_op:
        batch_op.drop_index('ix_debit_bank_files_date')

    op.drop_table('debit_bank_files')
