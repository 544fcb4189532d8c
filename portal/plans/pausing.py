"""Dunning pauses for invoices in a payment plan ("plan": proposed, offered or running) and for invoices
promised by a date ("promise": until the end of that day)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, select

from portal.accounts.pausing import register_pause_reason
from portal.i18n import _l
from portal.invoices.models import Invoice
from portal.plans.models import OPEN_PLAN_STATES, PaymentPlan, PaymentPromise, PlanInvoice, PromiseInvoice

PLAN = "plan"
PROMISE = "promise"


def in_open_plan(_at: datetime) -> ColumnElement[bool]:
    """Open, and covered by a plan that is running or still being agreed (reminding someone who is waiting for
    our answer to their proposal would be unfair). A plan's state is only known as it is now."""
    covered = exists(
        select(PlanInvoice.invoice_id)
        .join(PaymentPlan, PaymentPlan.id == PlanInvoice.plan_id)
        .where(PlanInvoice.invoice_id == Invoice.id, PaymentPlan.status.in_(OPEN_PLAN_STATES))
    )
    return and_(Invoice.state == "open", covered)


def promised(at: datetime) -> ColumnElement[bool]:
    """Open, and promised by a date not yet past at ``at``: the promised day counts to its end where the
    customer lives (``holds_until``), not to midnight in UTC."""
    covered = exists(
        select(PromiseInvoice.invoice_id)
        .join(PaymentPromise, PaymentPromise.id == PromiseInvoice.promise_id)
        .where(
            PromiseInvoice.invoice_id == Invoice.id,
            PaymentPromise.status == "open",
            PaymentPromise.holds_until > at,
        )
    )
    return and_(Invoice.state == "open", covered)


register_pause_reason(PLAN, in_open_plan, label=_l("in a payment plan"))
register_pause_reason(PROMISE, promised, label=_l("a promise to pay"))
