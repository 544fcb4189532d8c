"""Switching to direct debit through Mollie and Stripe, against the stand-ins with the real SDKs: the first
payment's account becomes the mandate's (Mollie's consumerAccount; Stripe tells only the last four digits), and
the provider's mandate id is kept for the recurring debits."""

from __future__ import annotations

from datetime import UTC, date, datetime

import time_machine
from sqlalchemy import select

from portal.debits.models import DebitSchedule, Mandate
from portal.payments.models import Payment
from tests.fixtures.factories import csrf_token

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
ON_THE_FIRST = datetime(2026, 12, 1, 9, tzinfo=UTC)


def _switch_on_day_15(client, session, create_invoice, login, customer) -> Payment:
    """The debtor picks day 15 and pays December's invoice as the first payment; returns that payment."""
    invoice = create_invoice(
        customer,
        issue_date=date(2026, 11, 25),
        due_date=date(2026, 12, 9),
        period_start=date(2026, 12, 1),
        period_end=date(2026, 12, 31),
    )
    login(client, customer)
    token = csrf_token(client, "/debits/switch")
    started = client.post("/debits/switch", data={"csrf_token": token, "invoice": invoice.number, "day": "15"})
    assert started.status_code == 303, started.get_data(as_text=True)
    return session.scalars(select(Payment).where(Payment.customer_id == customer.id)).one()


def _mandate_of(session, customer) -> Mandate:
    session.expire_all()
    [mandate] = session.scalars(select(Mandate).where(Mandate.customer_id == customer.id)).all()
    return mandate


def test_a_mollie_first_payment_sets_up_the_mandate_on_the_payers_account(
    mollie_app, session, mollie_standin, create_customer, create_invoice, login
) -> None:
    client = mollie_app.test_client()
    customer = create_customer(external_ref="C-7101", language="nl")
    with time_machine.travel(ON_THE_FIRST, tick=False):
        payment = _switch_on_day_15(client, session, create_invoice, login, customer)
        assert mollie_standin.payment(payment.external_id)["sequenceType"] == "first"

        mollie_standin.set_status(payment.external_id, "paid", consumerAccount="NL91ABNA0417164300")
        client.post("/webhooks/mollie", data=mollie_standin.webhook_body(payment.external_id), headers=FORM)

    mandate = _mandate_of(session, customer)
    assert (mandate.collector, mandate.iban, mandate.status) == ("mollie", "NL91ABNA0417164300", "active")
    assert mandate.provider_mandate_id == mollie_standin.payment(payment.external_id)["mandateId"]
    schedule = session.scalars(select(DebitSchedule).where(DebitSchedule.mandate_id == mandate.id)).one()
    assert (schedule.day_of_month, schedule.first_period) == (15, "2027-01")


def test_a_stripe_first_payment_sets_up_the_mandate_stripe_holds(
    stripe_app, session, stripe_standin, create_customer, create_invoice, login
) -> None:
    """Stripe keeps the IBAN to itself: the mandate shows its country and last four digits, and Stripe collects."""
    client = stripe_app.test_client()
    customer = create_customer(external_ref="C-7102", language="en")
    with time_machine.travel(ON_THE_FIRST, tick=False):
        payment = _switch_on_day_15(client, session, create_invoice, login, customer)
        completed = stripe_standin.complete(payment.external_id)
        body, headers = stripe_standin.event("checkout.session.completed", completed)
        assert client.post("/webhooks/stripe", data=body, headers=headers).status_code == 200
        done = client.get(f"/debits/switch/{payment.public_id}").get_data(as_text=True)

    mandate = _mandate_of(session, customer)
    assert (mandate.collector, mandate.iban, mandate.masked_iban) == ("stripe", "", "NL** **** 4300")
    assert mandate.provider_mandate_id == session.get(Payment, payment.id).mandate_reference
    assert "NL** **** 4300" in done
