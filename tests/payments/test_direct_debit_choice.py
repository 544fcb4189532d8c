"""SEPA direct debit on the pay page: what it says it does (this amount, once; no direct debit for later
invoices), and "You used this last time" only for a method the debtor chose, not for a debit we collected."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import time_machine
from flask import Flask

from portal.debits.collection import collect_due
from portal.debits.jobs import prenotify_all
from portal.payments.models import Payment
from tests.debits.debtor_pages import text_of

USED = "You used this last time"


def _label(html: str, method: str) -> str:
    found = re.search(rf'<label for="method-{method}">(.*?)</label>', html, re.S)
    assert found, f"no {method} on the pay page"
    return text_of(found.group(1))


def test_the_direct_debit_hint_says_it_collects_this_amount_once(
    client, create_customer, create_invoice, login
) -> None:
    english = create_customer(language="en")
    create_invoice(english)
    login(client, english)
    label = _label(client.get("/pay").get_data(as_text=True), "directdebit")
    assert "We take this amount from your bank account once." in label
    assert "This does not set up direct debit for later invoices." in label
    assert "future invoices" not in label

    dutch = create_customer(language="nl")
    create_invoice(dutch)
    login(client, dutch)
    label = _label(client.get("/pay").get_data(as_text=True), "directdebit")
    assert "We schrijven dit bedrag één keer af van je rekening." in label
    assert "Hiermee regel je geen automatische incasso voor volgende facturen." in label
    assert "volgende facturen automatisch" not in label


def test_a_debit_we_collected_is_not_the_method_used_last_time(
    app: Flask, client, session, create_customer, create_invoice, create_direct_debit, login
) -> None:
    customer = create_customer(language="en")
    schedule = create_direct_debit(customer, day=4, first_period="2027-01")
    january = create_invoice(
        customer,
        issue_date=date(2026, 12, 15),
        due_date=date(2027, 1, 31),
        period_start=date(2027, 1, 1),
        period_end=date(2027, 1, 31),
    )
    schedule.amount_cents = january.total_cents
    # Before that, the debtor paid an invoice by hand with Bancontact.
    session.add(
        Payment(
            public_id="by-hand-before",
            customer_id=customer.id,
            provider="demo",
            method="bancontact",
            state="paid",
            currency="EUR",
            amount_cents=1000,
            received_cents=1000,
            paid_at=datetime(2026, 11, 2, 9, tzinfo=UTC),
        )
    )
    session.commit()
    with app.app_context():
        with time_machine.travel(datetime(2026, 12, 15, 9, tzinfo=UTC), tick=False):
            prenotify_all(session, today=date(2026, 12, 15))
        with time_machine.travel(datetime(2027, 1, 4, 9, tzinfo=UTC), tick=False):
            assert collect_due(session, today=date(2027, 1, 4)).collected, "January is collected on the mandate"
    session.expire_all()
    collected = session.query(Payment).filter_by(customer_id=customer.id, method="directdebit").one()
    assert collected.state == "paid"

    with time_machine.travel(datetime(2027, 1, 10, 9, tzinfo=UTC), tick=False):
        create_invoice(customer, number="BY-HAND-1", issue_date=date(2027, 1, 8), due_date=date(2027, 1, 22))
        login(client, customer)
        html = client.get("/pay").get_data(as_text=True)
    assert USED not in _label(html, "directdebit"), "the monthly debit was ours, not the debtor's choice"
    assert USED in _label(html, "bancontact"), "what the debtor chose themselves, last time they paid here"
    assert re.search(r'<input type="radio" name="method" value="bancontact"[^>]*\schecked', html)
