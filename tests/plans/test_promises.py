"""A promise to pay by a date: the window the policy allows, dates a person gets wrong, a double click, the
e-mail that confirms it, and dunning paused until the promised day and not after."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import select

from portal.accounts.pausing import pause_reason
from portal.invoices.models import Invoice
from portal.notifications.models import OutboxMessage
from portal.plans.models import PaymentPromise
from portal.plans.promises import promise_status
from tests.debits.debtor_pages import text_of
from tests.plans.overview_support import page_text, token_on

DEC_20 = datetime(2026, 12, 20, 9, tzinfo=UTC)  # a Sunday; the policy allows promises up to 14 days ahead


@pytest.fixture()
def debtor(create_customer, create_invoice, login, client):
    """An English-speaking customer with two overdue invoices and one not yet due, logged in on 20 December."""
    with time_machine.travel(DEC_20, tick=False):
        customer = create_customer(language="en", email="pat@example.com")
        create_invoice(customer, number="P-1", due_date=date(2026, 11, 15))
        create_invoice(customer, number="P-2", due_date=date(2026, 12, 1))
        create_invoice(customer, number="P-3", issue_date=date(2026, 12, 15), due_date=date(2026, 12, 29))
        login(client, customer)
        yield customer


def _promise(client, on: str, numbers=("P-1", "P-2")):
    token = token_on(client.get("/promise").get_data(as_text=True))
    return client.post("/promise", data={"csrf_token": token, "invoice": list(numbers), "promised_on": on})


def _invoices(session, customer):
    return list(session.scalars(select(Invoice).where(Invoice.customer_id == customer.id)))


def _promises(session, customer):
    return list(session.scalars(select(PaymentPromise).where(PaymentPromise.customer_id == customer.id)))


def test_the_form_chooses_the_overdue_invoices_and_names_the_last_date(client, debtor) -> None:
    with time_machine.travel(DEC_20, tick=False):
        html = client.get("/promise").get_data(as_text=True)
    checked = re.findall(r'value="([^"]+)" id="invoice-\d+"\s+checked', html)
    assert checked == ["P-1", "P-2"], "the two overdue invoices, not the one still to come"
    assert 'min="2026-12-20" max="2027-01-03"' in html
    text = text_of(html)
    assert "Choose a date from today to 3 January 2027. That is the last date you can choose." in text
    assert "Until that date we send you no reminders for these invoices." in text
    assert "If they are not paid by then, the reminders start again." in text


def test_a_promise_on_the_last_allowed_day_is_confirmed_on_screen_and_by_email(client, session, debtor) -> None:
    with time_machine.travel(DEC_20, tick=False):
        made = _promise(client, "2027-01-03")
        assert made.status_code == 303
        confirmation = client.get(made.headers["Location"])
    text = page_text(confirmation)
    assert "You promised to pay €60.50 by 3 January 2027" in text
    assert "Invoice P-1: €30.25" in text and "Invoice P-2: €30.25" in text and "P-3" not in text
    assert "We have sent a confirmation to pat@example.com." in text
    [promise] = _promises(session, debtor)
    assert (promise.status, promise.promised_on, promise.amount_cents) == ("open", date(2027, 1, 3), 6050)
    [mail] = session.scalars(select(OutboxMessage).where(OutboxMessage.template == "promise_made")).all()
    assert mail.recipient == "pat@example.com" and mail.language == "en"
    assert mail.subject == "Your promise to pay €60.50 by 3 January 2027"
    assert "Until that date we send you no reminders for these invoices." in mail.body_text
    assert "/p/" in mail.body_text, "a personal link, so they can pay from the e-mail"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("2027-01-04", "Choose a date from 20 December 2026 to 3 January 2027."),  # one day too late
        ("2026-12-19", "Choose a date from 20 December 2026 to 3 January 2027."),  # yesterday
        ("２０２６-12-24", "Enter the date as day-month-year, such as 03-01-2027."),  # full-width digits
        ("31-02-2027", "Enter the date as day-month-year, such as 03-01-2027."),  # no such day
        ("next friday", "Enter the date as day-month-year, such as 03-01-2027."),
        ("", "Enter the date as day-month-year, such as 03-01-2027."),
    ],
)
def test_a_date_outside_the_window_or_unreadable_is_refused_and_nothing_is_saved(
    client, session, debtor, typed, message
) -> None:
    with time_machine.travel(DEC_20, tick=False):
        refused = _promise(client, typed)
    assert refused.status_code == 400
    assert message in page_text(refused)
    assert "Your promise has not been saved" in page_text(refused)
    assert _promises(session, debtor) == []
    assert session.scalars(select(OutboxMessage).where(OutboxMessage.template == "promise_made")).all() == []


def test_a_date_typed_the_dutch_way_is_understood(client, session, debtor) -> None:
    with time_machine.travel(DEC_20, tick=False):
        assert _promise(client, "24-12-2026").status_code == 303
    assert [p.promised_on for p in _promises(session, debtor)] == [date(2026, 12, 24)]


def test_no_invoice_chosen_is_refused(client, session, debtor) -> None:
    with time_machine.travel(DEC_20, tick=False):
        refused = _promise(client, "2026-12-24", numbers=())
    assert refused.status_code == 400 and "Choose at least one invoice." in page_text(refused)
    assert _promises(session, debtor) == []


def test_a_double_click_makes_one_promise_and_shows_it_twice(client, session, debtor) -> None:
    with time_machine.travel(DEC_20, tick=False):
        token = token_on(client.get("/promise").get_data(as_text=True))
        data = {"csrf_token": token, "invoice": ["P-1"], "promised_on": "2026-12-24"}
        first = client.post("/promise", data=data)
        second = client.post("/promise", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert len(_promises(session, debtor)) == 1
    assert len(session.scalars(select(OutboxMessage).where(OutboxMessage.template == "promise_made")).all()) == 1


def test_another_customers_promise_is_not_found(client, session, debtor, create_customer, login) -> None:
    with time_machine.travel(DEC_20, tick=False):
        made = _promise(client, "2026-12-24")
        login(client, create_customer(language="en"))
        assert client.get(made.headers["Location"]).status_code == 404


def test_a_promised_invoice_is_paused_until_the_end_of_the_promised_day_and_not_after(client, session, debtor) -> None:
    with time_machine.travel(DEC_20, tick=False):
        _promise(client, "2026-12-24", numbers=("P-1",))
    promise = _promises(session, debtor)[0]
    invoice = promise.invoices[0].invoice
    assert pause_reason(session, invoice, datetime(2026, 12, 21, 12, tzinfo=UTC)) == "promise"
    assert pause_reason(session, invoice, datetime(2026, 12, 24, 12, tzinfo=UTC)) == "promise"
    assert pause_reason(session, invoice, datetime(2026, 12, 25, 12, tzinfo=UTC)) is None
    not_promised = next(i for i in _invoices(session, debtor) if i.number == "P-2")
    assert pause_reason(session, not_promised, datetime(2026, 12, 21, 12, tzinfo=UTC)) is None


def test_the_promise_page_speaks_dutch_to_a_dutch_customer(client, create_customer, create_invoice, login) -> None:
    with time_machine.travel(DEC_20, tick=False):
        customer = create_customer(language="nl")
        create_invoice(customer, due_date=date(2026, 11, 15))
        login(client, customer)
        html = client.get("/promise").get_data(as_text=True)
    assert 'lang="nl"' in html and "Terug naar het overzicht" in html


def test_how_a_promise_reads_on_each_day(client, session, debtor) -> None:
    with time_machine.travel(DEC_20, tick=False):
        _promise(client, "2026-12-24", numbers=("P-1",))
    promise = _promises(session, debtor)[0]
    assert promise_status(promise, date(2026, 12, 23)) == "open"
    assert promise_status(promise, date(2026, 12, 24)) == "due_today"
    assert promise_status(promise, date(2026, 12, 25)) == "overdue", "past the date, before the job ends it"
    promise.status = "kept"
    assert promise_status(promise, date(2026, 12, 25)) == "kept"


def test_the_confirmation_email_is_in_the_customers_language(
    client, session, create_customer, create_invoice, login
) -> None:
    with time_machine.travel(DEC_20, tick=False):
        customer = create_customer(language="nl", email="sanne@example.com")
        create_invoice(customer, number="N-1", due_date=date(2026, 11, 15))
        login(client, customer)
        assert _promise(client, "2026-12-24", numbers=("N-1",)).status_code == 303
    [mail] = session.scalars(select(OutboxMessage).where(OutboxMessage.template == "promise_made")).all()
    assert mail.language == "nl" and mail.recipient == "sanne@example.com"
    assert "24 december 2026" in mail.subject, "the date written the Dutch way"
