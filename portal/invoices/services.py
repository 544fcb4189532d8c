"""What a debtor is shown about invoices: state, days overdue, totals and the usual-amount comparison."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from portal.invoices.models import Invoice
from portal.invoices.queries import average_total_before

COMPARISON_MONTHS = 6
# Differences smaller than this are "about the same" rather than a number nobody cares about.
NEGLIGIBLE_DIFFERENCE_CENTS = 100


@dataclass(frozen=True)
class InvoiceStatus:
    state: str  # "open", "overdue", "paid", "cancelled"
    days_overdue: int = 0
    days_until_due: int = 0


def invoice_status(invoice: Invoice, today: date) -> InvoiceStatus:
    """``today`` is the customer's local date, so "overdue" flips at their midnight, not ours."""
    if invoice.state != "open":
        return InvoiceStatus(invoice.state)
    if today > invoice.due_date:
        return InvoiceStatus("overdue", days_overdue=(today - invoice.due_date).days)
    return InvoiceStatus("open", days_until_due=(invoice.due_date - today).days)


@dataclass(frozen=True)
class UsualAmountComparison:
    difference_cents: int  # this invoice minus the average; negative means less than usual
    average_cents: int
    months: int
    invoice_count: int

    @property
    def about_the_same(self) -> bool:
        return abs(self.difference_cents) < NEGLIGIBLE_DIFFERENCE_CENTS


def compare_with_usual(session: Session, invoice: Invoice) -> UsualAmountComparison | None:
    """How this invoice compares with the customer's average for the same kind over the last months."""
    since = _months_before(invoice.issue_date, COMPARISON_MONTHS)
    found = average_total_before(session, invoice, since=since)
    if found is None:
        return None
    average, count = found
    return UsualAmountComparison(
        difference_cents=invoice.total_cents - average,
        average_cents=average,
        months=COMPARISON_MONTHS,
        invoice_count=count,
    )


def _months_before(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    return date(year, month + 1, min(day.day, 28))
