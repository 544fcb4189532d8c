"""Promises to pay: kept when the invoices are paid (at once, by the payment), broken the day after the date."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from portal import clock
from portal.accounts.pausing import pause_reason
from portal.plans.jobs import run_plans
from tests.plans.lifecycle_support import (
    BIG,
    in_app,  # noqa: F401 - the fixture
    kinds,
    mails,
    make_promise,
    moment,
    pay,
    refreshed,
)

pytestmark = pytest.mark.usefixtures("in_app")
FRIDAY = date(2027, 1, 15)


def _run(session, at: datetime):
    with time_machine.travel(at, tick=False):
        return run_plans(session, clock.now())


def _promise(session, create_customer, create_invoice):
    customer = create_customer(language="en")
    invoices = [create_invoice(customer, lines=BIG, due_date=date(2026, 12, 15)) for _ in range(2)]
    with time_machine.travel(moment(date(2027, 1, 11)), tick=False):
        promise = make_promise(session, customer, invoices, FRIDAY)
    return customer, invoices, promise


def test_a_promise_paid_in_full_is_kept_at_once(session, create_customer, create_invoice) -> None:
    customer, invoices, promise = _promise(session, create_customer, create_invoice)
    with time_machine.travel(moment(date(2027, 1, 13)), tick=False):
        pay(session, customer, invoices, 30250)
    assert refreshed(session, promise).status == "open", "half paid: still open"
    with time_machine.travel(moment(date(2027, 1, 14)), tick=False):
        pay(session, customer, invoices, 30250)
    promise = refreshed(session, promise)
    assert promise.status == "kept" and promise.ended_at is not None
    assert kinds(session, customer, "promise.") == ["promise.kept"]
    _run(session, moment(date(2027, 1, 20)))
    assert kinds(session, customer, "promise.") == ["promise.kept"] and mails(session, customer, "promise_broken") == []


def test_a_promise_not_paid_is_broken_the_day_after_in_the_customers_time(
    session, create_customer, create_invoice
) -> None:
    customer, invoices, promise = _promise(session, create_customer, create_invoice)
    with time_machine.travel(moment(date(2027, 1, 12)), tick=False):
        pay(session, customer, invoices, 10000)
    # 23:30 on Friday in Amsterdam (22:30 UTC): the promised day is not over yet.
    _run(session, datetime(2027, 1, 15, 22, 30, tzinfo=UTC))
    assert refreshed(session, promise).status == "open"
    assert pause_reason(session, invoices[0], datetime(2027, 1, 15, 12, tzinfo=UTC)) == "promise"
    report = _run(session, datetime(2027, 1, 15, 23, 30, tzinfo=UTC))  # 00:30 on Saturday in Amsterdam
    assert report.promises_broken == [promise.id]
    promise = refreshed(session, promise)
    assert promise.status == "broken"
    (broken,) = mails(session, customer, "promise_broken")
    assert "505.00 is still open" in broken.body_text and "reminders again" in broken.body_text
    assert pause_reason(session, invoices[1], datetime(2027, 1, 16, 12, tzinfo=UTC)) is None
    _run(session, moment(date(2027, 1, 17)))
    assert len(mails(session, customer, "promise_broken")) == 1
    assert kinds(session, customer, "promise.") == ["promise.broken"]


def test_a_promise_whose_invoices_were_paid_another_way_is_kept_by_the_run(
    session, create_customer, create_invoice
) -> None:
    customer, invoices, promise = _promise(session, create_customer, create_invoice)
    for invoice in invoices:
        invoice.state, invoice.paid_cents = "paid", invoice.total_cents
    session.commit()
    report = _run(session, moment(date(2027, 1, 13)))
    assert report.promises_kept == [promise.id] and refreshed(session, promise).status == "kept"
