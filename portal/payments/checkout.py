"""From what the debtor chose to the provider's hosted page: the pay page and a plan's instalment page both
start their payments here, so a double click, a provider that is down or refuses, and the checkouts a new one
supersedes are handled in one place."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import current_app, redirect, url_for
from werkzeug.wrappers import Response

from portal.after_response import run_after_response
from portal.audit.services import Actor
from portal.customers.models import Customer
from portal.debtor.access import debtor_actor
from portal.extensions import db
from portal.i18n import _, _n, current_language, force_locale
from portal.payments import services
from portal.payments.methods import MethodChoice, offered_methods
from portal.payments.models import Payment
from portal.providers.base import ProviderRejected, ProviderUnavailable
from portal.providers.registry import configured_provider_names, get_provider
from portal.web import CONTENT_SECURITY_POLICY

log = logging.getLogger(__name__)


def configured_providers() -> list:
    return [get_provider(name) for name in configured_provider_names(current_app.config)]


def allow_provider_form_action(response: Response) -> Response:
    """For a page whose form sends the browser on to the provider's hosted page, and from there perhaps to a
    bank or PayPal: browsers check CSP form-action on every redirect of a form's navigation, so allow https."""
    if any(name != "demo" for name in configured_provider_names(current_app.config)):
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
            "form-action 'self'", "form-action 'self' https:"
        )
    return response


def offered_for(choice: services.PaymentChoice) -> dict[str, MethodChoice]:
    """{method: how it is offered} for what ``choice`` charges."""
    return {
        c.method: c for c in offered_methods(db.session, configured_providers(), choice.amount_cents, choice.currency)
    }


def go_to_checkout(
    customer: Customer,
    choice: services.PaymentChoice,
    *,
    provider_name: str,
    method: str,
    show_error: Callable[[str, int], Response],
) -> Response:
    """Start (or pick up) the payment of ``choice`` and send the debtor to the provider's page; the pay page
    and a plan's instalment page both end here. ``show_error(message, status)`` renders the caller's page."""
    provider = get_provider(provider_name)
    payment = services.start_payment(
        db.session,
        customer,
        choice,
        provider=provider.name,
        method=method,
        locale=current_language(),
        actor=debtor_actor(),
    )
    # Saved before the provider is called: its webhook may arrive before this request ends, and a
    # failed call must leave a payment the next click can pick up with the same idempotency key.
    db.session.commit()
    # In the payment's language, so a retry in another language still sends the very same request.
    with force_locale(payment.locale):
        description = _n(
            "Invoice %(numbers)s",
            "Invoices %(numbers)s",
            len(payment.items),
            numbers=", ".join(item.invoice.number for item in payment.items),
        )
    base = current_app.config["BASE_URL"]
    try:
        checkout_url = services.open_checkout(
            db.session,
            provider,
            payment,
            description=description,
            return_url=base + url_for("payments.status", public_id=payment.public_id),
            webhook_url=base + url_for("webhooks.receive", provider_name=provider.name),
        )
    except ProviderUnavailable:
        db.session.rollback()
        log.warning("payment %s: no answer from %s when opening a checkout", payment.id, provider.name)
        message = _(
            "We could not reach the payment service just now. Nothing has been paid. "
            "Please try again in a few minutes, or pay by bank transfer."
        )
        return show_error(message, 503)
    except ProviderRejected:
        db.session.rollback()
        services.give_up_checkout(db.session, payment, reason="checkout_refused")
        db.session.commit()
        log.error("payment %s: %s refused to open a checkout", payment.id, provider.name)
        message = _(
            "The payment service could not start this payment. Nothing has been paid. "
            "Please choose another way to pay, or pay by bank transfer."
        )
        return show_error(message, 502)
    db.session.commit()
    response = redirect(checkout_url, code=303)
    _end_superseded_after_the_response(response, payment.id, debtor_actor())
    return response


def _end_superseded_after_the_response(response: Response, payment_id: int, actor: Actor) -> None:
    """Run ``_end_superseded_checkouts`` once the redirect has gone out: each old checkout costs the provider
    two or three calls (10 s time-outs), which the debtor, on their way to pay, should not wait for."""

    def end() -> None:
        payment = db.session.get(Payment, payment_id)
        if payment is not None:
            _end_superseded_checkouts(payment, actor)

    run_after_response(response, end, what=f"ending the checkouts superseded by payment {payment_id}")


def _end_superseded_checkouts(payment: Payment, actor: Actor) -> None:
    """End the debtor's other open checkouts for these invoices, so they cannot pay them twice.

    Only once the new checkout is open (a failure there leaves the old one usable) and committed (every call
    to a provider follows a commit). A provider that refuses or is down is logged and skipped.
    """
    for payment_id in services.superseded_checkouts(db.session, payment):
        other = db.session.get(Payment, payment_id)
        db.session.commit()  # nothing written: end the read before the provider is asked
        if other is None:
            continue
        try:
            provider = get_provider(other.provider)
        except KeyError:
            continue  # that provider is no longer configured; the paid-twice policy covers a late payment
        services.cancel_checkout(db.session, provider, payment_id, actor=actor)
        db.session.commit()
