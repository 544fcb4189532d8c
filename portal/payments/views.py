"""The debtor's side of paying: choose invoices and a method, go to the provider, see the outcome."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from flask import Blueprint, abort, g, make_response, render_template, request, session
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from portal import clock
from portal.accounts.held import held_cents, payable_cents
from portal.customers.models import Customer
from portal.debtor.access import debtor_actor, debtor_required, load_debtor, note_visit
from portal.debtor.arranged import PROMISE, Arrangements, arrangements_for
from portal.errors import message_for
from portal.extensions import db
from portal.invoices.models import Invoice
from portal.money import AmountProblem, parse_amount
from portal.payments import queries, refunds, services
from portal.payments.checkout import allow_provider_form_action, configured_providers, go_to_checkout, offered_for
from portal.payments.errors import PaymentProblem
from portal.payments.forms import PayForm
from portal.payments.methods import METHOD_HINTS, method_name, offered_methods, usual_method
from portal.payments.models import Payment
from portal.payments.still_open import StillOpen, owed_after, what_is_still_open
from portal.plans.overview import running_plan_of
from portal.plans.progress import PlanProgress
from portal.plans.template_helpers import note_more_time
from portal.providers.base import METHODS, ProviderRejected, ProviderUnavailable
from portal.providers.registry import get_provider
from portal.settings.services import partial_payment_minimum_cents

log = logging.getLogger(__name__)
bp = Blueprint("payments", __name__)

PREFERRED_METHOD_KEY = "preferred_method"
# The status page asks the provider again at most this often, however fast it is polled.
RESYNC_AFTER = timedelta(seconds=1)


def remember_preferred_method(method: str | None) -> None:
    """A reminder link may ask for a method (``?method=creditcard``); it is preselected on the pay page."""
    if method in METHODS:
        session[PREFERRED_METHOD_KEY] = method


@dataclass(frozen=True)
class Payable:
    """What the pay page offers: the invoices, what a dispute holds on each (by id), those wholly on hold, and
    which of the offered ones a debit, a plan or a promise takes care of (not ticked unless asked for)."""

    invoices: list[Invoice]
    held: dict[int, int]
    on_hold: list[Invoice]
    arrangements: Arrangements

    @property
    def to_pay_now(self) -> list[Invoice]:
        return [invoice for invoice in self.invoices if self.arrangements.kind_of(invoice.number) is None]

    @property
    def promised(self) -> list[Invoice]:
        return [invoice for invoice in self.invoices if self.arrangements.kind_of(invoice.number) == PROMISE]


def _payable_invoices(customer: Customer) -> Payable:
    invoices = queries.list_payable_invoices(db.session, customer.id)
    held = held_cents(db.session, [invoice.id for invoice in invoices])
    offered = [invoice for invoice in invoices if payable_cents(invoice, held) > 0]
    # A dispute's hold keeps a debit from collecting its invoice: the rest is the debtor's to pay.
    disputed = {invoice.number for invoice in invoices if held.get(invoice.id, 0) > 0}
    arrangements = arrangements_for(
        db.session, customer.id, offered, today=clock.today_for(customer), now=clock.now(), disputed=disputed
    )
    if arrangements.plans is not None:
        note_more_time(customer.id, arrangements.plans)
    return Payable(offered, held, [i for i in invoices if payable_cents(i, held) <= 0], arrangements)


def _default_choice(payable: Payable, wanted: list[str]) -> list[str]:
    """The invoices ticked when the page opens: those named in the address, else everything asked for now (not
    what a debit will collect or a plan or promise covers: the debtor may still tick those), and when nothing is,
    what they promised to pay (it is theirs to pay, by its date). One currency: a payment is in one currency."""
    chosen = [i for i in payable.invoices if i.number in wanted] if wanted else payable.to_pay_now or payable.promised
    currency = chosen[0].currency if chosen else None
    return [invoice.number for invoice in chosen if invoice.currency == currency]


def _pay_page(
    form: PayForm,
    payable: Payable,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    open_invoices, held = payable.invoices, payable.held
    selected = [invoice for invoice in open_invoices if invoice.number in (form.invoice.data or [])]
    currency = (selected or open_invoices)[0].currency if open_invoices else "EUR"
    selected_cents = sum(payable_cents(invoice, held) for invoice in selected if invoice.currency == currency)
    total = selected_cents or sum(payable_cents(invoice, held) for invoice in open_invoices)
    methods = offered_methods(db.session, configured_providers(), max(total, 1), currency)
    form.method.choices = [SelectChoice(choice.method, method_name(choice.method)) for choice in methods]
    last_used = usual_method(db.session, g.customer.id)
    if form.method.data not in {choice.method for choice in methods}:
        preferred = session.get(PREFERRED_METHOD_KEY) or last_used
        form.method.data = (
            preferred if preferred in {c.method for c in methods} else (methods[0].method if methods else None)
        )
    response = make_response(
        render_template(
            "payments/pay.html",
            form=form,
            open_invoices=open_invoices,
            held=held,
            on_hold=payable.on_hold,
            arrangements=payable.arrangements,
            all_arranged=bool(open_invoices) and not (payable.to_pay_now or payable.promised),
            methods=methods,
            method_hints=METHOD_HINTS,
            selected_cents=selected_cents,
            button_cents=_button_cents(form, selected, selected_cents),
            currency=currency,
            last_used_method=last_used,
            minimum_partial_cents=partial_payment_minimum_cents(db.session, currency),
            error=error,
        ),
        status,
    )
    return allow_provider_form_action(response)


def _button_cents(form: PayForm, selected: list[Invoice], selected_cents: int) -> int | None:
    """The amount the pay button names, or None when it cannot name one (nothing chosen, no amount yet)."""
    if not selected or len({invoice.currency for invoice in selected}) > 1:
        return None
    if form.amount_choice.data != "partial":
        return selected_cents
    try:
        return parse_amount(form.partial_amount.data, form.currency)
    except AmountProblem:
        return None


def _choices_from_address(form: PayForm, currency: str) -> None:
    """The method, all or part, and the part amount named in the address, as the form sends them: the language
    switch comes back with them (pay.js puts them in its link; without JavaScript the link keeps the address).
    The amount stays as it was typed, in whichever notation; the page checks it only when it is sent."""
    form.currency = currency
    if request.args.get("method") in METHODS:
        form.method.data = request.args["method"]  # checked against the methods offered when the page is drawn
    # Only where part-payments are offered: the button must never name an amount the page does not show.
    if request.args.get("amount_choice") == "partial" and partial_payment_minimum_cents(db.session, currency):
        form.amount_choice.data = "partial"
        form.partial_amount.data = request.args.get("partial_amount", "")


# The service's answers about the typed part-payment amount.
AMOUNT_PROBLEMS = frozenset({"amount_too_large", "amount_too_small"})


@bp.route("/pay", methods=["GET", "POST"])
@debtor_required
def pay() -> Response:
    customer = g.customer
    payable = _payable_invoices(customer)
    open_invoices = payable.invoices
    form = PayForm()
    form.invoice.choices = [SelectChoice(invoice.number) for invoice in open_invoices]
    if request.method == "GET":
        remember_preferred_method(request.args.get("method"))
        form.invoice.data = _default_choice(payable, request.args.getlist("invoice"))
        # The currency the page shows: the ticked invoices', else the first offered (as _pay_page does).
        shown = [i for i in open_invoices if i.number in form.invoice.data] or open_invoices
        _choices_from_address(form, shown[0].currency if shown else "EUR")
        note_visit("pay")
        db.session.commit()
        return _pay_page(form, payable)
    # The method's choices depend on the amount; they are checked by the service, not by WTForms.
    form.method.choices = [SelectChoice(method) for method in METHODS]
    chosen_currency = next((i.currency for i in open_invoices if i.number in (form.invoice.data or [])), "EUR")
    form.currency = chosen_currency
    if not form.validate_on_submit():
        return _pay_page(form, payable, status=400)
    try:
        choice = services.choose_invoices(
            db.session,
            customer,
            form.invoice.data,
            partial_cents=form.partial_cents,
            # The policy in force now, for the currency of the chosen invoices (mixed currencies are refused).
            minimum_partial_cents=partial_payment_minimum_cents(db.session, chosen_currency),
        )
        offered = offered_for(choice)
        if form.method.data not in offered:
            raise PaymentProblem("method_unavailable")
    except PaymentProblem as problem:
        if problem.code in AMOUNT_PROBLEMS:
            # Said at the amount, as the form's own checks are: the field is marked and read out with it.
            form.partial_amount.errors = [*form.partial_amount.errors, message_for(problem)]
            return _pay_page(form, payable, status=400)
        return _pay_page(form, payable, error=message_for(problem), status=400)
    return go_to_checkout(
        customer,
        choice,
        provider_name=offered[form.method.data].provider,
        method=form.method.data,
        show_error=lambda message, code: _pay_page(form, payable, error=message, status=code),
    )


def send_paid_twice_refund(payment: Payment) -> None:
    """Send the refund a payment for invoices already paid has noted; the reconciliation job retries it."""
    if payment.refund_pending_key != services.paid_twice_refund_key(payment.id):
        return
    try:
        refunds.send_paid_twice_refund(db.session, get_provider(payment.provider), payment.id, actor=debtor_actor())
        db.session.commit()
    except (ProviderUnavailable, KeyError) as error:
        db.session.rollback()
        log.warning("payment %s: paid-twice refund not sent yet: %s", payment.id, type(error).__name__)


def _owed_after(payment: Payment) -> list[Invoice] | None:
    """After a payment, what the customer still owes (in every currency); None while it is not paid."""
    return owed_after(db.session, payment) if payment.state == "paid" else None


def _still_open(payment: Payment, owed: list[Invoice]) -> StillOpen | None:
    """After a payment, what is still open and how it gets paid, so nobody wonders whether they are done: a
    part-payment's rest, the invoices it did not cover, and what a debit, a plan or a promise takes care of."""
    still_open = what_is_still_open(db.session, payment, owed, today=clock.today_for(payment.customer))
    if still_open is not None and still_open.plans is not None:
        note_more_time(payment.customer_id, still_open.plans)
    return still_open


