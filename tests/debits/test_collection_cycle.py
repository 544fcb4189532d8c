"""A schedule's whole cycle in the database: pre-notified, moved, collected, failed; run twice, nothing twice."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select

from portal.accounts.pausing import pause_reason
from portal.audit.services import Actor
from portal.debits.collection import collect_due
from portal.debits.collectors import DEMO_FAILING_IBANS
from portal.debits.jobs import prenotify_all, run_debits
from portal.debits.models import Debit
from portal.debits.services import change_day, upcoming_debits
from portal.notifications.models import OutboxMessage

DEBTOR = Actor(type="debtor", id="test")


@pytest.fixture(autouse=True)
def _app_context(app: Flask):
    """The messages carry a personal link, built from the app's configuration (as in the scheduled job)."""
    with app.app_context():
        yield


AM04_IBAN = next(iban for iban, code in DEMO_FAILING_IBANS.items() if code == "AM04")


def _messages(session, customer, template):
    return session.scalars(
        select(OutboxMessage).where(OutboxMessage.customer_id == customer.id, OutboxMessage.template == template)
    ).all()


def _january_invoice(create_invoice, customer, cents_lines=None):
    return create_invoice(
        customer,
        issue_date=date(2026, 12, 15),
        due_date=date(2027, 1, 31),
        period_start=date(2027, 1, 1),
        period_end=date(2027, 1, 31),
    )


def test_prenotified_moved_and_collected(session, create_customer, create_invoice, create_direct_debit) -> None:
    customer = create_customer()
    schedule = create_direct_debit(customer, day=1, first_period="2027-01")
    invoice = _january_invoice(create_invoice, customer)
    schedule.amount_cents = invoice.total_cents
    session.commit()

    with time_machine.travel(datetime(2026, 12, 15, 9, tzinfo=UTC), tick=False):
        assert prenotify_all(session, today=date(2026, 12, 15)) == 1
        assert prenotify_all(session, today=date(2026, 12, 15)) == 0, "a second run announces nothing again"
        notice = _messages(session, customer, "debit_prenotification")
        assert len(notice) == 1 and "4 januari 2027" in notice[0].body_text
        assert schedule.mandate.reference in notice[0].body_text

        change_day(session, schedule, 25, actor=DEBTOR, changed_by="debtor", today=date(2026, 12, 15))
        session.commit()
        debit = session.scalars(select(Debit).where(Debit.schedule_id == schedule.id)).one()
        assert debit.due_on == date(2027, 1, 25), "not fixed yet on 15 December, so it moves"
        planned = upcoming_debits(session, schedule, today=date(2026, 12, 15))
        assert [p.date.isoformat() for p in planned] == ["2027-01-25", "2027-02-25", "2027-03-25"]

    with time_machine.travel(datetime(2027, 1, 20, 9, tzinfo=UTC), tick=False):
        report = collect_due(session, today=date(2027, 1, 20))
        assert report.collected == [], "not due before the 25th"
    with time_machine.travel(datetime(2027, 1, 25, 9, tzinfo=UTC), tick=False):
        report = collect_due(session, today=date(2027, 1, 25))
        assert report.collected == [debit.id]
        session.refresh(invoice)
        assert invoice.state == "paid"
        again = collect_due(session, today=date(2027, 1, 25))
        assert again.collected == [] and again.failed == [], "running it twice collects nothing twice"
        session.refresh(debit)
        assert debit.state == "collected" and debit.payment.state == "paid"


def test_a_failed_debit_reopens_the_invoice_pauses_dunning_and_tells_the_debtor(
    session, create_customer, create_invoice, create_direct_debit
) -> None:
    customer = create_customer(language="en")
    schedule = create_direct_debit(customer, day=4, first_period="2027-01", iban=AM04_IBAN)
    invoice = _january_invoice(create_invoice, customer)
    with time_machine.travel(datetime(2027, 1, 4, 9, tzinfo=UTC), tick=False):
        notified, report = run_debits(session, today=date(2026, 12, 15))
        assert notified == 1 and report.failed == []
        notified, report = run_debits(session, today=date(2027, 1, 4))
        assert len(report.failed) == 1
        debit = session.get(Debit, report.failed[0])
        assert debit.failure_code == "AM04" and debit.state == "failed"
        session.refresh(invoice)
        assert invoice.state == "open" and invoice.outstanding_cents == invoice.total_cents
        assert pause_reason(session, invoice, datetime(2027, 1, 5, tzinfo=UTC)) == "failed_debit"
        assert pause_reason(session, invoice, datetime(2027, 2, 5, tzinfo=UTC)) is None, "after the grace period"
        failed = _messages(session, customer, "debit_failed")
        assert len(failed) == 1
        assert "not enough money" in failed[0].body_text and "?method=ideal" in failed[0].body_text
        run_debits(session, today=date(2027, 1, 5))
        assert len(_messages(session, customer, "debit_failed")) == 1, "told once"
    del schedule


def test_a_debit_for_an_invoice_paid_another_way_is_skipped(
    session, create_customer, create_invoice, create_direct_debit
) -> None:
    customer = create_customer()
    create_direct_debit(customer, day=4, first_period="2027-01")
    invoice = _january_invoice(create_invoice, customer)
    invoice.state = "paid"
    invoice.paid_cents = invoice.total_cents
    session.commit()
    run_debits(session, today=date(2026, 12, 15))
    notified, report = run_debits(session, today=date(2027, 1, 4))
    assert len(report.skipped) == 1 and report.collected == []


def test_a_debit_waits_for_its_invoice(session, create_customer, create_direct_debit) -> None:
    customer = create_customer()
    create_direct_debit(customer, day=4, first_period="2027-01")
    run_debits(session, today=date(2026, 12, 15))
    _, report = run_debits(session, today=date(2027, 1, 4))
    assert len(report.waiting_for_invoice) == 1
