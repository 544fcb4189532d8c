"""Promises to pay: "I will pay these invoices by this date". Open until then (dunning is paused, see
pausing.py); whether it was kept or broken is decided by the lifecycle job, not here."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from portal import clock
from portal.audit.services import Actor
from portal.customers.models import Customer
from portal.events import emit
from portal.plans import events as plan_events
from portal.plans.errors import PlanProblem
from portal.plans.models import PaymentPromise, PromiseInvoice
from portal.plans.policy import plan_policy
from portal.plans.services import choose_plan_invoices, recently_not_kept

# ASCII digits only: a full-width "２" would otherwise be read as 2 by Python, and a date nobody typed on
# purpose is better asked again than guessed.
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})", re.ASCII)
_DUTCH = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})", re.ASCII)


@dataclass(frozen=True)
class PromiseWindow:
    first: date  # today, the customer's local date
    last: date  # today + plans.promise_max_days

    def allows(self, day: date) -> bool:
        return self.first <= day <= self.last


def promise_window(session: Session, customer: Customer) -> PromiseWindow:
    now = clock.now()
    today = clock.today_for(customer, now)
    return PromiseWindow(today, today + timedelta(days=plan_policy(session, now).promise_max_days))


def parse_promise_date(text: str | None, *, example: date) -> date:
    """A date as a date input sends it (2026-12-04) or as a person types it (4-12-2026); else PlanProblem."""
    raw = (text or "").strip()
    iso, dutch = _ISO.fullmatch(raw), _DUTCH.fullmatch(raw)
    try:
        if iso:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
        if dutch:
            return date(int(dutch[3]), int(dutch[2]), int(dutch[1]))
    except ValueError:
        pass  # 31-02-2026 and the like
    raise PlanProblem("promise_date_unreadable", example=example)


def end_of_day(customer: Customer, day: date) -> datetime:
    """The moment ``day`` ends where the customer lives (their midnight after it), in UTC."""
    midnight = datetime.combine(day + timedelta(days=1), time.min, tzinfo=clock.zone_of(customer))
    return midnight.astimezone(UTC)


def make_promise(
    session: Session, customer: Customer, numbers: Sequence[str], promised_on: date, *, actor: Actor
) -> PaymentPromise:
    """The debtor's promise to pay ``numbers`` in full by ``promised_on`` (their local date, inclusive)."""
    # Serialise a customer's promises and plans, so a double click cannot make two for the same invoices.
    session.execute(select(Customer.id).where(Customer.id == customer.id).with_for_update())
    now = clock.now()
    today = clock.today_for(customer, now)
    policy = plan_policy(session, now)
    last = today + timedelta(days=policy.promise_max_days)
    if not today <= promised_on <= last:
        raise PlanProblem("promise_date_invalid", first=today, last=last)
    if recently_not_kept(session, customer, policy, now):
        raise PlanProblem("promise_after_not_kept")
    try:
        invoices = choose_plan_invoices(session, customer, numbers, policy, today)
    except PlanProblem as problem:
        if problem.code == "invoice_not_eligible" and _already_promised(session, customer, numbers):
            raise PlanProblem("promise_exists") from None
        raise
    promise = PaymentPromise(
        customer_id=customer.id,
        status="open",
        promised_on=promised_on,
        holds_until=end_of_day(customer, promised_on),
        currency=invoices[0].currency,
        amount_cents=sum(invoice.outstanding_cents for invoice in invoices),
        created_at=now,
    )
    promise.invoices = [
        PromiseInvoice(invoice_id=invoice.id, outstanding_cents=invoice.outstanding_cents) for invoice in invoices
    ]
    session.add(promise)
    session.flush()
    emit(
        session,
        plan_events.about_promise(
            plan_events.PROMISE_MADE, promise, actor, invoices=[invoice.number for invoice in invoices]
        ),
    )
    return promise


def _already_promised(session: Session, customer: Customer, numbers: Sequence[str]) -> bool:
    """Whether every one of ``numbers`` is in an open promise: the second click of a double click."""
    promised = {covered.invoice.number for promise in open_promises(session, customer) for covered in promise.invoices}
    return bool(numbers) and set(numbers) <= promised


def open_promises(session: Session, customer: Customer) -> list[PaymentPromise]:
    return list(
        session.scalars(
            select(PaymentPromise)
            .where(PaymentPromise.customer_id == customer.id, PaymentPromise.status == "open")
            .options(joinedload(PaymentPromise.invoices).joinedload(PromiseInvoice.invoice))
            .order_by(PaymentPromise.promised_on)
        ).unique()
    )


def promise_status(promise: PaymentPromise, today: date) -> str:
    """How the debtor reads a promise on ``today``: "open" (still to pay by the date), "due_today", "kept",
    "broken" or "cancelled" (as the lifecycle job decided), or "overdue" (past, the job has not run yet)."""
    if promise.status != "open":
        return promise.status
    if promise.promised_on == today:
        return "due_today"
    return "open" if promise.promised_on > today else "overdue"
