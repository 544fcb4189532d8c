"""Amounts as people type them, and as nobody should be able to: one strict reading on every amount form."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.money import MAX_CENTS, AmountProblem, parse_amount
from portal.payments.models import Payment, PaymentReversal
from portal.settings.models import SettingVersion
from portal.settings.services import partial_payment_minimum_cents
from tests.fixtures.factories import csrf_token
from tests.payments.conftest import refund_form, start_payment

NINES = "9" * 5000
# 3,025.00 owed: room for every accepted amount below.
BIG = [("Stroom", "10000", "kWh", "0.25000", "21")]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize(
    ("typed", "cents"),
    [
        ("12,50", 1250),
        ("12.50", 1250),
        ("12,5", 1250),
        ("12", 1200),
        (" 12 ", 1200),
        ("1.234,56", 123456),
        ("1,234.56", 123456),
        ("1.234.567,89", 123456789),
        ("€ 12,50", 1250),
        ("EUR 12.50", 1250),
        ("9999999,99", MAX_CENTS),
    ],
)
def test_the_accepted_forms(typed, cents):
    assert parse_amount(typed, "EUR") == cents


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (None, "empty"),
        (NINES, "too_large"),
        (NINES + ",99", "too_large"),
        ("10000000", "too_large"),
        ("\u0661\u0662,\u0665\u0660", "not_a_number"),  # Arabic-Indic ١٢,٥٠
        ("\u0967\u0968", "not_a_number"),  # Devanagari १२
        ("\uff11\uff12,\uff15\uff10", "not_a_number"),  # full-width １２,５０
        ("1\u00a0234", "not_a_number"),
        ("1 234", "not_a_number"),
        ("1e3", "not_a_number"),
        ("NaN", "not_a_number"),
        ("Infinity", "not_a_number"),
        ("+5", "not_a_number"),
        ("1.234.56", "not_a_number"),
        ("1,234,56", "not_a_number"),
        ("12,50,", "not_a_number"),
        ("-5", "not_positive"),
        ("0", "not_positive"),
        ("0,00", "not_positive"),
        ("12,505", "too_many_decimals"),
        ("1.234", "too_many_decimals"),
        ("12.555", "too_many_decimals"),
    ],
)
def test_the_refused_forms(typed, code):
    with pytest.raises(AmountProblem) as refused:
        parse_amount(typed, "EUR")
    assert refused.value.code == code


def test_the_maximum_fits_the_database_columns():
    assert MAX_CENTS < 2**31 - 1  # Payment.amount_cents and friends are Integer (int4 on PostgreSQL)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (NINES, "The amount is too large. Enter at most €9,999,999.99."),
        ("\u0661\u0662,\u0665\u0660", "Enter the amount in the digits 0 to 9, for example 25.00."),
        ("\uff11\uff12,\uff15\uff10", "Enter the amount in the digits 0 to 9, for example 25.00."),
        ("1e3", "Enter the amount in the digits 0 to 9, for example 25.00."),
        ("NaN", "Enter the amount in the digits 0 to 9, for example 25.00."),
        ("-5", "Enter an amount above zero, for example 25.00."),
        ("12,505", "Use at most two digits after the decimal point, for example 12.50."),
        ("", "Enter an amount, for example 25.00."),
    ],
)
def test_a_part_payment_that_is_no_amount_is_explained_and_nothing_starts(
    client, session, create_customer, create_invoice, login, typed, message
):
    customer = create_customer(language="en")
    create_invoice(customer, number="P-1", lines=BIG)
    login(client, customer)

    refused = start_payment(client, ["P-1"], amount_choice="partial", partial_amount=typed)

    assert refused.status_code == 400
    page = _text(refused.get_data(as_text=True))
    assert "Please check the form" in page
    assert message in page
    assert session.scalars(select(Payment).where(Payment.customer_id == customer.id)).first() is None


@pytest.mark.parametrize(("typed", "cents"), [("12,50", 1250), ("12.50", 1250), (" 12 ", 1200), ("1.234,56", 123456)])
def test_a_part_payment_in_either_notation_starts_for_that_amount(
    client, session, create_customer, create_invoice, login, typed, cents
):
    customer = create_customer(language="en")
    create_invoice(customer, number="P-2", lines=BIG)
    login(client, customer)

    started = start_payment(client, ["P-2"], amount_choice="partial", partial_amount=typed)

    assert started.status_code == 303
    payment = session.scalars(select(Payment).where(Payment.customer_id == customer.id)).one()
    assert payment.amount_cents == cents


def test_an_amount_typed_while_everything_is_chosen_is_refused_not_ignored(
    client, session, create_customer, create_invoice, login
):
    customer = create_customer(language="en")
    create_invoice(customer, number="P-3")
    login(client, customer)

    refused = start_payment(client, ["P-3"], amount_choice="full", partial_amount="10,00")

    assert refused.status_code == 400
    assert "You chose to pay everything. Clear the amount, or choose “Part of it now”." in _text(
        refused.get_data(as_text=True)
    )
    assert session.scalars(select(Payment).where(Payment.customer_id == customer.id)).first() is None
    # An empty field with "everything" is the ordinary case.
    assert start_payment(client, ["P-3"], amount_choice="full", partial_amount=" ").status_code == 303


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (NINES, "The amount is too large."),
        ("\u0661,\u0665\u0660", "Enter the amount in the digits 0 to 9"),
        ("-5", "Enter an amount above zero"),
        ("1,505", "Use at most two digits after the decimal point"),
    ],
)
def test_a_refund_amount_that_is_no_amount_is_explained_and_nothing_is_refunded(
    client, app, session, create_customer, create_invoice, login, staff_login, typed, message
):
    customer = create_customer(language="en")
    create_invoice(customer, number="R-9")
    login(client, customer)
    checkout = start_payment(client, ["R-9"]).headers["Location"].removeprefix("http://localhost")
    client.post(f"{checkout}/paid", data={"csrf_token": csrf_token(client, checkout)})
    payment = session.scalars(select(Payment).where(Payment.customer_id == customer.id)).one()
    staff = app.test_client()
    staff_login(staff, "supervisor", language="en")
    page = f"/staff/customers/{customer.id}"

    staff.post(f"{page}/payments/{payment.id}/refund", data=refund_form(staff, page, typed))

    assert message in _text(staff.get(page).get_data(as_text=True))
    session.expire_all()
    assert session.scalars(select(PaymentReversal).where(PaymentReversal.payment_id == payment.id)).all() == []


def test_a_refund_in_the_other_notation_refunds_that_amount(
    client, app, session, create_customer, create_invoice, login, staff_login
):
    customer = create_customer(language="en")
    create_invoice(customer, number="R-8")
    login(client, customer)
    checkout = start_payment(client, ["R-8"]).headers["Location"].removeprefix("http://localhost")
    client.post(f"{checkout}/paid", data={"csrf_token": csrf_token(client, checkout)})
    payment = session.scalars(select(Payment).where(Payment.customer_id == customer.id)).one()
    staff = app.test_client()
    staff_login(staff, "supervisor", language="en")
    page = f"/staff/customers/{customer.id}"

    staff.post(f"{page}/payments/{payment.id}/refund", data=refund_form(staff, page, "5.25"))

    session.expire_all()
    reversals = session.scalars(select(PaymentReversal).where(PaymentReversal.payment_id == payment.id)).all()
    assert [r.amount_cents for r in reversals] == [525]


@pytest.mark.parametrize("typed", [NINES, "\u0661\u0662,\u0665\u0660", "\uff11\uff10", "1e3", "NaN", "-5", "12,505"])
def test_a_part_payment_minimum_that_is_no_amount_is_refused_on_the_settings_page(app, staff_login, session, typed):
    staff = app.test_client()
    staff_login(staff, "admin", language="en")
    page = "/staff/settings/"

    refused = staff.post(f"{page}payments", data={"minimum_EUR": typed, "csrf_token": csrf_token(staff, page)})

    assert refused.status_code == 400
    assert "Enter an amount such as 10.00" in _text(refused.get_data(as_text=True))
    assert session.scalars(select(SettingVersion)).all() == []


def test_a_part_payment_minimum_in_the_grouped_form_is_accepted(app, staff_login, session):
    staff = app.test_client()
    staff_login(staff, "admin", language="en")
    page = "/staff/settings/"

    saved = staff.post(f"{page}payments", data={"minimum_EUR": "1.000,50", "csrf_token": csrf_token(staff, page)})

    assert saved.status_code == 302
    assert partial_payment_minimum_cents(session, "EUR") == 100050
