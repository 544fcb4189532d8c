"""Collecting on a mandate the provider holds, provider by provider: the request each sends, and how a failed or
reversed debit's reason comes back as a SEPA reason code (what the debtor's message follows)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from portal.providers.base import MandateCharge, ProviderRejected
from portal.providers.mollie import MollieProvider
from portal.providers.stripe import StripeProvider
from tests.fixtures.mollie_standin import MollieStandIn
from tests.fixtures.stripe_standin import StripeStandin


def _charge(customer_id: str, mandate_id: str, **changes: object) -> MandateCharge:
    values: dict = {
        "payment_id": 7,
        "amount_cents": 84_70,
        "currency": "EUR",
        "description": "T2027-00001 PAY-7",
        "provider_customer_id": customer_id,
        "provider_mandate_id": mandate_id,
        "idempotency_key": "debit-3-1",
        "webhook_url": "https://portal.example/webhooks/mollie",
        "metadata": {"debit_id": "3"},
    }
    return MandateCharge(**{**values, **changes})


@pytest.fixture()
def mollie(mollie_standin: MollieStandIn) -> Iterator[MollieProvider]:
    provider = MollieProvider(mollie_standin.api_key, mollie_standin.api_endpoint, timeout_seconds=2.0)
    yield provider
    provider.close()


@pytest.fixture()
def stripe_provider(stripe_standin: StripeStandin) -> Iterator[StripeProvider]:
    provider = StripeProvider(
        stripe_standin.secret_key, stripe_standin.webhook_secret, api_base=stripe_standin.base_url, timeout_seconds=2
    )
    yield provider
    provider.close()


# -- Mollie -------------------------------------------------------------------------------------------------


def test_mollie_recurring_payment_is_pending_then_fails_with_the_banks_reason_code(
    mollie: MollieProvider, mollie_standin: MollieStandIn
) -> None:
    customer = mollie_standin.add_customer()
    mandate = mollie_standin.add_mandate(customer)

    started = mollie.charge_mandate(_charge(customer, mandate))

    assert (started.state, started.method, started.payment_id) == ("pending", "directdebit", 7)
    assert (started.mandate_reference, started.provider_customer_id) == (mandate, customer)
    shown = mollie_standin.payment(started.external_id)
    assert shown["metadata"] == {"debit_id": "3", "payment_id": 7}
    mollie_standin.set_status(started.external_id, "failed", bankReasonCode="AC04", bankReason="Account closed")
    failed = mollie.fetch_status(started.external_id)
    assert (failed.state, failed.failure_reason) == ("failed", "AC04")


def test_mollie_same_key_finds_the_same_recurring_payment(
    mollie: MollieProvider, mollie_standin: MollieStandIn
) -> None:
    customer = mollie_standin.add_customer()
    mandate = mollie_standin.add_mandate(customer)
    first = mollie.charge_mandate(_charge(customer, mandate))
    again = mollie.charge_mandate(_charge(customer, mandate))
    assert first.external_id == again.external_id
    assert len(mollie_standin.payments_of(customer)) == 1


def test_mollie_chargeback_carries_its_reason_code(mollie: MollieProvider, mollie_standin: MollieStandIn) -> None:
    customer = mollie_standin.add_customer()
    started = mollie.charge_mandate(_charge(customer, mollie_standin.add_mandate(customer)))
    mollie_standin.set_status(started.external_id, "paid")
    mollie_standin.add_chargeback(started.external_id, 84_70, reason_code="MD06")

    [chargeback] = mollie.fetch_status(started.external_id).reversals

    assert (chargeback.kind, chargeback.amount_cents, chargeback.reason) == ("chargeback", 84_70, "MD06")


def test_mollie_refuses_a_revoked_mandate(mollie: MollieProvider, mollie_standin: MollieStandIn) -> None:
    customer = mollie_standin.add_customer()
    mandate = mollie_standin.add_mandate(customer)
    mollie_standin.revoke_mandate(mandate)
    with pytest.raises(ProviderRejected):
        mollie.charge_mandate(_charge(customer, mandate))


# -- Stripe -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stripe_code", "sepa_code"),
    [
        ("insufficient_funds", "AM04"),
        ("account_closed", "AC04"),
        ("bank_account_restricted", "AC06"),
        ("invalid_account_number", "AC01"),
        ("debit_not_authorized", "MD06"),
        ("generic_decline", "MS03"),
    ],
)
def test_stripe_failed_debit_reports_the_sepa_reason_code(
    stripe_provider: StripeProvider, stripe_standin: StripeStandin, stripe_code: str, sepa_code: str
) -> None:
    customer = stripe_standin.add_customer()
    mandate = stripe_standin.save_sepa_mandate(customer)
    started = stripe_provider.charge_mandate(_charge(customer, mandate["id"]))
    assert (started.state, started.method, started.payment_id) == ("pending", "directdebit", 7)

    stripe_standin.settle_intent(started.external_id, failure_code=stripe_code)
    failed = stripe_provider.fetch_status(started.external_id)

    assert (failed.state, failed.failure_reason) == ("failed", sepa_code)
    assert failed.mandate_reference == mandate["id"]


def test_stripe_paid_debit_and_its_dispute(stripe_provider: StripeProvider, stripe_standin: StripeStandin) -> None:
    customer = stripe_standin.add_customer()
    started = stripe_provider.charge_mandate(_charge(customer, stripe_standin.save_sepa_mandate(customer)["id"]))
    stripe_standin.settle_intent(started.external_id)
    assert stripe_provider.fetch_status(started.external_id).state == "paid"

    stripe_standin.dispute_intent(started.external_id, 84_70)  # Stripe's reason "general": the 8-week refund
    [chargeback] = stripe_provider.fetch_status(started.external_id).reversals

    assert (chargeback.kind, chargeback.amount_cents, chargeback.reason) == ("chargeback", 84_70, "MD06")


def test_stripe_refund_of_a_collected_debit(stripe_provider: StripeProvider, stripe_standin: StripeStandin) -> None:
    customer = stripe_standin.add_customer()
    started = stripe_provider.charge_mandate(_charge(customer, stripe_standin.save_sepa_mandate(customer)["id"]))
    stripe_standin.settle_intent(started.external_id)

    refund = stripe_provider.refund(started.external_id, 1000, "EUR", "refund-1")

    assert refund.amount_cents == 1000
    assert [r.external_id for r in stripe_provider.fetch_status(started.external_id).reversals] == [refund.external_id]


def test_stripe_refuses_an_inactive_mandate_without_creating_a_payment(
    stripe_provider: StripeProvider, stripe_standin: StripeStandin
) -> None:
    customer = stripe_standin.add_customer()
    mandate = stripe_standin.save_sepa_mandate(customer)
    stripe_standin.deactivate_mandate(mandate["id"])
    with pytest.raises(ProviderRejected):
        stripe_provider.charge_mandate(_charge(customer, mandate["id"]))
    assert stripe_standin.intents == {}
