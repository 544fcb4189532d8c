"""Read helpers for invoices, always scoped to one customer so no link can reach another's data."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.orm import Session, selectinload

from portal.invoices.models import Invoice


def list_open_and_recently_paid(session: Session, customer_id: int, paid_since: datetime) -> list[Invoice]:
    """Everything the overview shows, in one query: open invoices and those paid since ``paid_since``."""
    return list(session.scalars(_OPEN_AND_PAID_SINCE, {"customer_id": customer_id, "paid_since": paid_since}))


# Built once: the overview asks it on every view.
_OPEN_AND_PAID_SINCE = (
    select(Invoice)
    .where(
        Invoice.customer_id == bindparam("customer_id"),
        or_(Invoice.state == "open", and_(Invoice.state == "paid", Invoice.paid_at >= bindparam("paid_since"))),
    )
    .order_by(Invoice.due_date, Invoice.number)
)


def get_invoice_for_customer(session: Session, customer_id: int, number: str) -> Invoice | None:
    """The invoice with this number if it belongs to this customer; None otherwise (the view answers 404)."""
    return session.scalars(
        select(Invoice)
        .where(Invoice.customer_id == customer_id, Invoice.number == number)
        .options(selectinload(Invoice.lines), selectinload(Invoice.vat_totals))
    ).one_or_none()


def average_total_before(session: Session, invoice: Invoice, *, since: date) -> tuple[int, int] | None:
    """(average total in cents, number of invoices) of this customer's earlier invoices of the same kind.

    Only invoices in the same currency, issued from ``since`` up to (not including) this one's
    issue date, and not cancelled. None when there are none to compare with.
    """
    row = session.execute(
        select(func.sum(Invoice.total_cents), func.count(Invoice.id)).where(
            Invoice.customer_id == invoice.customer_id,
            Invoice.category == invoice.category,
            Invoice.currency == invoice.currency,
            Invoice.state != "cancelled",
            Invoice.id != invoice.id,
            Invoice.issue_date >= since,
            Invoice.issue_date < invoice.issue_date,
        )
    ).one()
    total, count = row
    if not count:
        return None
    # Round half up on integer cents; no floats anywhere near money.
    return (int(total) * 2 + count) // (2 * count), int(count)
