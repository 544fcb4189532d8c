"""The account a first payment came from (payments.payer_iban): the IBAN of the mandate it sets up.

Revision ID: c7d2e4f6a8b1
Revises: 5e2b7c9d1a40
Create Date: 2026-12-01 20:45:00+00:00
"""

from alembic import op
import sqlalchemy as sa


revision = 'c7d2e4f6a8b1'
down_revision = '5e2b7c9d1a40'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("payments", sa.Column("payer_iban", sa.String(length=34), nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite has it since 3.35): no batch copy of the table.
    op.drop_column("payments", "payer_iban")
