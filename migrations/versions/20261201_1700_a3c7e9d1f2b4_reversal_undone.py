"""A refund or chargeback the provider later undid (a failed refund, a won dispute, a reversed chargeback).

Revision ID: a3c7e9d1f2b4
Revises: f8b52d3e0c21
Create Date: 2026-12-01 17:00:00+00:00
"""

from alembic import op
import sqlalchemy as sa

import portal.db


revision = 'a3c7e9d1f2b4'
down_revision = 'f8b52d3e0c21'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("payment_reversals", sa.Column("undone_at", portal.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite has it since 3.35): no batch copy of the table, which would reflect its
    # neighbours and their expression indexes.
    op.drop_column("payment_reversals", "undone_at")
