"""Dunning pauses while a debit is on its way for an invoice, and for the grace period after it failed."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from flask import Flask

from portal.accounts.pausing import pause_reason
from portal.debits.collection import collect_due
from portal.debits.collectors import DEMO_FAILING_IBANS
from portal.debits.jobs import prenotify_all

AM04_IBAN = next(iban for iban, code in DEMO_FAILING_IBANS.items() if code == "AM04")
LATER = datetime(2027, 1, 2, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _app_context(app: Flask):
    with app.app_context():
        yield


def _january(create_invoice, customer, **extra):
    return create_invoice(
        customer, issue_date=date(2026, 12, 15), due_date=date(2026, 12, 29), period_start=date(2027, 1, 1), **extra
    )


@pytest.mark.parametrize(("iban", "after"), [("NL91ABNA0417164300", None), (AM04_IBAN, "failed_debit")])
def test_an_announced_debit_pauses_its_invoice_until_it_is_collected_or_fails(
    iban, after, session, create_customer, create_invoice, create_direct_debit
) -> None:
    customer = create_customer()
    create_direct_debit(customer, day=4, first_period="2027-01", iban=iban)
    invoice = _january(create_invoice, customer)
    other = create_invoice(customer, issue_date=date(2026, 11, 1), period_start=date(2026, 11, 1))
    assert pause_reason(session, invoice, LATER) is None, "nothing announced yet"
    with time_machine.travel(datetime(2026, 12, 15, 9, tzinfo=UTC), tick=False):
        prenotify_all(session, today=date(2026, 12, 15))
    assert pause_reason(session, invoice, LATER) == "debit_pending", "due on the 29th, but collected on 4 January"
    assert pause_reason(session, other, LATER) is None, "November's invoice is no debit's"
    with time_machine.travel(datetime(2027, 1, 4, 9, tzinfo=UTC), tick=False):
        collect_due(session, today=date(2027, 1, 4))
    session.refresh(invoice)
    assert pause_reason(session, invoice, datetime(2027, 1, 5, tzinfo=UTC)) == after
