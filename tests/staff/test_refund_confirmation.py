"""A staff refund is two steps: the first submit says exactly what will happen; only the confirmed one refunds.
The result (done, or the provider's no) is the first thing on the page staff land on."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from portal.invoices.models import Invoice
from portal.payments.models import DemoCheckout, Payment, PaymentReversal
from tests.fixtures.factories import csrf_token
from tests.payments.conftest import start_payment


def _paid_with_demo(client, session, customer, numbers):
    checkout = start_payment(client, numbers).headers["Location"].removeprefix("http://localhost")
    client.post(f"{checkout}/paid", data={"csrf_token": csrf_token(client, checkout)})
    return session.scalars(select(Payment).where(Payment.customer_id == customer.id)).one()


def _first_step(staff, customer, payment, amount):
    page = f"/staff/customers/{customer.id}"
    html = staff.get(page).get_data(as_text=True)
    form = {
        "csrf_token": csrf_token(staff, page),
        "request_id": re.search(r'name="request_id" value="(\w+)"', html).group(1),
        "amount": amount,
    }
    url = f"/staff/customers/{customer.id}/payments/{payment.id}/refund"
    return url, form, staff.post(url, data=form)


def _reversals(session, payment):
    session.expire_all()
    return session.scalars(select(PaymentReversal).where(PaymentReversal.payment_id == payment.id)).all()


def _messages(html):
    """The result block: it must come first in <main>, before the page's own heading."""
    main = html.split('<main id="main"', 1)[1]
    assert main.index('id="messages"') < main.index("<h1"), "the result is at the top of the page"
    return main.split('id="messages"', 1)[1].split("</div>", 1)[0]


def test_the_first_submit_only_says_what_will_happen(
    client, app, session, create_customer, create_invoice, login, staff_login
):
    customer = create_customer(language="en", name="Sanne de Vries")
    first = create_invoice(customer, number="RC-1")
    create_invoice(customer, number="RC-2")
    login(client, customer)
    payment = _paid_with_demo(client, session, customer, ["RC-1", "RC-2"])
    staff = app.test_client()
    staff_login(staff, "supervisor", language="en")

    _url, _form, answer = _first_step(staff, customer, payment, "60,50")
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert "<h1>Refund €60.50 to Sanne de Vries?</h1>" in html
    assert "The whole amount received" in html
    assert "RC-1" in html and "RC-2" in html, "the invoices it paid"
    assert "iDEAL" in html and "Paid on" in html, "how and when it was paid"
    assert payment.reference in html
    assert "goes back to the account the customer paid from" in html
    assert "€30.25 is owed again on invoice RC-2." in html and "€30.25 is owed again on invoice RC-1." in html
    assert re.search(r'<button type="submit" class="button button-danger">Refund €60.50</button>', html)
    assert f'href="/staff/customers/{customer.id}#payments" class="button button-secondary">Cancel</a>' in html
    assert "payment is" not in html, "a payment of today is not called old"
    assert re.search(r'<a href="/staff/customers/"[^>]*aria-current="page"', html), "the menu says: a customer's page"
    assert not re.search(r'<a href="/staff/payment-methods"[^>]*aria-current', html)
    assert _reversals(session, payment) == [], "nothing is refunded before the confirmation"
    assert session.get(Invoice, first.id).state == "paid"


def test_the_confirmed_submit_refunds_and_the_result_is_on_top_and_focused(
    client, app, session, create_customer, create_invoice, login, staff_login
):
    customer = create_customer(language="en", name="Sanne de Vries")
    create_invoice(customer, number="RC-3")
    login(client, customer)
    payment = _paid_with_demo(client, session, customer, ["RC-3"])
    staff = app.test_client()
    staff_login(staff, "supervisor", language="en")

    url, form, _answer = _first_step(staff, customer, payment, "5,00")
    done = staff.post(url, data={**form, "confirmed": "yes"})
    assert done.status_code == 302
    assert done.headers["Location"] == f"/staff/customers/{customer.id}#messages"
    assert [r.amount_cents for r in _reversals(session, payment)] == [500]
    landing = staff.get(done.headers["Location"]).get_data(as_text=True)
    messages = _messages(landing)
    # Focusable, and focused by the staff pages' script when the address ends in #messages (the browser test).
    assert 'tabindex="-1"' in messages.split(">", 1)[0] and "/static/js/result.js" in landing
    said = r'role="status">Refunded €5.00 to Sanne de Vries\. €5.00 is owed again on invoice RC-3\.'
    assert re.search(said, messages)


def test_a_refund_of_an_old_payment_says_how_old_it_is(
    client, app, session, create_customer, create_invoice, login, staff_login, frozen_clock
):
    customer = create_customer(language="en")
    create_invoice(customer, number="RC-4")
    login(client, customer)
    payment = _paid_with_demo(client, session, customer, ["RC-4"])
    frozen_clock.shift(timedelta(days=335))
    staff = app.test_client()
    staff_login(staff, "supervisor", language="en")

    _url, _form, answer = _first_step(staff, customer, payment, "30,25")
    html = answer.get_data(as_text=True)
    assert "This payment is 11 months old." in html
    assert "Check that this is the payment you mean" in html


def test_an_amount_that_cannot_be_refunded_is_refused_before_the_confirmation(
    client, app, session, create_customer, create_invoice, login, staff_login
):
    customer = create_customer(language="en")
    create_invoice(customer, number="RC-5")
    login(client, customer)
    payment = _paid_with_demo(client, session, customer, ["RC-5"])
    staff = app.test_client()
    staff_login(staff, "supervisor", language="en")
    _url, _form, answer = _first_step(staff, customer, payment, "9999,00")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("#messages")
    messages = _messages(staff.get(answer.headers["Location"]).get_data(as_text=True))
    assert 'role="alert">You can refund at most €30.25.' in messages


def test_a_refusal_by_the_provider_is_an_alert_at_the_top(
    client, app, session, create_customer, create_invoice, login, staff_login
):
    customer = create_customer(language="en")
    create_invoice(customer, number="RC-6")
    login(client, customer)
    payment = _paid_with_demo(client, session, customer, ["RC-6"])
    staff = app.test_client()
    staff_login(staff, "supervisor", language="en")
    url, form, _answer = _first_step(staff, customer, payment, "5,00")
    # The demo provider refuses a refund of a checkout that is no longer paid on its side.
    checkout = session.scalars(select(DemoCheckout).where(DemoCheckout.payment_id == payment.id)).one()
    checkout.status = "failed"
    session.commit()

    refused = staff.post(url, data={**form, "confirmed": "yes"})
    assert refused.headers["Location"].endswith("#messages")
    messages = _messages(staff.get(refused.headers["Location"]).get_data(as_text=True))
    assert 'role="alert">The payment provider refused the refund. Nothing was refunded.' in messages
    assert _reversals(session, payment) == []
