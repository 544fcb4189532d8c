"""A period's direct debit does not collect an invoice that is in a payment plan: the plan's instalments do
(collected on the mandate too, where the plan says so). Otherwise the debtor would pay the whole invoice by
debit and its instalments again."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import clock
from portal.debits.holds import register_collection_hold
from portal.invoices.models import Invoice
from portal.plans.pausing import PLAN, in_open_plan


def _in_open_plan(session: Session, invoice: Invoice) -> bool:
    return bool(session.scalar(select(in_open_plan(clock.now())).where(Invoice.id == invoice.id)))


register_collection_hold(PLAN, _in_open_plan)
