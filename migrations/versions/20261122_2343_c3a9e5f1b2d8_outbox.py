"""The message outbox: every e-mail (later SMS and letters) is a row written with the change that causes it.

Revision ID: c3a9e5f1b2d8
Revises: b2f1c0a7d3e4
Create Date: 2026-11-22 23:43:53.555644+00:00
"""

from alembic import op
import sqlalchemy as sa


revision = 'c3a9e5f1b2d8'
down_revision = 'b2f1c0a7d3e4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('outbox_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('template', sa.String(length=64), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('secrets_to_redact', sa.JSON(), nullable=False),
    sa.CheckConstraint("channel IN ('email', 'sms', 'letter')", name=op.f('ck_outbox_messages_channel')),
    sa.CheckConstraint("state IN ('queued', 'sending', 'sent', 'failed', 'held')", name=op.f('ck_outbox_messages_state')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_outbox_messages_customer_id_customers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages'))
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_messages_customer_time', ['customer_id', 'created_at'], unique=False)
        batch_op.create_index('ix_outbox_messages_due', ['state', 'next_attempt_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_messages_due')
        batch_op.drop_index('ix_outbox_messages_customer_time')

    op.drop_table('outbox_messages')
