"""Dunning pauses: "plan" while a plan is proposed, offered or running; "promise" until the promised day ends."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from portal.accounts.pausing import pause_reason
from portal.plans.models import PaymentPlan, PlanInvoice
from tests.plans.lifecycle_support import BIG, make_promise

AT = datetime(2027, 1, 12, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "paused"),
    [
        ("proposed", True),
        ("countered", True),
        ("active", True),
        ("lapsed", False),
        ("completed", False),
        ("rejected", False),
        ("declined", False),
        ("cancelled", False),
    ],
)
def test_the_plan_reason(session, create_customer, create_invoice, status: str, paused: bool) -> None:
    customer = create_customer()
    invoice = create_invoice(customer, lines=BIG, due_date=date(2026, 10, 15))
    other = create_invoice(customer, lines=BIG, due_date=date(2026, 10, 15))
    plan = PaymentPlan(
        customer_id=customer.id,
        status=status,
        total_cents=invoice.total_cents,
        instalment_count=1,
        every="month",
        first_due_on=date(2027, 1, 20),
        customer_kind="consumer",
    )
    plan.invoices = [
        PlanInvoice(invoice_id=invoice.id, position=0, outstanding_cents=invoice.total_cents, paid_before_cents=0)
    ]
    session.add(plan)
    session.commit()
    assert pause_reason(session, invoice, AT) == ("plan" if paused else None)
    assert pause_reason(session, other, AT) is None, "only the invoices the plan covers"


def test_a_paid_invoice_in_a_running_plan_is_not_paused(session, create_customer, create_invoice) -> None:
    customer = create_customer()
    invoice = create_invoice(customer, lines=BIG, due_date=date(2026, 10, 15))
    plan = PaymentPlan(
        customer_id=customer.id,
        status="active",
        total_cents=invoice.total_cents,
        instalment_count=1,
        every="month",
        first_due_on=date(2027, 1, 20),
        customer_kind="consumer",
    )
    plan.invoices = [
        PlanInvoice(invoice_id=invoice.id, position=0, outstanding_cents=invoice.total_cents, paid_before_cents=0)
    ]
    session.add(plan)
    invoice.state, invoice.paid_cents = "paid", invoice.total_cents
    session.commit()
    assert pause_reason(session, invoice, AT) is None


def test_the_promise_reason_holds_to_the_end_of_the_promised_day(session, create_customer, create_invoice) -> None:
    customer = create_customer()
    invoice = create_invoice(customer, lines=BIG, due_date=date(2026, 12, 15))
    with time_machine.travel(AT, tick=False):
        promise = make_promise(session, customer, [invoice], date(2027, 1, 15))
    assert pause_reason(session, invoice, datetime(2027, 1, 12, 12, tzinfo=UTC)) == "promise"
    assert pause_reason(session, invoice, datetime(2027, 1, 15, 12, tzinfo=UTC)) == "promise", "the day counts"
    assert pause_reason(session, invoice, datetime(2027, 1, 16, 12, tzinfo=UTC)) is None
    promise.status = "broken"
    session.commit()
    assert pause_reason(session, invoice, datetime(2027, 1, 13, 12, tzinfo=UTC)) is None, "a broken promise ends it"
