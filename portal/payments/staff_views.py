"""Staff pages for payments: refunds (supervisors) and which methods are offered through which provider (admins)."""

from __future__ import annotations

import logging

from babel.dates import format_timedelta
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from portal import clock
from portal.errors import message_for
from portal.extensions import db
from portal.i18n import _, current_locale, format_money
from portal.payments import allocation, refunds
from portal.payments.errors import RefundProblem
from portal.payments.forms import RefundForm
from portal.payments.methods import MethodChoice, method_settings, save_method_settings
from portal.payments.models import Payment, PaymentReversal
from portal.payments.queries import allocations_of
from portal.providers.base import ProviderRejected, ProviderUnavailable
from portal.providers.registry import configured_provider_names, get_provider
from portal.staff.auth import staff_actor
from portal.staff.permissions import Permission, requires

log = logging.getLogger(__name__)
bp = Blueprint("staff_payments", __name__, url_prefix="/staff")


# A refund of a payment older than this is double-checked: staff are told how old it is before they confirm.
OLD_PAYMENT_DAYS = 180


def _back_to_customer(customer_id: int) -> Response:
    # To the messages at the top of the page, so the result is the first thing seen (and focused).
    return redirect(url_for("staff_customers.detail", customer_id=customer_id, _anchor="messages"))


@bp.post("/customers/<int:customer_id>/payments/<int:payment_id>/refund")
@requires(Permission.REFUND_PAYMENTS)
def refund(customer_id: int, payment_id: int) -> str | Response:
    """First submit: a page that says what the refund will do. Only the confirmed submit asks the provider."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.customer_id != customer_id:
        abort(404)
    back = _back_to_customer(customer_id)
    form = RefundForm()
    form.currency = payment.currency
    if not form.validate_on_submit():
        flash(
            form.amount.errors[0] if form.amount.errors else _("Enter the amount to refund, for example 25.00."),
            "error",
        )
        return back
    amount = form.amount_cents
    if form.confirmed.data != "yes":
        return _confirmation(payment, form, amount) or back
    return _send(payment, form, amount, back)


def _confirmation(payment: Payment, form: RefundForm, amount: int) -> str | None:
    """The confirmation page; None (with a message) when there is nothing that could be confirmed."""
    pending = payment.refund_pending_cents if payment.refund_pending_key else None
    if pending is None:
        problem = None
        if payment.state != "paid" or payment.external_id is None:
            problem = RefundProblem("not_paid")
        elif not 0 < amount <= payment.refundable_cents:
            problem = RefundProblem("amount", maximum=payment.refundable_cents, currency=payment.currency)
        if problem is not None:
            flash(message_for(problem), "error")
            return None
    shown = pending or amount
    paid_at = payment.paid_at or payment.created_at
    age = clock.now() - paid_at
    return render_template(
        "staff/payments/refund_confirm.html",
        payment=payment,
        customer=payment.customer,
        form=form,
        amount=shown,
        pending=pending,
        full=shown == payment.refundable_cents,
        paid_at=paid_at,
        age=format_timedelta(age, threshold=1, locale=current_locale()) if age.days > OLD_PAYMENT_DAYS else None,
        invoice_numbers=sorted({allocation.invoice.number for allocation in allocations_of(payment)}),
        effect=allocation.refund_effect(payment, shown),
    )


def _send(payment: Payment, form: RefundForm, amount: int, back: Response) -> Response:
    payment_id = payment.id
    try:
        refund_request = refunds.request_refund(db.session, payment.id, amount, form.request_id.data or "")
        db.session.commit()  # noted before the provider is asked: see request_refund
        result = refunds.send_refund(db.session, get_provider(payment.provider), refund_request, actor=staff_actor())
    except RefundProblem as problem:
        db.session.rollback()
        flash(message_for(problem), "error")
        return back
    except ProviderUnavailable:
        db.session.rollback()
        log.warning("payment %s: no answer from %s to a refund request", payment_id, payment.provider)
        flash(
            _(
                "The payment provider did not answer, so we do not know yet whether the refund went through. "
                "Press Refund again later: it repeats the same request and never refunds twice."
            ),
            "error",
        )
        return back
    except (ProviderRejected, KeyError):
        db.session.rollback()
        refunds.forget_refund_request(db.session, payment.id)
        db.session.commit()
        log.warning("payment %s: %s refused a refund", payment_id, payment.provider)
        flash(_("The payment provider refused the refund. Nothing was refunded."), "error")
        return back
    db.session.commit()
    if result is None:
        flash(
            _(
                "The same refund was sent at the same moment from another click or window and was not recorded. "
                "Check the payment's refunds before you try again."
            ),
            "error",
        )
    elif not refund_request.retried:
        # This form's refund, also when the form came twice (a double click): the browser shows the second
        # answer, so it says what the first did.
        flash(_refunded_message(payment, result.reversal), "info")
    elif result.made_now:
        flash(
            _(
                "The earlier refund of %(amount)s has now been confirmed by the provider.",
                amount=format_money(result.reversal.amount_cents, payment.currency),
            ),
            "info",
        )
    else:
        # The earlier form's refund this one repeated was finished by another request meanwhile: that is news.
        flash(message_for(RefundProblem("already_done")), "info")
    return back


def _refunded_message(payment: Payment, reversal: PaymentReversal) -> str:
    """The result in the words of the confirmation: which invoices are owed again, and by how much."""
    effect = allocation.effect_of(reversal)
    sentences = [
        _(
            "Refunded %(amount)s to %(name)s.",
            amount=format_money(reversal.amount_cents, payment.currency),
            name=payment.customer.name,
        )
    ]
    for number, cents in effect.reopened:
        owed = format_money(cents, payment.currency)
        sentences.append(_("%(amount)s is owed again on invoice %(number)s.", amount=owed, number=number))
    if not effect.reopened:
        sentences.append(_("It came out of the customer's credit; no invoice is open again."))
    return " ".join(sentences)


@bp.route("/payment-methods", methods=["GET", "POST"])
@requires(Permission.MANAGE_PAYMENT_METHODS)
def methods() -> str | Response:
    providers = [get_provider(name) for name in configured_provider_names(current_app.config)]
    current = method_settings(db.session, providers)
    form = FlaskForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        by_name = {provider.name: provider for provider in providers}
        chosen = []
        for choice in current:
            provider = request.form.get(f"provider-{choice.method}", choice.provider)
            if provider not in by_name or choice.method not in by_name[provider].methods:
                provider = choice.provider
            chosen.append(MethodChoice(choice.method, provider, request.form.get(f"enabled-{choice.method}") == "on"))
        save_method_settings(db.session, chosen, actor=staff_actor())
        db.session.commit()
        flash(_("The payment methods have been saved."), "info")
        return redirect(url_for(".methods"))
    return render_template("staff/payment_methods.html", choices=current, providers=providers, form=form)
