"""Mollie through the official ``mollie-api-python`` SDK (4.x).

Mollie's classic webhooks carry only ``id=tr_...`` and no signature, so nothing in a webhook is trusted:
``fetch_status`` always re-reads the payment, its refunds and its chargebacks.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qs

from mollie.api.client import Client
from mollie.api.error import (
    Error as MollieError,
)
from mollie.api.error import (
    RequestError,
    RequestSetupError,
    ResponseError,
    ResponseHandlingError,
)
from mollie.api.objects.customer import Customer
from mollie.api.objects.payment import Payment

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

logger = logging.getLogger(__name__)

# Same pattern the SDK enforces; checked here first so the SDK's error message, which repeats the key, is
# never raised (and so never logged).
_API_KEY = re.compile(r"^(live|test)_\w+$")
_PAYMENT_ID = re.compile(r"^tr_[A-Za-z0-9]+$")

# Our method name -> Mollie's method for a payment with a preset method. "directdebit" is absent on
# purpose: it becomes a "first" payment without a method (see start_checkout).
_MOLLIE_METHOD = {
    "ideal": "ideal",
    "creditcard": "creditcard",
    "bancontact": "bancontact",
    "paypal": "paypal",
}
_OUR_METHOD = {mollie: ours for ours, mollie in _MOLLIE_METHOD.items()} | {"directdebit": "directdebit"}

_STATE: dict[str, ProviderState] = {
    "open": "open",
    "pending": "pending",
    # An authorized (card) payment is not captured yet: no money moved, so not paid.
    "authorized": "pending",
    "paid": "paid",
    "failed": "failed",
    "canceled": "cancelled",
    "expired": "expired",
}

# Refunds in these states never took money back.
_VOID_REFUND_STATES = frozenset({"failed", "canceled"})

# Mollie's page size maximum: one list call covers all but the most unusual payments.
_LIST_LIMIT = 250
# A retried debit looks among the customer's newest payments (Mollie lists newest first) for the one it made.
_RECENT_PAYMENTS = 50


def _format_amount(cents: int) -> str:
    """Cents as Mollie's decimal string ("12.50"), with integer arithmetic so no float rounding creeps in."""
    if cents < 0:
        raise ValueError("amounts are never negative")
    return f"{cents // 100}.{cents % 100:02d}"


def _parse_amount(amount: Mapping[str, Any] | None) -> int:
    """Mollie's ``{"value": "12.50"}`` as cents. Decimal, never float; a sign is dropped because some
    reversal amounts (settlement side) come negative while we store what was taken back."""
    if not amount:
        return 0
    cents = Decimal(str(amount["value"])) * 100
    if cents != cents.to_integral_value():
        raise ValueError("amount has more than two decimals")
    return abs(int(cents))


