"""Paying the instalments of a running plan that are due now (or else the next one) in the portal.

What is charged comes from the plan (instalments.portal_instalment_choice), never from the form; from there it is the
pay page's own way to the provider (payments.checkout.go_to_checkout)."""

from __future__ import annotations

from flask import Blueprint, g, make_response, render_template
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import RadioField, SelectChoice

from portal import clock
from portal.debtor.access import debtor_required, note_visit
from portal.errors import message_for
from portal.extensions import db
from portal.i18n import _l
from portal.payments.checkout import allow_provider_form_action, go_to_checkout, offered_for
from portal.payments.errors import PaymentProblem
from portal.payments.methods import METHOD_HINTS, method_name, usual_method
from portal.payments.services import PaymentChoice
from portal.plans.debtor_access import own_plan_or_404
from portal.plans.errors import PlanProblem
from portal.plans.instalments import portal_instalment_choice
from portal.plans.models import PaymentPlan
from portal.plans.progress import progress_of

bp = Blueprint("plan_payments", __name__)


class InstalmentForm(FlaskForm):
    method = RadioField(_l("How do you want to pay?"), choices=[])


def _page(
    form: InstalmentForm,
    plan: PaymentPlan,
    choice: PaymentChoice | None,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    offered = offered_for(choice) if choice is not None else {}
    form.method.choices = [SelectChoice(method, method_name(method)) for method in offered]
    if form.method.data not in offered:
        last_used = usual_method(db.session, g.customer.id)
        form.method.data = last_used if last_used in offered else next(iter(offered), None)
    today = clock.today_for(g.customer)
    response = make_response(
        render_template(
            "plans/pay_instalment.html",
            form=form,
            plan=plan,
            choice=choice,
            progress=progress_of(plan, today) if plan.status == "active" else None,
            methods=list(offered.values()),
            method_hints=METHOD_HINTS,
            error=error,
        ),
        status,
    )
    return allow_provider_form_action(response)


@bp.route("/plan/<int:plan_id>/pay", methods=["GET", "POST"])
@debtor_required
def pay(plan_id: int) -> Response:
    plan = own_plan_or_404(plan_id)
    form = InstalmentForm()
    today = clock.today_for(g.customer)
    try:
        choice = portal_instalment_choice(db.session, plan, today)
    except PlanProblem as problem:
        db.session.commit()
        return _page(form, plan, None, error=message_for(problem), status=409 if form.is_submitted() else 200)
    if not form.is_submitted():
        note_visit("plan_pay")
        db.session.commit()
        return _page(form, plan, choice)
    offered = offered_for(choice)
    form.method.choices = [SelectChoice(method) for method in offered]
    if not form.validate_on_submit():
        # A method not offered for this amount (or none chosen) reads as on the pay page; a stale form's
        # missing token is shown by the form's own error summary.
        error = message_for(PaymentProblem("method_unavailable")) if form.method.errors else None
        return _page(form, plan, choice, error=error, status=400)
    return go_to_checkout(
        g.customer,
        choice,
        provider_name=offered[form.method.data].provider,
        method=form.method.data,
        show_error=lambda message, code: _page(form, plan, choice, error=message, status=code),
    )
