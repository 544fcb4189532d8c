"""Paying through Stripe Checkout: the real SDK against the local stand-in, webhooks signed for real."""

from __future__ import annotations

import json

from sqlalchemy import select

from portal.invoices.models import Invoice
from portal.notifications.models import OutboxMessage
from portal.payments.models import Payment, PaymentAllocation
from tests.fixtures.factories import csrf_token
from tests.payments.conftest import local_path, refund_form, start_payment


def _paid_setup(stripe_app, session, stripe_standin, create_customer, create_invoice, login):
    client = stripe_app.test_client()
    customer = create_customer(language="en", email="bo@example.com")
    first = create_invoice(customer, number="S-1")
    second = create_invoice(customer, number="S-2")
    login(client, customer)
    started = start_payment(client, ["S-1", "S-2"])
    assert started.status_code == 303
    payment = session.scalars(select(Payment).where(Payment.customer_id == customer.id)).one()
    assert started.headers["Location"] == stripe_standin.sessions[payment.external_id]["url"]
    return client, customer, first, second, payment


def test_a_signed_webhook_settles_both_invoices_once(
    stripe_app, session, stripe_standin, create_customer, create_invoice, login
):
    client, customer, first, second, payment = _paid_setup(
        stripe_app, session, stripe_standin, create_customer, create_invoice, login
    )
    sent = [r for r in stripe_standin.requests if r[0] == "POST" and r[1] == "/v1/checkout/sessions"]
    assert sent[0][2]["line_items"][0]["price_data"]["unit_amount"] == str(first.total_cents + second.total_cents)
    assert sent[0][2]["payment_method_types"] == ["ideal"]
    assert sent[0][3]["idempotency-key"] == f"payment-{payment.id}"

    completed = stripe_standin.complete(payment.external_id)
    body, headers = stripe_standin.event("checkout.session.completed", completed)
    for _ in range(3):  # Stripe delivers at least once; duplicates must not count twice
        assert client.post("/webhooks/stripe", data=body, headers=headers).status_code == 200

    session.expire_all()
    assert {session.get(Invoice, i.id).state for i in (first, second)} == {"paid"}
    allocations = session.scalars(select(PaymentAllocation).where(PaymentAllocation.payment_id == payment.id)).all()
    assert sorted(a.amount_cents for a in allocations) == sorted([first.total_cents, second.total_cents])
    receipts = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.customer_id == customer.id, OutboxMessage.template == "payment_receipt"
        )
    ).all()
    assert len(receipts) == 1

    status = client.get(local_path(f"http://localhost/payments/{payment.public_id}"))
    assert "Thank you" in status.get_data(as_text=True)


def test_a_tampered_webhook_is_refused_and_changes_nothing(
    stripe_app, session, stripe_standin, create_customer, create_invoice, login
):
    client, _customer, first, _second, payment = _paid_setup(
        stripe_app, session, stripe_standin, create_customer, create_invoice, login
    )
    completed = stripe_standin.complete(payment.external_id)
    body, headers = stripe_standin.event("checkout.session.completed", completed, secret="whsec_wrong")
    assert client.post("/webhooks/stripe", data=body, headers=headers).status_code == 400
    body, headers = stripe_standin.event("checkout.session.completed", completed)
    tampered = body.replace(b'"livemode": false', b'"livemode": true')
    assert client.post("/webhooks/stripe", data=tampered, headers=headers).status_code == 400
    session.expire_all()
    assert session.get(Invoice, first.id).state == "open"


def test_the_return_page_alone_confirms_when_no_webhook_comes(
    stripe_app, session, stripe_standin, create_customer, create_invoice, login
):
    client, _customer, first, _second, payment = _paid_setup(
        stripe_app, session, stripe_standin, create_customer, create_invoice, login
    )
    stripe_standin.complete(payment.external_id)
    done = client.get(f"/payments/{payment.public_id}").get_data(as_text=True)
    assert "Thank you" in done
    session.expire_all()
    assert session.get(Invoice, first.id).state == "paid"


def test_sepa_debit_stays_pending_until_the_money_arrives(
    stripe_app, session, stripe_standin, create_customer, create_invoice, login
):
    client = stripe_app.test_client()
    customer = create_customer(language="en")
    invoice = create_invoice(customer, number="S-9")
    login(client, customer)
    start_payment(client, ["S-9"], method="directdebit")
    payment = session.scalars(select(Payment).where(Payment.customer_id == customer.id)).one()
    processing = stripe_standin.complete(payment.external_id, payment_status="unpaid", intent_status="processing")
    body, headers = stripe_standin.event("checkout.session.completed", processing)
    client.post("/webhooks/stripe", data=body, headers=headers)
    session.expire_all()
    assert session.get(Payment, payment.id).state == "pending"
    assert session.get(Invoice, invoice.id).state == "open"
    assert "Your bank is processing the payment" in client.get(f"/payments/{payment.public_id}").get_data(as_text=True)

    succeeded = stripe_standin.complete(payment.external_id, payment_status="paid", intent_status="succeeded")
    body, headers = stripe_standin.event("checkout.session.async_payment_succeeded", succeeded)
    client.post("/webhooks/stripe", data=body, headers=headers)
    session.expire_all()
    assert session.get(Invoice, invoice.id).state == "paid"


