"""What the pay page says before anyone presses the button: the total, the amount on the button, the words."""

from __future__ import annotations

import re

from portal.clock import now as utcnow
from portal.payments.models import Payment
from portal.settings.registry import PARTIAL_MINIMUM_KEY
from portal.settings.services import set_settings
from tests.fixtures.factories import TEST_ACTOR
from tests.payments.conftest import start_payment

ONE_LINE = [("Stroom", "1", "st", "434.65", "21")]  # 434.65 + 91.28 VAT = 525.93


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("\u00a0", " ")


def _button(html: str) -> str:
    found = re.search(r'<button type="submit"[^>]*id="pay-button">(.*?)</button>', html, re.S)
    assert found, "no pay button"
    # Only what is shown: the label the page does not use right now is hidden.
    shown = re.sub(r"<span [^>]*\bhidden>.*?</span>\s*</span>|<span [^>]*\bhidden>[^<]*</span>", "", found.group(1))
    return _text(shown).strip()


def test_the_total_of_the_chosen_invoices_is_on_the_page_and_on_the_button(
    client, create_customer, create_invoice, login
):
    customer = create_customer(language="en")
    create_invoice(customer, number="T-1", lines=ONE_LINE)
    create_invoice(customer, number="T-2", lines=ONE_LINE)
    login(client, customer)

    both = client.get("/pay").get_data(as_text=True)
    assert "To pay €1,051.86 Invoices T-1, T-2" in _text(both)
    assert _button(both) == "Pay €1,051.86"

    one = client.get("/pay?invoice=T-2").get_data(as_text=True)
    assert "To pay €525.93 Invoice T-2 " in _text(one)
    assert _button(one) == "Pay €525.93"


def test_in_dutch_the_amount_is_written_the_dutch_way(client, create_customer, create_invoice, login):
    customer = create_customer(language="nl")
    create_invoice(customer, number="T-3", lines=ONE_LINE)
    login(client, customer)

    page = client.get("/pay").get_data(as_text=True)

    # "Betaal € 525,93" with the Dutch catalog; the amount is Babel's either way.
    assert _button(page).endswith("€ 525,93")


def test_a_refused_part_payment_keeps_its_amount_on_the_button(client, create_customer, create_invoice, login):
    customer = create_customer(language="en")
    create_invoice(customer, number="T-4", lines=ONE_LINE)
    login(client, customer)

    too_small = start_payment(client, ["T-4"], amount_choice="partial", partial_amount="2,00").get_data(as_text=True)
    assert _button(too_small) == "Pay €2.00"
    # The summary says the same amount, and the minimum is said at the amount's field, which is marked.
    assert "To pay €2.00 Part of €525.93 Invoice T-4" in _text(too_small)
    field = re.search(r'<div class="field field-error partial-amount"[^>]*>.*?</div>', too_small, re.S)
    assert field and "The amount must be at least" in field.group(0), too_small
    assert 'aria-invalid="true"' in field.group(0) and "Your payment has not started" not in too_small

    no_amount = start_payment(client, ["T-4"], amount_choice="partial", partial_amount="two").get_data(as_text=True)
    assert _button(no_amount) == "Continue to payment"


def test_the_method_used_last_time_says_so(client, session, create_customer, create_invoice, login):
    customer = create_customer(language="en")
    create_invoice(customer)
    session.add(
        Payment(
            public_id="paid-before",
            customer_id=customer.id,
            provider="demo",
            method="bancontact",
            state="paid",
            currency="EUR",
            amount_cents=1000,
            received_cents=1000,
            paid_at=utcnow(),
        )
    )
    session.commit()
    login(client, customer)

    page = client.get("/pay").get_data(as_text=True)

    label = re.search(r'<label for="method-bancontact">(.*?)</label>', page, re.S)
    assert label and "You used this last time" in _text(label.group(1))
    assert _text(page).count("You used this last time") == 1


def test_a_first_payment_names_no_method_as_used_before(client, create_customer, create_invoice, login):
    customer = create_customer(language="en")
    create_invoice(customer)
    login(client, customer)
    assert "You used this last time" not in client.get("/pay").get_data(as_text=True)


