"""Dunning pauses for an invoice whose debit failed, for the grace period in force when it failed: the debtor
is sorting it out (paying now, picking a new date, getting a new mandate) and is not to be chased meanwhile."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, select

from portal.accounts.pausing import register_pause_reason
from portal.debits.models import Debit
from portal.invoices.models import Invoice

FAILED_DEBIT = "failed_debit"


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


register_pause_reason(FAILED_DEBIT, debit_failed_recently)
