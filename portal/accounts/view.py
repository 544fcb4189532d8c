"""What is owed, overdue and held as credit, as SQL over invoices and payments, per invoice and per customer.

Amounts are integer cents per currency: a customer billed in two currencies owes two amounts. "Overdue"
is judged against a date the caller gives: the customer's own local date on their pages
(:func:`portal.clock.today_for`), the staff's date on the dashboard.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, select
from sqlalchemy.orm import Session

from portal import clock
from portal.accounts.pausing import pause_reason_sql
from portal.accounts.presence import register_presence_check
from portal.customers.models import Customer
from portal.invoices.models import Invoice
from portal.payments.models import Payment

OUTSTANDING: ColumnElement[int] = Invoice.outstanding_cents  # type: ignore[assignment]  # the hybrid's SQL side


def is_overdue(on: date) -> ColumnElement[bool]:
    """Owed and past its due date on ``on`` (a local date: due yesterday is overdue today)."""
    return and_(OUTSTANDING > 0, Invoice.due_date < on)


def credit_on_account() -> Select[int, str, int]:
    """(customer id, currency, cents) of money received that no invoice needed: overpayments, kept as credit."""
    return (
        select(Payment.customer_id, Payment.currency, func.sum(Payment.unallocated_cents))
        .where(Payment.state == "paid", Payment.unallocated_cents > 0)
        .group_by(Payment.customer_id, Payment.currency)
    )


def dunnable_invoices(at: datetime, on: date) -> Select[int, int, int]:
    """(invoice id, customer id, outstanding) of every invoice a dunning run may remind about: overdue on
    ``on`` and not paused at ``at``. One statement, whatever the number of invoices."""
    return (
        select(Invoice.id, Invoice.customer_id, OUTSTANDING)
        .where(is_overdue(on), pause_reason_sql(at).is_(None))
        .order_by(Invoice.customer_id, Invoice.due_date)
    )


@dataclass
class Balance:
    """A customer's account, per currency."""

    open: dict[str, int] = field(default_factory=dict)
    overdue: dict[str, int] = field(default_factory=dict)
    credit: dict[str, int] = field(default_factory=dict)
    oldest_overdue_days: int = 0

    def add(self, currency: str, cents: int, due_date: date, today: date) -> None:
        self.open[currency] = self.open.get(currency, 0) + cents
        if today > due_date:
            self.overdue[currency] = self.overdue.get(currency, 0) + cents
            self.oldest_overdue_days = max(self.oldest_overdue_days, (today - due_date).days)

    @property
    def net(self) -> dict[str, int]:
        """Owed less credit: negative when the customer has more credit than they owe."""
        currencies = sorted({*self.open, *self.credit})
        return {currency: self.open.get(currency, 0) - self.credit.get(currency, 0) for currency in currencies}


def balances_for(session: Session, customers: Iterable[Customer], *, now: datetime | None = None) -> dict[int, Balance]:
    """The balances of these customers from two grouped queries, each judged on the customer's own date."""
    by_id = {customer.id: customer for customer in customers}
    balances = {customer_id: Balance() for customer_id in by_id}
    if not by_id:
        return balances
    rows = session.execute(
        select(Invoice.customer_id, Invoice.currency, Invoice.due_date, func.sum(OUTSTANDING))
        .where(Invoice.customer_id.in_(by_id), OUTSTANDING > 0)
        .group_by(Invoice.customer_id, Invoice.currency, Invoice.due_date)
    )
    todays = {customer_id: clock.today_for(customer, now) for customer_id, customer in by_id.items()}
    for customer_id, currency, due_date, cents in rows:
        balances[customer_id].add(currency, int(cents), due_date, todays[customer_id])
    for customer_id, currency, cents in session.execute(credit_on_account().where(Payment.customer_id.in_(by_id))):
        balances[customer_id].credit[currency] = int(cents)
    return balances


def balance_of(session: Session, customer: Customer, *, now: datetime | None = None) -> Balance:
    return balances_for(session, [customer], now=now)[customer.id]


def balance_from_open_invoices(
    session: Session,
    customer: Customer,
    open_invoices: Iterable[Invoice],
    *,
    now: datetime | None = None,
    has_credit: bool | None = None,
) -> Balance:
    """:func:`balance_of` for a page that has loaded every open invoice of the customer already (the debtor's
    overview): the same sums from those invoices (the Python side of ``outstanding_cents``), and one query,
    for the credit, unless ``has_credit`` (``features_present``'s answer for CREDIT_PRESENCE) says there is
    none."""
    balance = Balance()
    today = clock.today_for(customer, now)
    for invoice in sorted(open_invoices, key=lambda invoice: invoice.currency):
        if invoice.customer_id != customer.id:
            raise ValueError(f"invoice {invoice.number} is not of customer {customer.external_ref}")
        cents = invoice.outstanding_cents
        if cents > 0:
            balance.add(invoice.currency, cents, invoice.due_date, today)
    if has_credit is False:
        return balance
    for currency, cents in session.execute(_CREDIT_OF_ONE, {"customer_id": customer.id}):
        balance.credit[currency] = int(cents)
    return balance


# Built once: the overview asks it on every view.
_CREDIT_ROWS_OF_ONE = (
    Payment.customer_id == bindparam("customer_id"),
    Payment.state == "paid",
    Payment.unallocated_cents > 0,
)
_CREDIT_OF_ONE = (
    select(Payment.currency, func.sum(Payment.unallocated_cents)).where(*_CREDIT_ROWS_OF_ONE).group_by(Payment.currency)
)
CREDIT_PRESENCE = register_presence_check("credit", select(Payment.id).where(*_CREDIT_ROWS_OF_ONE).exists()).name
