"""Unsigned webhooks cannot make us call the provider about ids we never created, and the endpoint is rate-limited."""

from __future__ import annotations

import secrets
import string

import pytest
from sqlalchemy import select

from portal.payments.models import Payment
from tests.fixtures.provider_apps import close_providers
from tests.payments.conftest import start_payment

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _unknown_id() -> str:
    return "tr_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(10))


def test_fifty_unknown_mollie_ids_cost_no_call_and_a_known_id_still_syncs(
    mollie_app, session, mollie_standin, create_customer, create_invoice, login
):
    client = mollie_app.test_client()
    for _ in range(50):
        answer = client.post("/webhooks/mollie", data=f"id={_unknown_id()}", headers=FORM)
        assert answer.status_code == 200  # Mollie should stop: it is nothing of ours
    assert mollie_standin.requests == [], "an unknown id never reaches Mollie"

    customer = create_customer()
    create_invoice(customer, number="W-1")
    login(client, customer)
    start_payment(client, ["W-1"])
    payment = session.scalars(select(Payment).where(Payment.customer_id == customer.id)).one()
    mollie_standin.set_status(payment.external_id, "paid")
    mollie_standin.requests.clear()
    assert (
        client.post("/webhooks/mollie", data=mollie_standin.webhook_body(payment.external_id), headers=FORM).status_code
        == 200
    )
    assert [(r[0], r[1]) for r in mollie_standin.requests] == [("GET", f"/v2/payments/{payment.external_id}")]
    session.expire_all()
    assert session.get(Payment, payment.id).state == "paid"


@pytest.fixture()
def limited_app(make_app, mollie_standin):
    app = make_app(
        MOLLIE_API_KEY=mollie_standin.api_key,
        MOLLIE_API_ENDPOINT=mollie_standin.api_endpoint,
        WEBHOOK_RATE_LIMIT="5 per minute",
    )
    yield app
    close_providers(app)


def test_a_flood_of_webhooks_from_one_address_is_answered_429_with_retry_after(limited_app, session):
    client = limited_app.test_client()
    answers = [client.post("/webhooks/mollie", data=f"id={_unknown_id()}", headers=FORM) for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 61  # the rest of the minute, rounded up
    other = limited_app.test_client()
    from_elsewhere = other.post(
        "/webhooks/mollie", data=f"id={_unknown_id()}", headers=FORM, environ_base={"REMOTE_ADDR": "192.0.2.7"}
    )
    assert from_elsewhere.status_code == 200, "the limit is per address"
