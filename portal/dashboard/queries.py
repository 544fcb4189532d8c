"""Aggregates for the dashboard. Every figure is summed by the database in one scan per question;
no invoice is ever loaded into Python, so the page stays fast with hundreds of thousands of invoices."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Integer, case, cast, extract, func, select
from sqlalchemy.orm import Session

from portal.accounts.view import OUTSTANDING, credit_on_account
from portal.invoices.models import Invoice
from portal.payments.models import Payment

# The dashboard adds amounts together, which only makes sense within one currency.
CURRENCY = "EUR"

# Upper bounds (inclusive) of days past due for each ageing bucket; the last bucket is open-ended.
AGEING_LIMITS = (0, 30, 60, 90)


@dataclass(frozen=True)
class Amount:
    """A sum of invoice totals in cents, and how many invoices it adds up."""

    cents: int = 0
    count: int = 0

    def __add__(self, other: Amount) -> Amount:
        return Amount(self.cents + other.cents, self.count + other.count)


def ageing(session: Session, today: date) -> list[Amount]:
    """Open invoices per ageing bucket (not yet due, 1-30, 31-60, 61-90, over 90 days past due).

    Days past due are counted from ``today`` (the staff's local date): an invoice due yesterday is 1 day late.
    """
    # Bucket i holds invoices at most AGEING_LIMITS[i] days past due, i.e. due on or after today - limit.
    bucket = case(
        *((Invoice.due_date >= today - timedelta(days=limit), index) for index, limit in enumerate(AGEING_LIMITS)),
        else_=len(AGEING_LIMITS),
    )
    # Grouping over a subquery: PostgreSQL does not see two copies of an expression with bound dates as equal.
    open_invoices = (
        select(bucket.label("bucket"), OUTSTANDING.label("total_cents"))
        .where(OUTSTANDING > 0, Invoice.currency == CURRENCY)
        .subquery()
    )
    rows = session.execute(
        select(open_invoices.c.bucket, func.sum(open_invoices.c.total_cents), func.count()).group_by(
            open_invoices.c.bucket
        )
    ).all()
    buckets = [Amount() for _ in range(len(AGEING_LIMITS) + 1)]
    for index, cents, count in rows:
        buckets[int(index)] = Amount(int(cents or 0), int(count))
    return buckets


def credit_held(session: Session) -> Amount:
    """Money received that no invoice needed, summed over customers (count: customers with credit)."""
    held = credit_on_account().where(Payment.currency == CURRENCY).subquery()
    cents, count = session.execute(select(func.sum(held.c[2]), func.count())).one()
    return Amount(int(cents or 0), int(count))


def paid_between(session: Session, start: datetime, end: datetime) -> Amount:
    """Invoices paid from ``start`` (inclusive) to ``end`` (exclusive), both UTC moments."""
    cents, count = session.execute(
        select(func.sum(Invoice.total_cents), func.count(Invoice.id)).where(
            Invoice.state == "paid",
            Invoice.currency == CURRENCY,
            Invoice.paid_at >= start,
            Invoice.paid_at < end,
        )
    ).one()
    return Amount(int(cents or 0), int(count))


@dataclass(frozen=True)
class InvoicedGroup:
    """Invoices issued in one month that were paid in the same period, summed.

    ``month`` is year * 12 + month - 1 of the issue date. ``paid_before`` is the index of the first of the
    given moments before which they were paid; ``len(moments)`` when not paid before the last moment
    (still open, or paid later); -1 when marked paid without a payment time (we cannot tell since when,
    so they count as sales but never as owed).
    """

    month: int
    paid_before: int
    cents: int


def month_number(day: date) -> int:
    return day.year * 12 + day.month - 1


def invoiced_by_month_and_payment(session: Session, moments: Sequence[datetime], last_day: date) -> list[InvoicedGroup]:
    """Non-cancelled invoices issued up to ``last_day``, summed per issue month and per payment period.

    ``moments`` are UTC instants in ascending order (the ends of the DSO month-ends). From these few
    hundred sums the caller derives both the sales per month and what was owed at each moment, so the
    whole DSO history costs one scan of the invoices.
    """
    # Integer arithmetic: PostgreSQL's extract() gives numerics, which are slower to add up and group by.
    issue_month = (
        cast(extract("year", Invoice.issue_date), Integer) * 12
        + cast(extract("month", Invoice.issue_date), Integer)
        - 1
    )
    paid_before = case(
        (Invoice.paid_at.is_(None), case((Invoice.state == "open", len(moments)), else_=-1)),
        *((Invoice.paid_at < moment, index) for index, moment in enumerate(moments)),
        else_=len(moments),
    )
    # Grouping over a subquery: PostgreSQL does not see two copies of an expression with bound values as equal.
    invoices = (
        select(issue_month.label("month"), paid_before.label("paid_before"), Invoice.total_cents)
        .where(Invoice.state != "cancelled", Invoice.currency == CURRENCY, Invoice.issue_date <= last_day)
        .subquery()
    )
    rows = session.execute(
        select(invoices.c.month, invoices.c.paid_before, func.sum(invoices.c.total_cents)).group_by(
            invoices.c.month, invoices.c.paid_before
        )
    ).all()
    return [InvoicedGroup(int(month), int(paid), int(cents or 0)) for month, paid, cents in rows]
