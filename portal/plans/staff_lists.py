"""Staff lists of plans and promises, the requests to be called back ("called" marks one), and the preview
staff use on the phone: the same schedule and verdict as ``flask plans preview``."""

from __future__ import annotations

from collections.abc import Container

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from portal import clock
from portal.errors import message_for
from portal.extensions import db
from portal.i18n import _
from portal.plans import rules, staff_queries
from portal.plans.errors import PlanProblem
from portal.plans.policy import plan_policy
from portal.plans.staff_forms import PreviewForm
from portal.plans.staff_services import lock_callback, mark_called
from portal.plans.staff_views import bp
from portal.staff.auth import staff_actor
from portal.staff.forms import ConfirmForm
from portal.staff.permissions import Permission, requires

__all__ = ["bp"]


def _page_number() -> int:
    return min(max(1, request.args.get("page", 1, type=int) or 1), 100_000)


def _choice(name: str, allowed: Container[str], default: str) -> str:
    wanted = request.args.get(name, default)
    return wanted if wanted in allowed else default


@bp.get("/all")
@requires(Permission.VIEW_CUSTOMERS)
def plans() -> str:
    shown = _choice("status", staff_queries.PLAN_FILTERS, "active")
    kind = request.args.get("kind", "")
    kind = kind if kind in rules.KINDS else ""
    found = staff_queries.list_plans(
        db.session, staff_queries.PLAN_FILTERS[shown], kind=kind or None, page=_page_number()
    )
    return render_template(
        "staff/plans/list.html", found=found, shown=shown, kind=kind, filters=staff_queries.PLAN_FILTERS
    )


@bp.get("/promises")
@requires(Permission.VIEW_CUSTOMERS)
def promises() -> str:
    shown = _choice("status", staff_queries.PROMISE_FILTERS, "open")
    found = staff_queries.list_promises(db.session, staff_queries.PROMISE_FILTERS[shown], page=_page_number())
    return render_template("staff/plans/promises.html", found=found, shown=shown)


@bp.get("/callbacks")
@requires(Permission.VIEW_CUSTOMERS)
def callbacks() -> str:
    shown = _choice("show", staff_queries.CALLBACK_FILTERS, "open")
    found = staff_queries.list_callbacks(db.session, handled=shown == "handled", page=_page_number())
    return render_template("staff/plans/callbacks.html", found=found, shown=shown, form=ConfirmForm(formdata=None))


@bp.post("/callbacks/<int:callback_id>/called")
@requires(Permission.DECIDE_PLANS)
def called(callback_id: int) -> Response:
    back = redirect(url_for(".callbacks", _anchor="messages"))
    if not ConfirmForm().validate_on_submit():
        flash(_("The form had expired. Please try again."), "error")
        return back
    try:
        found = lock_callback(db.session, callback_id)
        mark_called(db.session, found, actor=staff_actor(), staff_email=current_user.email)
    except PlanProblem as problem:
        db.session.rollback()
        if problem.code == "callback_unknown":
            abort(404)
        flash(message_for(problem), "info")
        return back
    db.session.commit()
    flash(_("%(name)s is marked as called.", name=found.customer.name), "info")
    return back


@bp.get("/preview")
@requires(Permission.VIEW_CUSTOMERS)
def preview() -> str:
    """The schedule and the verdict of the policy in force for any total, as the CLI prints them."""
    form = PreviewForm(request.args if "total" in request.args else None)
    proposal = None
    today = clock.today(clock.BUSINESS_ZONE)
    if "total" in request.args and form.validate():
        instalments, every, first = form.choices()
        policy = plan_policy(db.session).for_kind(str(form.kind.data))
        # A first date in the past is a verdict here, as in the CLI: staff see what the policy says.
        proposal = rules.propose(policy, form.total_cents, instalments, every, first, today)
    return render_template("staff/plans/preview.html", form=form, proposal=proposal, today=today)
