"""Refunds and chargebacks: recorded once whoever reports them, and undone when the provider gives the money back.

The caller holds the payment's row lock (``services.lock_payment``), so two reports of the same reversal
cannot both pass the checks.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import clock
from portal.audit.services import Actor
from portal.events import emit
from portal.payments import allocation
from portal.payments import events as payment_events
from portal.payments.models import Payment, PaymentReversal
from portal.providers.base import Reversal

log = logging.getLogger(__name__)


def record_reversal(
    session: Session,
    payment: Payment,
    reversal: Reversal,
    *,
    actor: Actor,
    initiated_by: str | None = None,
    request_key: str | None = None,
    reason: str | None = None,
) -> PaymentReversal | None:
    """Record a refund or chargeback once, and reopen what it takes back. None when already recorded.

    ``reason``: the bank's reason code where one is known (a SEPA return of a debit: MD06, AM04, ...); it goes
    with the event, so what reacts to it (the debit's outcome) can follow the reason.
    The caller holds the payment's row lock, so two reports of the same reversal cannot both pass the check.
    """
    existing = session.scalars(
        select(PaymentReversal).where(
            PaymentReversal.payment_id == payment.id, PaymentReversal.external_id == reversal.external_id
        )
    ).one_or_none()
    if existing is not None:
        return None
    amount = min(reversal.amount_cents, payment.received_cents - payment.reversed_cents)
    if amount <= 0:
        log.error("payment %s: reversal %s exceeds what was received", payment.id, reversal.external_id)
        return None
    now = clock.now()
    row = PaymentReversal(
        payment=payment,
        external_id=reversal.external_id,
        kind=reversal.kind,
        amount_cents=amount,
        initiated_by=initiated_by,
        request_key=request_key,
        created_at=now,
    )
    session.add(row)
    payment.reversed_cents += amount
    payment.updated_at = now
    session.flush()
    reopened = allocation.reverse(session, payment, row, now)
    kind = payment_events.REFUNDED if reversal.kind == "refund" else payment_events.CHARGED_BACK
    # ``invoices``: what the debtor's invoice pages explain (payments/history.py).
    payload = {"amount_cents": amount, "initiated_by": initiated_by, "invoices": reopened, "reversal_id": row.id}
    # A chargeback's SEPA reason code (from the provider's reversal, or the bank's returns file): what the
    # debit's reaction follows.
    reason = reason or reversal.reason
    if reason:
        payload["reason"] = reason
    emit(session, payment_events.about(kind, payment, actor, **payload))
    return row


def undo_reversal(session: Session, payment: Payment, reversal: Reversal, *, actor: Actor) -> PaymentReversal | None:
    """The provider gave back what a recorded reversal took: put the money back where it came from, once.

    None when there is nothing to undo (never recorded, or undone already). The caller holds the row lock.
    """
    row = session.scalars(
        select(PaymentReversal).where(
            PaymentReversal.payment_id == payment.id,
            PaymentReversal.external_id == reversal.external_id,
            PaymentReversal.undone_at.is_(None),
        )
    ).one_or_none()
    if row is None:
        return None
    now = clock.now()
    row.undone_at = now
    payment.reversed_cents -= row.amount_cents
    payment.updated_at = now
    restored = allocation.restore(session, payment, row, now, actor=actor)
    kind = payment_events.REFUND_FAILED if row.kind == "refund" else payment_events.CHARGEBACK_REVERSED
    # ``reversal_id``: which reversal it undid, so the debtor's invoice pages can say what it did to each invoice.
    emit(
        session,
        payment_events.about(
            kind, payment, actor, amount_cents=row.amount_cents, invoices=restored, reversal_id=row.id
        ),
    )
    if row.kind == "refund" and (row.request_key or "").endswith("-paid-twice"):
        # The debtor was told this automatic refund was on its way: tell them the money is kept as credit.
        emit(
            session,
            payment_events.about(
                payment_events.PAID_TWICE,
                payment,
                actor,
                amount_cents=row.amount_cents,
                policy="credit",
                reason=payment_events.REFUND_REFUSED,
            ),
        )
    return row
