"""A plan's life with a frozen clock: reminders, instalments paid, completed; missed, grace, lapsed."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from portal import clock
from portal.accounts.pausing import pause_reason
from portal.plans.jobs import run_plans
from portal.plans.models import PaymentPlan
from tests.plans.lifecycle_support import (
    BIG,
    agree_plan,
    in_app,  # noqa: F401 - the fixture
    kinds,
    mails,
    moment,
    pay,
    refreshed,
)

pytestmark = pytest.mark.usefixtures("in_app")


def _run(session, day: date, hour: int = 9):
    with time_machine.travel(moment(day, hour), tick=False):
        return run_plans(session, clock.now())


def _setup(session, create_customer, create_invoice, **plan_options):
    customer = create_customer(language="en")
    invoices = [create_invoice(customer, lines=BIG, due_date=date(2026, 10, 15)) for _ in range(2)]
    with time_machine.travel(moment(date(2027, 1, 10)), tick=False):
        plan = agree_plan(session, customer, invoices, first=date(2027, 1, 20), **plan_options)
    return customer, invoices, plan


def test_agree_remind_pay_each_instalment_and_complete(session, create_customer, create_invoice) -> None:
    customer, invoices, plan = _setup(session, create_customer, create_invoice)
    assert [i.amount_cents for i in plan.instalments] == [20166, 20166, 20168]
    assert [i.due_on for i in plan.instalments] == [date(2027, 1, 20), date(2027, 2, 20), date(2027, 3, 20)]

    _run(session, date(2027, 1, 16))
    assert mails(session, customer, "plan_instalment_reminder") == [], "too early for the reminder"
    report = _run(session, date(2027, 1, 17))
    assert report.reminded == [plan.instalments[0].id]
    _run(session, date(2027, 1, 17), hour=15)
    (reminder,) = mails(session, customer, "plan_instalment_reminder")
    assert "201.66" in reminder.subject and "20 January 2027" in reminder.subject
    assert "Pay this instalment" in reminder.body_html and "http://" in reminder.body_text
    assert f"?next=%2Fplan%2F{plan.id}%2Fpay" in reminder.body_text, "the link opens the instalment's pay page"

    with time_machine.travel(moment(date(2027, 1, 18)), tick=False):
        pay(session, customer, invoices, 20166)
    first = refreshed(session, plan.instalments[0])
    assert first.paid_at is not None, "marked at once by the payment, not only at the next run"
    assert kinds(session, customer).count("plan.instalment_paid") == 1
    _run(session, date(2027, 1, 19))
    _run(session, date(2027, 1, 21))
    assert kinds(session, customer).count("plan.instalment_paid") == 1
    assert mails(session, customer, "plan_instalment_missed") == [], "paid in time: nothing missed"

    _run(session, date(2027, 2, 17))
    with time_machine.travel(moment(date(2027, 2, 19)), tick=False):
        pay(session, customer, invoices, 20166)
    _run(session, date(2027, 3, 17))
    assert len(mails(session, customer, "plan_instalment_reminder")) == 3
    with time_machine.travel(moment(date(2027, 3, 18)), tick=False):
        pay(session, customer, invoices, 20168)
    plan = refreshed(session, plan)
    assert plan.status == "completed" and plan.ended_at is not None
    (thanks,) = mails(session, customer, "plan_completed")
    assert "complete" in thanks.subject and "Thank you" in thanks.subject
    assert kinds(session, customer)[-1] == "plan.completed"
    _run(session, date(2027, 3, 25))
    assert len(mails(session, customer, "plan_completed")) == 1, "running again sends nothing twice"
    assert all(refreshed(session, invoice).state == "paid" for invoice in invoices)


def test_missed_then_grace_then_lapsed(session, create_customer, create_invoice) -> None:
    customer, invoices, plan = _setup(session, create_customer, create_invoice)
    _run(session, date(2027, 1, 20), hour=20)  # the due day itself, 21:00 in Amsterdam: not missed yet
    assert mails(session, customer, "plan_instalment_missed") == []
    report = _run(session, date(2027, 1, 21))
    assert report.missed == [plan.instalments[0].id]
    _run(session, date(2027, 1, 21), hour=16)
    (missed,) = mails(session, customer, "plan_instalment_missed")
    assert "not received instalment 1" in missed.subject
    assert "201.66" in missed.body_text and "27 January 2027" in missed.body_text
    assert pause_reason(session, invoices[0], moment(date(2027, 1, 21))) == "plan", "still paused in the grace"

    _run(session, date(2027, 1, 27))
    assert refreshed(session, plan).status == "active", "the last day of grace still counts"
    report = _run(session, date(2027, 1, 28))
    assert report.lapsed == [plan.id]
    plan = refreshed(session, plan)
    assert plan.status == "lapsed" and plan.ended_at is not None
    (lapsed,) = mails(session, customer, "plan_lapsed")
    assert "has ended" in lapsed.subject
    assert "605.00 is now due at once" in lapsed.body_text and "reminders again" in lapsed.body_text
    assert pause_reason(session, invoices[0], moment(date(2027, 1, 28))) is None, "dunning may resume"
    _run(session, date(2027, 1, 29))
    _run(session, date(2027, 2, 28))
    assert (
        len(mails(session, customer, "plan_lapsed")) == 1
        and len(mails(session, customer, "plan_instalment_missed")) == 1
    )
    assert kinds(session, customer).count("plan.lapsed") == 1


def test_part_of_an_instalment_paid_the_missed_mail_asks_for_the_rest(session, create_customer, create_invoice) -> None:
    customer, invoices, plan = _setup(session, create_customer, create_invoice)
    with time_machine.travel(moment(date(2027, 1, 19)), tick=False):
        pay(session, customer, invoices, 10000)
    assert refreshed(session, plan.instalments[0]).paid_at is None
    _run(session, date(2027, 1, 21))
    (missed,) = mails(session, customer, "plan_instalment_missed")
    assert "101.66" in missed.body_text


def test_a_payment_under_way_holds_the_lapse_back(session, create_customer, create_invoice) -> None:
    from tests.plans.lifecycle_support import confirm

    customer, invoices, plan = _setup(session, create_customer, create_invoice)
    _run(session, date(2027, 1, 21))
    with time_machine.travel(moment(date(2027, 1, 27), hour=21), tick=False):
        started = pay(session, customer, invoices, 20166, state="created")
    _run(session, date(2027, 1, 28))
    assert refreshed(session, plan).status == "active", "a checkout started in time is waited for"
    with time_machine.travel(moment(date(2027, 1, 28), hour=10), tick=False):
        confirm(session, started)
    assert refreshed(session, plan.instalments[0]).paid_at is not None
    _run(session, date(2027, 1, 29))
    assert refreshed(session, plan).status == "active"


def test_invoices_settled_another_way(session, create_customer, create_invoice) -> None:
    customer, invoices, plan = _setup(session, create_customer, create_invoice)
    other, other_invoices, cancelled_plan = _setup(session, create_customer, create_invoice)
    for invoice in invoices:
        invoice.state, invoice.paid_cents = "paid", invoice.total_cents
    for invoice in other_invoices:
        invoice.state = "cancelled"
    session.commit()
    report = _run(session, date(2027, 1, 12))
    assert report.completed == [plan.id] and report.cancelled == [cancelled_plan.id]
    assert refreshed(session, plan).status == "completed" and len(mails(session, customer, "plan_completed")) == 1
    assert refreshed(session, cancelled_plan).status == "cancelled"
    assert mails(session, other, "plan_completed") == [], "nothing to thank for: cancelled quietly"
    assert kinds(session, other)[-1] == "plan.cancelled"


def test_a_waiting_proposal_whose_invoices_were_cancelled_is_cancelled(
    session, create_customer, create_invoice
) -> None:
    from portal.plans.services import propose_plan
    from tests.plans.lifecycle_support import ACTOR, CONSENT

    customer = create_customer(language="en")
    invoice = create_invoice(customer, lines=BIG, due_date=date(2026, 10, 15))
    with time_machine.travel(moment(date(2027, 1, 10)), tick=False):
        plan = propose_plan(
            session,
            customer,
            [invoice.number],
            instalments=12,
            every="month",
            first=date(2027, 1, 20),
            consent=CONSENT,
            actor=ACTOR,
        )
        session.commit()
    assert plan.status == "proposed"
    _run(session, date(2027, 1, 11))
    assert refreshed(session, plan).status == "proposed"
    invoice.state = "cancelled"
    session.commit()
    _run(session, date(2027, 1, 12))
    assert session.get(PaymentPlan, plan.id).status == "cancelled"


def test_no_reminder_when_the_policy_says_none(session, create_customer, create_invoice) -> None:
    from portal.settings.services import set_settings
    from tests.plans.lifecycle_support import ACTOR

    set_settings(session, {"plans.reminder_days": "0"}, actor=ACTOR)
    session.commit()
    customer, _invoices, _plan = _setup(session, create_customer, create_invoice)
    for day in (16, 17, 18, 19):
        _run(session, date(2027, 1, day))
    assert mails(session, customer, "plan_instalment_reminder") == []


def test_one_failing_plan_does_not_stop_the_others(session, create_customer, create_invoice, monkeypatch) -> None:
    from portal.plans import lifecycle_messages

    bad_customer, _bad_invoices, bad = _setup(session, create_customer, create_invoice)
    good_customer, _good_invoices, good = _setup(session, create_customer, create_invoice)
    real = lifecycle_messages.queue_instalment_reminder

    def broken_for_one(session, plan, instalment, **kwargs):  # noqa: ANN001, ANN003, ANN202
        if plan.id == bad.id:
            raise RuntimeError("a template that does not render")
        return real(session, plan, instalment, **kwargs)

    monkeypatch.setattr(lifecycle_messages, "queue_instalment_reminder", broken_for_one)
    report = _run(session, date(2027, 1, 17))
    assert report.errors == [bad.id] and report.reminded == [good.instalments[0].id]
    assert refreshed(session, bad.instalments[0]).reminded_at is None, "nothing half-written for the bad plan"
    assert kinds(session, bad_customer).count("plan.instalment_reminded") == 0
    assert len(mails(session, good_customer, "plan_instalment_reminder")) == 1
    monkeypatch.setattr(lifecycle_messages, "queue_instalment_reminder", real)
    report = _run(session, date(2027, 1, 17), hour=10)
    assert report.reminded == [bad.instalments[0].id] and report.errors == []
    assert len(mails(session, good_customer, "plan_instalment_reminder")) == 1


def test_the_mails_are_in_the_customers_language(session, create_customer, create_invoice) -> None:
    customer = create_customer(language="nl")
    invoice = create_invoice(customer, lines=BIG, due_date=date(2026, 10, 15))
    with time_machine.travel(moment(date(2027, 1, 10)), tick=False):
        agree_plan(session, customer, [invoice], first=date(2027, 1, 20))
    _run(session, date(2027, 1, 17))
    (reminder,) = mails(session, customer, "plan_instalment_reminder")
    assert reminder.language == "nl"
    assert "januari 2027" in reminder.subject, "dates and amounts in Dutch, whatever the job's own locale"
    assert "€ 100,83" in reminder.subject or "€100,83" in reminder.subject
