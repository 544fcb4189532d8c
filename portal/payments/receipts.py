"""What a debtor gets by e-mail once a payment is confirmed, through the outbox: the receipt, and the notice
about money that arrived for invoices already paid."""

from __future__ import annotations

from sqlalchemy.orm import Session

from portal.audit.services import Actor
from portal.notifications.services import queue_email
from portal.payments.models import Payment


def queue_receipt(session: Session, payment: Payment, *, actor: Actor, paid_twice: bool = False) -> None:
    """``paid_twice``: the money beyond the invoices is told about in its own notice, not as credit here."""
    customer = payment.customer
    if not customer.email:
        return
    paid = [
        {
            "number": allocation.invoice.number,
            "amount_cents": allocation.amount_cents,
            "settled": allocation.invoice.state == "paid",
        }
        for allocation in payment.allocations
        if allocation.amount_cents > 0
    ]
    if not paid and paid_twice:
        return  # nothing settled: the paid-twice notice is the whole story
    queue_email(
        session,
        to=customer.email,
        template="payment_receipt",
        language=customer.language,
        context={
            "customer_name": customer.name,
            "amount_cents": payment.received_cents,
            "currency": payment.currency,
            "method": payment.method,
            "paid_at": payment.paid_at,
            "invoices": paid,
            "credit_cents": 0 if paid_twice else payment.unallocated_cents,
            "reference": payment.reference,
        },
        actor=actor,
        customer_id=customer.id,
    )


def queue_paid_twice_notice(
    session: Session, payment: Payment, *, policy: str, amount_cents: int, actor: Actor, refund_refused: bool = False
) -> None:
    """Tell the debtor a payment found its invoices paid already, and whether the money comes back or stays.

    ``refund_refused``: a second notice, correcting the first, which said the money would be paid back."""
    customer = payment.customer
    if not customer.email:
        return
    queue_email(
        session,
        to=customer.email,
        template="payment_paid_twice",
        language=customer.language,
        context={
            "customer_name": customer.name,
            "received_cents": payment.received_cents,
            "amount_cents": amount_cents,
            "currency": payment.currency,
            "method": payment.method,
            "paid_at": payment.paid_at,
            "policy": policy,
            "refund_refused": refund_refused,
            "reference": payment.reference,
        },
        actor=actor,
        customer_id=customer.id,
    )
