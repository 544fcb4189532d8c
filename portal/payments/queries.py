"""Read helpers for payments, scoped to one customer where a debtor asks."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

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
