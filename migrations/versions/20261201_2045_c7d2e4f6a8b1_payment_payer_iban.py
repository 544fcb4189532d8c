"""The account a first payment came from (payments.payer_iban, or only its last digits where the provider keeps
the IBAN: payer_account_hint), for the mandate it sets up (mandates.account_hint for such a mandate).

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
    op.add_column("payments", sa.Column("payer_account_hint", sa.String(length=20), nullable=True))
    op.add_column("mandates", sa.Column("account_hint", sa.String(length=20), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMNs (SQLite has them since 3.35): no batch copy of the tables.
    op.drop_column("mandates", "account_hint")
    op.drop_column("payments", "payer_account_hint")
    op.drop_column("payments", "payer_iban")
