"""Domain events: one append-only record of what happened, read by the timeline and (later) the API feed.

The customer's timeline used to be assembled from the audit trail, notes, the outbox and the invoices;
it now reads only this table, so the upgrade writes that history into it once.

Revision ID: e7a41c2d9b10
Revises: c5afdb510ff1
Create Date: 2026-12-01 15:40:00+00:00
"""

import json
from datetime import UTC, datetime, time, timedelta

from alembic import op
import sqlalchemy as sa

import portal.db


revision = 'e7a41c2d9b10'
down_revision = 'c5afdb510ff1'
branch_labels = None
depends_on = None

events = sa.table(
    'domain_events',
    sa.column('kind', sa.String), sa.column('schema_version', sa.Integer), sa.column('customer_id', sa.Integer),
    sa.column('subject_type', sa.String), sa.column('subject_id', sa.String), sa.column('actor_type', sa.String),
    sa.column('actor_id', sa.String), sa.column('payload', sa.JSON),
    sa.column('occurred_at', portal.db.UTCDateTime()), sa.column('recorded_at', portal.db.UTCDateTime()),
)


def upgrade() -> None:
    op.create_table('domain_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('schema_version', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('subject_type', sa.String(length=40), nullable=True),
    sa.Column('subject_id', sa.String(length=64), nullable=True),
    sa.Column('actor_type', sa.String(length=20), nullable=False),
    sa.Column('actor_id', sa.String(length=254), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('occurred_at', portal.db.UTCDateTime(), nullable=False),
    sa.Column('recorded_at', portal.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_domain_events'))
    )
    with op.batch_alter_table('domain_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_domain_events_kind'), ['kind'], unique=False)
        batch_op.create_index('ix_domain_events_customer_time', ['customer_id', 'occurred_at'], unique=False)
        batch_op.create_index('ix_domain_events_subject', ['subject_type', 'subject_id'], unique=False)
    _backfill()
    _make_append_only()


def downgrade() -> None:
    _allow_changes()
    with op.batch_alter_table('domain_events', schema=None) as batch_op:
        batch_op.drop_index('ix_domain_events_subject')
        batch_op.drop_index('ix_domain_events_customer_time')
        batch_op.drop_index(batch_op.f('ix_domain_events_kind'))
    op.drop_table('domain_events')


# --- History from before the event log -------------------------------------------------------------------

_AUDIT_KINDS = {
    'payment.started': 'payment.started', 'payment.paid': 'payment.paid', 'payment.failed': 'payment.failed',
    'payment.cancelled': 'payment.cancelled', 'payment.expired': 'payment.expired',
    'payment.refunded': 'payment.refunded', 'payment.charged_back': 'payment.charged_back',
    'link.created': 'link.created', 'link.revoked': 'link.revoked', 'link.requested': 'link.requested',
    'link.rejected': 'link.refused', 'message.retried': 'message.retried', 'note.added': 'note.added',
    'message.queued': 'message.queued',
}
_PAGE_VIEWS = {'overview.viewed': 'overview', 'invoice.viewed': 'invoice', 'invoice.pdf_downloaded': 'invoice_pdf'}
_VISIT_ENDS_AFTER = timedelta(minutes=30)


def _aware(moment):
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _backfill() -> None:
    bind = op.get_bind()
    now = datetime.now(UTC)
    rows: list[dict] = []

    def add(kind, customer_id, subject, actor, payload, occurred_at):
        rows.append({
            'kind': kind, 'schema_version': 1, 'customer_id': customer_id,
            'subject_type': subject[0] if subject else None, 'subject_id': str(subject[1]) if subject else None,
            'actor_type': actor[0], 'actor_id': actor[1], 'payload': payload or {},
            'occurred_at': _aware(occurred_at), 'recorded_at': now,
        })
        if len(rows) >= 5000:
            flush()

    def flush():
        if rows:
            bind.execute(events.insert(), rows)
            rows.clear()

    for number, customer_id, total, currency, issue_date, due_date, paid_at, by_portal in bind.execute(sa.text(
        "SELECT number, customer_id, total_cents, currency, issue_date, due_date, paid_at,"
        " EXISTS (SELECT 1 FROM payment_allocations a WHERE a.invoice_id = invoices.id AND a.amount_cents > 0)"
        " FROM invoices ORDER BY id"
    )):
        issue_date = issue_date if not isinstance(issue_date, str) else datetime.fromisoformat(issue_date).date()
        due_date = due_date if not isinstance(due_date, str) else datetime.fromisoformat(due_date).date()
        payload = {'total_cents': total, 'currency': currency, 'issue_date': issue_date.isoformat(),
                   'due_date': due_date.isoformat()}
        actor = ('system', 'import')
        add('invoice.issued', customer_id, ('invoice', number), actor, payload,
            datetime.combine(issue_date, time(0, 0), tzinfo=UTC))
        if paid_at is not None:
            add('invoice.paid', customer_id, ('invoice', number), actor,
                {'total_cents': total, 'currency': currency, 'by': 'portal' if by_portal else 'billing'}, paid_at)

    visits: dict[int, tuple[str, datetime]] = {}
    audit = bind.execute(sa.text(
        "SELECT id, occurred_at, actor_type, actor_id, action, customer_id, subject_type, subject_id, details "
        "FROM audit_events WHERE customer_id IS NOT NULL ORDER BY occurred_at, id"
    ))
    for audit_id, occurred_at, actor_type, actor_id, action, customer_id, subject_type, subject_id, details in audit:
        occurred_at = _aware(occurred_at)
        if isinstance(details, str):  # SQLite hands a raw query's JSON column back as text
            details = json.loads(details or "{}")
        details = details if isinstance(details, dict) else {}
        actor = (actor_type, actor_id)
        subject = (subject_type, subject_id) if subject_type else None
        if action in _AUDIT_KINDS:
            if action == 'link.requested' and not details.get('matched', True):
                continue
            payload = {k: v for k, v in details.items() if k not in ('matched', 'template')}
            add(_AUDIT_KINDS[action], customer_id, subject, actor, payload, occurred_at)
            continue
        if action != 'link.opened' and action not in _PAGE_VIEWS:
            continue
        visit = visits.get(customer_id)
        if action == 'link.opened' or visit is None or occurred_at - visit[1] > _VISIT_ENDS_AFTER:
            visit = (f"audit-{audit_id}", occurred_at)
            add('portal.visited', customer_id, ('visit', visit[0]), actor,
                {'via': 'link' if action == 'link.opened' else 'session'}, occurred_at)
        visits[customer_id] = (visit[0], occurred_at)
        if action in _PAGE_VIEWS:
            payload = {'page': _PAGE_VIEWS[action]}
            if subject_type == 'invoice':
                payload['invoice'] = subject_id
            add('portal.page_viewed', customer_id, ('visit', visit[0]), actor, payload, occurred_at)
    flush()


# --- Append-only, as the audit trail ---------------------------------------------------------------------

_PG_FUNCTION = """
CREATE FUNCTION domain_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'domain_events is append-only';
END;
$$ LANGUAGE plpgsql
"""


def _make_append_only() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(
            "CREATE TRIGGER domain_events_append_only BEFORE UPDATE OR DELETE ON domain_events "
            "FOR EACH ROW EXECUTE FUNCTION domain_events_append_only()"
        )
        op.execute(
            "CREATE TRIGGER domain_events_no_truncate BEFORE TRUNCATE ON domain_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION domain_events_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER domain_events_no_{verb.lower()} BEFORE {verb} ON domain_events "
                "BEGIN SELECT RAISE(ABORT, 'domain_events is append-only'); END"
            )


def _allow_changes() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS domain_events_no_truncate ON domain_events")
        op.execute("DROP TRIGGER IF EXISTS domain_events_append_only ON domain_events")
        op.execute("DROP FUNCTION IF EXISTS domain_events_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS domain_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS domain_events_no_delete")
