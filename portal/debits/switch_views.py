"""The debtor switches to direct debit: choose a collection day, pay an open invoice as the first payment, see
the direct debit that payment set up."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Blueprint, abort, current_app, g, make_response, redirect, render_template, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import RadioField, SelectChoice, SelectField

from portal import clock
from portal.debits import switching
from portal.debits.errors import DebitProblem
from portal.debits.policy import debit_policy
from portal.debtor.access import debtor_actor, debtor_required, load_debtor
from portal.errors import message_for
from portal.extensions import db
from portal.i18n import _, _l, current_language, force_locale
from portal.invoices.models import Invoice
from portal.payments import queries, services
from portal.payments.errors import PaymentProblem
from portal.payments.methods import method_settings, offered_methods
from portal.providers.base import PaymentProvider, ProviderRejected, ProviderUnavailable
from portal.providers.registry import configured_provider_names, get_provider
from portal.web import CONTENT_SECURITY_POLICY

log = logging.getLogger(__name__)
bp = Blueprint("debit_switch", __name__)
# As on the payment's own return page: the provider is asked again at most this often.
RESYNC_AFTER = timedelta(seconds=1)


class SwitchForm(FlaskForm):
    # Not checked against the choices: an invoice paid meanwhile gets the service's friendlier message.
    invoice = RadioField(_l("Which invoice do you pay now?"), choices=[], validate_choice=False)
    day = SelectField(
        _l("On which day of the month do we collect?"),
        choices=[],
        coerce=int,
        validate_choice=False,  # the service says which days are allowed, in words of its own
        description=_l("If that day is a weekend or bank holiday, we collect on the next bank business day."),
    )


def _providers() -> list[PaymentProvider]:
    return [get_provider(name) for name in configured_provider_names(current_app.config)]


@bp.app_template_global("direct_debit_switch_offered")
def direct_debit_switch_offered() -> bool:
    """For the pay page: a debtor paying by hand, with a provider that can make a mandate, may switch."""
    customer = g.get("customer")
    return customer is not None and _first_payments_offered() and switching.can_switch(db.session, customer)


def _first_payments_offered() -> bool:
    choices = method_settings(db.session, _providers())
    return any(choice.method == switching.METHOD and choice.enabled for choice in choices)


def _page(form: SwitchForm, open_invoices: list[Invoice], *, error: str | None = None, status: int = 200) -> Response:
    response = make_response(
        render_template(
            "debits/switch.html",
            form=form,
            open_invoices=open_invoices,
            already=not switching.can_switch(db.session, g.customer),
            offered=_first_payments_offered(),
            notice_days=debit_policy(db.session).notice_days,
            error=error,
        ),
        status,
    )
    # As on the pay page: the form goes on to the provider's hosted page (and perhaps a bank), over https.
    if any(name != "demo" for name in configured_provider_names(current_app.config)):
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
            "form-action 'self'", "form-action 'self' https:"
        )
    return response


@bp.route("/debits/switch", methods=["GET", "POST"])
@debtor_required
def switch() -> Response:
    customer = g.customer
    open_invoices = [
        invoice for invoice in queries.list_payable_invoices(db.session, customer.id) if invoice.outstanding_cents > 0
    ]
    form = SwitchForm()
    form.invoice.choices = [SelectChoice(invoice.number) for invoice in open_invoices]
    form.day.choices = [SelectChoice(day, str(day)) for day in debit_policy(db.session).allowed_days]
    if form.invoice.data is None and open_invoices:
        form.invoice.data = open_invoices[0].number
    if not form.is_submitted():
        db.session.commit()
        return _page(form, open_invoices)
    if not form.validate():
        return _page(form, open_invoices, status=400)
    try:
        choice = services.choose_invoices(db.session, customer, [form.invoice.data])
        offered = {c.method: c for c in offered_methods(db.session, _providers(), choice.amount_cents, choice.currency)}
        if switching.METHOD not in offered:
            raise PaymentProblem("method_unavailable")
        provider = get_provider(offered[switching.METHOD].provider)
        payment = switching.start_switch(
            db.session,
            customer,
            choice,
            day=form.day.data,
            provider=provider.name,
            locale=current_language(),
            actor=debtor_actor(),
        )
    except (PaymentProblem, DebitProblem) as problem:
        db.session.rollback()
        return _page(form, open_invoices, error=message_for(problem), status=400)
    # Saved before the provider is called, as on the pay page: its webhook may come before this request ends.
    db.session.commit()
    with force_locale(payment.locale):
        description = _("Invoice %(numbers)s", numbers=payment.items[0].invoice.number)
    base = current_app.config["BASE_URL"]
    try:
        checkout_url = services.open_checkout(
            db.session,
            provider,
            payment,
            description=description,
            return_url=base + url_for("debit_switch.done", public_id=payment.public_id),
            webhook_url=base + url_for("webhooks.receive", provider_name=provider.name),
        )
    except ProviderUnavailable:
        db.session.rollback()
        log.warning("payment %s: no answer from %s when opening a first payment", payment.id, provider.name)
        error = _("We could not reach the payment service just now. Nothing has been paid. Please try again later.")
        return _page(form, open_invoices, error=error, status=503)
    except ProviderRejected:
        db.session.rollback()
        services.give_up_checkout(db.session, payment, reason="checkout_refused")
        db.session.commit()
        log.error("payment %s: %s refused to open a first payment", payment.id, provider.name)
        error = _("The payment service could not start this payment. Nothing has been paid. Please try again later.")
        return _page(form, open_invoices, error=error, status=502)
    db.session.commit()
    return redirect(checkout_url, code=303)


@bp.get("/debits/switch/<public_id>")
def done(public_id: str) -> Response:
    """Where the first payment returns to: the payment's verdict and, once paid, the direct debit it set up.

    Like the payment's own return page it works without the debtor's session, but then shows no details.
    """
    customer = load_debtor()
    payment = queries.get_payment_by_public_id(db.session, public_id)
    if payment is None or (customer is not None and payment.customer_id != customer.id):
        abort(404)
    switch = switching.switch_of(db.session, payment)
    if switch is None:
        abort(404)
    g.customer = customer or payment.customer
    if not payment.is_final and (payment.synced_at is None or clock.now() - payment.synced_at >= RESYNC_AFTER):
        db.session.commit()  # end the read, so no lock waits on the provider
        try:
            services.sync_payment(db.session, get_provider(payment.provider), payment, actor=debtor_actor())
            db.session.commit()
        except (ProviderUnavailable, ProviderRejected, KeyError) as error:
            db.session.rollback()
            log.warning("payment %s: status check at %s failed: %s", payment.id, payment.provider, type(error).__name__)
    outcome = switching.outcome_of(db.session, switch)
    response = make_response(
        render_template("debits/switch_done.html", outcome=outcome, owner_view=customer is not None)
    )
    response.headers["Cache-Control"] = "no-store"
    return response
