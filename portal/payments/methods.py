"""Which payment methods a debtor is offered, through which provider, and which one to preselect.

Staff's choice is the versioned setting ``payments.methods`` ({method: {"provider", "enabled"}}); this
module also registers payments' names for methods, states and providers with the templates (init_app).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import String, cast, exists, select
from sqlalchemy.orm import Session

from portal.audit.services import Actor
from portal.events.models import DomainEvent
from portal.i18n import _l
from portal.payments.models import Payment
from portal.providers.base import METHODS, PaymentProvider
from portal.settings.services import METHODS_KEY, get_setting, set_settings

METHOD_LABELS: dict[str, Any] = {
    "ideal": _l("iDEAL"),
    "creditcard": _l("Credit or debit card"),
    "bancontact": _l("Bancontact"),
    "paypal": _l("PayPal"),
    # i18n: a one-off debit of this amount; it does not set up direct debit for later invoices
    "directdebit": _l("SEPA direct debit"),
}
METHOD_HINTS: dict[str, Any] = {
    "ideal": _l("Pay straight from your Dutch bank account."),
    "creditcard": _l("Visa, Mastercard or American Express."),
    "bancontact": _l("For Belgian bank cards and apps."),
    "paypal": _l("Pay with your PayPal account."),
    # Paying this way collects this amount once; it sets up no direct debit for later invoices (switching to direct
    # debit is a page of its own, debits/switch_views.py), so the hint must not promise that.
    "directdebit": _l(
        "We take this amount from your bank account once. This does not set up direct debit for later invoices."
    ),
}


def method_name(method: str) -> str:
    return str(METHOD_LABELS.get(method, method))


@dataclass(frozen=True)
class MethodChoice:
    method: str
    provider: str
    enabled: bool


def method_settings(session: Session, providers: list[PaymentProvider]) -> list[MethodChoice]:
    """Every method with its provider and whether it is on: staff's choice, else the first provider that can."""
    saved: dict[str, dict[str, Any]] = get_setting(session, METHODS_KEY)
    by_name = {provider.name: provider for provider in providers}
    choices = []
    for method in METHODS:
        chosen = saved.get(method)
        if chosen is not None and chosen["provider"] in by_name:
            choices.append(MethodChoice(method, chosen["provider"], chosen["enabled"]))
            continue
        default = next((provider.name for provider in providers if method in provider.methods), None)
        if default is not None:
            choices.append(MethodChoice(method, default, chosen["enabled"] if chosen is not None else True))
    return choices


def offered_methods(
    session: Session, providers: list[PaymentProvider], amount_cents: int, currency: str
) -> list[MethodChoice]:
    """The methods a debtor can use for this amount and currency, in a stable order."""
    by_name = {provider.name: provider for provider in providers}
    return [
        choice
        for choice in method_settings(session, providers)
        if choice.enabled and by_name[choice.provider].supports(choice.method, amount_cents, currency)
    ]


def usual_method(session: Session, customer_id: int) -> str | None:
    """The method of the latest successful payment the customer made themselves, to preselect next time.

    A debit we collected on their mandate (a month's, a plan's instalment) was started by us, not chosen by them:
    it says nothing about how they like to pay here, and calling one-off SEPA direct debit "used last time" after
    it would be untrue.
    """
    from portal.payments.events import STARTED

    started_by_us = exists(
        select(DomainEvent.id).where(
            DomainEvent.subject_type == "payment",
            DomainEvent.subject_id == cast(Payment.id, String),
            DomainEvent.kind == STARTED,
            DomainEvent.actor_type == "system",
        )
    )
    return session.scalars(
        select(Payment.method)
        .where(Payment.customer_id == customer_id, Payment.state == "paid", ~started_by_us)
        .order_by(Payment.paid_at.desc())
        .limit(1)
    ).first()


def save_method_settings(session: Session, choices: list[MethodChoice], *, actor: Actor) -> list[str]:
    """A new version of ``payments.methods`` (audited as setting.changed) when the choices differ.

    Methods not in ``choices`` (their provider is not configured here) keep what was chosen for them.
    """
    saved: dict[str, dict[str, Any]] = get_setting(session, METHODS_KEY)
    chosen = {choice.method: {"provider": choice.provider, "enabled": choice.enabled} for choice in choices}
    return set_settings(session, {METHODS_KEY: {**saved, **chosen}}, actor=actor)


PAYMENT_STATE_LABELS: dict[str, Any] = {
    "created": _l("Not started"),
    "open": _l("Waiting for the customer"),
    "pending": _l("Being processed"),
    "paid": _l("Received"),
    "failed": _l("Failed"),
    "cancelled": _l("Cancelled"),
    "expired": _l("Expired"),
}
PROVIDER_LABELS: dict[str, Any] = {"stripe": "Stripe", "mollie": "Mollie", "demo": _l("Demo (no real money)")}


def payment_state_name(state: str) -> str:
    return str(PAYMENT_STATE_LABELS.get(state, state))


def payment_standing(payment: Payment) -> str:
    """A payment's state as staff read it on a customer's page: one paid back, wholly or in part, says so rather
    than "Received" (the lines under it say when and how much)."""
    if payment.state != "paid" or payment.reversed_cents <= 0:
        return payment_state_name(payment.state)
    kinds = {reversal.kind for reversal in payment.reversals if reversal.undone_at is None}
    whole = payment.reversed_cents >= payment.received_cents
    if kinds == {"refund"}:
        return str(_l("Refunded") if whole else _l("Partly refunded"))
    return str(_l("Charged back") if whole else _l("Partly paid back"))


def provider_label(name: str) -> str:
    return str(PROVIDER_LABELS.get(name, name))


def init_app(app: Flask) -> None:
    """Payments' names, for every template: i18n knows no feature, each feature registers its own."""
    app.jinja_env.globals.update(
        method_name=method_name,
        payment_state_name=payment_state_name,
        payment_standing=payment_standing,
        provider_label=provider_label,
    )
