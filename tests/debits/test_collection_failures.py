"""Collection when things go wrong: a collector that does not answer or refuses, a stopped mandate, the limit
on changes, and the bank's debits that count as paid on their date."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select

from portal.audit.services import Actor
from portal.debits.collection import collect_due
from portal.debits.collector_registry import collector_for
from portal.debits.collectors import Collector, CollectorAnswer, DebitOrder
from portal.debits.errors import DebitProblem
from portal.debits.jobs import prenotify_all
from portal.debits.models import Debit
from portal.debits.services import change_day, stop_mandate
from portal.providers.base import ProviderRejected, ProviderUnavailable

DEBTOR = Actor(type="debtor", id="test")


@pytest.fixture(autouse=True)
def _app_context(app: Flask):
    with app.app_context():
        yield


class FlakyBank(Collector):
    """A provider's side of the line: down for the first ``failures`` calls, then it collects; it remembers
    idempotency keys as a real provider does, so a retry finds the first collection again."""

    name = "demo"
    payment_provider = "demo-debit"

    def __init__(self, failures: int = 0, refuse: bool = False) -> None:
        self.failures = failures
        self.refuse = refuse
        self.collections: dict[str, DebitOrder] = {}
        self.calls = 0

    def collect(self, order: DebitOrder) -> CollectorAnswer:
        self.calls += 1
        if self.refuse:
            raise ProviderRejected("mandate unknown")
        if self.calls <= self.failures:
            raise ProviderUnavailable("timeout")
        self.collections.setdefault(order.idempotency_key, order)
        return CollectorAnswer(state="paid", external_id=f"flaky-{order.idempotency_key}")


def _due_debit(session, create_customer, create_invoice, create_direct_debit, **schedule):
    customer = create_customer()
    create_direct_debit(customer, day=4, first_period="2027-01", **schedule)
    invoice = create_invoice(
        customer, issue_date=date(2026, 12, 15), due_date=date(2027, 1, 31), period_start=date(2027, 1, 1)
    )
    with time_machine.travel(datetime(2026, 12, 15, 9, tzinfo=UTC), tick=False):
        prenotify_all(session, today=date(2026, 12, 15))
    return customer, invoice


def test_a_collector_that_does_not_answer_is_asked_again_and_collects_once(
    session, create_customer, create_invoice, create_direct_debit
) -> None:
    customer, invoice = _due_debit(session, create_customer, create_invoice, create_direct_debit)
    bank = FlakyBank(failures=1)
    with time_machine.travel(datetime(2027, 1, 4, 9, tzinfo=UTC), tick=False):
        first = collect_due(session, today=date(2027, 1, 4), collectors=lambda _name: bank)
        assert len(first.unavailable) == 1 and first.collected == []
        debit = session.scalars(select(Debit).where(Debit.customer_id == customer.id)).one()
        assert debit.state == "submitted" and debit.payment.state == "created"
        second = collect_due(session, today=date(2027, 1, 4), collectors=lambda _name: bank)
        assert second.collected == [debit.id]
        third = collect_due(session, today=date(2027, 1, 4), collectors=lambda _name: bank)
        assert third.collected == []
    assert len(bank.collections) == 1, "one idempotency key, one collection"
    session.refresh(invoice)
    assert invoice.state == "paid"


def test_a_collector_that_refuses_fails_the_debit(session, create_customer, create_invoice, create_direct_debit):
    customer, invoice = _due_debit(session, create_customer, create_invoice, create_direct_debit)
    with time_machine.travel(datetime(2027, 1, 4, 9, tzinfo=UTC), tick=False):
        report = collect_due(session, today=date(2027, 1, 4), collectors=lambda _name: FlakyBank(refuse=True))
    debit = session.get(Debit, report.failed[0])
    assert debit.state == "failed" and debit.failure_code == "MS03"
    session.refresh(invoice)
    assert invoice.state == "open"


def test_stopping_the_mandate_keeps_a_fixed_debit_and_cancels_one_not_fixed(
    session, create_customer, create_direct_debit
) -> None:
    early = create_direct_debit(create_customer(), day=4, first_period="2027-01")
    late = create_direct_debit(create_customer(), day=4, first_period="2027-01")
    with time_machine.travel(datetime(2026, 12, 15, 9, tzinfo=UTC), tick=False):
        assert prenotify_all(session, today=date(2026, 12, 15)) == 2  # both announce 4 January
        assert stop_mandate(session, early.mandate, actor=DEBTOR, today=date(2026, 12, 16)) == []
        session.commit()
    assert early.debits[0].state == "cancelled", "4 January was 19 days away: not fixed, so it does not happen"
    with time_machine.travel(datetime(2026, 12, 23, 9, tzinfo=UTC), tick=False):
        still = stop_mandate(session, late.mandate, actor=DEBTOR, today=date(2026, 12, 23))
        session.commit()
    assert [debit.period for debit in still] == ["2027-01"] and still[0].state == "notified", "fixed: it happens"
    with time_machine.travel(datetime(2027, 1, 20, 9, tzinfo=UTC), tick=False):
        assert prenotify_all(session, today=date(2027, 1, 20)) == 0, "nothing new is announced"
    with pytest.raises(DebitProblem) as problem:
        stop_mandate(session, late.mandate, actor=DEBTOR)
    assert problem.value.code == "mandate_not_active"


def test_the_limit_on_changes_counts_every_change(session, create_customer, create_direct_debit) -> None:
    schedule = create_direct_debit(create_customer(), day=1, first_period="2027-02")
    with time_machine.travel(datetime(2026, 12, 1, 9, tzinfo=UTC), tick=False):
        change_day(session, schedule, 10, actor=DEBTOR, changed_by="debtor")
        change_day(session, schedule, 20, actor=DEBTOR, changed_by="debtor")
        with pytest.raises(DebitProblem) as problem:
            change_day(session, schedule, 25, actor=DEBTOR, changed_by="debtor")
        assert problem.value.code == "too_many_changes"
        assert schedule.day_of_month == 20
    # A year after the first change, one more is allowed.
    with time_machine.travel(datetime(2027, 12, 2, 9, tzinfo=UTC), tick=False):
        change_day(session, schedule, 25, actor=DEBTOR, changed_by="debtor")
        assert schedule.day_of_month == 25


def test_the_banks_debits_wait_for_their_file_and_count_as_paid_on_their_date(
    session, create_customer, create_invoice, create_direct_debit
) -> None:
    customer, invoice = _due_debit(session, create_customer, create_invoice, create_direct_debit, collector="bank")
    assert collector_for("bank").lead_days == 2
    with time_machine.travel(datetime(2026, 12, 30, 9, tzinfo=UTC), tick=False):
        # 30 December + 2 TARGET days is 4 January (1 January is closed): into the file for the 4th.
        report = collect_due(session, today=date(2026, 12, 30))
        debit = session.scalars(select(Debit).where(Debit.customer_id == customer.id)).one()
        assert report.collected == [debit.id] and debit.payment.state == "pending"
        session.refresh(invoice)
        assert invoice.state == "open", "not paid before its date"
    with time_machine.travel(datetime(2027, 1, 4, 9, tzinfo=UTC), tick=False):
        report = collect_due(session, today=date(2027, 1, 4))
        assert report.settled == [debit.id]
        session.refresh(invoice)
        assert invoice.state == "paid"
        assert collect_due(session, today=date(2027, 1, 4)).settled == []
