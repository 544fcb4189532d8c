"""Which payment methods a debtor is offered, through which provider, and which one to preselect."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import clock
from portal.audit.services import Actor, record
from portal.i18n import _l
from portal.payments.models import Payment, PaymentMethodSetting
from portal.providers.base import METHODS, PaymentProvider

METHOD_LABELS: dict[str, Any] = {
    "ideal": _l("iDEAL"),
    "creditcard": _l("Credit or debit card"),
    "bancontact": _l("Bancontact"),
    "paypal": _l("PayPal"),
    # i18n: a one-off payment that also sets up direct debit for the next invoices
    "directdebit": _l("SEPA direct debit"),
}
METHOD_HINTS: dict[str, Any] = {
    "ideal": _l("Pay straight from your Dutch bank account."),
    "creditcard": _l("Visa, Mastercard or American Express."),
    "bancontact": _l("For Belgian bank cards and apps."),
    "paypal": _l("Pay with your PayPal account."),
    "directdebit": _l("Pay this once and let us collect future invoices from your account."),
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
    saved = {row.method: row for row in session.scalars(select(PaymentMethodSetting))}
    by_name = {provider.name: provider for provider in providers}
    choices = []
    for method in METHODS:
        row = saved.get(method)
        if row is not None and row.provider in by_name:
            choices.append(MethodChoice(method, row.provider, row.enabled))
            continue
        default = next((provider.name for provider in providers if method in provider.methods), None)
        if default is not None:
            choices.append(MethodChoice(method, default, row.enabled if row is not None else True))
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
    """The method of the customer's latest successful payment, to preselect next time."""
    return session.scalars(
        select(Payment.method)
        .where(Payment.customer_id == customer_id, Payment.state == "paid")
        .order_by(Payment.paid_at.desc())
        .limit(1)
    ).first()


def save_method_settings(session: Session, choices: list[MethodChoice], *, actor: Actor) -> None:
    now = clock.now()
    for choice in choices:
        row = session.get(PaymentMethodSetting, choice.method)
        if row is None:
            row = PaymentMethodSetting(method=choice.method)
            session.add(row)
        row.provider = choice.provider
        row.enabled = choice.enabled
        row.updated_at = now
    record(
        session,
        actor,
        "payment_methods.changed",
        methods={choice.method: (choice.provider if choice.enabled else None) for choice in choices},
    )


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


def provider_label(name: str) -> str:
    return str(PROVIDER_LABELS.get(name, name))
