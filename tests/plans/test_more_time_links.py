"""More time (a payment plan, a promise to pay) is offered only while an invoice can still have it: not once every
invoice that could is already in a plan or promise. Help for who cannot pay is always offered."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import time_machine

from portal.plans.promises import make_promise
from portal.settings.plan_settings import PLAN_INVOICES_KEY
from portal.settings.services import set_settings
from tests.fixtures.factories import TEST_ACTOR
from tests.plans.overview_support import DEBTOR, page_text, propose

DEC_20 = datetime(2026, 12, 20, 9, tzinfo=UTC)
BIG = [("Stroom", "1000", "kWh", "0.25000", "21")]  # €302.50: three instalments inside the consumer policy
PLAN_LINK = "I need more time: pay in instalments"
PROMISE_LINK = "I can pay, but a little later"
HELP_LINK = "I cannot pay. Where can I get help?"


@pytest.fixture()
def at_dec_20() -> Iterator[None]:
    with time_machine.travel(DEC_20, tick=False):
        yield


def _invoice(create_invoice, customer, number: str, due: date):
    return create_invoice(customer, number=number, lines=BIG, due_date=due)


def test_the_promise_page_offers_no_plan_when_the_only_invoice_is_in_one(
    app, session, create_customer, create_invoice, login, client, at_dec_20
) -> None:
    customer = create_customer(language="en")
    _invoice(create_invoice, customer, "O-1", date(2026, 11, 15))
    propose(app, session, customer, ["O-1"], instalments=3, first=date(2027, 1, 5))
    login(client, customer)
    page = page_text(client.get("/promise"))
    assert "There is nothing you can promise to pay right now" in page
    assert PLAN_LINK not in page
    assert HELP_LINK in page


def test_a_promised_only_invoice_gets_no_plan_link_on_the_promise_page(
    app, session, create_customer, create_invoice, login, client, at_dec_20
) -> None:
    customer = create_customer(language="en")
    _invoice(create_invoice, customer, "O-2", date(2026, 11, 15))
    with app.test_request_context():
        make_promise(session, customer, ["O-2"], date(2026, 12, 30), actor=DEBTOR)
        session.commit()
    login(client, customer)
    page = page_text(client.get("/promise"))
    assert PLAN_LINK not in page and HELP_LINK in page


def test_what_is_left_to_pay_but_cannot_have_a_plan_offers_only_help(
    app, session, create_customer, create_invoice, login, client, at_dec_20
) -> None:
    """Plans for overdue invoices only: the overdue one is in a plan, the other is not due yet. It is still to pay,
    but neither a plan nor a promise can be had for it, so the overview and the pay page offer only help."""
    set_settings(session, {PLAN_INVOICES_KEY: "overdue"}, actor=TEST_ACTOR)
    session.commit()
    customer = create_customer(language="en")
    _invoice(create_invoice, customer, "O-3", date(2026, 11, 15))
    _invoice(create_invoice, customer, "O-4", date(2027, 1, 15))
    propose(app, session, customer, ["O-3"], instalments=3, first=date(2027, 1, 5))
    login(client, customer)
    for path in ("/overview", "/pay"):
        page = page_text(client.get(path))
        assert "O-4" in page, f"{path}: the invoice not yet due is still to pay"
        assert PLAN_LINK not in page and PROMISE_LINK not in page, path
        assert HELP_LINK in page, path


def test_more_time_is_offered_while_another_invoice_can_have_it(
    app, session, create_customer, create_invoice, login, client, at_dec_20
) -> None:
    customer = create_customer(language="en")
    _invoice(create_invoice, customer, "O-5", date(2026, 11, 15))
    _invoice(create_invoice, customer, "O-6", date(2026, 12, 1))
    propose(app, session, customer, ["O-5"], instalments=3, first=date(2027, 1, 5))
    login(client, customer)
    for path in ("/overview", "/pay"):
        page = page_text(client.get(path))
        assert PLAN_LINK in page and PROMISE_LINK in page and HELP_LINK in page, path
    invoice_page = page_text(client.get("/invoices/O-6"))
    assert PLAN_LINK in invoice_page and PROMISE_LINK in invoice_page
