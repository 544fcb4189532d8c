"""A refund staff make in the portal is e-mailed to the debtor exactly once, whether the staff request or the
provider's webhook records it first; a chargeback and a second report of the same refund e-mail nothing."""

from __future__ import annotations

import re
import time
from html import unescape

from sqlalchemy import select

from portal.notifications.models import OutboxMessage
from portal.payments.models import Payment, PaymentReversal
from tests.payments.conftest import refund_form, start_payment

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _text(page: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _refund_mails(session, customer) -> list[OutboxMessage]:
    session.expire_all()
    return list(
        session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.customer_id == customer.id, OutboxMessage.template == "payment_refunded"
            )
        )
    )


def _paid_through_mollie(mollie_app, session, mollie_standin, create_customer, create_invoice, login):
    client = mollie_app.test_client()
    customer = create_customer(language="en", email="noor@example.com")
    create_invoice(customer, number="E-1")
    login(client, customer)
    assert start_payment(client, ["E-1"]).status_code == 303
    payment = session.scalars(select(Payment).where(Payment.customer_id == customer.id)).one()
    mollie_standin.set_status(payment.external_id, "paid")
    _webhook(client, mollie_standin, payment)
    return client, customer, payment


def _webhook(client, mollie_standin, payment) -> None:
    body = mollie_standin.webhook_body(payment.external_id)
    assert client.post("/webhooks/mollie", data=body, headers=FORM).status_code == 200


def _reversals(session, payment) -> list[PaymentReversal]:
    session.expire_all()
    return list(session.scalars(select(PaymentReversal).where(PaymentReversal.payment_id == payment.id)))


def test_a_staff_refund_recorded_by_the_staff_request_first_is_emailed_once(
    mollie_app, session, mollie_standin, create_customer, create_invoice, login, staff_login
):
    client, customer, payment = _paid_through_mollie(
        mollie_app, session, mollie_standin, create_customer, create_invoice, login
    )
    staff = mollie_app.test_client()
    supervisor = staff_login(staff, "supervisor", language="en")
    page = f"/staff/customers/{customer.id}"
    url = f"{page}/payments/{payment.id}/refund"
    assert staff.post(url, data=refund_form(staff, page, "5,00")).status_code == 302
    assert len(_refund_mails(session, customer)) == 1

    # The provider reports the same refund afterwards, more than once: a second recording e-mails nothing.
    for _ in range(2):
        _webhook(client, mollie_standin, payment)
    # A chargeback is the debtor's bank's doing: it is explained on their pages, not in a refund e-mail.
    mollie_standin.add_chargeback(payment.external_id, 1000)
    _webhook(client, mollie_standin, payment)

    [told] = _refund_mails(session, customer)
    assert told.subject == "We have paid €5.00 back to you" and "- Invoice E-1: €5.00" in _text(told.body_text)
    assert sorted(r.kind for r in _reversals(session, payment)) == ["chargeback", "refund"]
    [refund] = [r for r in _reversals(session, payment) if r.kind == "refund"]
    assert refund.initiated_by == supervisor.email


def test_a_staff_refund_the_webhook_records_first_is_still_emailed_once(
    mollie_app, session, mollie_standin, create_customer, create_invoice, login, staff_login
):
    client, customer, payment = _paid_through_mollie(
        mollie_app, session, mollie_standin, create_customer, create_invoice, login
    )
    staff = mollie_app.test_client()
    supervisor = staff_login(staff, "supervisor", language="en")
    page = f"/staff/customers/{customer.id}"
    url = f"{page}/payments/{payment.id}/refund"
    # Mollie makes the refund, but its answer comes after the portal stopped waiting (1 s).
    mollie_standin.delay_next_of("POST", 1.5)
    form = refund_form(staff, page, "5,00")
    assert staff.post(url, data=form).status_code == 302
    assert "do not know yet" in staff.get(page).get_data(as_text=True)
    deadline = time.monotonic() + 10
    while mollie_standin.payment(payment.external_id).get("amountRefunded", {}).get("value") in (None, "0.00"):
        assert time.monotonic() < deadline, "the stand-in never made the refund"
        time.sleep(0.02)

    # Mollie's webhook tells us first: the refund is recorded, as the webhook's, with no word of who asked.
    _webhook(client, mollie_standin, payment)
    [recorded] = _reversals(session, payment)
    assert recorded.amount_cents == 500 and recorded.request_key is None
    assert _refund_mails(session, customer) == []

    # Staff press Refund again, as the page asks: the same request, answered with the refund the webhook recorded.
    again = staff.post(url, data=refund_form(staff, page, "5,00"))
    assert again.status_code == 302
    told = _refund_mails(session, customer)
    assert len(told) == 1, "the debtor is told of the refund staff made, though the webhook recorded it"
    assert told[0].recipient == "noor@example.com" and told[0].subject == "We have paid €5.00 back to you"
    assert "- Invoice E-1: €5.00" in _text(told[0].body_text)
    confirmed = _text(staff.get(page).get_data(as_text=True))
    assert "The earlier refund of €5.00 has now been confirmed by the provider." in confirmed

    # Reported and sent again (a late webhook, the first form once more): still one refund, one e-mail.
    _webhook(client, mollie_standin, payment)
    assert staff.post(url, data=form).status_code == 302
    assert f"Refunded €5.00 to {customer.name}." in _text(staff.get(page).get_data(as_text=True))
    assert len(_refund_mails(session, customer)) == 1
    [refund] = _reversals(session, payment)
    assert refund.amount_cents == 500 and refund.initiated_by == supervisor.email
    assert len([r for r in mollie_standin.requests if r[0] == "POST" and r[1].endswith("/refunds")]) == 2
