"""Stripe through its official SDK: one Checkout Session per payment attempt.

The Checkout Session id is our ``external_id``; the payment intent Stripe creates once the debtor pays is
the ``secondary_reference`` that refund, dispute and payment intent webhooks name.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import stripe
from stripe.params.checkout import SessionCreateParams

from portal.providers.base import (
    Checkout,
    CheckoutRequest,
    InvalidWebhook,
    MandateCharge,
    MethodRule,
    PaymentProvider,
    ProviderRejected,
    ProviderState,
    ProviderStatus,
    ProviderUnavailable,
    Reversal,
    WebhookNotice,
)
from portal.providers.stripe_objects import (
    FAILED_INTENT_STATUSES,
    STRIPE_METHOD_TYPES,
    error_of,
    header,
    id_of,
    int_or_none,
    method_of,
    payment_id_of,
    reversals_of,
    session_state,
)
from portal.providers.stripe_sepa import account_hint_of, saved_mandate_of, sepa_reason_of_failure, str_or_none

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Events whose object carries the payment intent rather than the session.
INTENT_EVENT_TYPES = frozenset({"charge.refunded", "charge.refund.updated"})
INTENT_EVENT_PREFIXES = ("refund.", "charge.dispute.", "payment_intent.")

LIST_PAGE_SIZE = 100
# A retried debit looks among the customer's newest payment intents (Stripe lists newest first) for its own.
RECENT_INTENTS = 20


class StripeProvider(PaymentProvider):
    """Payments through Stripe Checkout; refunds and disputes are read back from Stripe, never from webhooks."""

    name = "stripe"
    signed_webhooks = True
    methods: Mapping[str, MethodRule] = {
        "creditcard": MethodRule(currencies=("EUR", "USD", "GBP"), minimum_cents=50),
        "ideal": MethodRule(currencies=("EUR",)),
        "bancontact": MethodRule(currencies=("EUR",)),
        "directdebit": MethodRule(currencies=("EUR",)),
        "paypal": MethodRule(currencies=("EUR",)),
    }

    def __init__(
        self,
        secret_key: str,
        webhook_secret: str,
        api_base: str | None = None,
        timeout_seconds: float = 10.0,
    ) -> None:
        self._webhook_secret = webhook_secret
        self._http_client = stripe.RequestsClient(timeout=timeout_seconds)
        # Retries belong to the caller (the idempotency key makes them safe); the SDK retrying inside a web
        # request would stretch a slow provider into a hung page.
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=0,
            http_client=self._http_client,
        )

    def close(self) -> None:
        """Close the pooled HTTP connections of the calling thread."""
        self._http_client.close()

    # -- checkout ------------------------------------------------------------------------------------------

    def start_checkout(self, request: CheckoutRequest) -> Checkout:
        stripe_type = STRIPE_METHOD_TYPES.get(request.method)
        if stripe_type is None:
            raise ProviderRejected(f"Stripe does not offer method {request.method!r}")
        metadata = {"payment_id": str(request.payment_id), "customer_ref": request.customer_ref}
        # Typed by the SDK, except payment_method_types (the one method the debtor chose): stripe 16.1 dropped it
        # from its types in favour of allowed_payment_method_types, a filter on the dynamic methods, not a list.
        params: SessionCreateParams = {  # type: ignore[typeddict-unknown-key]
            "mode": "payment",
            "payment_method_types": [stripe_type],
            "line_items": [
                {
                    "price_data": {
                        "currency": request.currency.lower(),
                        "unit_amount": request.amount_cents,
                        "product_data": {"name": request.description},
                    },
                    "quantity": 1,
                }
            ],
            # The return page asks us (not the URL) how the payment went, so success and cancel are one page.
            "success_url": request.return_url,
            "cancel_url": request.return_url,
            "client_reference_id": str(request.payment_id),
            "metadata": metadata,
            # Refund, dispute and payment intent webhooks carry the intent, so it needs our ids too.
            "payment_intent_data": {"metadata": metadata},
            "locale": "nl" if request.locale.lower().startswith("nl") else "en",
        }
        customer_id = None
        if request.method == "directdebit":
            # The debtor chose direct debit: the SEPA mandate and payment method are saved on the one Stripe
            # customer we keep for them, so later debits can be collected off-session.
            customer_id = request.provider_customer_id or self._create_customer(request)
            params["customer"] = customer_id
            params["payment_intent_data"] = {"metadata": metadata, "setup_future_usage": "off_session"}
        elif request.customer_email:
            # Stripe takes either a customer or an e-mail address to prefill, not both.
            params["customer_email"] = request.customer_email
        # request.webhook_url is unused: Stripe sends events to the endpoint configured in its dashboard.
        session = self._call(
            "start_checkout",
            f"payment {request.payment_id}",
            lambda: self._client.v1.checkout.sessions.create(
                params=params,
                options={"idempotency_key": request.idempotency_key},
            ),
        ).to_dict()
        if not session.get("url"):
            raise ProviderUnavailable("Stripe created a checkout session without a hosted page")
        logger.info("stripe checkout %s for payment %s", session["id"], request.payment_id)
        return Checkout(external_id=session["id"], redirect_url=session["url"], provider_customer_id=customer_id)

    def _create_customer(self, request: CheckoutRequest) -> str:
        params: dict[str, Any] = {"name": request.customer_name, "metadata": {"customer_ref": request.customer_ref}}
        if request.customer_email:
            params["email"] = request.customer_email
        customer = self._call(
            "create_customer",
            f"payment {request.payment_id}",
            lambda: self._client.v1.customers.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": f"{request.idempotency_key}-customer"},
            ),
        )
        return str(customer.id)

    # -- collecting on a mandate -----------------------------------------------------------------------------

    def charge_mandate(self, charge: MandateCharge) -> ProviderStatus:
        """An off-session SEPA debit on the payment method the mandate belongs to (saved by a first payment)."""
        subject = f"payment {charge.payment_id}"
        mandate = self._call(
            "charge_mandate", subject, lambda: self._client.v1.mandates.retrieve(charge.provider_mandate_id)
        ).to_dict()
        if mandate.get("status") != "active":
            raise ProviderRejected(f"Stripe mandate {charge.provider_mandate_id} is {mandate.get('status')}")
        payment_method = mandate.get("payment_method")
        if isinstance(payment_method, dict):
            payment_method = payment_method.get("id")
        metadata = {**charge.metadata, "payment_id": str(charge.payment_id)}
        params: dict[str, Any] = {
            "amount": charge.amount_cents,
            "currency": charge.currency.lower(),
            "customer": charge.provider_customer_id,
            "payment_method": payment_method,
            "payment_method_types": ["sepa_debit"],
            "mandate": charge.provider_mandate_id,
            "confirm": True,
            "off_session": True,
            "description": charge.description,
            "metadata": metadata,
            "expand": ["latest_charge"],  # the charge names the mandate it was collected on
        }
        intent = self._made_before(charge, subject)
        if intent is None:
            intent = self._call(
                "charge_mandate",
                subject,
                lambda: self._client.v1.payment_intents.create(
                    params=params,  # type: ignore[arg-type]
                    options={"idempotency_key": charge.idempotency_key},
                ),
            ).to_dict()
            logger.info("stripe payment intent %s for payment %s", intent["id"], charge.payment_id)
        return self._intent_status(intent)

    def _made_before(self, charge: MandateCharge, subject: str) -> dict[str, Any] | None:
        """The payment intent an earlier try made for this charge, if its answer was lost. Stripe keeps an
        idempotency key for 24 hours, and the next collection run comes about a day later: so look first."""
        params: dict[str, Any] = {
            "customer": charge.provider_customer_id,
            "limit": RECENT_INTENTS,
            "expand": ["data.latest_charge"],
        }
        page = self._call(
            "charge_mandate",
            subject,
            lambda: self._client.v1.payment_intents.list(params=params),  # type: ignore[arg-type]
        ).to_dict()
        for intent in page.get("data") or []:
            if (intent.get("metadata") or {}).get("payment_id") == str(charge.payment_id):
                return dict(intent)
        return None

    # -- status --------------------------------------------------------------------------------------------

    def fetch_status(self, external_id: str) -> ProviderStatus:
        if external_id.startswith("pi_"):
            # A debit we collected off-session: a payment intent of its own, without a checkout session.
            debit = self._call(
                "fetch_status",
                f"intent {external_id}",
                lambda: self._client.v1.payment_intents.retrieve(external_id, params={"expand": ["latest_charge"]}),
            ).to_dict()
            return self._intent_status(debit, with_reversals=True)
        session = self._call(
            "fetch_status",
            f"checkout {external_id}",
            lambda: self._client.v1.checkout.sessions.retrieve(
                external_id, params={"expand": ["payment_intent", "payment_intent.latest_charge"]}
            ),
        ).to_dict()
        intent = session.get("payment_intent")
        if isinstance(intent, str):
            # Not expanded after all (should not happen); the id is still what later webhooks name.
            intent = {"id": intent}
        intent = intent or {}
        intent_id = intent.get("id")

        state, failure_reason = session_state(session, intent)
        reversals, undone = self._reversals(intent_id, external_id) if intent_id else ((), ())
        return ProviderStatus(
            external_id=session["id"],
            state=state,
            amount_cents=int(session.get("amount_total") or 0),
            currency=str(session.get("currency") or "").upper(),
            method=method_of(session, intent),
            payment_id=payment_id_of(session),
            reversals=reversals,
            undone_reversals=undone,
            failure_reason=failure_reason,
            secondary_reference=intent_id,
            mandate_reference=saved_mandate_of(intent) if state == "paid" else None,
            provider_customer_id=id_of(session.get("customer")),
            payer_account_hint=account_hint_of(intent) if state == "paid" else None,
        )

    def _intent_status(self, intent: dict[str, Any], *, with_reversals: bool = False) -> ProviderStatus:
        intent_id = str(intent["id"])
        status = intent.get("status")
        failure_reason = None
        state: ProviderState
        if status == "succeeded":
            state = "paid"
        elif status in FAILED_INTENT_STATUSES:
            state = "failed"
            failure_reason = sepa_reason_of_failure(intent)
        else:
            # "processing": a SEPA debit takes days to settle, or to come back.
            state = "pending"
        reversals, undone = self._reversals(intent_id, intent_id) if with_reversals else ((), ())
        return ProviderStatus(
            external_id=intent_id,
            state=state,
            amount_cents=int(intent.get("amount") or 0),
            currency=str(intent.get("currency") or "").upper(),
            method=method_of({}, intent),
            payment_id=int_or_none((intent.get("metadata") or {}).get("payment_id")),
            reversals=reversals,
            undone_reversals=undone,
            failure_reason=failure_reason,
            mandate_reference=saved_mandate_of(intent),
            provider_customer_id=id_of(intent.get("customer")),
        )

    def _reversals(self, intent_id: str, external_id: str) -> tuple[tuple[Reversal, ...], tuple[Reversal, ...]]:
        """What Stripe took back, and what it took back and then gave again (``undone``)."""
        subject = f"checkout {external_id}"
        refunds = list(self._list_all("list_refunds", subject, self._client.v1.refunds.list, intent_id))
        disputes = list(self._list_all("list_disputes", subject, self._client.v1.disputes.list, intent_id))
        return reversals_of(refunds, disputes)

    def _list_all(
        self, operation: str, subject: str, list_page: Callable[..., Any], intent_id: str
    ) -> Iterator[dict[str, Any]]:
        params: dict[str, Any] = {"payment_intent": intent_id, "limit": LIST_PAGE_SIZE}
        while True:
            page = self._call(operation, subject, lambda: list_page(params=dict(params))).to_dict()
            items = page.get("data") or []
            yield from items
            if not page.get("has_more") or not items:
                return
            params["starting_after"] = items[-1]["id"]

    # -- webhooks ------------------------------------------------------------------------------------------

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookNotice | None:
        signature = header(headers, "Stripe-Signature")
        try:
            # The signature covers the exact bytes Stripe sent: never re-serialise the body before this.
            event = self._client.construct_event(body, signature, self._webhook_secret).to_dict()
        except stripe.SignatureVerificationError as exc:
            raise InvalidWebhook("Stripe webhook signature does not match") from exc
        except (ValueError, TypeError, AttributeError) as exc:  # undecodable bytes or JSON, or not an event object
            raise InvalidWebhook("Stripe webhook body is not a readable event") from exc

        event_type = event.get("type")
        data = event.get("data")
        obj = data.get("object") if isinstance(data, dict) else None
        if not isinstance(event_type, str) or not isinstance(obj, dict):
            raise InvalidWebhook("Stripe webhook has no type or object")

        if event_type.startswith("checkout.session."):
            return WebhookNotice(reference=str_or_none(obj.get("id")), payment_id=payment_id_of(obj))
        if event_type in INTENT_EVENT_TYPES or event_type.startswith(INTENT_EVENT_PREFIXES):
            if obj.get("object") == "payment_intent":
                reference = obj.get("id")
            else:
                reference = obj.get("payment_intent")
                if isinstance(reference, dict):
                    reference = reference.get("id")
            payment_id = int_or_none((obj.get("metadata") or {}).get("payment_id"))
            return WebhookNotice(reference=str_or_none(reference), payment_id=payment_id)
        return None

    # -- cancelling -------------------------------------------------------------------------------------------

    def cancel_checkout(self, external_id: str) -> bool:
        try:
            # Stripe expires only an open session; a completed one is refused (400), which is the answer.
            self._call(
                "cancel_checkout",
                f"checkout {external_id}",
                lambda: self._client.v1.checkout.sessions.expire(external_id),
            )
        except ProviderRejected:
            return False
        logger.info("stripe checkout %s expired", external_id)
        return True

    # -- refunds -------------------------------------------------------------------------------------------

    def refund(self, external_id: str, amount_cents: int, currency: str, idempotency_key: str) -> Reversal:
        subject = f"checkout {external_id}"
        if external_id.startswith("pi_"):
            # A debit collected off-session is its own payment intent.
            owner = self._call(
                "refund", subject, lambda: self._client.v1.payment_intents.retrieve(external_id)
            ).to_dict()
            intent_id: str | None = external_id
        else:
            owner = self._call(
                "refund", subject, lambda: self._client.v1.checkout.sessions.retrieve(external_id)
            ).to_dict()
            intent_id = id_of(owner.get("payment_intent"))
        if not intent_id:
            raise ProviderRejected(f"Stripe checkout {external_id} has no payment to refund")
        if str(owner.get("currency") or "").upper() != currency.upper():
            raise ProviderRejected(f"Stripe checkout {external_id} is not in {currency.upper()}")
        refund = self._call(
            "refund",
            subject,
            lambda: self._client.v1.refunds.create(
                params={"payment_intent": intent_id, "amount": amount_cents},
                options={"idempotency_key": idempotency_key},
            ),
        ).to_dict()
        logger.info("stripe refund %s of %s cents on checkout %s", refund["id"], refund["amount"], external_id)
        return Reversal(external_id=refund["id"], kind="refund", amount_cents=int(refund["amount"]))

    # -- errors --------------------------------------------------------------------------------------------

    def _call(self, operation: str, subject: str, call: Callable[[], T]) -> T:
        """Run one SDK call, turning its errors into ours; ``subject`` names our payment or checkout in logs."""
        try:
            return call()
        except stripe.StripeError as exc:
            raise error_of(exc, operation, subject) from exc