def _plan_progress(payment: Payment) -> PlanProgress | None:
    """After a payment towards a running payment plan: how far the plan has got."""
    if payment.state != "paid":
        return None
    today = clock.today_for(payment.customer)
    return running_plan_of(db.session, [item.invoice_id for item in payment.items], today=today)


@bp.get("/payments/<public_id>")
def status(public_id: str) -> Response:
    """Where the provider sends the debtor back; it follows the payment until the verdict is in.

    It also works without the debtor's session (a banking app may open the address in another browser):
    the address holds 128 random bits, but names, e-mail and invoices stay behind the personal link.
    """
    customer = load_debtor()
    payment = queries.get_payment_by_public_id(db.session, public_id)
    if payment is None or (customer is not None and payment.customer_id != customer.id):
        abort(404)
    g.customer = customer or payment.customer  # the page speaks the customer's language
    unreachable = False
    if not payment.is_final and (payment.synced_at is None or clock.now() - payment.synced_at >= RESYNC_AFTER):
        # Nothing is written yet: end the read, so no lock (SQLite's is database-wide) waits on the provider.
        db.session.commit()
        try:
            payment = services.sync_payment(db.session, get_provider(payment.provider), payment, actor=debtor_actor())
            db.session.commit()
            send_paid_twice_refund(payment)
        except (ProviderUnavailable, ProviderRejected, KeyError) as error:
            db.session.rollback()
            unreachable = True
            log.warning("payment %s: status check at %s failed: %s", payment.id, payment.provider, type(error).__name__)
    seen = request.args.get("seen")
    if request.headers.get("HX-Request") and seen:
        # The poller: nothing to swap while the state stands (focus and screen readers stay put); a new
        # state reloads the page, which then tells the news as a whole.
        response = Response(status=204 if seen == payment.state else 200)
        if seen != payment.state:
            response.headers["HX-Refresh"] = "true"
    else:
        plan_progress = _plan_progress(payment) if customer is not None else None
        owed = _owed_after(payment) if customer is not None else None
        response = make_response(
            render_template(
                "payments/status.html",
                payment=payment,
                owner_view=customer is not None,
                unreachable=unreachable,
                allocations=queries.allocations_of(payment),
                paid_twice=queries.paid_twice_of(db.session, payment),
                # An instalment says what is left of its plan instead (the page shows one or the other).
                still_open=_still_open(payment, owed) if owed and plan_progress is None else None,
                plan_progress=plan_progress,
                # Paid, and nothing is owed any more: the page says that nothing else is needed.
                all_paid=owed is not None and not owed,
            )
        )
    response.headers["Cache-Control"] = "no-store"
    return response
