"""The debtor's e-mails about a running plan and a promise, through the outbox, in the customer's language.

Each carries a fresh personal link (blanked from the stored copy once delivered), so the debtor can pay
without asking for one. The e-mails about proposing and deciding a plan live in ``portal.plans.messages``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from portal.audit.services import Actor
from portal.customers.models import Customer
from portal.debits.models import Mandate
from portal.links.messages import opening, queue_email_with_link
from portal.plans.models import PaymentPlan, PaymentPromise, PlanInstalment


def _send(
    session: Session,
    customer: Customer,
    template: str,
    context: dict[str, Any],
    *,
    actor: Actor,
    opens: str | None = None,
) -> bool:
    """Queue ``template`` for ``customer`` with a fresh personal link (to the overview, or to ``opens``); False
    when they have no address."""
    link = opening(opens) if opens else None
    return queue_email_with_link(session, customer, template, context, actor=actor, link=link) is not None


def _plan_context(plan: PaymentPlan) -> dict[str, Any]:
    return {"reference": plan.reference, "currency": plan.currency, "total_cents": plan.total_cents}


def queue_instalment_reminder(
    session: Session, plan: PaymentPlan, instalment: PlanInstalment, *, amount_cents: int, actor: Actor
) -> None:
    """A few days before an instalment paid in the portal is due: how much, by when, and the link to pay."""
    context = {"number": instalment.number, "amount_cents": amount_cents, "due_on": instalment.due_on}
    _send(
        session,
        plan.customer,
        "plan_instalment_reminder",
        {**_plan_context(plan), **context},
        actor=actor,
        opens=f"/plan/{plan.id}/pay",  # paying the instalment (plan_payments.pay)
    )


def queue_instalment_missed(
    session: Session, plan: PaymentPlan, instalment: PlanInstalment, *, left_cents: int, pay_by: date, actor: Actor
) -> None:
    """An instalment was due and has not (all) come in: pay by ``pay_by``, else the plan ends."""
    context = {"number": instalment.number, "amount_cents": left_cents, "due_on": instalment.due_on, "pay_by": pay_by}
    _send(
        session,
        plan.customer,
        "plan_instalment_missed",
        {**_plan_context(plan), **context},
        actor=actor,
        opens=f"/plan/{plan.id}/pay",
    )


def queue_plan_lapsed(session: Session, plan: PaymentPlan, *, due_cents: int, actor: Actor) -> None:
    """The plan has ended unpaid: all that remains is due now, and the usual reminders start again."""
    _send(session, plan.customer, "plan_lapsed", {**_plan_context(plan), "due_cents": due_cents}, actor=actor)


def queue_plan_completed(session: Session, plan: PaymentPlan, *, actor: Actor) -> None:
    _send(session, plan.customer, "plan_completed", _plan_context(plan), actor=actor)


def queue_instalment_prenotification(
    session: Session, plan: PaymentPlan, instalment: PlanInstalment, *, debit_on: date, mandate: Mandate, actor: Actor
) -> None:
    """The SEPA pre-notification of one instalment collected by direct debit: amount, date, mandate."""
    context = {
        "number": instalment.number,
        "amount_cents": instalment.amount_cents,
        "debit_on": debit_on,
        "mandate_reference": mandate.reference,
        "iban": mandate.masked_iban,
    }
    _send(session, plan.customer, "plan_debit_prenotification", {**_plan_context(plan), **context}, actor=actor)


def queue_promise_broken(session: Session, promise: PaymentPromise, *, due_cents: int, actor: Actor) -> None:
    context = {"promised_on": promise.promised_on, "due_cents": due_cents, "currency": promise.currency}
    _send(session, promise.customer, "promise_broken", context, actor=actor)
