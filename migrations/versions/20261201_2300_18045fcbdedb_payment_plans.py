"""Payment plans (their invoices, instalments and the debtor's consents), promises to pay, and requests to be
called back.

Revision ID: 18045fcbdedb
Revises: c7d2e4f6a8b1
Create Date: 2026-12-01 23:24:40.400176+00:00
"""

from alembic import op
import sqlalchemy as sa

import portal.db


revision = '18045fcbdedb'
down_revision = 'c7d2e4f6a8b1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('callback_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('preferred_time', sa.String(length=20), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('handled_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('handled_by', sa.String(length=254), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_callback_requests_customer_id_customers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callback_requests'))
    )
    with op.batch_alter_table('callback_requests', schema=None) as batch_op:
        batch_op.create_index('ix_callback_requests_handled_created', ['handled_at', 'created_at'], unique=False)

    op.create_table('payment_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('total_cents', sa.Integer(), nullable=False),
    sa.Column('instalment_count', sa.Integer(), nullable=False),
    sa.Column('every', sa.String(length=6), nullable=False),
    sa.Column('first_due_on', sa.Date(), nullable=False),
    sa.Column('customer_kind', sa.String(length=10), nullable=False),
    sa.Column('method', sa.String(length=12), nullable=False),
    sa.Column('policy_reason', sa.String(length=40), nullable=True),
    sa.Column('debtor_reason', sa.Text(), nullable=True),
    sa.Column('budget', sa.JSON(), nullable=True),
    sa.Column('answer_by', sa.Date(), nullable=True),
    sa.Column('proposed_schedule', sa.JSON(), nullable=True),
    sa.Column('decided_by', sa.String(length=254), nullable=True),
    sa.Column('decided_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('agreed_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('grace_days', sa.Integer(), nullable=True),
    sa.Column('interest', sa.String(length=10), nullable=True),
    sa.Column('ended_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("customer_kind IN ('consumer', 'business')", name=op.f('ck_payment_plans_customer_kind')),
    sa.CheckConstraint("every IN ('month', '2weeks')", name=op.f('ck_payment_plans_every')),
    sa.CheckConstraint("method IN ('portal', 'direct_debit')", name=op.f('ck_payment_plans_method')),
    sa.CheckConstraint("status IN ('proposed', 'countered', 'active', 'completed', 'lapsed', 'rejected', 'declined', 'cancelled')", name=op.f('ck_payment_plans_status')),
    sa.CheckConstraint('instalment_count >= 1', name=op.f('ck_payment_plans_instalment_count_positive')),
    sa.CheckConstraint('total_cents > 0', name=op.f('ck_payment_plans_total_positive')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_payment_plans_customer_id_customers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_plans'))
    )
    with op.batch_alter_table('payment_plans', schema=None) as batch_op:
        batch_op.create_index('ix_payment_plans_customer_status', ['customer_id', 'status'], unique=False)
        batch_op.create_index('ix_payment_plans_status_created', ['status', 'created_at'], unique=False)

    op.create_table('payment_promises',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('promised_on', sa.Date(), nullable=False),
    sa.Column('holds_until', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('open', 'kept', 'broken', 'cancelled')", name=op.f('ck_payment_promises_status')),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_payment_promises_amount_positive')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_payment_promises_customer_id_customers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_promises'))
    )
    with op.batch_alter_table('payment_promises', schema=None) as batch_op:
        batch_op.create_index('ix_payment_promises_customer_status', ['customer_id', 'status'], unique=False)
        batch_op.create_index('ix_payment_promises_status_promised', ['status', 'promised_on'], unique=False)

    op.create_table('plan_consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=10), nullable=False),
    sa.Column('accepted_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ip_address', sa.String(length=45), nullable=True),
    sa.Column('user_agent', sa.String(length=400), nullable=True),
    sa.Column('locale', sa.String(length=2), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('text_sha256', sa.String(length=64), nullable=False),
    sa.Column('settings_versions', sa.JSON(), nullable=False),
    sa.CheckConstraint("purpose IN ('proposal', 'counter')", name=op.f('ck_plan_consents_purpose')),
    sa.ForeignKeyConstraint(['plan_id'], ['payment_plans.id'], name=op.f('fk_plan_consents_plan_id_payment_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_consents'))
    )
    with op.batch_alter_table('plan_consents', schema=None) as batch_op:
        batch_op.create_index('ix_plan_consents_plan', ['plan_id'], unique=False)

    op.create_table('plan_instalments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('reminded_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('missed_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('paid_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_plan_instalments_amount_positive')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_plan_instalments_payment_id_payments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['plan_id'], ['payment_plans.id'], name=op.f('fk_plan_instalments_plan_id_payment_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_instalments')),
    sa.UniqueConstraint('payment_id', name=op.f('uq_plan_instalments_payment_id')),
    sa.UniqueConstraint('plan_id', 'number', name='uq_plan_instalments_plan_number')
    )
    with op.batch_alter_table('plan_instalments', schema=None) as batch_op:
        batch_op.create_index('ix_plan_instalments_due', ['due_on'], unique=False)

    op.create_table('plan_invoices',
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('outstanding_cents', sa.Integer(), nullable=False),
    sa.Column('paid_before_cents', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_plan_invoices_invoice_id_invoices'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['plan_id'], ['payment_plans.id'], name=op.f('fk_plan_invoices_plan_id_payment_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('plan_id', 'invoice_id', name=op.f('pk_plan_invoices'))
    )
    with op.batch_alter_table('plan_invoices', schema=None) as batch_op:
        batch_op.create_index('ix_plan_invoices_invoice', ['invoice_id'], unique=False)

    op.create_table('promise_invoices',
    sa.Column('promise_id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('outstanding_cents', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_promise_invoices_invoice_id_invoices'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['promise_id'], ['payment_promises.id'], name=op.f('fk_promise_invoices_promise_id_payment_promises'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('promise_id', 'invoice_id', name=op.f('pk_promise_invoices'))
    )
    with op.batch_alter_table('promise_invoices', schema=None) as batch_op:
        batch_op.create_index('ix_promise_invoices_invoice', ['invoice_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('promise_invoices', schema=None) as batch_op:
        batch_op.drop_index('ix_promise_invoices_invoice')

    op.drop_table('promise_invoices')
    with op.batch_alter_table('plan_invoices', schema=None) as batch_op:
        batch_op.drop_index('ix_plan_invoices_invoice')

    op.drop_table('plan_invoices')
    with op.batch_alter_table('plan_instalments', schema=None) as batch_op:
        batch_op.drop_index('ix_plan_instalments_due')

    op.drop_table('plan_instalments')
    with op.batch_alter_table('plan_consents', schema=None) as batch_op:
        batch_op.drop_index('ix_plan_consents_plan')

    op.drop_table('plan_consents')
    with op.batch_alter_table('payment_promises', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_promises_status_promised')
        batch_op.drop_index('ix_payment_promises_customer_status')

    op.drop_table('payment_promises')
    with op.batch_alter_table('payment_plans', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_plans_status_created')
        batch_op.drop_index('ix_payment_plans_customer_status')

    op.drop_table('payment_plans')
    with op.batch_alter_table('callback_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_callback_requests_handled_created')

    op.drop_table('callback_requests')
