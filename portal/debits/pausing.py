"""Dunning pauses for an invoice a direct debit takes care of: while a debit is announced or handed over for
it ("debit_pending": the money is on its way), and for the grace period after its debit failed
("failed_debit": the debtor is sorting it out - paying now, picking a new date, getting a new mandate)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Integer, and_, cast, exists, extract, func, or_, select

from portal.accounts.pausing import register_pause_reason
from portal.debits.models import Debit
from portal.i18n import _l
from portal.invoices.models import Invoice

FAILED_DEBIT = "failed_debit"
DEBIT_PENDING = "debit_pending"


def debit_failed_recently(at: datetime) -> ColumnElement[bool]:
    """Open, and its debit failed with the grace period still running (a retry that is due counts too)."""
    failed = exists(
        select(Debit.id).where(
            Debit.invoice_id == Invoice.id,
            Debit.paused_until.is_not(None),
            Debit.paused_until > at,
        )
    )
    return and_(Invoice.state == "open", failed)


def debit_on_its_way(_at: datetime) -> ColumnElement[bool]:
    """Open, and a debit still to come collects it: one handed over names its invoice; one only announced
    collects the invoice whose period starts in its month (the same rule as collection.invoice_for_period).

    A debit's state is only known as it is now, so this reads the same for any ``at``.
    """
    # 2027-01 -> 202701, on both databases (SQLite has no to_char, PostgreSQL no strftime).
    invoice_period = extract("year", Invoice.period_start) * 100 + extract("month", Invoice.period_start)
    waiting = exists(
        select(Debit.id).where(
            Debit.customer_id == Invoice.customer_id,
            Debit.state.in_(("notified", "submitted")),
            Debit.currency == Invoice.currency,
            or_(
                Debit.invoice_id == Invoice.id,
                and_(
                    Debit.invoice_id.is_(None),
                    Invoice.period_start.is_not(None),
                    cast(func.replace(Debit.period, "-", ""), Integer) == invoice_period,
                ),
            ),
        )
    )
    return and_(Invoice.state == "open", waiting)


register_pause_reason(FAILED_DEBIT, debit_failed_recently, label=_l("a failed direct debit being sorted out"))
register_pause_reason(DEBIT_PENDING, debit_on_its_way, label=_l("a direct debit on its way"))
