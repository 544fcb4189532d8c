"""Which methods a debtor sees and which is preselected; what staff see and may change."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.clock import now as utcnow
from portal.payments.models import Payment
from tests.fixtures.factories import csrf_token
from tests.payments.conftest import start_payment


def _checked_method(html: str) -> str | None:
    found = re.search(r'name="method" value="(\w+)"[^>]*\bchecked', html)
    return found.group(1) if found else None


def test_a_reminder_link_can_ask_for_a_method(client, create_customer, create_invoice, issue_link):
    customer = create_customer(language="en")
    create_invoice(customer)
    client.get(f"/p/{issue_link(customer).token}?method=creditcard")
    assert _checked_method(client.get("/pay").get_data(as_text=True)) == "creditcard"


def test_the_usual_method_is_preselected(client, session, create_customer, create_invoice, login):
    customer = create_customer(language="en")
    create_invoice(customer)
    session.add(
        Payment(
            public_id="earlier-payment",
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
    assert _checked_method(client.get("/pay").get_data(as_text=True)) == "bancontact"


def test_an_admin_switches_a_method_off_and_debtors_no_longer_see_it(
    client, app, session, create_customer, create_invoice, login, staff_login
):
    staff = app.test_client()
    staff_login(staff, "admin", language="en")
    page = staff.get("/staff/payment-methods").get_data(as_text=True)
    assert "iDEAL" in page
    form = {"csrf_token": csrf_token(staff, "/staff/payment-methods")}
    for method in ("creditcard", "bancontact", "paypal", "directdebit"):
        form[f"enabled-{method}"] = "on"
        form[f"provider-{method}"] = "demo"
    assert staff.post("/staff/payment-methods", data=form).status_code == 302

    customer = create_customer(language="en")
    create_invoice(customer, number="G-1")
    login(client, customer)
    pay_page = client.get("/pay").get_data(as_text=True)
    assert 'value="ideal"' not in pay_page and 'value="creditcard"' in pay_page
    refused = start_payment(client, ["G-1"], method="ideal")
    assert refused.status_code == 400
    assert "not available" in refused.get_data(as_text=True)


def test_a_supervisor_cannot_change_the_methods(client, app, staff_login):
    staff = app.test_client()
    staff_login(staff, "supervisor")
    assert staff.get("/staff/payment-methods").status_code == 403


def test_the_customer_page_tells_the_payment_story(
    client, app, session, create_customer, create_invoice, login, staff_login
):
    customer = create_customer(language="en")
    create_invoice(customer, number="H-1")
    login(client, customer)
    checkout = start_payment(client, ["H-1"]).headers["Location"].removeprefix("http://localhost")
    client.post(f"{checkout}/paid", data={"csrf_token": csrf_token(client, checkout)})
    payment = session.scalars(select(Payment).where(Payment.customer_id == customer.id)).one()

    staff = app.test_client()
    staff_login(staff, "agent", language="en")
    page = staff.get(f"/staff/customers/{customer.id}").get_data(as_text=True)
    payments = page.split('id="payments"')[1].split("</section>")[0]
    assert payment.reference in payments and "Received" in payments
    timeline = page.split('id="timeline"')[1]
    assert "Payment started" in timeline and "Payment received" in timeline


def test_a_webhook_for_a_provider_that_is_not_configured_is_not_found(client):
    assert client.post("/webhooks/stripe", data=b"{}").status_code == 404
    assert client.post("/webhooks/unknown", data=b"{}").status_code == 404


def test_another_customers_payment_page_is_not_found(client, session, create_customer, create_invoice, login):
    owner = create_customer(language="en")
    create_invoice(owner, number="K-1")
    login(client, owner)
    start_payment(client, ["K-1"])
    payment = session.scalars(select(Payment).where(Payment.customer_id == owner.id)).one()
    other = create_customer(language="en")
    login(client, other)
    assert client.get(f"/payments/{payment.public_id}").status_code == 404
