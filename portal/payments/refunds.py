"""Refunds started by staff: noted first, then sent with a key that every retry repeats."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit.services import Actor
from portal.events import emit
from portal.payments import events as payment_events
from portal.payments.errors import RefundProblem
from portal.payments.models import Payment, PaymentReversal
from portal.payments.reversals import record_reversal
from portal.payments.services import lock_payment, paid_twice_refund_key
from portal.providers.base import PaymentProvider, ProviderRejected

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RefundRequest:
    payment_id: int
    amount_cents: int
    key: str
    retried: bool  # an earlier request's answer was never seen; this one repeats it, amount and all


def new_request_id() -> str:
    """Put in each refund form when it is drawn: the same form sent twice is the same refund."""
    return secrets.token_hex(12)


def request_refund(session: Session, payment_id: int, amount_cents: int, request_id: str) -> RefundRequest:
    """Note a refund before asking the provider, so any retry repeats it with the same key.

    The caller commits before ``send_refund``. A double click, or a retry after a time-out whose refund did
    go through, finds the pending request and sends the same key, and the provider refunds once; a form
    sent again after its refund was recorded is refused.
    """
    payment = lock_payment(session, payment_id)
    if payment.refund_pending_key and payment.refund_pending_cents:
        return RefundRequest(payment.id, payment.refund_pending_cents, payment.refund_pending_key, retried=True)
    key = f"payment-{payment.id}-refund-{request_id}"
    if session.scalars(select(PaymentReversal.id).where(PaymentReversal.request_key == key)).first() is not None:
        raise RefundProblem("already_done")
    if payment.state != "paid" or payment.external_id is None:
        raise RefundProblem("not_paid")
    if not 0 < amount_cents <= payment.refundable_cents:
        raise RefundProblem("amount", maximum=payment.refundable_cents, currency=payment.currency)
    payment.refund_pending_key = key
    payment.refund_pending_cents = amount_cents
    return RefundRequest(payment.id, amount_cents, payment.refund_pending_key, retried=False)


def forget_refund_request(session: Session, payment_id: int) -> None:
    """The provider refused the noted refund outright, so nothing was refunded: a new form may try again."""
    payment = lock_payment(session, payment_id)
    payment.refund_pending_key = None
    payment.refund_pending_cents = None


def send_refund(
    session: Session, provider: PaymentProvider, request: RefundRequest, *, actor: Actor
) -> PaymentReversal | None:
    """Ask the provider for the noted refund and record it; None when it was recorded already.

    The caller has committed the note. The lock is taken only after the provider answered: on SQLite it is
    database-wide, and holding it through the call would make every other writer give up. The note and its
    idempotency key make a concurrent or repeated send refund once.
    """
    payment = session.get(Payment, request.payment_id, populate_existing=True)
    if payment is None or payment.refund_pending_key != request.key or payment.external_id is None:
        return None  # a concurrent request finished it
    external_id, currency = payment.external_id, payment.currency
    session.commit()  # nothing written: end the read before the provider is asked
    reversal = provider.refund(external_id, request.amount_cents, currency, request.key)
    payment = lock_payment(session, request.payment_id)
    payment.refund_pending_key = None
    payment.refund_pending_cents = None
    recorded = record_reversal(session, payment, reversal, actor=actor, initiated_by=actor.id, request_key=request.key)
    if recorded is None:
        # The provider's webhook told us first; mark it as this form's, so sending the form again is refused.
        existing = session.scalars(
            select(PaymentReversal).where(
                PaymentReversal.payment_id == payment.id, PaymentReversal.external_id == reversal.external_id
            )
        ).one_or_none()
        if existing is not None and existing.request_key is None:
            existing.request_key = request.key
            existing.initiated_by = existing.initiated_by or actor.id
    return recorded


def send_paid_twice_refund(
    session: Session, provider: PaymentProvider, payment_id: int, *, actor: Actor
) -> PaymentReversal | None:
    """Send the refund noted for a payment that paid invoices already paid (``services._handle_paid_twice``).

    The caller has committed the note. Raises ProviderUnavailable (the note stays, so the next try repeats the
    key); when the provider refuses, the note is dropped and the money stays as credit for staff to handle,
    and the debtor, told before that it would be paid back, is told it is kept as credit instead.
    """
    payment = session.get(Payment, payment_id)
    key = paid_twice_refund_key(payment_id)
    if payment is None or payment.refund_pending_key != key or not payment.refund_pending_cents:
        return None
    # A refund whose answer was lost may have gone through: the provider's status then listed it, and sync
    # recorded it and used up the credit. Send only what is still credit, so it is never paid back twice.
    amount = min(payment.refund_pending_cents, payment.unallocated_cents)
    if amount <= 0:
        log.info("payment %s: the paid-twice refund was recorded already; note dropped", payment_id)
        forget_refund_request(session, payment_id)
        return None
    request = RefundRequest(payment.id, amount, key, retried=True)
    try:
        return send_refund(session, provider, request, actor=actor)
    except ProviderRejected:
        session.rollback()
        log.error("payment %s: %s refused the paid-twice refund; the money stays as credit", payment_id, provider.name)
        forget_refund_request(session, payment_id)
        refused = lock_payment(session, payment_id)
        emit(
            session,
            payment_events.about(
                payment_events.PAID_TWICE,
                refused,
                actor,
                amount_cents=refused.unallocated_cents,
                policy="credit",
                reason=payment_events.REFUND_REFUSED,
            ),
        )
        return None
