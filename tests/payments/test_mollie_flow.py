"""Paying through Mollie: the real SDK against the local stand-in; webhooks only name the payment to re-fetch."""

from __future__ import annotations

from sqlalchemy import select

from portal.invoices.models import Invoice
from portal.payments.models import Payment
from tests.payments.conftest import refund_form, start_payment

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _started(mollie_app, session, create_customer, create_invoice, login, method="ideal", numbers=("M-1", "M-2")):
    client = mollie_app.test_client()
    customer = create_customer(language="nl")
    invoices = [create_invoice(customer, number=number) for number in numbers]
    login(client, customer)
    started = start_payment(client, list(numbers), method=method)
    assert started.status_code == 303, started.get_data(as_text=True)
    payment = session.scalars(select(Payment).where(Payment.customer_id == customer.id)).one()
    return client, invoices, payment, started.headers["Location"]


def test_late_and_repeated_webhooks_settle_once(
    mollie_app, session, mollie_standin, create_customer, create_invoice, login
):
    client, invoices, payment, checkout = _started(mollie_app, session, create_customer, create_invoice, login)
    created = mollie_standin.payment(payment.external_id)
    assert checkout == created["_links"]["checkout"]["href"]
    assert created["amount"] == {"currency": "EUR", "value": f"{sum(i.total_cents for i in invoices) / 100:.2f}"}
    assert created["method"] == "ideal" and created["locale"] == "nl_NL"
    assert created["webhookUrl"] == "http://localhost/webhooks/mollie"

    body = mollie_standin.webhook_body(payment.external_id)
    # A webhook while still open changes nothing (Mollie calls only on changes, but may repeat old news).
    assert client.post("/webhooks/mollie", data=body, headers=FORM).status_code == 200
    session.expire_all()
    assert session.get(Payment, payment.id).state == "open"

    mollie_standin.set_status(payment.external_id, "paid")
    for _ in range(3):
        assert client.post("/webhooks/mollie", data=body, headers=FORM).status_code == 200
    session.expire_all()
    assert all(session.get(Invoice, invoice.id).state == "paid" for invoice in invoices)
    refreshed = session.get(Payment, payment.id)
    assert len(refreshed.allocations) == 2
    # The reference is only on the thank-you page.
    assert refreshed.reference in client.get(f"/payments/{payment.public_id}").get_data(as_text=True)


def test_an_unknown_payment_id_is_acknowledged_and_ignored(mollie_app, mollie_standin, session):
    client = mollie_app.test_client()
    assert client.post("/webhooks/mollie", data=b"id=tr_doesnotexist", headers=FORM).status_code == 200
    assert client.post("/webhooks/mollie", data=b"nothing=here", headers=FORM).status_code == 400


def test_mollie_down_during_a_webhook_asks_for_a_retry_and_the_retry_settles(
    mollie_app, session, mollie_standin, create_customer, create_invoice, login
):
    client, invoices, payment, _checkout = _started(mollie_app, session, create_customer, create_invoice, login)
    mollie_standin.set_status(payment.external_id, "paid")
    mollie_standin.fail_next(1, status=503)
    body = mollie_standin.webhook_body(payment.external_id)
    assert client.post("/webhooks/mollie", data=body, headers=FORM).status_code == 503
    session.expire_all()
    assert session.get(Invoice, invoices[0].id).state == "open"
    assert client.post("/webhooks/mollie", data=body, headers=FORM).status_code == 200
    session.expire_all()
    assert session.get(Invoice, invoices[0].id).state == "paid"


def test_a_chargeback_reopens_what_it_takes_back(
    mollie_app, session, mollie_standin, create_customer, create_invoice, login
):
    client, invoices, payment, _checkout = _started(mollie_app, session, create_customer, create_invoice, login)
    mollie_standin.set_status(payment.external_id, "paid")
    body = mollie_standin.webhook_body(payment.external_id)
    client.post("/webhooks/mollie", data=body, headers=FORM)
    total = sum(invoice.total_cents for invoice in invoices)
    mollie_standin.add_chargeback(payment.external_id, total)
    for _ in range(2):
        client.post("/webhooks/mollie", data=body, headers=FORM)
    session.expire_all()
    assert all(session.get(Invoice, invoice.id).state == "open" for invoice in invoices)
    assert session.get(Payment, payment.id).reversed_cents == total


def test_a_failed_payment_keeps_the_invoices_open(
    mollie_app, session, mollie_standin, create_customer, create_invoice, login
):
    client, invoices, payment, _checkout = _started(mollie_app, session, create_customer, create_invoice, login)
    mollie_standin.set_status(payment.external_id, "failed")
    page = client.get(f"/payments/{payment.public_id}").get_data(as_text=True)
    assert f"/pay?invoice={invoices[0].number}" in page  # the way to try again
    session.expire_all()
    assert session.get(Payment, payment.id).state == "failed"
    assert session.get(Invoice, invoices[0].id).state == "open"


def test_direct_debit_is_a_first_payment_that_sets_up_a_mandate(
    mollie_app, session, mollie_standin, create_customer, create_invoice, login
):
    client, invoices, payment, _checkout = _started(
        mollie_app, session, create_customer, create_invoice, login, method="directdebit", numbers=("M-7",)
    )
    created = mollie_standin.payment(payment.external_id)
    assert created["sequenceType"] == "first"
    assert created["customerId"].startswith("cst_")
    mollie_standin.set_status(payment.external_id, "paid")
    client.post("/webhooks/mollie", data=mollie_standin.webhook_body(payment.external_id), headers=FORM)
    session.expire_all()
    refreshed = session.get(Payment, payment.id)
    assert refreshed.state == "paid"
    assert refreshed.mandate_reference and refreshed.mandate_reference.startswith("mdt_")
    assert session.get(Invoice, invoices[0].id).state == "paid"


def test_a_refund_the_provider_refuses_says_so_and_can_be_tried_again(
    mollie_app, session, mollie_standin, create_customer, create_invoice, login, staff_login
):
    client, invoices, payment, _checkout = _started(mollie_app, session, create_customer, create_invoice, login)
    mollie_standin.set_status(payment.external_id, "paid")
    client.post("/webhooks/mollie", data=mollie_standin.webhook_body(payment.external_id), headers=FORM)
    staff = mollie_app.test_client()
    staff_login(staff, "supervisor", language="en")
    page = f"/staff/customers/{payment.customer_id}"
    url = f"/staff/customers/{payment.customer_id}/payments/{payment.id}/refund"

    mollie_standin.fail_next(1, status=422)  # Mollie says no (the balance is too low, say)
    refused = staff.post(url, data=refund_form(staff, page, "5,00"))
    assert refused.status_code == 302
    assert "refused the refund. Nothing was refunded." in staff.get(page).get_data(as_text=True)
    session.expire_all()
    assert session.get(Payment, payment.id).refund_pending_key is None, "the refused request is not kept"

    staff.post(url, data=refund_form(staff, page, "5,00"))  # a new form, once Mollie accepts again
    session.expire_all()
    assert session.get(Payment, payment.id).reversed_cents == 500
