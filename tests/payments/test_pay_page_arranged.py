"""The pay page does not tick what is taken care of already (a direct debit collects it, a payment plan or a promise
covers it), says so beside each such invoice, and still lets the debtor pay it on purpose."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine

from portal.debits.jobs import prenotify_all
from portal.plans.promises import make_promise
from tests.payments.conftest import start_payment
from tests.payments.test_pay_page import _button, _text
from tests.plans.overview_support import DEBTOR, propose

DEC_20 = datetime(2026, 12, 20, 9, tzinfo=UTC)
BIG = [("Stroom", "1000", "kWh", "0.25000", "21")]  # €302.50
ALL_ARRANGED = "All your open invoices are taken care of, so you do not need to pay anything now."


@pytest.fixture()
def at_dec_20() -> Iterator[None]:
    with time_machine.travel(DEC_20, tick=False):
        yield


def _ticked(html: str) -> list[str]:
    return [
        value
        for tag, value in re.findall(r'(<input type="checkbox" name="invoice" value="([^"]+)"[^>]*>)', html)
        if re.search(r"\schecked\b", tag)
    ]


def _on_debit(app: Any, session: Any, create_direct_debit: Any, create_invoice: Any, customer: Any) -> Any:
    """A January invoice that a debit on day 1 collects on 4 January 2027, pre-notified."""
    dates = {"issue_date": date(2026, 12, 1), "due_date": date(2026, 12, 15), "period_start": date(2027, 1, 1)}
    invoice = create_invoice(customer, number="JAN-1", **dates)
    create_direct_debit(customer, day=1, first_period="2027-01")
    with app.app_context():
        prenotify_all(session, today=date(2026, 12, 20))
    return invoice


def test_an_invoice_a_debit_collects_is_not_ticked_but_can_be_paid_on_purpose(
    app, session, client, create_customer, create_invoice, create_direct_debit, login, at_dec_20
) -> None:
    customer = create_customer(language="en")
    _on_debit(app, session, create_direct_debit, create_invoice, customer)
    create_invoice(customer, number="OTHER-1", issue_date=date(2026, 12, 1), due_date=date(2026, 12, 30))
    login(client, customer)

    page = client.get("/pay").get_data(as_text=True)
    assert _ticked(page) == ["OTHER-1"]
    assert "To pay €30.25 Invoice OTHER-1 " in _text(page) and _button(page) == "Pay €30.25"
    assert (
        "Invoice JAN-1: €30.25 Due date: 15 December 2026 "
        "Will be collected by direct debit on 4 January 2027. You do not need to pay it here."
    ) in _text(page)
    assert ALL_ARRANGED not in _text(page)

    asked_for = client.get("/pay?invoice=JAN-1").get_data(as_text=True)
    assert _ticked(asked_for) == ["JAN-1"] and _button(asked_for) == "Pay €30.25"
    started = start_payment(client, ["JAN-1"])
    assert started.status_code in (302, 303), "paying it before the debit does is allowed"


def test_when_everything_is_in_a_plan_nothing_is_ticked_and_the_page_says_why(
    app, session, client, create_customer, create_invoice, login, at_dec_20
) -> None:
    customer = create_customer(language="en")
    create_invoice(customer, number="P-1", lines=BIG, due_date=date(2026, 11, 15))
    propose(app, session, customer, ["P-1"], instalments=3, first=date(2027, 1, 5))
    login(client, customer)

    page = client.get("/pay").get_data(as_text=True)
    text = _text(page)
    assert ALL_ARRANGED in text and "Would you still like to pay one now? Tick it below." in text
    assert _ticked(page) == []
    assert "To pay €0.00 No invoice chosen yet." in text and _button(page) == "Continue to payment"
    assert "In your payment plan: you pay it as agreed. You may pay it early here." in text
    assert "Cannot pay it all now?" not in text

    # Paying a plan invoice early is allowed: named in the address, it is ticked.
    early = client.get("/pay?invoice=P-1&method=creditcard").get_data(as_text=True)
    assert _ticked(early) == ["P-1"] and _button(early) == "Pay €302.50"
    assert re.search(r'value="creditcard"[^>]*\schecked', early), "the method in the address is kept"


def test_a_promised_invoice_is_not_ticked_and_says_by_when(
    app, session, client, create_customer, create_invoice, login, at_dec_20
) -> None:
    customer = create_customer(language="nl")
    create_invoice(customer, number="B-1", lines=BIG, due_date=date(2026, 11, 15))
    create_invoice(customer, number="B-2", due_date=date(2026, 12, 30))
    with app.test_request_context():
        make_promise(session, customer, ["B-1"], date(2026, 12, 30), actor=DEBTOR)
        session.commit()
    login(client, customer)

    page = client.get("/pay").get_data(as_text=True)
    text = _text(page)
    assert _ticked(page) == ["B-2"]
    assert "Valt onder je betaalbelofte: je betaalt zoals afgesproken, uiterlijk 30 december 2026." in text
    assert "Al je openstaande facturen zijn geregeld" not in text
    # The promise's own "Pay now" on the overview names its invoices: they come ticked.
    assert _ticked(client.get("/pay?invoice=B-1").get_data(as_text=True)) == ["B-1"]


def test_without_arrangements_everything_is_ticked_as_before(client, create_customer, create_invoice, login) -> None:
    customer = create_customer(language="en")
    create_invoice(customer, number="N-1")
    create_invoice(customer, number="N-2")
    login(client, customer)

    page = client.get("/pay").get_data(as_text=True)
    assert _ticked(page) == ["N-1", "N-2"]
    assert "taken care of" not in page and "You may pay it early" not in page
    # The language switch sends an empty choice when nothing was ticked: it stays empty.
    assert _ticked(client.get("/pay?invoice=").get_data(as_text=True)) == []


def test_with_only_a_promise_left_its_invoices_come_ticked(
    app, session, client, create_customer, create_invoice, login, at_dec_20
) -> None:
    # A promise is still the debtor's to pay (by its date): "Pay now" opens the page ready to pay it.
    customer = create_customer(language="en")
    create_invoice(customer, number="B-3", lines=BIG, due_date=date(2026, 11, 15))
    with app.test_request_context():
        make_promise(session, customer, ["B-3"], date(2026, 12, 30), actor=DEBTOR)
        session.commit()
    login(client, customer)

    page = client.get("/pay").get_data(as_text=True)
    assert _ticked(page) == ["B-3"] and _button(page) == "Pay €302.50"
    assert ALL_ARRANGED not in _text(page)
