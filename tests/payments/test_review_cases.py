"""Edge cases around refunds, foreign payments, reversals and the status page that a happy path never meets."""

from __future__ import annotations

import re
from html import unescape

from mollie.api.client import Client
from sqlalchemy import select

from portal.audit.services import SYSTEM
from portal.clock import now as utcnow
from portal.invoices.models import Invoice
from portal.notifications.models import OutboxMessage
from portal.payments import allocation
from portal.payments.models import Payment, PaymentItem, PaymentReversal
from tests.fixtures.factories import csrf_token
from tests.payments.conftest import refund_form, start_payment

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _text(page: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _paid_with_demo(client, session, customer, numbers):
    checkout = start_payment(client, numbers).headers["Location"].removeprefix("http://localhost")
    client.post(f"{checkout}/paid", data={"csrf_token": csrf_token(client, checkout)})
    return session.scalars(select(Payment).where(Payment.customer_id == customer.id)).one()


def test_pressing_refund_twice_refunds_once_and_the_second_answer_says_what_the_first_did(
    client, app, session, create_customer, create_invoice, login, staff_login
):
    customer = create_customer(language="en", email="ria@example.com")
    create_invoice(customer, number="R-1")
    login(client, customer)
    payment = _paid_with_demo(client, session, customer, ["R-1"])
    staff = app.test_client()
    staff_login(staff, "supervisor", language="en")
    page = f"/staff/customers/{customer.id}"
    html = staff.get(page).get_data(as_text=True)
    form = {
        "csrf_token": csrf_token(staff, page),
        "request_id": re.search(r'name="request_id" value="(\w+)"', html).group(1),
        "amount": "5,00",
        "confirmed": "yes",  # as sent from the confirmation page
    }
    url = f"/staff/customers/{customer.id}/payments/{payment.id}/refund"
    answers = []
    for _ in range(2):  # the same form sent twice, as a double click (or the back button) does
        assert staff.post(url, data=form).status_code == 302
        answers.append(_text(staff.get(page).get_data(as_text=True)))
    # The browser shows the second answer only: it must tell the staff member what the refund did, not "already".
    for answer in answers:
        assert f"Refunded €5.00 to {customer.name}. €5.00 is owed again on invoice R-1." in answer
        assert "already been made" not in answer
    session.expire_all()
    reversals = session.scalars(select(PaymentReversal).where(PaymentReversal.payment_id == payment.id)).all()
    assert [r.amount_cents for r in reversals] == [500]
    told = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.customer_id == customer.id, OutboxMessage.template == "payment_refunded"
        )
    ).all()
    assert len(told) == 1, "the debtor is told once"


def test_a_refund_whose_answer_was_lost_is_repeated_not_doubled(
    stripe_app, session, stripe_standin, create_customer, create_invoice, login, staff_login
):
    client = stripe_app.test_client()
    customer = create_customer(language="en")
    create_invoice(customer, number="R-2")
    login(client, customer)
    start_payment(client, ["R-2"])
    payment = session.scalars(select(Payment).where(Payment.customer_id == customer.id)).one()
    stripe_standin.complete(payment.external_id)
    client.get(f"/payments/{payment.public_id}")

    staff = stripe_app.test_client()
    staff_login(staff, "supervisor", language="en")
    page = f"/staff/customers/{customer.id}"
    url = f"/staff/customers/{customer.id}/payments/{payment.id}/refund"
    stripe_standin.delay_next(3)  # Stripe makes the refund, but its answer comes after our 1 s time-out
    staff.post(url, data=refund_form(staff, page, "5,00"))
    assert "do not know yet" in staff.get(page).get_data(as_text=True)
    # Pressing Refund again repeats the same request, whatever amount is in the box now.
    staff.post(url, data=refund_form(staff, page, "7,00"))
    session.expire_all()
    assert len(stripe_standin.refunds) == 1
    refreshed = session.get(Payment, payment.id)
    assert refreshed.reversed_cents == 500 and len(refreshed.reversals) == 1


