"""Temporary staff passwords must be replaced; a TOTP code cannot be used twice; case-insensitive e-mail lookup.

Revision ID: d5e2b8c4a1f6
Revises: c3a9e5f1b2d8
Create Date: 2026-11-22 23:54:22.054549+00:00
"""

from alembic import op
import sqlalchemy as sa


revision = 'd5e2b8c4a1f6'
down_revision = 'c3a9e5f1b2d8'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_must_change', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))
    op.create_index('ix_customers_email_lower', 'customers', [sa.text('lower(email)')])



def downgrade() -> None:
    op.drop_index('ix_customers_email_lower', table_name='customers')
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('password_must_change')

