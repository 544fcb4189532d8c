"""The small interface every payment provider implements, and the plain values that cross it.

A provider never touches our database: it starts a checkout, reports the provider's canonical view of a
payment, tells which payment a webhook is about, and refunds. ``portal.payments.services`` decides
what that means for our payments and invoices. Amounts are integer cents; methods use our names.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

# Our names for payment methods, whatever a provider calls them.
METHODS = ("ideal", "creditcard", "bancontact", "paypal", "directdebit")

ProviderState = Literal["open", "pending", "paid", "failed", "cancelled", "expired"]


class ProviderUnavailable(Exception):
    """The provider did not answer in time, could not be reached, or answered 5xx/429: try again later."""


class ProviderRejected(Exception):
    """The provider refused the request (4xx). Not worth retrying unchanged."""


class InvalidWebhook(Exception):
    """A webhook whose signature or shape is wrong; the endpoint answers 400."""


@dataclass(frozen=True)
class MethodRule:
    """A method a provider offers, and the amounts and currencies it accepts."""

    currencies: tuple[str, ...] = ("EUR",)
    minimum_cents: int = 1
    maximum_cents: int | None = None

    def accepts(self, amount_cents: int, currency: str) -> bool:
        if currency not in self.currencies or amount_cents < self.minimum_cents:
            return False
        return self.maximum_cents is None or amount_cents <= self.maximum_cents


@dataclass(frozen=True)
class CheckoutRequest:
    payment_id: int  # our Payment.id; providers echo it back in metadata
    amount_cents: int
    currency: str
    method: str  # one of METHODS
    description: str
    locale: str  # "nl" or "en"
    return_url: str  # where the debtor comes back to, whatever the outcome
    webhook_url: str
    customer_ref: str  # our Customer.external_ref
    customer_name: str
    customer_email: str | None
    idempotency_key: str  # derived from our ids, e.g. "payment-42": a retry reuses the same checkout
    # The provider's customer we already keep for this customer (ProviderCustomer): a direct-debit first payment
    # hangs its mandate on it instead of creating a customer each time.
    provider_customer_id: str | None = None


@dataclass(frozen=True)
class Checkout:
    external_id: str  # the provider's id of what we re-fetch (Stripe checkout session, Mollie payment)
    redirect_url: str  # the provider's hosted page
    provider_customer_id: str | None = None  # the provider's customer the checkout was made for, if any


@dataclass(frozen=True)
class Reversal:
    """Money the provider took back after a payment was paid: a refund or a chargeback/dispute."""

    external_id: str  # unique per provider, so a reversal is never counted twice
    kind: Literal["refund", "chargeback"]
    amount_cents: int
    # The SEPA reason code of a chargeback (MD06, AM04, ...), when the provider gives one. Not part of equality:
    # the same reversal read twice is the same reversal.
    reason: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class MandateCharge:
    """One collection on a mandate the provider holds (a recurring SEPA debit), started by us, not the debtor."""

    payment_id: int  # our Payment.id; echoed back in metadata
    amount_cents: int
    currency: str
    description: str
    provider_customer_id: str
    provider_mandate_id: str
    idempotency_key: str  # the same for a retry of the same attempt, so it is never collected twice
    webhook_url: str | None = None  # where a provider without a dashboard-configured endpoint reports changes
    metadata: Mapping[str, str] = field(default_factory=dict)  # our further ids (the debit), for staff at the provider


@dataclass(frozen=True)
class ProviderStatus:
    """The provider's canonical view of one payment, fetched fresh; never built from a webhook body."""

    external_id: str
    state: ProviderState
    amount_cents: int  # what the provider collects (or collected) for this payment
    currency: str
    method: str | None = None  # the method actually used, in our names, when known
    payment_id: int | None = None  # our id from the provider's metadata, when it has one
    reversals: tuple[Reversal, ...] = field(default_factory=tuple)
    # Reversals the provider undid: a refund that failed after all, a dispute won, a chargeback reversed.
    # Only these give money back to us; a reversal merely missing from ``reversals`` proves nothing.
    undone_reversals: tuple[Reversal, ...] = field(default_factory=tuple)
    failure_reason: str | None = None  # the provider's short reason code, for staff
    secondary_reference: str | None = None  # another id later webhooks may name (Stripe's payment intent)
    # The provider's id of the SEPA mandate the payment created or was collected on (Mollie ``mdt_...``, Stripe
    # ``mandate_...``): what a Mandate of ours keeps as ``provider_mandate_id``.
    mandate_reference: str | None = None
    provider_customer_id: str | None = None  # the provider's customer the payment belongs to, when it has one
    # The account a first payment was paid from (Mollie's consumerAccount): the mandate it made collects from it.
    payer_iban: str | None = None
    # Where the provider keeps the IBAN to itself (Stripe): the country and last four digits, "NL** **** 4300".
    payer_account_hint: str | None = None


@dataclass(frozen=True)
class WebhookNotice:
    """Which payment a webhook is about. We re-fetch it; the webhook's own claims are not trusted."""

    reference: str | None  # a provider id: external_id or secondary_reference of one of our payments
    payment_id: int | None = None  # our id, when the event carries it in metadata


class PaymentProvider(ABC):
    """One payment provider. Implementations raise ProviderUnavailable or ProviderRejected, never SDK errors."""

    name: str
    methods: Mapping[str, MethodRule]
    # Whether a webhook proves it comes from the provider (a signature). An unsigned one (Mollie's) may only
    # make us call the provider about ids we created ourselves, or anyone could spend our API quota.
    signed_webhooks: bool = False

    def supports(self, method: str, amount_cents: int, currency: str) -> bool:
        rule = self.methods.get(method)
        return rule is not None and rule.accepts(amount_cents, currency)

    @abstractmethod
    def start_checkout(self, request: CheckoutRequest) -> Checkout:
        """Create (or, for the same idempotency key, find again) a hosted checkout for this payment."""

    @abstractmethod
    def fetch_status(self, external_id: str) -> ProviderStatus:
        """The provider's current view of the payment, including every refund and chargeback on it."""

    @abstractmethod
    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookNotice | None:
        """Check a webhook and say which payment to re-fetch; None when it is about nothing of ours.

        Raises InvalidWebhook when a signature is wrong or the body cannot be read.
        """

    @abstractmethod
    def cancel_checkout(self, external_id: str) -> bool:
        """End an unfinished checkout so it can no longer be paid; False when the provider cannot end it
        (already paid, or a method it does not allow to be cancelled). Raises ProviderUnavailable."""

    def charge_mandate(self, charge: MandateCharge) -> ProviderStatus:
        """Collect ``charge`` on a mandate this provider holds, or find the one the same idempotency key made.

        Raises ProviderUnavailable or ProviderRejected; a provider that holds no mandates refuses.
        """
        raise ProviderRejected(f"{self.name} does not collect on mandates")

    @abstractmethod
    def refund(self, external_id: str, amount_cents: int, currency: str, idempotency_key: str) -> Reversal:
        """Refund part or all of a paid payment."""