def test_a_provider_payment_of_someone_else_cannot_settle_ours(
    mollie_app, session, mollie_standin, create_customer, create_invoice, login
):
    client = mollie_app.test_client()
    customer = create_customer(language="en")
    invoice = create_invoice(customer, number="R-3")
    login(client, customer)
    start_payment(client, ["R-3"])
    payment = session.scalars(select(Payment).where(Payment.customer_id == customer.id)).one()
    # Another shop on the same Mollie account happens to use the same metadata key.
    other = Client(api_endpoint=mollie_standin.api_endpoint)
    other.set_api_key(mollie_standin.api_key)
    foreign = other.payments.create(
        {
            "amount": {"currency": "EUR", "value": "1.00"},
            "description": "Someone else's order",
            "redirectUrl": "https://shop.example/return",
            "metadata": {"payment_id": payment.id},
        }
    )
    mollie_standin.set_status(foreign.id, "paid")
    assert (
        client.post("/webhooks/mollie", data=mollie_standin.webhook_body(foreign.id), headers=FORM).status_code == 200
    )
    session.expire_all()
    assert session.get(Payment, payment.id).state == "open"
    assert session.get(Invoice, invoice.id).paid_cents == 0


def test_a_chargeback_on_an_invoice_the_billing_system_marked_paid_reopens_only_what_it_takes(
    session, create_customer, create_invoice
):
    customer = create_customer()
    invoice = create_invoice(customer)
    payment = Payment(
        public_id="billing-paid",
        customer_id=customer.id,
        provider="demo",
        method="ideal",
        state="paid",
        currency="EUR",
        amount_cents=1000,
        received_cents=1000,
    )
    payment.items = [PaymentItem(invoice_id=invoice.id, position=0, outstanding_cents=invoice.total_cents)]
    session.add(payment)
    session.flush()
    allocation.allocate(session, payment, utcnow(), actor=SYSTEM)
    invoice.state = "paid"  # the rest came in by bank transfer; the billing system says paid
    reversal = PaymentReversal(payment=payment, external_id="chb_1", kind="chargeback", amount_cents=1000)
    session.add(reversal)
    session.flush()
    allocation.reverse(session, payment, reversal, utcnow())
    assert invoice.state == "open"
    assert invoice.outstanding_cents == 1000


def test_the_return_page_without_the_portal_session_tells_only_the_outcome(
    client, app, session, create_customer, create_invoice, login
):
    customer = create_customer(language="en", name="Private Person", email="private@example.com")
    create_invoice(customer, number="R-5")
    login(client, customer)
    payment = _paid_with_demo(client, session, customer, ["R-5"])
    stranger = app.test_client()  # a banking app's own browser
    page = stranger.get(f"/payments/{payment.public_id}").get_data(as_text=True)
    assert "Thank you!" in page and payment.reference in page
    assert "Private Person" not in page and "private@example.com" not in page and "R-5" not in page


def test_the_poller_answers_no_content_until_the_state_changes(client, session, create_customer, create_invoice, login):
    customer = create_customer(language="en")
    create_invoice(customer, number="R-6")
    login(client, customer)
    start_payment(client, ["R-6"])
    payment = session.scalars(select(Payment).where(Payment.customer_id == customer.id)).one()
    url = f"/payments/{payment.public_id}?seen=open"
    assert client.get(url, headers={"HX-Request": "true"}).status_code == 204
    checkout = payment.checkout_url.removeprefix("http://localhost")
    client.post(f"{checkout}/paid", data={"csrf_token": csrf_token(client, checkout)})
    changed = client.get(url, headers={"HX-Request": "true"})
    assert changed.headers.get("HX-Refresh") == "true"


def test_a_webhook_the_provider_refuses_to_explain_is_acknowledged(
    mollie_app, session, mollie_standin, create_customer, create_invoice, login
):
    client = mollie_app.test_client()
    customer = create_customer(language="en")
    create_invoice(customer, number="R-7")
    login(client, customer)
    start_payment(client, ["R-7"])
    payment = session.scalars(select(Payment).where(Payment.customer_id == customer.id)).one()
    mollie_standin.fail_next(1, status=404)
    body = mollie_standin.webhook_body(payment.external_id)
    assert client.post("/webhooks/mollie", data=body, headers=FORM).status_code == 200
