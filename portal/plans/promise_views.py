"""The debtor promises to pay by a date they choose within the policy; reminders wait until then."""

from __future__ import annotations

from flask import Blueprint, abort, g, make_response, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import SelectChoice, StringField

from portal import clock
from portal.debtor.access import debtor_actor, debtor_required, note_visit
from portal.errors import message_for
from portal.extensions import db
from portal.i18n import _l
from portal.invoices.models import Invoice
from portal.payments.forms import MultiCheckboxField
from portal.plans.errors import PlanProblem
from portal.plans.models import PaymentPromise
from portal.plans.overview import PlansView
from portal.plans.policy import plan_policy
from portal.plans.promises import (
    PromiseWindow,
    make_promise,
    open_promises,
    parse_promise_date,
    promise_window,
)
from portal.plans.services import eligible_invoices
from portal.plans.template_helpers import note_more_time

bp = Blueprint("promises", __name__)


class PromiseForm(FlaskForm):
    invoice = MultiCheckboxField(_l("Which invoices do you promise to pay?"), choices=[], validate_choice=False)
    promised_on = StringField(_l("I will pay by"))


def _page(
    form: PromiseForm,
    invoices: list[Invoice],
    window: PromiseWindow,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    return make_response(
        render_template("plans/promise.html", form=form, invoices=invoices, window=window, error=error), status
    )


@bp.route("/promise", methods=["GET", "POST"])
@debtor_required
def start() -> Response:
    customer = g.customer
    window = promise_window(db.session, customer)
    invoices = eligible_invoices(db.session, customer, plan_policy(db.session), window.first)
    # The page's link to a plan is for the same invoices: known now, so its template asks nothing after the commit.
    note_more_time(customer.id, PlansView(more_time_offered=bool(invoices)))
    form = PromiseForm()
    form.invoice.choices = [SelectChoice(invoice.number) for invoice in invoices]
    if not form.is_submitted():
        wanted = request.args.getlist("invoice")
        overdue = [invoice.number for invoice in invoices if invoice.due_date < window.first]
        overdue = overdue or [invoice.number for invoice in invoices]
        eligible = {invoice.number for invoice in invoices}
        form.invoice.data = [number for number in wanted if number in eligible] if wanted else overdue
        note_visit("promise")
        db.session.commit()
        return _page(form, invoices, window)
    if not form.validate_on_submit():
        return _page(form, invoices, window, status=400)
    try:
        promised_on = parse_promise_date(form.promised_on.data, example=window.last)
        promise = make_promise(db.session, customer, form.invoice.data or [], promised_on, actor=debtor_actor())
    except PlanProblem as problem:
        db.session.rollback()
        if problem.code == "promise_exists":
            # The second click of a double click: the promise the first one made.
            earlier = _promise_covering(form.invoice.data or [])
            if earlier is not None:
                return redirect(url_for("promises.made", promise_id=earlier.id), code=303)
        return _page(form, invoices, window, error=message_for(problem), status=400)
    db.session.commit()
    return redirect(url_for("promises.made", promise_id=promise.id), code=303)


def _promise_covering(numbers: list[str]) -> PaymentPromise | None:
    for promise in open_promises(db.session, g.customer):
        if set(numbers) <= {covered.invoice.number for covered in promise.invoices}:
            return promise
    return None


@bp.get("/promise/<int:promise_id>")
@debtor_required
def made(promise_id: int) -> Response:
    promise = db.session.get(PaymentPromise, promise_id)
    if promise is None or promise.customer_id != g.customer.id:
        abort(404)
    page = render_template("plans/promise_made.html", promise=promise, today=clock.today_for(g.customer))
    note_visit("promise_made")
    db.session.commit()
    return make_response(page)