class MollieProvider(PaymentProvider):
    """Mollie payments: hosted checkout, classic (unsigned) webhooks, refunds, and SEPA first payments.

    Every SDK error is turned into ProviderUnavailable (worth retrying) or ProviderRejected (not).
    """

    name = "mollie"
    methods: Mapping[str, MethodRule] = MappingProxyType(
        {
            "ideal": MethodRule(currencies=("EUR",)),
            "creditcard": MethodRule(currencies=("EUR", "USD", "GBP")),
            "bancontact": MethodRule(currencies=("EUR",)),
            "paypal": MethodRule(currencies=("EUR",)),
            "directdebit": MethodRule(currencies=("EUR",)),
        }
    )

    def __init__(self, api_key: str, api_endpoint: str | None = None, timeout_seconds: float = 10.0) -> None:
        if not _API_KEY.match(api_key.strip()):
            raise ValueError("A Mollie API key starts with 'test_' or 'live_'")
        # retry=1: the SDK only retries failed connects (never a request that reached Mollie), and its
        # default of 3 with backoff could hold a web request for many seconds.
        # The SDK annotates timeout as int, but hands it to requests, which takes a float.
        self._client = Client(api_endpoint=api_endpoint or "", timeout=timeout_seconds, retry=1)  # type: ignore[arg-type]
        self._client.set_api_key(api_key)

    def close(self) -> None:
        """Close the SDK's pooled HTTP connections (the SDK creates its session lazily)."""
        session = getattr(self._client, "_client", None)
        if session is not None:
            session.close()

    # -- checkout -----------------------------------------------------------------------------------------

    def start_checkout(self, request: CheckoutRequest) -> Checkout:
        locale = "nl_NL" if request.locale == "nl" else "en_US"
        data: dict[str, Any] = {
            "amount": {"currency": request.currency, "value": _format_amount(request.amount_cents)},
            "description": request.description,
            "redirectUrl": request.return_url,
            "webhookUrl": request.webhook_url,
            "locale": locale,
            "metadata": {"payment_id": request.payment_id, "customer_ref": request.customer_ref},
        }
        with self._translate("start_checkout", payment_id=request.payment_id):
            if request.method == "directdebit":
                # A first payment (e.g. by iDEAL) both pays this amount and leaves a SEPA mandate behind; Mollie
                # offers only mandate-capable methods when none is preset, and needs a customer to hang it on:
                # the one we already keep for this customer, so all their mandates sit on one Mollie customer.
                customer_id = request.provider_customer_id or self._create_customer(request, locale)
                data["customerId"] = customer_id
                data["sequenceType"] = "first"
            elif request.method in _MOLLIE_METHOD:
                data["method"] = _MOLLIE_METHOD[request.method]
            else:
                raise ProviderRejected(f"Mollie does not offer method {request.method!r}")
            # Our key, not the SDK's random one: a retry after a timeout finds the same payment.
            payment = self._client.payments.create(data, idempotency_key=request.idempotency_key)
        if not payment.checkout_url:
            # Only an open payment has a checkout page; a replayed key for a finished payment has none.
            logger.warning("Mollie payment %s for payment %s has no checkout url", payment.id, request.payment_id)
            raise ProviderRejected("Mollie returned a payment without a checkout url")
        logger.info("Mollie payment %s created for payment %s", payment.id, request.payment_id)
        return Checkout(
            external_id=payment.id, redirect_url=payment.checkout_url, provider_customer_id=payment.customer_id
        )

    def _create_customer(self, request: CheckoutRequest, locale: str) -> str:
        customer_data: dict[str, Any] = {
            "name": request.customer_name,
            "locale": locale,
            "metadata": {"customer_ref": request.customer_ref},
        }
        if request.customer_email:
            customer_data["email"] = request.customer_email
        customer = self._client.customers.create(customer_data, idempotency_key=f"{request.idempotency_key}-customer")
        return str(customer.id)

    # -- collecting on a mandate ------------------------------------------------------------------------------

    def charge_mandate(self, charge: MandateCharge) -> ProviderStatus:
        """A recurring SEPA payment on the customer's mandate; Mollie answers "pending" until the bank settles it."""
        data: dict[str, Any] = {
            "amount": {"currency": charge.currency, "value": _format_amount(charge.amount_cents)},
            "description": charge.description,
            "sequenceType": "recurring",
            "customerId": charge.provider_customer_id,
            "mandateId": charge.provider_mandate_id,
            "metadata": {**charge.metadata, "payment_id": charge.payment_id},
        }
        if charge.webhook_url:
            data["webhookUrl"] = charge.webhook_url
        with self._translate("charge_mandate", payment_id=charge.payment_id):
            payment = self._made_before(charge)
            if payment is None:
                payment = self._client.payments.create(data, idempotency_key=charge.idempotency_key)
                logger.info("Mollie recurring payment %s created for payment %s", payment.id, charge.payment_id)
        try:
            return self._status(payment, (), ())
        except (KeyError, TypeError, ValueError, InvalidOperation) as err:
            raise ProviderUnavailable("Mollie answered with an unexpected payment shape") from err

    def _made_before(self, charge: MandateCharge) -> Payment | None:
        """The payment an earlier try made for this charge, if its answer was lost. Mollie keeps an idempotency
        key for a limited time only, and the next collection run comes a day later: so look first."""
        customer = Customer({"id": charge.provider_customer_id}, self._client)
        for payment in customer.payments.list(limit=_RECENT_PAYMENTS):
            metadata = payment.metadata if isinstance(payment.metadata, Mapping) else {}
            if str(metadata.get("payment_id")) == str(charge.payment_id):
                return payment
        return None

    # -- status ---------------------------------------------------------------------------------------------

    def fetch_status(self, external_id: str) -> ProviderStatus:
        if not _PAYMENT_ID.match(external_id):
            raise ProviderRejected("not a Mollie payment id")
        with self._translate("fetch_status", external_id=external_id):
            payment = self._client.payments.get(external_id)
            reversals, undone = self._reversals(payment)
        try:
            return self._status(payment, reversals, undone)
        except (KeyError, TypeError, ValueError, InvalidOperation) as err:
            logger.error("Mollie payment %s has an unexpected shape: %s", external_id, type(err).__name__)
            raise ProviderUnavailable("Mollie answered with an unexpected payment shape") from err

    def _status(
        self, payment: Payment, reversals: tuple[Reversal, ...], undone: tuple[Reversal, ...]
    ) -> ProviderStatus:
        state = _STATE.get(payment.status)
        if state is None:
            # Not final and not paid is the only safe reading of a status we do not know.
            logger.warning("Mollie payment %s has unknown status %r", payment.id, payment.status)
            state = "pending"
        details = payment.details or {}
        failure_reason = None
        if state == "failed":
            failure_reason = details.get("bankReasonCode") or details.get("failureReason")
        method: str | None
        if payment.sequence_type == Payment.SEQUENCETYPE_FIRST:
            # The debtor chose direct debit with us; iDEAL or similar was only how the mandate was made.
            method = "directdebit"
        else:
            method = _OUR_METHOD.get(payment.method or "")
        metadata = payment.metadata if isinstance(payment.metadata, Mapping) else {}
        payment_id = metadata.get("payment_id")
        return ProviderStatus(
            external_id=payment.id,
            state=state,
            amount_cents=_parse_amount(payment.amount),
            currency=payment.amount["currency"],
            method=method,
            payment_id=int(payment_id) if payment_id is not None else None,
            reversals=reversals,
            undone_reversals=undone,
            failure_reason=failure_reason,
            mandate_reference=payment.mandate_id,
            provider_customer_id=payment.customer_id,
            payer_iban=details.get("consumerAccount") if payment.sequence_type == Payment.SEQUENCETYPE_FIRST else None,
        )

    def _reversals(self, payment: Payment) -> tuple[tuple[Reversal, ...], tuple[Reversal, ...]]:
        """What the provider took back, and what it took back and then gave again (``undone``)."""
        found: list[Reversal] = []
        undone: list[Reversal] = []
        # Each list is a call of its own, so only ask when the payment says there is something to list.
        if payment.has_refunds() or _parse_amount(payment.amount_refunded):
            for refund in self._all(payment.refunds.list(limit=_LIST_LIMIT)):
                reversal = Reversal(refund.id, "refund", _parse_amount(refund.amount))
                (undone if refund.status in _VOID_REFUND_STATES else found).append(reversal)
        if payment.has_chargebacks() or _parse_amount(payment.amount_chargedback):
            for chargeback in self._all(payment.chargebacks.list(limit=_LIST_LIMIT)):
                reason = chargeback.reason if isinstance(chargeback.reason, Mapping) else {}
                code = reason.get("code")
                reversal = Reversal(
                    chargeback.id,
                    "chargeback",
                    _parse_amount(chargeback.amount),
                    reason=str(code).upper() if code else None,
                )
                # A reversed chargeback: the bank withdrew it and the money is ours again.
                (undone if chargeback.reversed_at else found).append(reversal)
        return tuple(found), tuple(undone)

    @staticmethod
    def _all(page: Any) -> Iterator[Any]:
        """Every item of a paginated SDK list; ``get_next`` follows the ``_links.next`` href."""
        while page is not None:
            yield from page
            page = page.get_next() if page.has_next() else None

    # -- webhooks -------------------------------------------------------------------------------------------

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookNotice | None:
        try:
            form = parse_qs(body.decode("utf-8"), strict_parsing=False)
        except (UnicodeDecodeError, ValueError) as err:
            raise InvalidWebhook("unreadable Mollie webhook body") from err
        ids = [value.strip() for value in form.get("id", []) if value.strip()]
        if not ids:
            raise InvalidWebhook("Mollie webhook without an id")
        if not _PAYMENT_ID.match(ids[0]):
            # Orders, subscriptions and the like: nothing we create, so nothing to re-fetch.
            return None
        return WebhookNotice(reference=ids[0])

    # -- cancelling ---------------------------------------------------------------------------------------------

    def cancel_checkout(self, external_id: str) -> bool:
        if not _PAYMENT_ID.match(external_id):
            return False
        with self._translate("cancel_checkout", external_id=external_id):
            payment = self._client.payments.get(external_id)
        if not payment.is_cancelable:
            # Mollie lets only some payments be cancelled (not most open iDEAL or card payments, nor any that
            # moved on): asking would only be refused. If it is paid after all, the paid-twice policy applies.
            return False
        try:
            with self._translate("cancel_checkout", external_id=external_id):
                self._client.payments.delete(external_id)  # DELETE /v2/payments/{id}: cancel
        except ProviderRejected:
            return False  # it stopped being cancelable in between
        logger.info("Mollie payment %s cancelled", external_id)
        return True

    # -- refunds --------------------------------------------------------------------------------------------

    def refund(self, external_id: str, amount_cents: int, currency: str, idempotency_key: str) -> Reversal:
        if not _PAYMENT_ID.match(external_id):
            raise ProviderRejected("not a Mollie payment id")
        if amount_cents < 1:
            raise ProviderRejected("a refund needs a positive amount")
        # A bare Payment with only the id is enough to reach /payments/{id}/refunds, saving a GET.
        payment = Payment({"id": external_id}, self._client)
        data = {"amount": {"currency": currency, "value": _format_amount(amount_cents)}}
        with self._translate("refund", external_id=external_id):
            refund = payment.refunds.create(data, idempotency_key=idempotency_key)
        logger.info("Mollie refund %s created on payment %s", refund.id, external_id)
        try:
            return Reversal(external_id=refund.id, kind="refund", amount_cents=_parse_amount(refund.amount))
        except (KeyError, TypeError, ValueError, InvalidOperation) as err:
            raise ProviderUnavailable("Mollie answered with an unexpected refund shape") from err

    # -- errors ---------------------------------------------------------------------------------------------

    @contextmanager
    def _translate(self, action: str, **ids: Any) -> Iterator[None]:
        """SDK errors as our two exceptions. Logs our ids and Mollie's status only: never the key."""
        try:
            yield
        except ResponseError as err:
            status = err.status if isinstance(err.status, int) else 0
            logger.warning("Mollie %s failed with HTTP %s (%s)", action, status, ids)
            if status >= 500 or status == 429:
                raise ProviderUnavailable(f"Mollie answered {status}") from err
            raise ProviderRejected(f"Mollie refused ({status}): {err}") from err
        except RequestSetupError as err:
            # Raised before anything is sent (a malformed id, data that is not JSON): retrying cannot help.
            logger.warning("Mollie %s could not be prepared (%s)", action, ids)
            raise ProviderRejected("Mollie request could not be prepared") from err
        except RequestError as err:
            # Connection refused, DNS, TLS, timeouts: requests' errors, wrapped by the SDK.
            logger.warning("Mollie %s could not reach Mollie (%s)", action, ids)
            raise ProviderUnavailable("Mollie could not be reached") from err
        except ResponseHandlingError as err:
            # Not Mollie's JSON: typically a proxy or load balancer error page.
            logger.warning("Mollie %s got an unreadable answer (%s)", action, ids)
            raise ProviderUnavailable("Mollie answered something unreadable") from err
        except MollieError as err:
            logger.warning("Mollie %s failed: %s (%s)", action, type(err).__name__, ids)
            raise ProviderUnavailable("Mollie request failed") from err
