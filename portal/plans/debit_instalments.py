"""Instalments of a plan paid by direct debit: pre-notified, then collected on the customer's active mandate by
the same collectors and the same steps as a period's debit (portal.debits.collection).

Each instalment gets one Payment, ever (``PlanInstalment.payment_id`` is unique), committed before the collector
is called; its idempotency key is the instalment's, so a repeated run or a retry after a time-out collects
nothing twice. A failed debit leaves the instalment unpaid: the plan's missed and lapse steps then apply, and
the debtor pays it in the portal. The debits' own failure e-mail is not sent: it belongs to a Debit row, and
an instalment has none (portal.debits.outcomes ignores payments without one).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from portal import clock
from portal.audit.services import Actor
from portal.debits.collection import apply_answer, hand_over, provider_customer_of, start_collection_payment
from portal.debits.collector_registry import collector_for
from portal.debits.collectors import Collector, DebitOrder
from portal.debits.models import Mandate
from portal.payments.models import Payment
from portal.plans import lifecycle_messages as messages
from portal.plans.errors import PlanProblem
from portal.plans.instalments import instalment_choice
from portal.plans.lifecycle import PlansReport, debit_date, lock_plan_for_step
from portal.plans.mandate import active_mandate
from portal.plans.models import PaymentPlan, PlanInstalment
from portal.plans.progress import progress_of

log = logging.getLogger(__name__)


def prenotify(
    session: Session, plan: PaymentPlan, now: datetime, *, notice_days: int, actor: Actor, report: PlansReport
) -> None:
    """The short pre-notification ``notice_days`` before each instalment's debit date (once: ``reminded_at``,
    which a plan paid by direct debit uses for this instead of the reminder)."""
    if plan.method != "direct_debit" or plan.status != "active":
        return
    mandate = active_mandate(session, plan.customer_id)
    if mandate is None:
        return
    today = clock.today_for(plan.customer, now)
    for status in progress_of(plan, today).instalments:
        instalment = status.instalment
        if status.state == "paid" or instalment.reminded_at is not None or instalment.payment_id is not None:
            continue
        debit_on = debit_date(plan, instalment)
        if debit_on - timedelta(days=notice_days) <= today <= debit_on:
            instalment.reminded_at = now
            messages.queue_instalment_prenotification(
                session, plan, instalment, debit_on=debit_on, mandate=mandate, actor=actor
            )
            report.prenotified.append(instalment.id)


def collect_instalments(
    session: Session,
    plan_id: int,
    now: datetime,
    *,
    actor: Actor,
    report: PlansReport,
    collectors: Callable[[str], Collector] = collector_for,
) -> None:
    """Hand every instalment of the plan whose debit date has come to the collector, each in its own
    transaction. Commits."""
    while True:
        step = _start_next(session, plan_id, now, actor=actor, collectors=collectors)
        session.commit()  # the Payment exists before the call to the outside world
        if step is None:
            return
        instalment_id, payment_id, collector, order = step
        answer = hand_over(collector, order, what=f"plan instalment {instalment_id}")
        if answer is None:
            report.unavailable.append(instalment_id)
            return
        payment = session.get(Payment, payment_id)
        assert payment is not None
        apply_answer(session, payment, answer, actor=actor)
        session.commit()
        (report.collect_failed if answer.state == "failed" else report.collected).append(instalment_id)


def _start_next(
    session: Session, plan_id: int, now: datetime, *, actor: Actor, collectors: Callable[[str], Collector]
) -> tuple[int, int, Collector, DebitOrder] | None:
    plan = lock_plan_for_step(session, plan_id)
    if plan is None or plan.status != "active" or plan.method != "direct_debit":
        return None
    mandate = active_mandate(session, plan.customer_id)
    if mandate is None:
        return None
    try:
        collector = collectors(mandate.collector)
    except KeyError:
        log.warning("plan %s: no collector %r is configured", plan_id, mandate.collector)
        return None
    if collector.settles_on_due_date:  # a bank mandate: active_mandate leaves those out, so never offered
        log.warning("plan %s: instalments are not collected through the bank's file", plan_id)
        return None
    today = clock.today_for(plan.customer, now)
    for status in progress_of(plan, today).instalments:
        instalment = status.instalment
        if status.state == "paid" or debit_date(plan, instalment) > today:
            continue
        if instalment.payment_id is not None:
            payment = session.get(Payment, instalment.payment_id)
            if payment is None or payment.state != "created":
                continue  # collected, failed or pending: never a second collection for one instalment
        else:
            payment = _new_payment(session, plan, instalment, status.left_cents, collector, today, actor=actor)
            if payment is None:
                continue
        return instalment.id, payment.id, collector, _order(session, plan, instalment, payment, mandate)
    return None


def _new_payment(
    session: Session,
    plan: PaymentPlan,
    instalment: PlanInstalment,
    left_cents: int,
    collector: Collector,
    today: date,
    *,
    actor: Actor,
) -> Payment | None:
    try:
        choice = instalment_choice(session, plan, today)
    except PlanProblem:
        return None
    # Never more than was pre-notified for this instalment, and never more than is still owed.
    amount = min(left_cents, choice.outstanding_cents)
    payment = start_collection_payment(session, plan.customer, collector, choice.invoices, amount, actor=actor)
    instalment.payment_id = payment.id
    session.flush()
    return payment


def _order(
    session: Session, plan: PaymentPlan, instalment: PlanInstalment, payment: Payment, mandate: Mandate
) -> DebitOrder:
    return DebitOrder(
        debit_id=None,
        payment_id=payment.id,
        end_to_end_id=f"P{instalment.id:08d}-1",
        amount_cents=payment.amount_cents,
        currency=payment.currency,
        due_on=debit_date(plan, instalment),
        mandate_reference=mandate.reference,
        mandate_signed_on=mandate.signed_on,
        debtor_name=mandate.debtor_name,
        iban=mandate.iban,
        bic=mandate.bic,
        description=f"{plan.reference} {instalment.number}/{plan.instalment_count} {payment.reference}",
        idempotency_key=f"plan-instalment-{instalment.id}",
        provider_mandate_id=mandate.provider_mandate_id,
        provider_customer_id=provider_customer_of(session, plan.customer_id, mandate.collector),
    )
