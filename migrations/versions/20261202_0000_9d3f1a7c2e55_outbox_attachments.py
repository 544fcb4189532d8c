"""Files sent with a message (outbox_attachments): the written agreement of a payment plan as a PDF.

Revision ID: 9d3f1a7c2e55
Revises: 18045fcbdedb
Create Date: 2026-12-02 00:16:22.793863+00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '9d3f1a7c2e55'
down_revision = '18045fcbdedb'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('outbox_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=120), nullable=False),
    sa.Column('content_type', sa.String(length=80), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['outbox_messages.id'], name=op.f('fk_outbox_attachments_message_id_outbox_messages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_attachments'))
    )
    with op.batch_alter_table('outbox_attachments', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_attachments_message', ['message_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('outbox_attachments', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_attachments_message')

    op.drop_table('outbox_attachments')
