"""'I cannot pay': where to find free debt help in the customer's country, that a plan is possible too, and a
request to be called back. It points away from us on purpose: help first, not only a plan to sell."""

from __future__ import annotations

from flask import Blueprint, current_app, g, make_response, render_template
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import RadioField, SelectChoice, StringField, TextAreaField

from portal.debtor.access import debtor_actor, debtor_required, note_visit
from portal.errors import message_for
from portal.extensions import db, limiter
from portal.i18n import _l
from portal.plans.callbacks import open_callback, request_callback
from portal.plans.errors import PlanProblem
from portal.plans.models import CallbackRequest
from portal.plans.policy import debt_help_text
from portal.plans.template_helpers import has_endpoint, more_time_offered

bp = Blueprint("debt_help", __name__)
bp.add_app_template_global(has_endpoint)
bp.add_app_template_global(more_time_offered)

# Countries with a standard text of their own (templates/plans/_debt_help_<country>.html).
STANDARD_TEXTS = ("NL", "BE")


class CallbackForm(FlaskForm):
    phone = StringField(_l("Phone number"))
    preferred_time = RadioField(
        _l("When can we call you best?"),
        choices=[
            SelectChoice("morning", _l("In the morning")),
            SelectChoice("afternoon", _l("In the afternoon")),
            SelectChoice("evening", _l("In the evening")),
        ],
        validate_choice=False,
    )
    note = TextAreaField(_l("Anything we should know before we call? (optional)"))


def _rate_limit() -> str:
    return str(current_app.config["LINK_RATE_LIMIT"])


def _page(
    form: CallbackForm,
    *,
    waiting: CallbackRequest | None,
    just_asked: bool = False,
    error: str | None = None,
    phone_error: str | None = None,
    status: int = 200,
) -> Response:
    country = (g.customer.country or "").upper()
    page = render_template(
        "plans/cannot_pay.html",
        form=form,
        custom_text=debt_help_text(db.session, country) if country else "",
        standard=country if country in STANDARD_TEXTS else None,
        waiting=waiting,
        just_asked=just_asked,
        error=error,
        phone_error=phone_error,
    )
    return make_response(page, status)


@bp.route("/cannot-pay", methods=["GET", "POST"])
@limiter.limit(_rate_limit, scope="callback-request", methods=["POST"])
@debtor_required
def cannot_pay() -> Response:
    customer = g.customer
    form = CallbackForm()
    if not form.is_submitted():
        form.phone.data = customer.phone or ""
        waiting = open_callback(db.session, customer)
        response = _page(form, waiting=waiting)
        note_visit("cannot_pay")
        db.session.commit()
        return response
    if not form.validate_on_submit():
        return _page(form, waiting=open_callback(db.session, customer), status=400)
    try:
        request = request_callback(
            db.session,
            customer,
            phone=form.phone.data or "",
            preferred_time=form.preferred_time.data,
            note=form.note.data,
            actor=debtor_actor(),
        )
    except PlanProblem as problem:
        db.session.rollback()
        waiting = open_callback(db.session, customer)
        if problem.code == "callback_exists":
            return _page(form, waiting=waiting, just_asked=True)
        if problem.code == "phone_invalid":
            return _page(form, waiting=waiting, phone_error=message_for(problem), status=400)
        return _page(form, waiting=waiting, error=message_for(problem), status=400)
    db.session.commit()
    return _page(form, waiting=request, just_asked=True)
