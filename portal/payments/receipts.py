"""The receipt a debtor gets by e-mail once a payment is confirmed, through the outbox."""

from __future__ import annotations

from sqlalchemy.orm import Session

from portal.audit.services import Actor
from portal.notifications.services import queue_email
from portal.payments.models import Payment


def queue_receipt(session: Session, payment: Payment, *, actor: Actor) -> None:
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
            "credit_cents": payment.unallocated_cents,
            "reference": payment.reference,
        },
        actor=actor,
        customer_id=customer.id,
    )
