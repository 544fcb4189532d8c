"""Paying the same invoices twice: a new checkout ends the debtor's other open one at the provider, and a
payment that still comes through for invoices already paid is paid back (or kept as credit, as set)."""

from __future__ import annotations

import re
import time
from datetime import timedelta

from sqlalchemy import select

from portal.audit.services import SYSTEM
from portal.invoices.models import Invoice
from portal.notifications.models import OutboxMessage
from portal.payments import checkout, jobs, services
from portal.payments.models import DemoCheckout, Payment
from tests.fixtures.factories import csrf_token
from tests.payments.conftest import start_payment

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _payments(session, customer):
    session.expire_all()
    return session.scalars(select(Payment).where(Payment.customer_id == customer.id).order_by(Payment.id)).all()


def _two_checkouts(app, session, create_customer, create_invoice, login, before_second=None):
    """The debtor starts with iDEAL, goes back, and starts again with a card, for the same invoice."""
    client = app.test_client()
    customer = create_customer(language="en", email="sam@example.com")
    invoice = create_invoice(customer, number="D-1")
    login(client, customer)
    assert start_payment(client, ["D-1"], method="ideal").status_code == 303
    [first] = _payments(session, customer)
    if before_second is not None:
        before_second(first)
    assert start_payment(client, ["D-1"], method="creditcard").status_code == 303
    first, second = _payments(session, customer)
    return client, customer, invoice, first, second


def _mails(session, customer, template):
    return session.scalars(
        select(OutboxMessage).where(OutboxMessage.customer_id == customer.id, OutboxMessage.template == template)
    ).all()


def _choose_credit(app, staff_login):
    """An administrator sets the policy to credit on the Settings page."""
    admin = app.test_client()
    staff_login(admin, "admin", language="en")
    page = admin.get("/staff/settings/").get_data(as_text=True)
    assert "When invoices are paid twice" in page
    token = csrf_token(admin, "/staff/settings/")
    saved = admin.post(
        "/staff/settings/payments", data={"minimum_EUR": "10.00", "paid_twice": "credit", "csrf_token": token}
    )
    assert saved.status_code == 302
    shown = admin.get("/staff/settings/").get_data(as_text=True)
    assert re.search(r'<input checked[^>]*value="credit"', shown), "the page shows the choice in force"


# -- Mollie ------------------------------------------------------------------------------------------------


def test_mollie_a_new_checkout_cancels_the_other_open_one(
    mollie_app, session, mollie_standin, create_customer, create_invoice, login
):
    client, _customer, invoice, first, second = _two_checkouts(
        mollie_app, session, create_customer, create_invoice, login
    )
    assert ("DELETE", f"/v2/payments/{first.external_id}") in [(r[0], r[1]) for r in mollie_standin.requests]
    assert mollie_standin.payment(first.external_id)["status"] == "canceled"
    assert first.state == "cancelled"
    assert second.state == "open" and mollie_standin.payment(second.external_id)["status"] == "open"

    mollie_standin.set_status(second.external_id, "paid")
    client.post("/webhooks/mollie", data=mollie_standin.webhook_body(second.external_id), headers=FORM)
    session.expire_all()
    assert session.get(Invoice, invoice.id).state == "paid"


def _mollie_first_past_cancelling(mollie_standin):
    # The debtor got as far as their bank with iDEAL: Mollie no longer lets it be cancelled.
    return lambda first: mollie_standin.set_status(first.external_id, "pending")


