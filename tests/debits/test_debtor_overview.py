"""Direct debit on the debtor's overview and invoice page: the mandate, the next debits, what was collected,
and the invoice a debit will collect, said as such rather than as due or late."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import event

from portal.debits.jobs import prenotify_all, run_debits
from tests.debits.debtor_pages import text_of
from tests.fixtures.factories import csrf_token
from tests.payments.conftest import start_payment


def money(cents: int) -> str:
    return f"€{cents // 100}.{cents % 100:02d}"


DEC_20 = datetime(2026, 12, 20, 9, tzinfo=UTC)


@pytest.fixture()
def statements(app: Flask) -> Iterator[Callable[[], int]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    engine = app.extensions["portal_db_engine"]
    event.listen(engine, "before_cursor_execute", count)
    yield lambda: len(seen)
    event.remove(engine, "before_cursor_execute", count)


def _january_invoice(create_invoice, customer, **overrides):
    fields = {"issue_date": date(2026, 12, 1), "due_date": date(2026, 12, 15), "period_start": date(2027, 1, 1)}
    return create_invoice(customer, **{**fields, **overrides})


def test_mandate_next_debits_and_the_invoice_they_collect(
    app, session, create_customer, create_invoice, create_direct_debit, login, client
) -> None:
    customer = create_customer(language="en")
    schedule = create_direct_debit(customer, day=1, first_period="2027-01")
    invoice = _january_invoice(create_invoice, customer)  # its due date has passed: a debit collects it
    with time_machine.travel(DEC_20, tick=False):
        with app.app_context():
            prenotify_all(session, today=date(2026, 12, 20))
        login(client, customer)
        page = text_of(client.get("/overview").get_data(as_text=True))
        assert "Direct debit We collect on day 1 of each month, from account NL91 **** 4300." in page
        # 1 January is a bank holiday: the debit of 4 January is explained.
        assert "4300. When that day is a weekend or bank holiday, we collect on the next working day." in page
        assert f"Mandate reference {schedule.mandate.reference}" in page and "Signed on 1 June 2026" in page
        assert "The next debits Date For Amount 4 Jan 2027 January 2027 €84.70 1 Feb 2027 February 2027" in page
        assert f"Invoice {invoice.number}" in page and "Will be collected on 4 January 2027" in page
        assert "Overdue" not in page and "past its due date" not in page
        invoice_page = text_of(client.get(f"/invoices/{invoice.number}").get_data(as_text=True))
        assert "Will be collected on 4 January 2027" in invoice_page and "Overdue" not in invoice_page
        assert "You may also pay it another way before then" in invoice_page
        assert "Pay this invoice" in invoice_page


def test_what_was_collected_before_and_a_failed_one(
    app, session, create_customer, create_invoice, create_direct_debit, login, client
) -> None:
    customer = create_customer(language="en")
    create_direct_debit(customer, day=4, first_period="2027-01")
    invoice = _january_invoice(create_invoice, customer, due_date=date(2027, 1, 31))
    with app.app_context():
        with time_machine.travel(DEC_20, tick=False):
            run_debits(session, today=date(2026, 12, 20))
        with time_machine.travel(datetime(2027, 1, 4, 9, tzinfo=UTC), tick=False):
            _, report = run_debits(session, today=date(2027, 1, 4))
    assert len(report.collected) == 1
    with time_machine.travel(datetime(2027, 1, 6, 9, tzinfo=UTC), tick=False):
        login(client, customer)
        page = text_of(client.get("/overview").get_data(as_text=True))
    # The invoice asked less than the monthly amount: the debit took only what was owed.
    assert f"Collected before Date Result Amount 4 Jan 2027 Collected {money(invoice.total_cents)}" in page
    assert "A direct debit did not go through" not in page


def test_the_overview_of_a_customer_on_direct_debit_costs_one_query_more(
    app, session, create_customer, create_invoice, create_direct_debit, login, client, statements
) -> None:
    by_hand = create_customer(language="en")
    _january_invoice(create_invoice, by_hand)
    on_debit = create_customer(language="en")
    create_direct_debit(on_debit, day=1, first_period="2027-01")
    _january_invoice(create_invoice, on_debit)
    with time_machine.travel(DEC_20, tick=False):
        with app.app_context():
            prenotify_all(session, today=date(2026, 12, 20))
        counts = []
        for customer in (by_hand, on_debit):
            login(client, customer)
            client.get("/overview")  # the first visit writes the visit; the second is the one counted
            before = statements()
            assert client.get("/overview").status_code == 200
            counts.append(statements() - before)
    assert counts[1] - counts[0] <= 1, counts


def test_no_direct_debit_no_section(session, create_customer, create_invoice, login, client) -> None:
    customer = create_customer(language="en")
    create_invoice(customer)
    login(client, customer)
    page = text_of(client.get("/overview").get_data(as_text=True))
    assert "Direct debit" not in page and "Will be collected" not in page
    assert client.get("/direct-debit/day").headers["Location"].endswith("/overview")


def test_after_paying_another_invoice_the_thank_you_says_the_debit_collects_the_rest(
    app, session, create_customer, create_invoice, create_direct_debit, login, client
) -> None:
    customer = create_customer(language="en")
    create_direct_debit(customer, day=1, first_period="2027-01")
    _january_invoice(create_invoice, customer)  # a debit collects it on 4 January
    create_invoice(customer, number="OTHER-1", issue_date=date(2026, 12, 1), due_date=date(2026, 12, 30))
    with time_machine.travel(DEC_20, tick=False):
        with app.app_context():
            prenotify_all(session, today=date(2026, 12, 20))
        login(client, customer)
        checkout = start_payment(client, ["OTHER-1"]).headers["Location"].removeprefix("http://localhost")
        back = client.post(f"{checkout}/paid", data={"csrf_token": csrf_token(client, checkout)})
        page = text_of(client.get(back.headers["Location"].removeprefix("http://localhost")).get_data(as_text=True))
    assert "€30.25 will be collected by direct debit, as agreed. You do not need to do anything for it." in page
    assert "still open on your other invoice" not in page and "Pay the rest" not in page
