"""Read helpers for payments, scoped to one customer where a debtor asks."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portal.events.models import DomainEvent
from portal.invoices.models import Invoice
from portal.payments.models import Payment, PaymentAllocation


def list_payable_invoices(session: Session, customer_id: int) -> list[Invoice]:
    return list(
        session.scalars(
            select(Invoice)
            .where(Invoice.customer_id == customer_id, Invoice.state == "open")
            .order_by(Invoice.due_date, Invoice.number)
        )
    )


def get_payment_by_public_id(session: Session, public_id: str) -> Payment | None:
    """By the random id in the return address; callers check it belongs to the debtor in the session."""
    return session.scalars(select(Payment).where(Payment.public_id == public_id)).one_or_none()


def allocations_of(payment: Payment) -> list[PaymentAllocation]:
    """What the payment settled, per invoice, net of anything taken back."""
    return [allocation for allocation in payment.allocations if allocation.amount_cents > 0]


def list_payments_for_customer(session: Session, customer_id: int) -> list[Payment]:
    return list(
        session.scalars(
            select(Payment)
            .where(Payment.customer_id == customer_id)
            .options(
                selectinload(Payment.items),
                selectinload(Payment.allocations).joinedload(PaymentAllocation.invoice),
                selectinload(Payment.reversals),
            )
            .order_by(Payment.created_at.desc(), Payment.id.desc())
        )
    )


@dataclass(frozen=True)
class PaidTwice:
    policy: str  # "refund" or "credit", as the setting said when the money came (or credit, see below)
    amount_cents: int
    refund_refused: bool = False  # the automatic refund was refused, so the money is kept as credit after all


def paid_twice_of(session: Session, payment: Payment) -> PaidTwice | None:
    """Whether ``payment`` found its invoices paid already, and what was done with the money (its latest event
    says: a refused automatic refund is followed by one saying the money is kept as credit)."""
    from portal.payments.events import PAID_TWICE, REFUND_REFUSED

    found = session.scalars(
        select(DomainEvent)
        .where(
            DomainEvent.kind == PAID_TWICE,
            DomainEvent.subject_type == "payment",
            DomainEvent.subject_id == str(payment.id),
        )
        .order_by(DomainEvent.id.desc())
    ).first()
    if found is None:
        return None
    refused = found.payload.get("reason") == REFUND_REFUSED
    return PaidTwice(str(found.payload["policy"]), int(found.payload["amount_cents"]), refund_refused=refused)
