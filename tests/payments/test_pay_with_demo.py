"""The debtor's journey through the demo provider: choose, pay, come back, see the verdict."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from portal.clock import today_for
from portal.invoices.models import Invoice
from portal.notifications.models import OutboxMessage
from portal.payments.models import Payment
from tests.fixtures.factories import csrf_token
from tests.plans.lifecycle_support import make_promise


def _pay(client: Any, numbers: list[str], method: str = "ideal", **extra: str) -> Any:
    data: dict[str, Any] = {"csrf_token": csrf_token(client, "/pay"), "invoice": numbers, "method": method, **extra}
    return client.post("/pay", data=data)


def _decide(client: Any, checkout_url: str, outcome: str) -> Any:
    path = checkout_url.removeprefix("http://localhost")
    return client.post(f"{path}/{outcome}", data={"csrf_token": csrf_token(client, path)})


def test_paying_two_invoices_settles_both_and_sends_a_receipt(client, session, create_customer, create_invoice, login):
    customer = create_customer(email="anna@example.com", language="en")
    first = create_invoice(customer, number="A-1")
    second = create_invoice(customer, number="A-2")
    login(client, customer)

    started = _pay(client, ["A-2", "A-1"])
    assert started.status_code == 303
    checkout = started.headers["Location"]
    assert "/demo-checkout/demo_" in checkout

    back = _decide(client, checkout, "paid")
    assert back.status_code == 303
    status = client.get(back.headers["Location"].removeprefix("http://localhost"))
    text = status.get_data(as_text=True)
    assert "Thank you" in text
    assert "A-1" in text and "A-2" in text

    session.expire_all()
    assert session.get(Invoice, first.id).state == "paid"
    assert session.get(Invoice, second.id).state == "paid"
    payment = session.scalars(select(Payment).where(Payment.customer_id == customer.id)).one()
    assert payment.received_cents == first.total_cents + second.total_cents
    receipt = session.scalars(select(OutboxMessage).where(OutboxMessage.template == "payment_receipt")).one()
    assert receipt.recipient == "anna@example.com"
    assert "Thank you for your payment" in receipt.subject

    overview = client.get("/overview").get_data(as_text=True)
    assert "You have nothing to pay right now." in overview


def test_the_amount_comes_from_the_invoices_not_the_form(client, session, create_customer, create_invoice, login):
    customer = create_customer(language="en")
    invoice = create_invoice(customer, number="B-1")
    login(client, customer)
    started = _pay(client, ["B-1"], amount="1", amount_cents="1")
    assert started.status_code == 303
    payment = session.scalars(select(Payment).where(Payment.customer_id == customer.id)).one()
    assert payment.amount_cents == invoice.total_cents


def test_a_second_click_reuses_the_open_checkout(client, session, create_customer, create_invoice, login):
    customer = create_customer(language="en")
    create_invoice(customer, number="C-1")
    login(client, customer)
    first = _pay(client, ["C-1"])
    second = _pay(client, ["C-1"])
    assert first.headers["Location"] == second.headers["Location"]
    assert len(session.scalars(select(Payment).where(Payment.customer_id == customer.id)).all()) == 1


def test_a_failed_payment_leaves_the_invoice_open_and_offers_a_retry(
    client, session, create_customer, create_invoice, login
):
    customer = create_customer(language="en")
    invoice = create_invoice(customer, number="D-1")
    login(client, customer)
    back = _decide(client, _pay(client, ["D-1"]).headers["Location"], "failed")
    text = client.get(back.headers["Location"].removeprefix("http://localhost")).get_data(as_text=True)
    assert "did not go through" in text
    assert "Try again" in text
    session.expire_all()
    assert session.get(Invoice, invoice.id).state == "open"


def test_a_part_payment_leaves_the_rest_open(client, session, create_customer, create_invoice, login):
    customer = create_customer(language="en")
    invoice = create_invoice(customer, number="E-1")
    login(client, customer)
    started = _pay(client, ["E-1"], amount_choice="partial", partial_amount="10,00")
    _decide(client, started.headers["Location"], "paid")
    session.expire_all()
    refreshed = session.get(Invoice, invoice.id)
    assert refreshed.state == "open"
    assert refreshed.paid_cents == 1000
    overview = client.get("/overview").get_data(as_text=True)
    assert re.search(r"€\s?10\.00 already paid", overview)


def test_a_part_payment_below_the_minimum_is_refused_in_dutch(client, session, create_customer, create_invoice, login):
    customer = create_customer(language="nl")
    create_invoice(customer, number="F-1")
    login(client, customer)
    refused = _pay(client, ["F-1"], amount_choice="partial", partial_amount="2")
    assert refused.status_code == 400
    assert "minimaal" in refused.get_data(as_text=True)
    assert session.scalars(select(Payment).where(Payment.customer_id == customer.id)).first() is None


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("\u00a0", " ")


def test_after_a_part_payment_the_thank_you_says_what_is_still_open_and_by_when(
    client, session, create_customer, create_invoice, login
):
    customer = create_customer(language="en")
    today = today_for(customer)
    first = create_invoice(customer, number="G-1", issue_date=today, due_date=today + timedelta(days=14))
    second = create_invoice(customer, number="G-2", issue_date=today, due_date=today + timedelta(days=30))
    login(client, customer)

    started = _pay(client, ["G-1"], amount_choice="partial", partial_amount="10,00")
    back = _decide(client, started.headers["Location"], "paid")
    page = _text(client.get(back.headers["Location"].removeprefix("http://localhost")).get_data(as_text=True))

    still_open = (first.total_cents + second.total_cents - 1000) / 100
    due = first.due_date
    assert f"€{still_open:,.2f} is still open on your invoices." in page
    assert f"Pay the rest by {due.day} {due:%B %Y}." in page
    assert "Pay the rest" in page


def test_after_a_part_payment_of_an_overdue_invoice_the_rest_is_due_now(
    client, session, create_customer, create_invoice, login
):
    customer = create_customer(language="en")
    today = today_for(customer)
    create_invoice(customer, number="H-1", issue_date=today - timedelta(days=40), due_date=today - timedelta(days=10))
    login(client, customer)

    started = _pay(client, ["H-1"], amount_choice="partial", partial_amount="10,00")
    back = _decide(client, started.headers["Location"], "paid")
    page = _text(client.get(back.headers["Location"].removeprefix("http://localhost")).get_data(as_text=True))

    assert "is still open on your invoice. The due date has passed, so please pay the rest as soon as you can." in page


def test_after_paying_some_invoices_the_thank_you_says_what_the_others_still_owe(
    client, session, create_customer, create_invoice, login
):
    customer = create_customer(language="en")
    today = today_for(customer)
    create_invoice(customer, number="K-1")
    other = create_invoice(customer, number="K-2", issue_date=today, due_date=today + timedelta(days=20))
    login(client, customer)

    back = _decide(client, _pay(client, ["K-1"]).headers["Location"], "paid")
    page = _text(client.get(back.headers["Location"].removeprefix("http://localhost")).get_data(as_text=True))

    assert "Thank you" in page
    assert "still open on your invoices" not in page, "K-1 is paid in full: no rest of it to chase"
    due = other.due_date
    assert (
        f"€{other.total_cents / 100:,.2f} is still open on your other invoice. Pay the rest by {due.day} {due:%B %Y}."
    ) in page


def test_after_paying_everything_nothing_is_said_to_be_open(client, session, create_customer, create_invoice, login):
    customer = create_customer(language="en")
    create_invoice(customer, number="M-1")
    create_invoice(customer, number="M-2")
    login(client, customer)

    back = _decide(client, _pay(client, ["M-1", "M-2"]).headers["Location"], "paid")
    page = _text(client.get(back.headers["Location"].removeprefix("http://localhost")).get_data(as_text=True))

    assert "Thank you" in page
    assert "What is still open" not in page and "still open on your" not in page


def test_after_paying_another_invoice_a_promised_one_is_said_to_be_paid_as_agreed(
    client, session, create_customer, create_invoice, login
):
    customer = create_customer(language="en")
    today = today_for(customer)
    promised = create_invoice(customer, number="P-1", issue_date=today, due_date=today + timedelta(days=5))
    create_invoice(customer, number="P-2")
    make_promise(session, customer, [promised], today + timedelta(days=10))
    login(client, customer)

    back = _decide(client, _pay(client, ["P-2"]).headers["Location"], "paid")
    page = _text(client.get(back.headers["Location"].removeprefix("http://localhost")).get_data(as_text=True))

    promised_on = today + timedelta(days=10)
    assert (
        f"€{promised.total_cents / 100:,.2f} is in your promise to pay: you pay it as agreed, "
        f"by {promised_on.day} {promised_on:%B %Y}."
    ) in page
    assert "still open on your other invoice" not in page and "Pay the rest" not in page
