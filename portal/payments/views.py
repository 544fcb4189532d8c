"""The debtor's side of paying: choose invoices and a method, go to the provider, see the outcome."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from flask import Blueprint, abort, g, make_response, render_template, request, session
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from portal import clock
from portal.accounts.held import held_cents, payable_cents
from portal.debits.overview import collection_dates, schedule_with_debits
from portal.debtor.access import debtor_actor, debtor_required, load_debtor, note_visit
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
from portal.plans.overview import plans_view, running_plan_of
from portal.plans.progress import PlanProgress
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


def _payable_invoices(customer_id: int) -> tuple[list[Invoice], dict[int, int], list[Invoice]]:
    """The invoices the pay page offers, what is on hold on each (a dispute), and those wholly on hold."""
    invoices = queries.list_payable_invoices(db.session, customer_id)
    held = held_cents(db.session, [invoice.id for invoice in invoices])
    offered = [invoice for invoice in invoices if payable_cents(invoice, held) > 0]
    return offered, held, [invoice for invoice in invoices if payable_cents(invoice, held) <= 0]


def _pay_page(
    form: PayForm,
    open_invoices: list[Invoice],
    held: dict[int, int],
    on_hold: list[Invoice],
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
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
            on_hold=on_hold,
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


@bp.route("/pay", methods=["GET", "POST"])
@debtor_required
def pay() -> Response:
    customer = g.customer
    open_invoices, held, on_hold = _payable_invoices(customer.id)
    form = PayForm()
    form.invoice.choices = [SelectChoice(invoice.number) for invoice in open_invoices]
    if request.method == "GET":
        remember_preferred_method(request.args.get("method"))
        wanted = request.args.getlist("invoice")
        # Everything by default, but in one currency: a payment is in one currency.
        currency = next((i.currency for i in open_invoices if not wanted or i.number in wanted), None)
        form.invoice.data = [
            i.number for i in open_invoices if (not wanted or i.number in wanted) and i.currency == currency
        ]
        _choices_from_address(form, currency or "EUR")
        note_visit("pay")
        db.session.commit()
        return _pay_page(form, open_invoices, held, on_hold)
    # The method's choices depend on the amount; they are checked by the service, not by WTForms.
    form.method.choices = [SelectChoice(method) for method in METHODS]
    chosen_currency = next((i.currency for i in open_invoices if i.number in (form.invoice.data or [])), "EUR")
    form.currency = chosen_currency
    if not form.validate_on_submit():
        return _pay_page(form, open_invoices, held, on_hold, status=400)
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
        return _pay_page(form, open_invoices, held, on_hold, error=message_for(problem), status=400)
    return go_to_checkout(
        customer,
        choice,
        provider_name=offered[form.method.data].provider,
        method=form.method.data,
        show_error=lambda message, code: _pay_page(form, open_invoices, held, on_hold, error=message, status=code),
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


@dataclass(frozen=True)
class StillOpen:
    """What is still open on the customer's account after a payment, in its currency: what may be paid now
    (by when), and what is on hold (a dispute)."""

    cents: int
    held_cents: int
    currency: str
    due_date: date | None  # the earliest due date among the invoices that may be paid now
    overdue: bool
    on_these: bool  # some of it is on this payment's own invoices (a part-payment), not only on others
    others: int  # how many other invoices may be paid now
    collected_cents: int = 0  # owed, but a direct debit will collect it: nothing to do
    planned_cents: int = 0  # owed, but in a payment plan or promise: paid as agreed


def _still_open(payment: Payment) -> StillOpen | None:
    """After a payment, what is still open, so nobody wonders whether they are done: a part-payment's rest, and
    the invoices it did not cover."""
    if payment.state != "paid":
        return None
    customer = payment.customer
    invoices = [
        invoice
        for invoice in queries.list_payable_invoices(db.session, customer.id)
        if invoice.currency == payment.currency and invoice.outstanding_cents > 0
    ]
    if not invoices:
        return None
    held = held_cents(db.session, [invoice.id for invoice in invoices])
    payable = {invoice.id: payable_cents(invoice, held) for invoice in invoices}
    today = clock.today_for(customer)
    # Owed, but taken care of: a debit will collect it, or a plan or promise says when. Not "pay it by ...".
    collected = set(collection_dates(schedule_with_debits(db.session, customer.id), invoices))
    planned = plans_view(db.session, customer.id, today=today).covered - collected
    to_pay = [i for i in invoices if payable[i.id] > 0 and i.number not in collected and i.number not in planned]
    cents = sum(payable[invoice.id] for invoice in to_pay)
    due = min((invoice.due_date for invoice in to_pay), default=None)
    paid_here = {item.invoice_id for item in payment.items}
    return StillOpen(
        cents=cents,
        held_cents=sum(invoice.outstanding_cents - payable[invoice.id] for invoice in invoices),
        currency=payment.currency,
        due_date=due,
        overdue=due is not None and due < today,
        on_these=any(invoice.id in paid_here for invoice in to_pay),
        others=sum(1 for invoice in to_pay if invoice.id not in paid_here),
        collected_cents=sum(payable[i.id] for i in invoices if i.number in collected),
        planned_cents=sum(payable[i.id] for i in invoices if i.number in planned),
    )


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
        response = make_response(
            render_template(
                "payments/status.html",
                payment=payment,
                owner_view=customer is not None,
                unreachable=unreachable,
                allocations=queries.allocations_of(payment),
                paid_twice=queries.paid_twice_of(db.session, payment),
                # An instalment says what is left of its plan instead (the page shows one or the other).
                still_open=_still_open(payment) if customer is not None and plan_progress is None else None,
                plan_progress=plan_progress,
            )
        )
    response.headers["Cache-Control"] = "no-store"
    return response
