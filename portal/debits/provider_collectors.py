"""Collectors through the payment providers that hold a mandate: Mollie (a recurring payment on the mandate) and
Stripe (an off-session SEPA debit on the saved payment method and its mandate).

The provider's answer becomes the debit's payment's external id, so its later news (a webhook, reconciliation)
reaches the debit through ``apply_status`` like any payment's. A provider only ever learns of a debit through
the idempotency key of its attempt, so a retry after a time-out finds the collection the first try made.
"""

from __future__ import annotations

from flask import current_app

from portal.debits.collectors import Collector, CollectorAnswer, DebitOrder
from portal.providers.base import MandateCharge, PaymentProvider, ProviderRejected
from portal.providers.registry import configured_provider_names, get_provider

PROVIDER_COLLECTORS = ("mollie", "stripe")


class ProviderCollector(Collector):
    """Hands one debit to a provider that holds the debtor's mandate and customer."""

    def __init__(self, provider: PaymentProvider, webhook_url: str | None) -> None:
        self.name = provider.name
        self.payment_provider = provider.name  # the debit's payment is the provider's, for webhooks and reconciling
        self._provider = provider
        self._webhook_url = webhook_url

    def collect(self, order: DebitOrder) -> CollectorAnswer:
        if not order.provider_mandate_id or not order.provider_customer_id:
            # A mandate row that names this provider without its ids (a bad import): nothing the provider can use.
            raise ProviderRejected(f"payment {order.payment_id}: no {self.name} mandate or customer on file")
        status = self._provider.charge_mandate(
            MandateCharge(
                payment_id=order.payment_id,
                amount_cents=order.amount_cents,
                currency=order.currency,
                description=order.description,
                provider_customer_id=order.provider_customer_id,
                provider_mandate_id=order.provider_mandate_id,
                idempotency_key=order.idempotency_key,
                webhook_url=self._webhook_url,
                metadata={"debit_id": str(order.debit_id or ""), "end_to_end_id": order.end_to_end_id},
            )
        )
        if status.state == "paid":
            return CollectorAnswer(state="paid", external_id=status.external_id)
        if status.state in ("failed", "cancelled", "expired"):
            return CollectorAnswer(state="failed", external_id=status.external_id, failure_code=status.failure_reason)
        return CollectorAnswer(state="pending", external_id=status.external_id)


class MollieCollector(ProviderCollector):
    """A recurring payment (``sequenceType: recurring``) on the customer's Mollie mandate."""


class StripeCollector(ProviderCollector):
    """An off-session SEPA debit PaymentIntent on the customer's saved payment method and mandate."""


def provider_collector(name: str) -> Collector:
    """The collector of a mandate held by provider ``name``; KeyError when this deployment has no such provider."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if name not in PROVIDER_COLLECTORS or name not in configured_provider_names(app.config):
        raise KeyError(name)
    provider = get_provider(name, app)
    if name == "mollie":
        # Mollie calls the webhook given with each payment; Stripe sends to the endpoint set in its dashboard.
        path = app.url_map.bind("").build("webhooks.receive", {"provider_name": name})
        return MollieCollector(provider, app.config["BASE_URL"] + path)
    return StripeCollector(provider, None)
