"""What Stripe's objects and errors say, in our terms: a checkout session's state, the method and our payment id
it carries, the refunds and disputes of its payment intent as reversals, and an SDK error as unavailable or
refused. Pure functions of what the SDK returns or raises, so the provider (stripe.py) keeps only the calls."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import stripe

from portal.providers.base import ProviderRejected, ProviderState, ProviderUnavailable, Reversal
from portal.providers.stripe_sepa import DISPUTE_REASONS, REFUND_REQUESTED, str_or_none

# The provider's logger: a refused or unavailable call is logged as the provider's own.
logger = logging.getLogger("portal.providers.stripe")

# Our method name -> Stripe's payment method type.
STRIPE_METHOD_TYPES = {
    "creditcard": "card",
    "ideal": "ideal",
    "bancontact": "bancontact",
    "directdebit": "sepa_debit",
    "paypal": "paypal",
}
OUR_METHODS = {stripe_type: ours for ours, stripe_type in STRIPE_METHOD_TYPES.items()}

# A refund still "pending" has left our balance already; "failed" and "canceled" gave the money back to us,
# and "requires_action" has not moved it yet.
COUNTED_REFUND_STATUSES = frozenset({"succeeded", "pending"})
# Stripe withdraws the disputed amount when a dispute (not an inquiry, "warning_*") opens, and returns it
# only when the dispute is won. "prevented" disputes never withdrew anything.
COUNTED_DISPUTE_STATUSES = frozenset({"needs_response", "under_review", "lost"})
# Reversals that gave the money back after all: a refund the bank returned, a dispute decided in our favour.
UNDONE_REFUND_STATUSES = frozenset({"failed", "canceled"})
UNDONE_DISPUTE_STATUSES = frozenset({"won"})

# Payment intent states that end a completed session unpaid; any other unpaid state is still pending
# (delayed methods such as SEPA debit take days).
FAILED_INTENT_STATUSES = frozenset({"requires_payment_method", "canceled"})


def reversals_of(
    refunds: list[dict[str, Any]], disputes: list[dict[str, Any]]
) -> tuple[tuple[Reversal, ...], tuple[Reversal, ...]]:
    """What Stripe took back, and what it took back and then gave again (``undone``), from a payment
    intent's refunds and disputes."""
    found: list[Reversal] = []
    undone: list[Reversal] = []
    for refund in refunds:
        reversal = Reversal(external_id=refund["id"], kind="refund", amount_cents=int(refund["amount"]))
        if refund.get("status") in COUNTED_REFUND_STATUSES:
            found.append(reversal)
        elif refund.get("status") in UNDONE_REFUND_STATUSES:
            undone.append(reversal)
    for dispute in disputes:
        reason = DISPUTE_REASONS.get(str(dispute.get("reason")), REFUND_REQUESTED)
        reversal = Reversal(
            external_id=dispute["id"], kind="chargeback", amount_cents=int(dispute["amount"]), reason=reason
        )
        if dispute.get("status") in COUNTED_DISPUTE_STATUSES:
            found.append(reversal)
        elif dispute.get("status") in UNDONE_DISPUTE_STATUSES:
            undone.append(reversal)
    return tuple(found), tuple(undone)


def session_state(session: dict[str, Any], intent: dict[str, Any]) -> tuple[ProviderState, str | None]:
    status = session.get("status")
    if status == "expired":
        return "expired", None
    if status != "complete":
        return "open", None
    if session.get("payment_status") in ("paid", "no_payment_required"):
        return "paid", None
    intent_status = intent.get("status")
    if intent_status == "succeeded":
        return "paid", None
    if intent_status in FAILED_INTENT_STATUSES:
        error = intent.get("last_payment_error") or {}
        reason = error.get("code") or error.get("decline_code") or intent.get("cancellation_reason")
        return "failed", str_or_none(reason) or intent_status
    # A completed session whose money has not arrived yet: SEPA debit takes days.
    return "pending", None


def id_of(value: object) -> str | None:
    """An id, whether Stripe gave the object expanded or only its id."""
    if isinstance(value, dict):
        value = value.get("id")
    return str_or_none(value)


def method_of(session: dict[str, Any], intent: dict[str, Any]) -> str | None:
    for types in (session.get("payment_method_types"), intent.get("payment_method_types")):
        if types:
            return OUR_METHODS.get(types[0])
    return None


def payment_id_of(obj: dict[str, Any]) -> int | None:
    payment_id = int_or_none(obj.get("client_reference_id"))
    if payment_id is None:
        payment_id = int_or_none((obj.get("metadata") or {}).get("payment_id"))
    return payment_id


def int_or_none(value: object) -> int | None:
    if not isinstance(value, str | int):  # metadata values are strings; None when absent
        return None
    try:
        return int(value)
    except ValueError:
        return None


def header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)


def error_of(exc: stripe.StripeError, operation: str, subject: str) -> Exception:
    """The SDK's error as ours: ProviderUnavailable when trying again may work, ProviderRejected when not."""
    status = exc.http_status
    # Logged without the SDK's message: an authentication error quotes part of the key.
    log_args = (operation, subject, type(exc).__name__, status, exc.code, exc.request_id)
    if isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError) or not _is_refusal(status):
        logger.warning("stripe %s for %s unavailable: %s (HTTP %s, code %s, request %s)", *log_args)
        return ProviderUnavailable(f"Stripe {operation} failed: {type(exc).__name__} (HTTP {status})")
    logger.warning("stripe %s for %s refused: %s (HTTP %s, code %s, request %s)", *log_args)
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        return ProviderRejected(f"Stripe {operation} refused: the API key is wrong or lacks permission")
    return ProviderRejected(f"Stripe {operation} refused ({exc.code or type(exc).__name__}): {exc.user_message}")


def _is_refusal(status: int | None) -> bool:
    # 409 is an idempotent request still running under the same key, 429 a rate limit: both pass with time.
    return status is not None and 400 <= status < 500 and status not in (409, 429)