def test_a_dispute_reopens_the_invoices_once(
    stripe_app, session, stripe_standin, create_customer, create_invoice, login
):
    client, _customer, first, second, payment = _paid_setup(
        stripe_app, session, stripe_standin, create_customer, create_invoice, login
    )
    stripe_standin.complete(payment.external_id)
    client.get(f"/payments/{payment.public_id}")
    dispute = stripe_standin.dispute(payment.external_id, second.total_cents)
    body, headers = stripe_standin.event("charge.dispute.created", dispute)
    for _ in range(2):
        assert client.post("/webhooks/stripe", data=body, headers=headers).status_code == 200
    session.expire_all()
    # Money comes off the invoice paid last: the newer one is open again, the older stays paid.
    assert session.get(Invoice, first.id).state == "paid"
    reopened = session.get(Invoice, second.id)
    assert reopened.state == "open" and reopened.paid_cents == 0
    refreshed = session.get(Payment, payment.id)
    assert refreshed.reversed_cents == second.total_cents
    assert [r.kind for r in refreshed.reversals] == ["chargeback"]


def test_a_staff_refund_reopens_the_invoices_and_a_later_webhook_does_not_count_it_again(
    stripe_app, session, stripe_standin, create_customer, create_invoice, login, staff_login
):
    client, customer, first, second, payment = _paid_setup(
        stripe_app, session, stripe_standin, create_customer, create_invoice, login
    )
    stripe_standin.complete(payment.external_id)
    client.get(f"/payments/{payment.public_id}")

    staff = stripe_app.test_client()
    staff_login(staff, "supervisor", language="en")
    page = f"/staff/customers/{customer.id}"
    refund_url = f"/staff/customers/{customer.id}/payments/{payment.id}/refund"
    answer = staff.post(refund_url, data=refund_form(staff, page, "5,00"))
    assert answer.status_code == 302
    assert "Refunded" in staff.get(page).get_data(as_text=True)

    completed = stripe_standin.sessions[payment.external_id]
    body, headers = stripe_standin.event(
        "charge.refunded", {"object": "charge", "payment_intent": completed["payment_intent"]}
    )
    assert client.post("/webhooks/stripe", data=body, headers=headers).status_code == 200
    session.expire_all()
    refreshed = session.get(Payment, payment.id)
    assert refreshed.reversed_cents == 500
    assert len(refreshed.reversals) == 1
    assert session.get(Invoice, second.id).state == "open"
    assert session.get(Invoice, second.id).paid_cents == second.total_cents - 500
    assert session.get(Invoice, first.id).state == "paid"


def test_an_agent_may_not_refund(
    stripe_app, session, stripe_standin, create_customer, create_invoice, login, staff_login
):
    client, customer, _first, _second, payment = _paid_setup(
        stripe_app, session, stripe_standin, create_customer, create_invoice, login
    )
    stripe_standin.complete(payment.external_id)
    client.get(f"/payments/{payment.public_id}")
    staff = stripe_app.test_client()
    staff_login(staff, "agent", language="en")
    page = f"/staff/customers/{customer.id}"
    assert "Refund" not in staff.get(page).get_data(as_text=True).split('id="payments"')[1].split("</section>")[0]
    answer = staff.post(
        f"/staff/customers/{customer.id}/payments/{payment.id}/refund",
        data={"csrf_token": csrf_token(staff, page), "amount": "5,00"},
    )
    assert answer.status_code == 403


def test_stripe_down_means_a_kind_message_and_a_retry_reuses_the_same_checkout(
    stripe_app, session, stripe_standin, create_customer, create_invoice, login
):
    client = stripe_app.test_client()
    customer = create_customer(language="en")
    invoice = create_invoice(customer, number="S-5")
    login(client, customer)
    stripe_standin.fail_next(1, status=500)
    refused = start_payment(client, ["S-5"])
    assert refused.status_code == 503
    assert "Nothing has been paid" in refused.get_data(as_text=True)
    stripe_standin.delay_next(3)  # longer than the 1 s time-out
    slow = start_payment(client, ["S-5"])
    assert slow.status_code == 503
    session.expire_all()
    assert session.get(Invoice, invoice.id).state == "open"

    retried = start_payment(client, ["S-5"])
    assert retried.status_code == 303
    payments = session.scalars(select(Payment).where(Payment.customer_id == customer.id)).all()
    assert len(payments) == 1
    keys = {r[3].get("idempotency-key") for r in stripe_standin.requests if r[1] == "/v1/checkout/sessions"}
    assert keys == {f"payment-{payments[0].id}"}
    assert len(stripe_standin.sessions) == 1
    assert json.loads(json.dumps(stripe_standin.sessions[payments[0].external_id]["metadata"]))["payment_id"] == str(
        payments[0].id
    )