def test_one_invoice_is_described_as_one_invoice_at_the_provider(client, create_customer, create_invoice, login):
    customer = create_customer(language="en")
    create_invoice(customer, number="T-5")
    create_invoice(customer, number="T-6")
    login(client, customer)

    checkout = start_payment(client, ["T-5"]).headers["Location"].removeprefix("http://localhost")
    assert "Invoice T-5" in _text(client.get(checkout).get_data(as_text=True))
    assert "Invoices T-5" not in _text(client.get(checkout).get_data(as_text=True))

    both = start_payment(client, ["T-5", "T-6"]).headers["Location"].removeprefix("http://localhost")
    assert "Invoices T-5, T-6" in _text(client.get(both).get_data(as_text=True))


def _checked(html: str, name: str) -> list[str]:
    """The values of the checked inputs called ``name``."""
    inputs = re.findall(rf'<input type="(?:radio|checkbox)" name="{name}" value="([^"]*)"[^>]*>', html, re.S)
    tags = re.findall(rf'<input type="(?:radio|checkbox)" name="{name}"[^>]*>', html, re.S)
    return [value for value, tag in zip(inputs, tags, strict=True) if re.search(r"\schecked\b", tag)]


def _typed_amount(html: str) -> str | None:
    found = re.search(r'<input[^>]*name="partial_amount"[^>]*>', html)
    assert found, "no amount field"
    value = re.search(r'value="([^"]*)"', found.group())
    return value.group(1) if value else None


def test_the_choices_in_the_address_come_back_as_they_were_made(client, create_customer, create_invoice, login):
    """The language switch comes back with the debtor's choices in the address (pay.js puts them there; without
    JavaScript the switch keeps the address): the method, part of it, and the amount exactly as it was typed."""
    customer = create_customer(language="en")
    create_invoice(customer, number="T-7", lines=ONE_LINE)
    create_invoice(customer, number="T-8", lines=ONE_LINE)
    login(client, customer)

    page = client.get("/pay?invoice=T-8&method=creditcard&amount_choice=partial&partial_amount=1.234%2C5")
    html = page.get_data(as_text=True)

    assert page.status_code == 200
    assert _checked(html, "invoice") == ["T-8"]
    assert _checked(html, "method") == ["creditcard"]
    assert _checked(html, "amount_choice") == ["partial"]
    assert _typed_amount(html) == "1.234,5", "the amount is shown as typed, not rewritten"
    assert _button(html) == "Pay €1,234.50"
    assert 'aria-invalid="true"' not in html, "nothing is checked before it is sent"


def test_an_unknown_method_or_amount_choice_in_the_address_falls_back_to_the_defaults(
    client, create_customer, create_invoice, login
):
    customer = create_customer(language="en")
    create_invoice(customer, number="T-9", lines=ONE_LINE)
    login(client, customer)

    html = client.get("/pay?method=cash&amount_choice=most&partial_amount=12").get_data(as_text=True)

    assert len(_checked(html, "method")) == 1 and _checked(html, "method") != ["cash"]
    assert _checked(html, "amount_choice") == ["full"]
    assert _typed_amount(html) in (None, ""), "an amount without 'part of it' is not kept"
    assert _button(html) == "Pay €525.93"


def test_part_of_it_in_the_address_is_ignored_where_only_whole_invoices_are_paid(
    client, session, create_customer, create_invoice, login
):
    set_settings(session, {PARTIAL_MINIMUM_KEY: {}}, actor=TEST_ACTOR)
    session.commit()
    customer = create_customer(language="en")
    create_invoice(customer, number="T-10", lines=ONE_LINE)
    login(client, customer)

    html = client.get("/pay?amount_choice=partial&partial_amount=12,50").get_data(as_text=True)

    assert 'name="partial_amount"' not in html
    assert _button(html) == "Pay €525.93", "the button never names an amount the page does not ask for"


def test_the_question_above_the_invoices_counts_them(client, create_customer, create_invoice, login):
    one = create_customer(language="nl")
    create_invoice(one, number="Q-1", lines=ONE_LINE)
    login(client, one)
    assert "Welke factuur wil je betalen?" in _text(client.get("/pay").get_data(as_text=True))

    two = create_customer(language="en")
    create_invoice(two, number="Q-2", lines=ONE_LINE)
    create_invoice(two, number="Q-3", lines=ONE_LINE)
    login(client, two)
    assert "Which invoices do you want to pay?" in _text(client.get("/pay").get_data(as_text=True))
