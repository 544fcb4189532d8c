"""Words in the staff area: the provider named once on a refund's confirmation (no parentheses in parentheses),
the Dutch menu in Dutch, and the menu folded behind "Menu" for narrow screens (tests/e2e for how it looks)."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.payments.models import Payment
from tests.debits.debtor_pages import text_of
from tests.fixtures.factories import csrf_token
from tests.payments.conftest import start_payment


def _paid_with_demo(client, session, customer, numbers):
    checkout = start_payment(client, numbers).headers["Location"].removeprefix("http://localhost")
    client.post(f"{checkout}/paid", data={"csrf_token": csrf_token(client, checkout)})
    return session.scalars(select(Payment).where(Payment.customer_id == customer.id)).one()


def _confirmation(staff, customer, payment) -> str:
    page = f"/staff/customers/{customer.id}"
    html = staff.get(page).get_data(as_text=True)
    form = {
        "csrf_token": csrf_token(staff, page),
        "request_id": re.search(r'name="request_id" value="(\w+)"', html).group(1),
        "amount": "1,00",
    }
    answer = staff.post(f"/staff/customers/{customer.id}/payments/{payment.id}/refund", data=form)
    assert answer.status_code == 200
    return text_of(answer.get_data(as_text=True))


def test_the_refund_confirmation_names_the_provider_without_nested_parentheses(
    client, app, session, create_customer, create_invoice, login, staff_login
) -> None:
    customer = create_customer(language="en")
    create_invoice(customer, number="PW-1")
    login(client, customer)
    payment = _paid_with_demo(client, session, customer, ["PW-1"])

    english = app.test_client()
    staff_login(english, "supervisor", language="en")
    text = _confirmation(english, customer, payment)
    assert re.search(r"Paid on .+ with iDEAL via Demo \(no real money\)", text), text
    assert "((" not in text and "))" not in text

    dutch = app.test_client()
    staff_login(dutch, "supervisor", language="nl")
    text = _confirmation(dutch, customer, payment)
    assert re.search(r"Betaald op .+ met iDEAL via Demo \(geen echt geld\)", text), text
    assert "((" not in text and "))" not in text


def test_the_dutch_menu_says_importeren(app, staff_login) -> None:
    staff = app.test_client()
    staff_login(staff, "supervisor", language="nl")
    html = staff.get("/staff/imports/").get_data(as_text=True)
    assert re.search(r'<a href="/staff/imports/" aria-current="page">Importeren</a>', html)
    assert "<h1>Importeren</h1>" in html and ">Imports<" not in html


def test_on_a_narrow_screen_the_menu_folds_behind_one_button(app, staff_login) -> None:
    """Everything the header offers is also behind "Menu", which opens without any script."""
    staff = app.test_client()
    staff_login(staff, "supervisor", language="en")
    html = staff.get("/staff/customers/").get_data(as_text=True)
    fold = re.search(r'<details class="staff-fold">\s*<summary>Menu</summary>(.*?)</details>', html, re.S)
    assert fold, "the folded menu"
    inside = text_of(fold.group(1))
    for item in ("Dashboard", "Customers", "Imports", "Audit trail", "Nederlands", "Log out"):
        assert item in inside, item
    assert re.search(r'<a href="/staff/customers/" aria-current="page">Customers</a>', fold.group(1))
