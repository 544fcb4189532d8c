"""What happens to an agreed plan and an open promise as the days pass and the money comes in.

One step per plan, each safe to repeat: an instalment paid is marked once, a reminder, a "not received yet"
and a lapse are sent once (their time is stored on the instalment or the plan), a plan whose money is all in
completes. ``portal.plans.jobs.run_plans`` runs these for every open plan and promise, each in its own
transaction; the reaction to ``payment.paid`` (below) runs the paid steps at once, in the payment's transaction.

Locking, so a payment of an instalment racing the lapse job can never end paid *and* lapsed: the job locks the
customer, then the plan's invoices (in id order, as payment allocation does), then the plan, and only then
reads what has been paid. A payment confirmed first is therefore seen; a payment still under way (a checkout
started, a direct debit pending at the bank) holds the lapse back (``payment_under_way``), and a checkout
cannot start while the job holds the customer (``start_payment`` locks the customer too).

Decided here: a plan whose invoices were all settled another way completes (the debtor is thanked) when any of
them was paid, and is cancelled, quietly, when every one was cancelled or credited instead: there was nothing
for the debtor to complete. A proposal still waiting whose invoices are all settled is cancelled as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from portal import clock
from portal.audit.services import Actor
from portal.business_calendar import next_target_day
from portal.customers.models import Customer
from portal.events import Event, emit
from portal.invoices.models import Invoice
from portal.payments.models import Payment, PaymentItem
from portal.payments.states import UNFINISHED
from portal.plans import events as plan_events
from portal.plans import lifecycle_messages as messages
from portal.plans.models import PaymentPlan, PaymentPromise, PlanInstalment, PlanInvoice, PromiseInvoice
from portal.plans.policy import PlanPolicy
from portal.plans.progress import PlanProgress, progress_of

LIFECYCLE_ACTOR = Actor(type="system", id="plans")
# A checkout left unfinished longer than this no longer holds back a lapse (the provider has expired it).
UNDER_WAY_FOR = timedelta(days=2)


@dataclass
class PlansReport:
    instalments_paid: list[int] = field(default_factory=list)  # instalment ids
    reminded: list[int] = field(default_factory=list)  # instalment ids
    prenotified: list[int] = field(default_factory=list)  # instalment ids (direct debit)
    collected: list[int] = field(default_factory=list)  # instalment ids handed to the collector
    collect_failed: list[int] = field(default_factory=list)
    unavailable: list[int] = field(default_factory=list)  # the collector did not answer: the next run tries again
    missed: list[int] = field(default_factory=list)  # instalment ids
    lapsed: list[int] = field(default_factory=list)  # plan ids
    completed: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    offers_expired: list[int] = field(default_factory=list)  # counter-proposals not answered before their date
    promises_kept: list[int] = field(default_factory=list)
    promises_broken: list[int] = field(default_factory=list)
    errors: list[int] = field(default_factory=list)  # plan ids whose step failed (logged); the others went on
    promise_errors: list[int] = field(default_factory=list)

    def as_json(self) -> dict[str, list[int]]:
        return {name: list(getattr(self, name)) for name in self.__dataclass_fields__}


def _lock_invoices(session: Session, invoice_ids: list[int]) -> None:
    session.scalars(
        select(Invoice)
        .where(Invoice.id.in_(invoice_ids))
        .order_by(Invoice.id)  # the order payments/allocation.py locks them in: no deadlock between the two
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()


def _lock_customer(session: Session, customer_id: int) -> None:
    """NO KEY UPDATE: it still waits for a checkout being started (``start_payment`` locks the customer FOR
    UPDATE), but not for a payment being confirmed, whose new rows merely refer to the customer (KEY SHARE);
    FOR UPDATE here would deadlock with such a payment, which holds the invoices the job wants next."""
    session.execute(select(Customer.id).where(Customer.id == customer_id).with_for_update(key_share=True))


def lock_plan_for_step(session: Session, plan_id: int, *, customer_first: bool = True) -> PaymentPlan | None:
    """The plan, fresh from the database, with its customer, invoices and plan row locked in that order.

    The reaction to a payment passes ``customer_first=False``: the payment has locked the invoices already,
    and taking the customer after them would invert the job's order."""
    row = session.execute(select(PaymentPlan.customer_id).where(PaymentPlan.id == plan_id)).first()
    if row is None:
        return None
    if customer_first:
        _lock_customer(session, row.customer_id)
    invoice_ids = list(session.scalars(select(PlanInvoice.invoice_id).where(PlanInvoice.plan_id == plan_id)))
    _lock_invoices(session, invoice_ids)
    plan = session.scalar(
        select(PaymentPlan).where(PaymentPlan.id == plan_id).with_for_update().execution_options(populate_existing=True)
    )
    session.scalars(
        select(PlanInstalment).where(PlanInstalment.plan_id == plan_id).execution_options(populate_existing=True)
    ).all()
    return plan


