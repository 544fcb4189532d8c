"""Reversals the provider undoes (a dispute won, a refund that fails, a chargeback reversed) put the invoice back
as paid; and reconciliation asks again about recently paid payments, so a chargeback without a webhook is found."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from portal.events.models import DomainEvent
from portal.invoices.models import Invoice
from portal.payments import jobs
from portal.payments.models import Payment, PaymentAllocation
from tests.payments.conftest import refund_form, start_payment

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _paid(app, session, create_customer, create_invoice, login, pay):
    client = app.test_client()
    customer = create_customer(language="en", email="kim@example.com")
    invoice = create_invoice(customer, number="R-1")
    login(client, customer)
    assert start_payment(client, ["R-1"]).status_code == 303
    payment = session.scalars(select(Payment).where(Payment.customer_id == customer.id)).one()
    pay(client, payment)
    session.expire_all()
    assert session.get(Invoice, invoice.id).state == "paid"
    return client, customer, invoice, payment


def _on_invoice(session, invoice):
    return session.scalar(
        select(func.sum(PaymentAllocation.amount_cents)).where(PaymentAllocation.invoice_id == invoice.id)
    )


def _kinds(session, customer):
    return [e.kind for e in session.scalars(select(DomainEvent).where(DomainEvent.customer_id == customer.id))]


def _assert_paid_again(session, invoice, payment):
    session.expire_all()
    again = session.get(Invoice, invoice.id)
    assert again.state == "paid" and again.paid_at is not None
    assert _on_invoice(session, invoice) == invoice.total_cents, "the allocation is restored"
    assert session.get(Payment, payment.id).reversed_cents == 0


# -- Stripe ------------------------------------------------------------------------------------------------


def _stripe_pay(stripe_standin):
    def pay(client, payment):
        body, headers = stripe_standin.event("checkout.session.completed", stripe_standin.complete(payment.external_id))
        assert client.post("/webhooks/stripe", data=body, headers=headers).status_code == 200

    return pay


def test_a_stripe_dispute_that_is_won_puts_the_invoice_back_as_paid(
    stripe_app, session, stripe_standin, create_customer, create_invoice, login, staff_login
):
    client, customer, invoice, payment = _paid(
        stripe_app, session, create_customer, create_invoice, login, _stripe_pay(stripe_standin)
    )
    dispute = stripe_standin.dispute(payment.external_id, invoice.total_cents)
    body, headers = stripe_standin.event("charge.dispute.created", dispute)
    client.post("/webhooks/stripe", data=body, headers=headers)
    session.expire_all()
    assert session.get(Invoice, invoice.id).state == "open"

    body, headers = stripe_standin.event("charge.dispute.closed", stripe_standin.win_dispute(dispute["id"]))
    for _ in range(2):  # told twice, undone once
        assert client.post("/webhooks/stripe", data=body, headers=headers).status_code == 200
    _assert_paid_again(session, invoice, payment)
    assert _kinds(session, customer).count("payment.chargeback_reversed") == 1

    staff = stripe_app.test_client()
    staff_login(staff, "supervisor", language="en")
    timeline = _text(staff.get(f"/staff/customers/{customer.id}").get_data(as_text=True))
    assert "Chargeback reversed" in timeline
    history = _text(client.get("/invoices/R-1").get_data(as_text=True))
    assert "Your bank reversed this payment on" in history and "counts as paid again" in history


def test_a_stripe_refund_that_fails_after_pending_puts_the_invoice_back_as_paid(
    stripe_app, session, stripe_standin, create_customer, create_invoice, login, staff_login
):
    client, customer, invoice, payment = _paid(
        stripe_app, session, create_customer, create_invoice, login, _stripe_pay(stripe_standin)
    )
    staff = stripe_app.test_client()
    staff_login(staff, "supervisor", language="en")
    page = f"/staff/customers/{customer.id}"
    staff.post(f"{page}/payments/{payment.id}/refund", data=refund_form(staff, page, "5,00"))
    [refund_id] = stripe_standin.refunds
    stripe_standin.set_refund_status(refund_id, "pending")
    session.expire_all()
    assert session.get(Invoice, invoice.id).state == "open"

    failed = stripe_standin.fail_refund(refund_id)
    body, headers = stripe_standin.event("charge.refund.updated", failed)
    assert client.post("/webhooks/stripe", data=body, headers=headers).status_code == 200
    _assert_paid_again(session, invoice, payment)
    assert "payment.refund_failed" in _kinds(session, customer)
    timeline = _text(staff.get(page).get_data(as_text=True))
    assert "Refund did not go through" in timeline


# -- Mollie ------------------------------------------------------------------------------------------------


def _mollie_pay(mollie_standin):
    def pay(client, payment):
        mollie_standin.set_status(payment.external_id, "paid")
        client.post("/webhooks/mollie", data=mollie_standin.webhook_body(payment.external_id), headers=FORM)

    return pay


def test_a_mollie_chargeback_that_is_reversed_puts_the_invoice_back_as_paid(
    mollie_app, session, mollie_standin, create_customer, create_invoice, login
):
    client, customer, invoice, payment = _paid(
        mollie_app, session, create_customer, create_invoice, login, _mollie_pay(mollie_standin)
    )
    body = mollie_standin.webhook_body(payment.external_id)
    chargeback = mollie_standin.add_chargeback(payment.external_id, invoice.total_cents)
    client.post("/webhooks/mollie", data=body, headers=FORM)
    session.expire_all()
    assert session.get(Invoice, invoice.id).state == "open"

    mollie_standin.reverse_chargeback(chargeback)
    for _ in range(2):
        client.post("/webhooks/mollie", data=body, headers=FORM)
    _assert_paid_again(session, invoice, payment)
    assert _kinds(session, customer).count("payment.chargeback_reversed") == 1
    overview = _text(client.get("/overview").get_data(as_text=True))
    assert "Open invoices" not in overview


def test_a_mollie_refund_that_fails_puts_the_invoice_back_as_paid(
    mollie_app, session, mollie_standin, create_customer, create_invoice, login, staff_login
):
    client, customer, invoice, payment = _paid(
        mollie_app, session, create_customer, create_invoice, login, _mollie_pay(mollie_standin)
    )
    staff = mollie_app.test_client()
    staff_login(staff, "supervisor", language="en")
    page = f"/staff/customers/{customer.id}"
    staff.post(f"{page}/payments/{payment.id}/refund", data=refund_form(staff, page, "5,00"))
    session.expire_all()
    [reversal] = session.get(Payment, payment.id).reversals
    mollie_standin.fail_refund(reversal.external_id)
    client.post("/webhooks/mollie", data=mollie_standin.webhook_body(payment.external_id), headers=FORM)
    _assert_paid_again(session, invoice, payment)
    assert session.get(Payment, payment.id).refundable_cents == invoice.total_cents, "it can be refunded again"


def test_reconciliation_finds_a_chargeback_whose_webhook_never_came(
    mollie_app, session, mollie_standin, create_customer, create_invoice, login, frozen_clock
):
    client, customer, invoice, payment = _paid(
        mollie_app, session, create_customer, create_invoice, login, _mollie_pay(mollie_standin)
    )
    mollie_standin.add_chargeback(payment.external_id, invoice.total_cents)  # and no webhook arrives
    session.commit()
    frozen_clock.shift(timedelta(days=20))
    assert jobs.reconcile_payments(mollie_app) >= 1
    session.expire_all()
    assert session.get(Invoice, invoice.id).state == "open"
    assert session.get(Payment, payment.id).reversed_cents == invoice.total_cents
    overview = _text(client.get("/overview").get_data(as_text=True))
    assert "Your bank reversed this payment on" in overview


def test_reconciliation_rechecks_paid_payments_oldest_checked_first_in_bounded_batches(
    mollie_app, session, mollie_standin, create_customer, create_invoice, login, frozen_clock, monkeypatch
):
    paid = []
    for number in ("B-1", "B-2", "B-3"):
        client = mollie_app.test_client()
        customer = create_customer()
        create_invoice(customer, number=number)
        login(client, customer)
        start_payment(client, [number])
        payment = session.scalars(select(Payment).where(Payment.customer_id == customer.id)).one()
        _mollie_pay(mollie_standin)(client, payment)
        paid.append(payment.external_id)
    session.commit()
    monkeypatch.setattr(jobs, "RECHECK_PAID_BATCH", 2)

    def asked() -> list[str]:
        seen = [r[1].removeprefix("/v2/payments/") for r in mollie_standin.requests if r[0] == "GET"]
        mollie_standin.requests.clear()
        return [external_id for external_id in seen if external_id in paid]

    asked()
    frozen_clock.shift(timedelta(days=1))
    jobs.reconcile_payments(mollie_app)
    first_run = asked()
    frozen_clock.shift(timedelta(days=1))
    jobs.reconcile_payments(mollie_app)
    second_run = asked()
    assert len(first_run) == 2 and len(second_run) == 2
    assert set(first_run) | set(second_run) == set(paid), "every payment gets its turn"
    assert (set(paid) - set(first_run)) <= set(second_run)
    frozen_clock.shift(timedelta(days=200))
    jobs.reconcile_payments(mollie_app)
    assert asked() == [], "payments paid long ago are left alone"


def test_paid_payments_whose_check_always_fails_do_not_keep_the_others_from_being_rechecked(
    mollie_app, session, mollie_standin, create_customer, create_invoice, login, frozen_clock, monkeypatch
):
    payments = []
    for number in ("F-1", "F-2", "G-1", "G-2"):
        client = mollie_app.test_client()
        customer = create_customer()
        create_invoice(customer, number=number)
        login(client, customer)
        start_payment(client, [number])
        payment = session.scalars(select(Payment).where(Payment.customer_id == customer.id)).one()
        _mollie_pay(mollie_standin)(client, payment)
        payments.append(payment)
        frozen_clock.shift(timedelta(minutes=1))  # F-1 and F-2 were checked longest ago
    for failing in payments[:2]:
        # Mollie no longer knows these (another account's, say): every check is refused.
        failing = session.get(Payment, failing.id)
        failing.external_id = f"tr_gone{failing.id}"
    session.commit()
    healthy = [payment.external_id for payment in payments[2:]]
    monkeypatch.setattr(jobs, "RECHECK_PAID_BATCH", 2)
    mollie_standin.requests.clear()

    for _ in range(3):
        frozen_clock.shift(timedelta(days=1))
        jobs.reconcile_payments(mollie_app)
    asked = {r[1].removeprefix("/v2/payments/").split("/")[0] for r in mollie_standin.requests if r[0] == "GET"}
    assert set(healthy) <= asked, "the others are still rechecked"


def test_paid_payments_whose_answer_is_always_ignored_do_not_keep_the_others_from_being_rechecked(
    mollie_app, session, mollie_standin, create_customer, create_invoice, login, frozen_clock, monkeypatch
):
    payments = []
    for number in ("H-1", "H-2", "K-1", "K-2"):
        client = mollie_app.test_client()
        customer = create_customer()
        create_invoice(customer, number=number)
        login(client, customer)
        start_payment(client, [number])
        payment = session.scalars(select(Payment).where(Payment.customer_id == customer.id)).one()
        _mollie_pay(mollie_standin)(client, payment)
        payments.append(payment)
        frozen_clock.shift(timedelta(minutes=1))  # H-1 and H-2 were checked longest ago
    for ignored in payments[:2]:
        # Mollie's payment names another payment of ours (a mix-up on its side): the answer is ignored.
        mollie_standin.set_metadata(ignored.external_id, {"payment_id": 999999})
    healthy = [payment.external_id for payment in payments[2:]]
    monkeypatch.setattr(jobs, "RECHECK_PAID_BATCH", 2)
    mollie_standin.requests.clear()

    for _ in range(3):
        frozen_clock.shift(timedelta(days=1))
        jobs.reconcile_payments(mollie_app)
    asked = {r[1].removeprefix("/v2/payments/").split("/")[0] for r in mollie_standin.requests if r[0] == "GET"}
    assert set(healthy) <= asked, "the others are still rechecked"
