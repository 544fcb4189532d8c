"""A payment confirmed on a plan's or a promise's invoices counts at once, not only at the next hourly run:
the instalments it covers are marked paid, a plan paid in full completes, a promise paid in full is kept.

Runs in the payment's own transaction (``apply_status``), which has locked the invoices already; the plan or
promise row is locked after them, the same order the job uses, so the two serialise.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import clock
from portal.audit.services import Actor
from portal.events.models import DomainEvent
from portal.events.registry import react_to
from portal.payments import events as payment_events
from portal.payments.models import PaymentItem
from portal.plans.lifecycle import (
    PlansReport,
    advance_promise,
    finish,
    lock_plan_for_step,
    lock_promise,
    mark_paid,
)
from portal.plans.models import PaymentPlan, PaymentPromise, PlanInvoice, PromiseInvoice
from portal.plans.progress import progress_of


def _paid(session: Session, event: DomainEvent) -> None:
    if event.subject_type != "payment" or event.subject_id is None:
        return
    invoice_ids = select(PaymentItem.invoice_id).where(PaymentItem.payment_id == int(event.subject_id))
    actor = Actor(type=event.actor_type, id=event.actor_id)
    now = clock.now()
    plan_ids = session.scalars(
        select(PaymentPlan.id)
        .join(PlanInvoice, PlanInvoice.plan_id == PaymentPlan.id)
        .where(PlanInvoice.invoice_id.in_(invoice_ids), PaymentPlan.status == "active")
        .distinct()
        .order_by(PaymentPlan.id)
    ).all()
    for plan_id in plan_ids:
        plan = lock_plan_for_step(session, plan_id, customer_first=False)
        if plan is None or plan.status != "active":
            continue
        progress = progress_of(plan, clock.today_for(plan.customer, now))
        mark_paid(session, plan, progress, now, actor=actor)
        if progress.complete or all(covered.invoice.state != "open" for covered in plan.invoices):
            finish(session, plan, now, actor=actor)
    promise_ids = session.scalars(
        select(PaymentPromise.id)
        .join(PromiseInvoice, PromiseInvoice.promise_id == PaymentPromise.id)
        .where(PromiseInvoice.invoice_id.in_(invoice_ids), PaymentPromise.status == "open")
        .distinct()
        .order_by(PaymentPromise.id)
    ).all()
    for promise_id in promise_ids:
        promise = lock_promise(session, promise_id, customer_first=False)
        if promise is not None and not any(covered.invoice.state == "open" for covered in promise.invoices):
            advance_promise(session, promise, now, PlansReport(), actor=actor)


react_to(payment_events.PAID, _paid)
