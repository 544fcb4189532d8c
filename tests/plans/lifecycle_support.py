"""Helpers for the lifecycle tests: a plan agreed inside the policy, a payment of it, the e-mails sent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit.services import Actor
from portal.customers.models import Customer
from portal.events.models import DomainEvent
from portal.invoices.models import Invoice
from portal.notifications.models import OutboxMessage
from portal.payments.models import Payment
from portal.payments.services import apply_status, choose_invoices, start_payment
from portal.plans.models import PaymentPlan, PaymentPromise, PromiseInvoice
from portal.plans.promises import end_of_day
from portal.plans.services import ConsentEvidence, propose_plan
from portal.providers.base import ProviderStatus

ACTOR = Actor(type="system", id="tests")
CONSENT = ConsentEvidence(text="I agree to this plan.", locale="en", ip_address="127.0.0.1", user_agent="pytest")
# 1000 kWh at 0.25 plus 21% VAT: 302.50 an invoice.
BIG = [("Stroom", "1000", "kWh", "0.25000", "21")]


def moment(day: date, hour: int = 9) -> datetime:
    """A moment on ``day`` (UTC, 9:00 is 10:00 in Amsterdam: the same local date)."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def agree_plan(
    session: Session,
    customer: Customer,
    invoices: list[Invoice],
    *,
    first: date,
    instalments: int = 3,
    every: str = "month",
    method: str = "portal",
) -> PaymentPlan:
    plan = propose_plan(
        session,
        customer,
        [invoice.number for invoice in invoices],
        instalments=instalments,
        every=every,
        first=first,
        consent=CONSENT,
        actor=ACTOR,
        method=method,
    )
    session.commit()
    assert plan.status == "active", plan.policy_reason
    return plan


def pay(session: Session, customer: Customer, invoices: list[Invoice], cents: int, *, state: str = "paid") -> Payment:
    """The debtor pays ``cents`` in the portal (the demo provider says paid at once)."""
    session.expire_all()
    numbers = [invoice.number for invoice in invoices if session.get(Invoice, invoice.id).state == "open"]
    choice = choose_invoices(session, customer, numbers, partial_cents=cents, minimum_partial_cents=1)
    payment = start_payment(session, customer, choice, provider="demo", method="ideal", locale="en", actor=ACTOR)
    session.commit()
    if state != "created":
        confirm(session, payment, state=state)
    return payment


def confirm(session: Session, payment: Payment, *, state: str = "paid") -> None:
    status = ProviderStatus(
        external_id=f"demo-{payment.id}",
        state=state,  # type: ignore[arg-type]
        amount_cents=payment.amount_cents,
        currency=payment.currency,
        method="ideal",
        payment_id=payment.id,
    )
    apply_status(session, payment.id, status, actor=ACTOR)
    session.commit()


def make_promise(session: Session, customer: Customer, invoices: list[Invoice], promised_on: date) -> PaymentPromise:
    promise = PaymentPromise(
        customer_id=customer.id,
        promised_on=promised_on,
        holds_until=end_of_day(customer, promised_on),
        amount_cents=sum(invoice.outstanding_cents for invoice in invoices),
    )
    promise.invoices = [
        PromiseInvoice(invoice_id=invoice.id, outstanding_cents=invoice.outstanding_cents) for invoice in invoices
    ]
    session.add(promise)
    session.commit()
    return promise


def mails(session: Session, customer: Customer, template: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.customer_id == customer.id).order_by(OutboxMessage.id)
    if template is not None:
        query = query.where(OutboxMessage.template == template)
    return list(session.scalars(query))


def kinds(session: Session, customer: Customer, prefix: str = "plan.") -> list[str]:
    rows = session.scalars(
        select(DomainEvent.kind)
        .where(DomainEvent.customer_id == customer.id, DomainEvent.kind.like(f"{prefix}%"))
        .order_by(DomainEvent.id)
    )
    return list(rows)


def refreshed(session: Session, obj: Any) -> Any:
    session.expire_all()
    return session.get(type(obj), obj.id)


@pytest.fixture()
def in_app(app: Flask) -> Iterator[None]:
    """The messages carry a personal link, built from the app's configuration (as in the scheduled job)."""
    with app.app_context():
        yield
