"""One provider customer per customer: a direct-debit first payment hangs its mandate on the customer record the
provider already keeps for the debtor, and a Stripe first payment saves the SEPA mandate for later debits.

The debtor's own steps (the pay page, the provider's webhook), against the stand-ins through the real SDKs.
"""

from __future__ import annotations

from sqlalchemy import select

from portal.debits.models import ProviderCustomer
from portal.payments.models import Payment
from portal.providers.base import MandateCharge
from portal.providers.registry import get_provider
from tests.fixtures.factories import csrf_token

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _pay_by_direct_debit(session, client, customer, number: str) -> Payment:
    """The debtor picks one invoice and "SEPA direct debit" on the pay page, and is sent to the provider."""
    data = {"csrf_token": csrf_token(client, "/pay"), "invoice": [number], "method": "directdebit"}
    answer = client.post("/pay", data=data)
    assert answer.status_code == 303, answer.get_data(as_text=True)
    session.expire_all()
    return session.scalars(
        select(Payment).where(Payment.customer_id == customer.id).order_by(Payment.id.desc()).limit(1)
    ).one()


def _provider_customers(session, customer) -> list[tuple[str, str]]:
    rows = session.scalars(select(ProviderCustomer).where(ProviderCustomer.customer_id == customer.id))
    return [(row.provider, row.external_id) for row in rows]


def test_mollie_a_second_first_payment_reuses_the_mollie_customer(
    mollie_app, session, mollie_standin, create_customer, create_invoice, login
) -> None:
    client = mollie_app.test_client()
    customer = create_customer(language="nl", email="jan@example.nl")
    create_invoice(customer, number="PC-1")
    create_invoice(customer, number="PC-2")
    login(client, customer)

    first = _pay_by_direct_debit(session, client, customer, "PC-1")
    created = mollie_standin.payment(first.external_id)
    assert created["sequenceType"] == "first"
    assert _provider_customers(session, customer) == [("mollie", created["customerId"])]
    mollie_standin.set_status(first.external_id, "paid")
    client.post("/webhooks/mollie", data=mollie_standin.webhook_body(first.external_id), headers=FORM)
    session.expire_all()
    assert session.get(Payment, first.id).mandate_reference == mollie_standin.payment(first.external_id)["mandateId"]

    second = _pay_by_direct_debit(session, client, customer, "PC-2")

    assert mollie_standin.payment(second.external_id)["customerId"] == created["customerId"]
    assert mollie_standin.customer_count() == 1, "no second Mollie customer"
    assert _provider_customers(session, customer) == [("mollie", created["customerId"])]


def test_stripe_first_payment_saves_the_mandate_on_one_customer_for_later_debits(
    stripe_app, session, stripe_standin, create_customer, create_invoice, login
) -> None:
    client = stripe_app.test_client()
    customer = create_customer(language="en", email="bo@example.com")
    invoice = create_invoice(customer, number="PS-1")
    create_invoice(customer, number="PS-2")
    login(client, customer)

    first = _pay_by_direct_debit(session, client, customer, "PS-1")
    checkout = stripe_standin.sessions[first.external_id]
    [(_, _, form, _)] = [r for r in stripe_standin.requests if r[:2] == ("POST", "/v1/checkout/sessions")]
    assert form["payment_method_types"] == ["sepa_debit"]
    assert form["payment_intent_data"]["setup_future_usage"] == "off_session"
    assert checkout["customer"] in stripe_standin.customers and "customer_email" not in form
    assert _provider_customers(session, customer) == [("stripe", checkout["customer"])]

    completed = stripe_standin.complete(first.external_id)
    body, headers = stripe_standin.event("checkout.session.completed", completed)
    assert client.post("/webhooks/stripe", data=body, headers=headers).status_code == 200
    session.expire_all()
    paid = session.get(Payment, first.id)
    assert paid.state == "paid"
    mandate = stripe_standin.mandates[paid.mandate_reference]
    assert (mandate["status"], mandate["type"]) == ("active", "multi_use"), "saved for off-session debits"

    second = _pay_by_direct_debit(session, client, customer, "PS-2")
    assert stripe_standin.sessions[second.external_id]["customer"] == checkout["customer"]
    assert len(stripe_standin.customers) == 1, "no second Stripe customer"

    # What a switch to direct debit keeps (the customer and the mandate) is enough to collect the next debit.
    with stripe_app.app_context():
        status = get_provider("stripe").charge_mandate(
            MandateCharge(
                payment_id=first.id + 1000,
                amount_cents=invoice.total_cents,
                currency="EUR",
                description="PS-3",
                provider_customer_id=checkout["customer"],
                provider_mandate_id=paid.mandate_reference,
                idempotency_key="debit-test-1",
            )
        )
    assert status.state == "pending" and status.external_id.startswith("pi_")
    assert status.mandate_reference == paid.mandate_reference


def test_stripe_card_checkout_keeps_prefilling_the_email_without_a_customer(
    stripe_app, session, stripe_standin, create_customer, create_invoice, login
) -> None:
    client = stripe_app.test_client()
    customer = create_customer(language="en", email="card@example.com")
    create_invoice(customer, number="PS-9")
    login(client, customer)
    data = {"csrf_token": csrf_token(client, "/pay"), "invoice": ["PS-9"], "method": "creditcard"}
    assert client.post("/pay", data=data).status_code == 303
    [(_, _, form, _)] = [r for r in stripe_standin.requests if r[:2] == ("POST", "/v1/checkout/sessions")]
    assert form["customer_email"] == "card@example.com" and "customer" not in form
    assert stripe_standin.customers == {} and _provider_customers(session, customer) == []
