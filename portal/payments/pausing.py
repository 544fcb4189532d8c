"""Dunning pauses for an invoice that a refund reopened: the creditor gave the money back, not the debtor's
doing. A chargeback is the debtor's (their bank's) doing, so it pauses nothing; the pages explain it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, select

from portal.accounts.pausing import register_pause_reason
from portal.i18n import _l
from portal.invoices.models import Invoice
from portal.payments.models import PaymentAllocation, PaymentReversal

REFUNDED = "refunded"


def reopened_by_refund(at: datetime) -> ColumnElement[bool]:
    """Open, and money taken off it by a refund that still stands (one that failed put it back)."""
    refund_took_money = exists(
        select(PaymentAllocation.id)
        .join(PaymentReversal, PaymentReversal.id == PaymentAllocation.reversal_id)
        .where(
            PaymentAllocation.invoice_id == Invoice.id,
            PaymentAllocation.amount_cents < 0,
            PaymentReversal.kind == "refund",
            PaymentReversal.created_at <= at,
            PaymentReversal.undone_at.is_(None),
        )
    )
    return and_(Invoice.state == "open", refund_took_money)


register_pause_reason(REFUNDED, reopened_by_refund, label=_l("we refunded a payment for it"))
