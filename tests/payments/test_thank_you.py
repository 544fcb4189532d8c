"""The thank-you page after a payment says what is still open, and what happens next: by when the rest is due
(late only where an invoice really is), what a plan or promise takes care of, and when nothing more is needed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine

from tests.fixtures.factories import csrf_token
from tests.plans.lifecycle_support import agree_plan, make_promise

DEC_3 = datetime(2026, 12, 3, 9, tzinfo=UTC)  # 10:00 in Amsterdam
BIG = [("Stroom", "1000", "kWh", "0.25000", "21")]  # €302.50; the default invoice is €30.25


@pytest.fixture()
def on_dec_3() -> Iterator[None]:
    with time_machine.travel(DEC_3, tick=False):
        yield


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("\u00a0", " ")


def _thank_you(client: Any, numbers: list[str], **extra: str) -> tuple[str, str]:
    """Pay ``numbers`` through the demo checkout; the thank-you page as text, and as HTML."""
    data = {"csrf_token": csrf_token(client, "/pay"), "invoice": numbers, "method": "ideal", **extra}
    checkout = client.post("/pay", data=data).headers["Location"].removeprefix("http://localhost")
    back = client.post(f"{checkout}/paid", data={"csrf_token": csrf_token(client, checkout)})
    html = client.get(back.headers["Location"].removeprefix("http://localhost")).get_data(as_text=True)
    return _text(html), html


def _late_and_not_yet_due(create_customer, create_invoice, language: str):
    customer = create_customer(language=language)
    create_invoice(customer, number="2026-000300", issue_date=date(2026, 11, 6), due_date=date(2026, 11, 20))
    create_invoice(customer, number="2026-000321", lines=BIG, issue_date=date(2026, 12, 2), due_date=date(2026, 12, 16))
    return customer


def test_the_rest_of_an_invoice_not_yet_due_is_not_called_late_beside_a_late_one(
    client, create_customer, create_invoice, login, on_dec_3
):
    login(client, _late_and_not_yet_due(create_customer, create_invoice, "en"))
    page, _html = _thank_you(client, ["2026-000321"], amount_choice="partial", partial_amount="100,00")

    assert (
        "€232.75 is still open on your invoices. €30.25 of it is past its due date: please pay that as soon as you "
        "can. Pay the rest by 16 December 2026."
    ) in page
    assert "The due date has passed" not in page


def test_the_same_in_dutch(client, create_customer, create_invoice, login, on_dec_3):
    login(client, _late_and_not_yet_due(create_customer, create_invoice, "nl"))
    page, _html = _thank_you(client, ["2026-000321"], amount_choice="partial", partial_amount="100,00")

    assert (
        "Er staat nog € 232,75 open op je facturen. Daarvan is € 30,25 over de vervaldatum: betaal dat zo snel je "
        "kunt. Betaal de rest uiterlijk op 16 december 2026."
    ) in page
    assert "De vervaldatum is voorbij" not in page


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "€20.25 is still open on your invoice. Pay the rest by 16 December 2026."),
        ("nl", "Er staat nog € 20,25 open op je factuur. Betaal de rest uiterlijk op 16 december 2026."),
    ],
)
def test_one_invoice_still_open_is_said_in_the_singular(
    client, create_customer, create_invoice, login, on_dec_3, language, expected
):
    customer = create_customer(language=language)
    create_invoice(customer, number="S-1", issue_date=date(2026, 12, 2), due_date=date(2026, 12, 16))
    login(client, customer)
    page, _html = _thank_you(client, ["S-1"], amount_choice="partial", partial_amount="10,00")
    assert expected in page


@pytest.mark.parametrize(
    ("language", "unwanted", "heading"),
    [("en", "contact us", "Cannot pay it all now?"), ("nl", "neem contact", "Kun je nu niet alles betalen?")],
)
def test_more_time_is_offered_as_the_self_service_pages_not_as_contact_us(
    client, create_customer, create_invoice, login, on_dec_3, language, unwanted, heading
):
    login(client, _late_and_not_yet_due(create_customer, create_invoice, language))
    page, html = _thank_you(client, ["2026-000321"], amount_choice="partial", partial_amount="100,00")
    still_open = page[page.index("What is still open" if language == "en" else "Wat er nog openstaat") :]
    assert unwanted not in still_open.lower()
    assert heading in page
    assert 'href="/plan"' in html and 'href="/promise"' in html and 'href="/cannot-pay"' in html


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Everything is paid. You do not need to do anything else."),
        ("nl", "Alles is betaald. Je hoeft verder niets te doen."),
    ],
)
def test_paying_everything_says_nothing_more_is_needed(
    client, create_customer, create_invoice, login, on_dec_3, language, expected
):
    customer = create_customer(language=language)
    create_invoice(customer, number="A-1", issue_date=date(2026, 11, 6), due_date=date(2026, 11, 20))
    create_invoice(customer, number="A-2", issue_date=date(2026, 12, 2), due_date=date(2026, 12, 16))
    login(client, customer)
    page, _html = _thank_you(client, ["A-1", "A-2"])
    assert expected in page


def test_a_part_payment_does_not_say_everything_is_paid(client, create_customer, create_invoice, login, on_dec_3):
    customer = create_customer(language="en")
    create_invoice(customer, number="B-1", issue_date=date(2026, 12, 2), due_date=date(2026, 12, 16))
    login(client, customer)
    page, _html = _thank_you(client, ["B-1"], amount_choice="partial", partial_amount="10,00")
    assert "Everything is paid" not in page and "anything else" not in page


def test_an_invoice_in_a_plan_is_said_to_be_in_it_with_its_next_instalment(
    app, client, session, create_customer, create_invoice, login, on_dec_3
):
    customer = create_customer(language="en")
    in_plan = create_invoice(customer, number="I-1", lines=BIG, due_date=date(2026, 11, 15))
    create_invoice(customer, number="O-1", issue_date=date(2026, 12, 2), due_date=date(2026, 12, 16))
    with app.app_context():  # the agreement's e-mail carries a personal link
        plan = agree_plan(session, customer, [in_plan], first=date(2026, 12, 10))
    first = plan.instalments[0].amount_cents
    login(client, customer)

    page, html = _thank_you(client, ["O-1"])

    assert (
        f"€302.50 is in your payment plan {plan.reference}: you pay it in instalments, as agreed. "
        f"The next instalment is €{first / 100:,.2f} on 10 December 2026."
    ) in page
    assert f'href="/plan/{plan.id}"' in html and "See your payment plan" in page
    assert "payment plan or promise" not in page


def test_an_invoice_in_a_promise_is_said_to_be_in_it_with_its_date_in_dutch(
    client, session, create_customer, create_invoice, login, on_dec_3
):
    customer = create_customer(language="nl")
    promised = create_invoice(customer, number="P-1", issue_date=date(2026, 11, 6), due_date=date(2026, 11, 20))
    create_invoice(customer, number="P-2", issue_date=date(2026, 12, 2), due_date=date(2026, 12, 16))
    promise = make_promise(session, customer, [promised], date(2026, 12, 12))
    login(client, customer)

    page, html = _thank_you(client, ["P-2"])

    assert "€ 30,25 valt onder je betaalbelofte: je betaalt het zoals afgesproken, uiterlijk 12 december 2026." in page
    assert f'href="/promise/{promise.id}"' in html and "Bekijk je betaalbelofte" in page
    assert "betalingsregeling of betaalbelofte" not in page
