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
from portal.payments.refund_messages import queue_refund_email
from portal.payments.reversals import record_reversal
from portal.payments.services import lock_payment, paid_twice_refund_key
from portal.providers.base import PaymentProvider, ProviderRejected

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RefundRequest:
    payment_id: int
    amount_cents: int
    key: str
    # It repeats an earlier form's refund whose answer was never seen, amount and all. False for the form's own
    # refund, also when that form is sent again (a double click): it is the same refund, with the same answer.
    retried: bool


@dataclass(frozen=True)
class RefundResult:
    """The refund a request's key made, whichever request or webhook recorded it."""

    reversal: PaymentReversal
    # This request recorded it, or made the webhook's record of it this key's. False: an earlier request with the
    # same key had done so, and this one changed nothing.
    made_now: bool


def new_request_id() -> str:
    """Put in each refund form when it is drawn: the same form sent twice is the same refund."""
    return secrets.token_hex(12)


def _form_key(payment_id: int, request_id: str) -> str:
    return f"payment-{payment_id}-refund-{request_id}"


def _is_form_key(payment_id: int, key: str) -> bool:
    """A refund a staff member asked for on the refund form, not the automatic paid-twice refund."""
    return key.startswith(_form_key(payment_id, ""))


def request_refund(session: Session, payment_id: int, amount_cents: int, request_id: str) -> RefundRequest:
    """Note a refund before asking the provider, so any retry repeats it with the same key.

    The caller commits before ``send_refund``. A double click, or a retry after a time-out whose refund did
    go through, finds the pending request and sends the same key, and the provider refunds once; a form
    sent again after its refund was recorded gets that refund back from ``send_refund``, without asking anyone.
    """
    payment = lock_payment(session, payment_id)
    key = _form_key(payment.id, request_id)
    if payment.refund_pending_key and payment.refund_pending_cents:
        pending = payment.refund_pending_key
        return RefundRequest(payment.id, payment.refund_pending_cents, pending, retried=pending != key)
    if _recorded_with(session, key) is not None:
        # Checked before the amount: what is left to refund is less now, and this refund is made already.
        return RefundRequest(payment.id, amount_cents, key, retried=False)
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
) -> RefundResult | None:
    """Ask the provider for the noted refund and record it as this key's; or find the refund an earlier request
    with this key recorded (the same form sent twice), so both answers tell the same result.

    None when nothing is recorded with this key: a concurrent request with it was refused. The caller has
    committed the note. The lock is taken only after the provider answered: on SQLite it is database-wide, and
    holding it through the call would make every other writer give up. The note and its idempotency key make a
    concurrent or repeated send refund once; the debtor is told by the one request that records it as the key's.
    """
    payment = session.get(Payment, request.payment_id, populate_existing=True)
    if payment is None or payment.refund_pending_key != request.key or payment.external_id is None:
        return _already_recorded(session, request.key)  # an earlier request with this key finished it
    external_id, currency = payment.external_id, payment.currency
    session.commit()  # nothing written: end the read before the provider is asked
    reversal = provider.refund(external_id, request.amount_cents, currency, request.key)
    payment = lock_payment(session, request.payment_id)
    # Only our own note: a concurrent request with our key may have cleared it, and a new form noted its own since.
    if payment.refund_pending_key == request.key:
        payment.refund_pending_key = None
        payment.refund_pending_cents = None
    recorded = record_reversal(session, payment, reversal, actor=actor, initiated_by=actor.id, request_key=request.key)
    if recorded is None:
        recorded = _claim_webhook_record(session, payment, reversal.external_id, request.key, actor=actor)
    if recorded is None:
        return _already_recorded(session, request.key)
    if _is_form_key(payment.id, request.key):
        # Here and not as a reaction to the REFUNDED event: only this answer says the refund is the one staff
        # asked for, also when the webhook recorded it first (its event then names the webhook, not staff).
        queue_refund_email(session, recorded, actor=actor)
    return RefundResult(recorded, made_now=True)


def _recorded_with(session: Session, key: str) -> PaymentReversal | None:
    return session.scalars(select(PaymentReversal).where(PaymentReversal.request_key == key)).one_or_none()


def _already_recorded(session: Session, key: str) -> RefundResult | None:
    done = _recorded_with(session, key)
    return RefundResult(done, made_now=False) if done is not None else None


def _claim_webhook_record(
    session: Session, payment: Payment, external_id: str, key: str, *, actor: Actor
) -> PaymentReversal | None:
    """The provider's webhook recorded the refund first, knowing nothing of the request: make the record this key's,
    so the form sent again finds it. None when it is some key's already (a concurrent request with ours)."""
    existing = session.scalars(
        select(PaymentReversal).where(
            PaymentReversal.payment_id == payment.id, PaymentReversal.external_id == external_id
        )
    ).one_or_none()
    if existing is None or existing.request_key is not None:
        return None
    existing.request_key = key
    existing.initiated_by = existing.initiated_by or actor.id
    return existing


def send_paid_twice_refund(
    session: Session, provider: PaymentProvider, payment_id: int, *, actor: Actor
) -> RefundResult | None:
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