def test_mollie_a_late_second_payment_is_paid_back_and_the_debtor_is_told(
    mollie_app, session, mollie_standin, create_customer, create_invoice, login
):
    client, customer, invoice, first, second = _two_checkouts(
        mollie_app, session, create_customer, create_invoice, login, _mollie_first_past_cancelling(mollie_standin)
    )
    assert first.state == "pending", "the refusal was logged and the new checkout opened anyway"
    for payment in (second, first):  # the card payment first, then the iDEAL one lands too
        mollie_standin.set_status(payment.external_id, "paid")
        answer = client.post("/webhooks/mollie", data=mollie_standin.webhook_body(payment.external_id), headers=FORM)
        assert answer.status_code == 200

    session.expire_all()
    assert session.get(Invoice, invoice.id).state == "paid"
    late = session.get(Payment, first.id)
    assert late.reversed_cents == invoice.total_cents and late.unallocated_cents == 0
    refunds = [r for r in mollie_standin.requests if r[0] == "POST" and r[1].endswith("/refunds")]
    assert len(refunds) == 1 and refunds[0][1] == f"/v2/payments/{first.external_id}/refunds"
    assert refunds[0][3]["Idempotency-Key"] == f"payment-{first.id}-paid-twice"
    assert _mails(session, customer, "payment_refunded") == [], "the paid-twice notice tells it; no second e-mail"

    [notice] = _mails(session, customer, "payment_paid_twice")
    assert "paying" in notice.subject and "back" in notice.subject
    assert "These invoices had already been paid" in notice.body_text
    assert "We are paying €" in notice.body_text and "back to you" in notice.body_text
    assert _mails(session, customer, "payment_receipt") and len(_mails(session, customer, "payment_receipt")) == 1
    page = _text(client.get(f"/payments/{first.public_id}").get_data(as_text=True))
    assert "You paid twice" in page and "We are paying" in page


def test_mollie_with_the_setting_on_credit_a_late_second_payment_is_kept_as_credit(
    mollie_app, session, mollie_standin, create_customer, create_invoice, login, staff_login
):
    _choose_credit(mollie_app, staff_login)
    client, customer, invoice, first, second = _two_checkouts(
        mollie_app, session, create_customer, create_invoice, login, _mollie_first_past_cancelling(mollie_standin)
    )
    for payment in (second, first):
        mollie_standin.set_status(payment.external_id, "paid")
        client.post("/webhooks/mollie", data=mollie_standin.webhook_body(payment.external_id), headers=FORM)

    session.expire_all()
    late = session.get(Payment, first.id)
    assert late.reversed_cents == 0 and late.unallocated_cents == invoice.total_cents
    assert not [r for r in mollie_standin.requests if r[1].endswith("/refunds")]
    [notice] = _mails(session, customer, "payment_paid_twice")
    assert "We keep €" in notice.body_text and "as credit on your account" in notice.body_text
    page = _text(client.get(f"/payments/{first.public_id}").get_data(as_text=True))
    assert "You paid twice" in page and "as credit on your account" in page


# -- Stripe ------------------------------------------------------------------------------------------------


def _stripe_paid(client, stripe_standin, payment):
    completed = stripe_standin.complete(payment.external_id)
    body, headers = stripe_standin.event("checkout.session.completed", completed)
    assert client.post("/webhooks/stripe", data=body, headers=headers).status_code == 200


def test_stripe_a_new_checkout_expires_the_other_open_one(
    stripe_app, session, stripe_standin, create_customer, create_invoice, login
):
    client, _customer, invoice, first, second = _two_checkouts(
        stripe_app, session, create_customer, create_invoice, login
    )
    expired = [r for r in stripe_standin.requests if r[1] == f"/v1/checkout/sessions/{first.external_id}/expire"]
    assert len(expired) == 1
    assert stripe_standin.sessions[first.external_id]["status"] == "expired"
    assert first.state == "expired" and second.state == "open"
    _stripe_paid(client, stripe_standin, second)
    session.expire_all()
    assert session.get(Invoice, invoice.id).state == "paid"


def test_stripe_a_late_second_payment_is_paid_back_and_the_debtor_is_told(
    stripe_app, session, stripe_standin, create_customer, create_invoice, login
):
    def past_expiring(first):
        # A bank debit already submitted on Stripe's page: the session is complete, so it cannot be expired.
        stripe_standin.complete(first.external_id, payment_status="unpaid", intent_status="processing")

    client, customer, invoice, first, second = _two_checkouts(
        stripe_app, session, create_customer, create_invoice, login, past_expiring
    )
    assert first.state == "pending"
    _stripe_paid(client, stripe_standin, second)
    _stripe_paid(client, stripe_standin, first)

    session.expire_all()
    assert session.get(Invoice, invoice.id).state == "paid"
    late = session.get(Payment, first.id)
    assert late.reversed_cents == invoice.total_cents
    [refund] = [r for r in stripe_standin.refunds.values()]
    assert refund["payment_intent"] == stripe_standin.sessions[first.external_id]["payment_intent"]
    [notice] = _mails(session, customer, "payment_paid_twice")
    assert "We are paying €" in notice.body_text
    page = _text(client.get(f"/payments/{first.public_id}").get_data(as_text=True))
    assert "You paid twice" in page and "We are paying" in page