def payment_under_way(session: Session, plan: PaymentPlan, now: datetime) -> bool:
    """A payment on the plan's invoices whose outcome is awaited: one the provider or bank accepted and has not
    settled (a direct debit takes several business days: pending for as long as it takes), or a checkout started
    in the last two days and not finished."""
    invoice_ids = [covered.invoice_id for covered in plan.invoices]
    found = session.scalar(
        select(Payment.id)
        .join(PaymentItem, PaymentItem.payment_id == Payment.id)
        .where(
            PaymentItem.invoice_id.in_(invoice_ids),
            or_(
                Payment.state == "pending",
                and_(Payment.state.in_(UNFINISHED), Payment.created_at >= now - UNDER_WAY_FOR),
            ),
        )
        .limit(1)
    )
    return found is not None


def debit_date(plan: PaymentPlan, instalment: PlanInstalment) -> date:
    """When an instalment is really due: a direct debit is collected on the first TARGET day from its date."""
    if plan.method == "direct_debit":
        return next_target_day(instalment.due_on)
    return instalment.due_on


def mark_paid(session: Session, plan: PaymentPlan, progress: PlanProgress, now: datetime, *, actor: Actor) -> list[int]:
    """Note each instalment that the money paid towards the plan now covers; returns their ids."""
    marked = []
    for status in progress.instalments:
        instalment = status.instalment
        if status.state != "paid" or instalment.paid_at is not None:
            continue
        instalment.paid_at = now
        marked.append(instalment.id)
        emit(
            session,
            plan_events.about_plan(
                plan_events.INSTALMENT_PAID,
                plan,
                actor,
                number=instalment.number,
                amount_cents=instalment.amount_cents,
                due_on=instalment.due_on.isoformat(),
            ),
        )
    return marked


def finish(session: Session, plan: PaymentPlan, now: datetime, *, actor: Actor) -> str:
    """End a plan whose money is all in (or whose invoices are all settled): "completed" or "cancelled"."""
    # Money that came in towards the plan (not an invoice cancelled or credited): there was a plan to complete.
    anything_paid = any(
        covered.invoice.state == "paid" or covered.invoice.paid_cents > covered.paid_before_cents
        for covered in plan.invoices
    )
    plan.status = "completed" if plan.status == "active" and anything_paid else "cancelled"
    plan.ended_at = plan.updated_at = now
    if plan.status == "completed":
        emit(session, plan_events.about_plan(plan_events.COMPLETED, plan, actor))
        messages.queue_plan_completed(session, plan, actor=actor)
    else:
        emit(session, plan_events.about_plan(plan_events.CANCELLED, plan, actor, note="invoices settled"))
    return plan.status


def _all_settled(plan: PaymentPlan) -> bool:
    return all(covered.invoice.state != "open" for covered in plan.invoices)


def advance_plan(
    session: Session, plan: PaymentPlan, now: datetime, policy: PlanPolicy, report: PlansReport, *, actor: Actor
) -> None:
    """Every step due for a locked ``plan`` at ``now``, except collecting a direct debit (debit_instalments)."""
    if plan.status in ("proposed", "countered"):
        if _all_settled(plan):
            finish(session, plan, now, actor=actor)
            report.cancelled.append(plan.id)
        elif plan.status == "countered" and clock.today_for(plan.customer, now) > plan.first_due_on:
            # Our offer was not answered before its first date: it ends, the invoices are no longer paused,
            # and the debtor may propose again.
            plan.status = "declined"
            plan.ended_at = plan.updated_at = now
            emit(session, plan_events.about_plan(plan_events.DECLINED, plan, actor, note="offer expired"))
            report.offers_expired.append(plan.id)
        return
    if plan.status != "active":
        return
    today = clock.today_for(plan.customer, now)
    progress = progress_of(plan, today)
    if not _all_settled(plan):  # invoices cancelled are no instalments paid
        report.instalments_paid.extend(mark_paid(session, plan, progress, now, actor=actor))
    if progress.complete or _all_settled(plan):
        (report.completed if finish(session, plan, now, actor=actor) == "completed" else report.cancelled).append(
            plan.id
        )
        return
    waiting = payment_under_way(session, plan, now)
    for status in progress.instalments:
        instalment = status.instalment
        if status.state == "paid":
            continue
        if instalment.paid_at is not None:
            instalment.paid_at = None  # the money was taken back (a refund, a reversed debit): it is owed again
        due = debit_date(plan, instalment)
        if plan.method == "portal" and _remind_now(instalment, due, today, policy.reminder_days):
            instalment.reminded_at = now
            emit(
                session, _instalment_event(plan_events.INSTALMENT_REMINDED, plan, instalment, status.left_cents, actor)
            )
            messages.queue_instalment_reminder(session, plan, instalment, amount_cents=status.left_cents, actor=actor)
            report.reminded.append(instalment.id)
        if today <= due or waiting:
            continue
        grace = timedelta(days=plan.grace_days if plan.grace_days is not None else policy.grace_days)
        if instalment.missed_at is None:
            # Never a lapse without the one reminder the agreement promises, and the grace period after it.
            instalment.missed_at = now
            emit(session, _instalment_event(plan_events.INSTALMENT_MISSED, plan, instalment, status.left_cents, actor))
            messages.queue_instalment_missed(
                session, plan, instalment, left_cents=status.left_cents, pay_by=_pay_by(due, today, grace), actor=actor
            )
            report.missed.append(instalment.id)
            continue
        if today > _pay_by(due, clock.today_for(plan.customer, instalment.missed_at), grace):
            _lapse(session, plan, instalment, now, actor=actor)
            report.lapsed.append(plan.id)
            return


