"""Debit switches: the collection day a customer chose, kept with the first payment that makes the mandate.

Revision ID: 5e2b7c9d1a40
Revises: b4e1c2d3a5f6
Create Date: 2026-12-01 20:30:00.000000+00:00
"""

from alembic import op
import sqlalchemy as sa

import portal.db

revision = '5e2b7c9d1a40'
down_revision = 'b4e1c2d3a5f6'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('debit_switches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('day_of_month', sa.Integer(), nullable=False),
    sa.Column('mandate_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('day_of_month BETWEEN 1 AND 31', name=op.f('ck_debit_switches_day_of_month')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_debit_switches_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['mandate_id'], ['mandates.id'], name=op.f('fk_debit_switches_mandate_id_mandates'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_debit_switches_payment_id_payments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_debit_switches')),
    sa.UniqueConstraint('payment_id', name='uq_debit_switches_payment_id')
    )
    with op.batch_alter_table('debit_switches', schema=None) as batch_op:
        batch_op.create_index('ix_debit_switches_customer', ['customer_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('debit_switches', schema=None) as batch_op:
        batch_op.drop_index('ix_debit_switches_customer')
    op.drop_table('debit_switches')