def test_stripe_with_the_setting_on_credit_a_late_second_payment_is_kept_as_credit(
    stripe_app, session, stripe_standin, create_customer, create_invoice, login, staff_login
):
    _choose_credit(stripe_app, staff_login)

    def past_expiring(first):
        stripe_standin.complete(first.external_id, payment_status="unpaid", intent_status="processing")

    client, customer, invoice, first, second = _two_checkouts(
        stripe_app, session, create_customer, create_invoice, login, past_expiring
    )
    _stripe_paid(client, stripe_standin, second)
    _stripe_paid(client, stripe_standin, first)
    session.expire_all()
    late = session.get(Payment, first.id)
    assert late.reversed_cents == 0 and late.unallocated_cents == invoice.total_cents
    assert not stripe_standin.refunds
    [notice] = _mails(session, customer, "payment_paid_twice")
    assert "as credit on your account" in notice.body_text


def test_demo_a_new_checkout_cancels_the_other_open_one(app, session, create_customer, create_invoice, login):
    _client, _customer, _invoice, first, second = _two_checkouts(app, session, create_customer, create_invoice, login)
    assert session.get(DemoCheckout, first.external_id).status == "cancelled"
    assert first.state == "cancelled" and second.state == "open"


def test_two_checkouts_started_at_once_leave_the_newer_one_payable(
    app, session, create_customer, create_invoice, login
):
    """Two pay requests at once: each ends the checkouts that began before it, never a newer one, however late
    its ending runs. (Before, the first one's ending, run after the second had begun, cancelled that too.)"""
    _client, _customer, _invoice, first, second = _two_checkouts(app, session, create_customer, create_invoice, login)
    assert services.superseded_checkouts(session, first) == []
    with app.test_request_context():
        checkout._end_superseded_checkouts(session.get(Payment, first.id), SYSTEM)  # the first request's, late
    session.expire_all()
    assert session.get(Payment, second.id).state == "open"
    assert session.get(DemoCheckout, second.external_id).status == "open"


def test_mollie_down_while_cancelling_still_opens_the_new_checkout(
    mollie_app, session, mollie_standin, create_customer, create_invoice, login
):
    client, _customer, _invoice, first, second = _two_checkouts(
        mollie_app, session, create_customer, create_invoice, login, lambda first: mollie_standin.fail_next_of("DELETE")
    )
    assert ("DELETE", f"/v2/payments/{first.external_id}") in [(r[0], r[1]) for r in mollie_standin.requests]
    assert first.state == "open" and mollie_standin.payment(first.external_id)["status"] == "open"
    assert second.state == "open" and second.checkout_url, "the debtor was sent on to the new checkout"


def test_mollie_a_paid_twice_refund_whose_answer_was_lost_is_not_sent_again(
    mollie_app, session, mollie_standin, create_customer, create_invoice, login, frozen_clock
):
    client, customer, invoice, first, second = _two_checkouts(
        mollie_app, session, create_customer, create_invoice, login, _mollie_first_past_cancelling(mollie_standin)
    )
    mollie_standin.set_status(second.external_id, "paid")
    client.post("/webhooks/mollie", data=mollie_standin.webhook_body(second.external_id), headers=FORM)
    mollie_standin.set_status(first.external_id, "paid")
    # Mollie makes the refund, but its answer comes after the portal stopped waiting (1 s).
    mollie_standin.delay_next_of("POST", 1.5)
    client.post("/webhooks/mollie", data=mollie_standin.webhook_body(first.external_id), headers=FORM)
    deadline = time.monotonic() + 10
    while mollie_standin.payment(first.external_id).get("amountRefunded", {}).get("value") in (None, "0.00"):
        assert time.monotonic() < deadline, "the stand-in never made the refund"
        time.sleep(0.02)

    frozen_clock.shift(timedelta(minutes=20))
    jobs.reconcile_payments(mollie_app)
    jobs.reconcile_payments(mollie_app)

    refunds = [r for r in mollie_standin.requests if r[0] == "POST" and r[1].endswith("/refunds")]
    assert len(refunds) == 1, "the debtor is paid back once"
    session.expire_all()
    late = session.get(Payment, first.id)
    assert late.reversed_cents == invoice.total_cents and late.unallocated_cents == 0
    assert late.refund_pending_key is None
    assert len(_mails(session, customer, "payment_paid_twice")) == 1


