"""The demo provider: a checkout page inside the portal where the visitor chooses the outcome.

It stands in for a real provider when no keys are configured, so the whole journey can be clicked
through after ``make run``. It keeps its own records (``demo_checkouts``) as a real provider would,
and the core treats it exactly like Stripe or Mollie: it re-fetches the status and never trusts
anything else.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import get_args
from urllib.parse import parse_qs

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import clock
from portal.payments.models import DemoCheckout
from portal.providers.base import (
    Checkout,
    CheckoutRequest,
    InvalidWebhook,
    MethodRule,
    PaymentProvider,
    ProviderRejected,
    ProviderState,
    ProviderStatus,
    Reversal,
    WebhookNotice,
)

# "Pending, then paid" settles after this long, as a slow bank would.
SETTLE_AFTER = timedelta(seconds=4)
OUTCOMES = ("paid", "failed", "cancelled", "pending")
# A paid demo checkout by direct debit leaves a demo mandate behind, as a first payment at Mollie does; the
# demo has no real account behind it, so its mandates all carry this IBAN (valid, at the made-up bank DEMO).
DEMO_MANDATE_IBAN = "NL32DEMO0000001234"
# The demo only ever stores these in its status column; the map reads the column back as a ProviderState.
STATES: dict[str, ProviderState] = {state: state for state in get_args(ProviderState)}


def demo_mandate_id(checkout: DemoCheckout) -> str | None:
    """The id of the demo mandate a paid direct-debit checkout made (derived, so it is the same on every fetch)."""
    return f"mdt_{checkout.id.removeprefix('demo_')}" if checkout.method == "directdebit" else None


class DemoProvider(PaymentProvider):
    name = "demo"
    methods = {
        "ideal": MethodRule(),
        "creditcard": MethodRule(currencies=("EUR", "USD", "GBP")),
        "bancontact": MethodRule(),
        "paypal": MethodRule(),
        "directdebit": MethodRule(),
    }

    def __init__(self, session: Session, checkout_url_for: Callable[[str], str]) -> None:
        self._session = session
        self._checkout_url_for = checkout_url_for

    def start_checkout(self, request: CheckoutRequest) -> Checkout:
        existing = self._session.scalars(
            select(DemoCheckout).where(DemoCheckout.idempotency_key == request.idempotency_key)
        ).one_or_none()
        if existing is None:
            existing = DemoCheckout(
                id=f"demo_{secrets.token_hex(8)}",
                idempotency_key=request.idempotency_key,
                payment_id=request.payment_id,
                amount_cents=request.amount_cents,
                currency=request.currency,
                method=request.method,
                description=request.description[:200],
                return_url=request.return_url,
                status="open",
                refunds=[],
                created_at=clock.now(),
            )
            self._session.add(existing)
            self._session.flush()
        return Checkout(external_id=existing.id, redirect_url=self._checkout_url_for(existing.id))

    def _get(self, external_id: str) -> DemoCheckout:
        checkout = self._session.get(DemoCheckout, external_id)
        if checkout is None:
            raise ProviderRejected(f"unknown demo checkout {external_id}")
        return checkout

    def fetch_status(self, external_id: str) -> ProviderStatus:
        checkout = self._get(external_id)
        if checkout.status == "pending" and checkout.settles_at is not None and clock.now() >= checkout.settles_at:
            checkout.status = "paid"
        return ProviderStatus(
            external_id=checkout.id,
            state=STATES[checkout.status],
            amount_cents=checkout.amount_cents,
            currency=checkout.currency,
            method=checkout.method,
            payment_id=checkout.payment_id,
            reversals=tuple(Reversal(str(ref), "refund", int(cents)) for ref, cents in checkout.refunds),
            failure_reason="demo_declined" if checkout.status == "failed" else None,
            mandate_reference=demo_mandate_id(checkout) if checkout.status == "paid" else None,
        )

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookNotice | None:
        ids = parse_qs(body.decode("utf-8", "replace")).get("id")
        if not ids:
            raise InvalidWebhook("no id")
        return WebhookNotice(reference=ids[0]) if ids[0].startswith("demo_") else None

    def refund(self, external_id: str, amount_cents: int, currency: str, idempotency_key: str) -> Reversal:
        checkout = self._get(external_id)
        refund_id = f"demo_re_{idempotency_key}"
        for ref, cents in checkout.refunds:
            if ref == refund_id:
                return Reversal(refund_id, "refund", int(cents))
        if checkout.status != "paid":
            raise ProviderRejected("only a paid demo checkout can be refunded")
        # A new list, so the JSON column sees the change.
        checkout.refunds = [*checkout.refunds, [refund_id, amount_cents]]
        return Reversal(refund_id, "refund", amount_cents)

    def cancel_checkout(self, external_id: str) -> bool:
        checkout = self._session.get(DemoCheckout, external_id)
        # As a real provider: only a checkout nobody has decided yet can be ended.
        if checkout is None or checkout.status != "open":
            return False
        checkout.status = "cancelled"
        return True

    def choose_outcome(self, external_id: str, outcome: str) -> DemoCheckout:
        """What the visitor picked on the demo checkout page. Only an open checkout can be decided."""
        checkout = self._get(external_id)
        if checkout.status != "open" or outcome not in OUTCOMES:
            return checkout
        checkout.status = outcome
        if outcome == "pending":
            checkout.settles_at = clock.now() + SETTLE_AFTER
        return checkout
