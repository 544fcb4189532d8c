"""An index on domain_events (customer_id, kind): the overview asks every view for the customer's refunds and
chargebacks, and without it reads all the customer's events, one more with each page view.

Revision ID: b4e1c8a2d9f3
Revises: 2a3ba6d766af
Create Date: 2026-12-02 19:00:00.000000+00:00
"""

from alembic import op


revision = 'b4e1c8a2d9f3'
down_revision = '2a3ba6d766af'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('domain_events', schema=None) as batch_op:
        batch_op.create_index('ix_domain_events_customer_kind', ['customer_id', 'kind'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('domain_events', schema=None) as batch_op:
        batch_op.drop_index('ix_domain_events_customer_kind')