def test_mollie_a_refused_paid_twice_refund_is_kept_as_credit_and_the_debtor_is_told(
    mollie_app, session, mollie_standin, create_customer, create_invoice, login
):
    client, customer, invoice, first, second = _two_checkouts(
        mollie_app, session, create_customer, create_invoice, login, _mollie_first_past_cancelling(mollie_standin)
    )
    for payment in (second, first):
        mollie_standin.set_status(payment.external_id, "paid")
        if payment is first:
            mollie_standin.fail_next_of("POST", 1, 422)  # Mollie refuses the automatic refund
        client.post("/webhooks/mollie", data=mollie_standin.webhook_body(payment.external_id), headers=FORM)

    session.expire_all()
    late = session.get(Payment, first.id)
    assert late.reversed_cents == 0 and late.unallocated_cents == invoice.total_cents
    announced, corrected = sorted(_mails(session, customer, "payment_paid_twice"), key=lambda mail: mail.id)
    assert "We are paying €" in announced.body_text
    assert "kept as credit" in corrected.subject
    assert "could not pay this money back to you automatically" in corrected.body_text
    assert "We keep €" in corrected.body_text and "as credit on your account" in corrected.body_text
    page = _text(client.get(f"/payments/{first.public_id}").get_data(as_text=True))
    assert "You paid twice" in page and "as credit on your account" in page and "We are paying" not in page


def test_mollie_a_paid_twice_refund_that_fails_later_is_kept_as_credit_and_the_debtor_is_told(
    mollie_app, session, mollie_standin, create_customer, create_invoice, login
):
    client, customer, invoice, first, second = _two_checkouts(
        mollie_app, session, create_customer, create_invoice, login, _mollie_first_past_cancelling(mollie_standin)
    )
    for payment in (second, first):
        mollie_standin.set_status(payment.external_id, "paid")
        client.post("/webhooks/mollie", data=mollie_standin.webhook_body(payment.external_id), headers=FORM)
    session.expire_all()
    [refund] = session.get(Payment, first.id).reversals
    mollie_standin.fail_refund(refund.external_id)  # the debtor's bank sent it back
    client.post("/webhooks/mollie", data=mollie_standin.webhook_body(first.external_id), headers=FORM)

    session.expire_all()
    assert session.get(Payment, first.id).unallocated_cents == invoice.total_cents
    announced, corrected = sorted(_mails(session, customer, "payment_paid_twice"), key=lambda mail: mail.id)
    assert "We are paying €" in announced.body_text
    assert "could not pay this money back to you automatically" in corrected.body_text
    assert "as credit on your account" in corrected.body_text
    page = _text(client.get(f"/payments/{first.public_id}").get_data(as_text=True))
    assert "as credit on your account" in page and "We are paying" not in page


def test_mollie_the_debtor_is_sent_on_to_the_new_checkout_before_the_old_one_is_cancelled(
    mollie_app, session, mollie_standin, create_customer, create_invoice, login
):
    client = mollie_app.test_client()
    customer = create_customer(language="en")
    create_invoice(customer, number="D-9")
    login(client, customer)
    assert start_payment(client, ["D-9"], method="ideal").status_code == 303
    [first] = _payments(session, customer)
    data = {"csrf_token": csrf_token(client, "/pay"), "invoice": ["D-9"], "method": "creditcard"}
    # The answer as the server hands it over, before it is sent and closed.
    answer = client.open("/pay", method="POST", data=data, buffered=False)
    cancels = [r for r in mollie_standin.requests if r[0] == "DELETE"]
    assert answer.status_code == 303 and not cancels, "the redirect does not wait for the old checkout's cancel"
    answer.close()  # sent: now the old checkout is ended
    assert ("DELETE", f"/v2/payments/{first.external_id}") in [(r[0], r[1]) for r in mollie_standin.requests]
    first, second = _payments(session, customer)
    assert first.state == "cancelled" and second.state == "open"