def _pay_by(due: date, noticed_on: date, grace: timedelta) -> date:
    """The last day to pay a missed instalment: the grace period from its due date, or from the day after it
    when the "not received yet" went out later than the day after (a job that could not run, a payment that
    held it back): the debtor always gets the whole grace period after the reminder."""
    return max(due, noticed_on - timedelta(days=1)) + grace


def _remind_now(instalment: PlanInstalment, due: date, today: date, days: int) -> bool:
    return days > 0 and instalment.reminded_at is None and due - timedelta(days=days) <= today < due


def _instalment_event(kind: str, plan: PaymentPlan, instalment: PlanInstalment, left_cents: int, actor: Actor) -> Event:
    return plan_events.about_plan(
        kind,
        plan,
        actor,
        number=instalment.number,
        amount_cents=left_cents,
        due_on=instalment.due_on.isoformat(),
    )


def _lapse(session: Session, plan: PaymentPlan, instalment: PlanInstalment, now: datetime, *, actor: Actor) -> None:
    """Unpaid past the grace period: the plan ends, all that is open is due, and dunning may resume."""
    due_cents = sum(covered.invoice.outstanding_cents for covered in plan.invoices)
    instalment.missed_at = instalment.missed_at or now
    plan.status = "lapsed"
    plan.ended_at = plan.updated_at = now
    emit(
        session,
        plan_events.about_plan(
            plan_events.LAPSED, plan, actor, number=instalment.number, due_cents=due_cents, amount_cents=due_cents
        ),
    )
    messages.queue_plan_lapsed(session, plan, due_cents=due_cents, actor=actor)


def lock_promise(session: Session, promise_id: int, *, customer_first: bool = True) -> PaymentPromise | None:
    row = session.execute(select(PaymentPromise.customer_id).where(PaymentPromise.id == promise_id)).first()
    if row is None:
        return None
    if customer_first:
        _lock_customer(session, row.customer_id)
    _lock_invoices(
        session, list(session.scalars(select(PromiseInvoice.invoice_id).where(PromiseInvoice.promise_id == promise_id)))
    )
    return session.scalar(
        select(PaymentPromise)
        .where(PaymentPromise.id == promise_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def advance_promise(
    session: Session, promise: PaymentPromise, now: datetime, report: PlansReport, *, actor: Actor
) -> None:
    """Kept once every promised invoice is paid (or otherwise settled); broken the day after the promised date."""
    if promise.status != "open":
        return
    still_open = [covered.invoice for covered in promise.invoices if covered.invoice.state == "open"]
    if not still_open:
        promise.status = "kept"
        promise.ended_at = now
        emit(session, plan_events.about_promise(plan_events.PROMISE_KEPT, promise, actor))
        report.promises_kept.append(promise.id)
        return
    if clock.today_for(promise.customer, now) <= promise.promised_on:
        return
    due_cents = sum(invoice.outstanding_cents for invoice in still_open)
    promise.status = "broken"
    promise.ended_at = now
    emit(session, plan_events.about_promise(plan_events.PROMISE_BROKEN, promise, actor, due_cents=due_cents))
    messages.queue_promise_broken(session, promise, due_cents=due_cents, actor=actor)
    report.promises_broken.append(promise.id)
