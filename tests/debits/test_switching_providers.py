"""Switching to direct debit through Mollie and Stripe, against the stand-ins with the real SDKs: the first
payment's account becomes the mandate's (Mollie's consumerAccount; Stripe tells only the last four digits), and
the provider's mandate id is kept for the recurring debits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select

from portal.debits.models import DebitSchedule, Mandate
from portal.payments.models import Payment
from tests.fixtures.factories import csrf_token
from tests.payments.conftest import close_providers

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture()
def mollie_app(make_app: Callable[..., Flask], mollie_standin: Any) -> Iterator[Flask]:
    app = make_app(MOLLIE_API_KEY=mollie_standin.api_key, MOLLIE_API_ENDPOINT=mollie_standin.api_endpoint)
    yield app
    close_providers(app)


def test_a_mollie_first_payment_sets_up_the_mandate_on_the_payers_account(
    mollie_app, session, mollie_standin, create_customer, create_invoice, login
) -> None:
    client = mollie_app.test_client()
    customer = create_customer(external_ref="C-7101", language="nl")
    invoice = create_invoice(
        customer,
        issue_date=date(2026, 11, 25),
        due_date=date(2026, 12, 9),
        period_start=date(2026, 12, 1),
        period_end=date(2026, 12, 31),
    )
    with time_machine.travel(datetime(2026, 12, 1, 9, tzinfo=UTC), tick=False):
        login(client, customer)
        token = csrf_token(client, "/debits/switch")
        started = client.post("/debits/switch", data={"csrf_token": token, "invoice": invoice.number, "day": "15"})
        assert started.status_code == 303, started.get_data(as_text=True)
        payment = session.scalars(select(Payment).where(Payment.customer_id == customer.id)).one()
        assert mollie_standin.payment(payment.external_id)["sequenceType"] == "first"

        mollie_standin.set_status(payment.external_id, "paid", consumerAccount="NL91ABNA0417164300")
        client.post("/webhooks/mollie", data=mollie_standin.webhook_body(payment.external_id), headers=FORM)

    session.expire_all()
    [mandate] = session.scalars(select(Mandate).where(Mandate.customer_id == customer.id)).all()
    assert (mandate.collector, mandate.iban, mandate.status) == ("mollie", "NL91ABNA0417164300", "active")
    assert mandate.provider_mandate_id == mollie_standin.payment(payment.external_id)["mandateId"]
    schedule = session.scalars(select(DebitSchedule).where(DebitSchedule.mandate_id == mandate.id)).one()
    assert (schedule.day_of_month, schedule.first_period) == (15, "2027-01")


@pytest.fixture()
def stripe_app(make_app: Callable[..., Flask], stripe_standin: Any) -> Iterator[Flask]:
    app = make_app(
        STRIPE_SECRET_KEY=stripe_standin.secret_key,
        STRIPE_WEBHOOK_SECRET=stripe_standin.webhook_secret,
        STRIPE_API_BASE=stripe_standin.base_url,
    )
    yield app
    close_providers(app)


def test_a_stripe_first_payment_sets_up_the_mandate_stripe_holds(
    stripe_app, session, stripe_standin, create_customer, create_invoice, login
) -> None:
    """Stripe keeps the IBAN to itself: the mandate shows its country and last four digits, and Stripe collects."""
    client = stripe_app.test_client()
    customer = create_customer(external_ref="C-7102", language="en")
    invoice = create_invoice(
        customer,
        issue_date=date(2026, 11, 25),
        due_date=date(2026, 12, 9),
        period_start=date(2026, 12, 1),
        period_end=date(2026, 12, 31),
    )
    with time_machine.travel(datetime(2026, 12, 1, 9, tzinfo=UTC), tick=False):
        login(client, customer)
        token = csrf_token(client, "/debits/switch")
        started = client.post("/debits/switch", data={"csrf_token": token, "invoice": invoice.number, "day": "15"})
        assert started.status_code == 303, started.get_data(as_text=True)
        payment = session.scalars(select(Payment).where(Payment.customer_id == customer.id)).one()
        completed = stripe_standin.complete(payment.external_id)
        body, headers = stripe_standin.event("checkout.session.completed", completed)
        assert client.post("/webhooks/stripe", data=body, headers=headers).status_code == 200
        done = client.get(f"/debits/switch/{payment.public_id}").get_data(as_text=True)

    session.expire_all()
    [mandate] = session.scalars(select(Mandate).where(Mandate.customer_id == customer.id)).all()
    assert (mandate.collector, mandate.iban, mandate.masked_iban) == ("stripe", "", "NL** **** 4300")
    assert mandate.provider_mandate_id == session.get(Payment, payment.id).mandate_reference
    assert "NL** **** 4300" in done
