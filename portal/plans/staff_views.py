"""Staff pages for payment plans: the queue of proposals, deciding one (approve, reject with a reason, or
offer another schedule; each in two steps: what will happen, then do it), a plan's page, and the section on
the customer's page. The lists, the callback requests and the preview are in staff_lists.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from portal import clock
from portal.customers.models import Customer
from portal.customers.timeline import build_timeline
from portal.errors import message_for
from portal.extensions import db
from portal.i18n import _, format_money
from portal.plans import decisions, rules, services, staff_queries
from portal.plans.errors import PlanProblem
from portal.plans.models import PaymentPlan
from portal.plans.policy import plan_policy
from portal.plans.progress import progress_of
from portal.plans.staff_forms import CounterForm, DecisionForm, RejectForm
from portal.staff.auth import staff_actor
from portal.staff.permissions import Permission, requires, role_allows

bp = Blueprint("staff_plans", __name__, url_prefix="/staff/plans")

# The customer's story beside a proposal: the latest entries; the whole story is on the customer's page.
STORY_LIMIT = 25


def policy_reason_text(reason: str | None, kind: str) -> str:
    """Why a schedule is outside the policy, with the limit in force now, in words staff read out."""
    if reason is None:
        return _("Inside the policy.")
    policy = plan_policy(db.session).for_kind(kind)
    texts = {
        "too_many_instalments": _(
            "More instalments than the policy allows (at most %(max)s).", max=policy.max_instalments
        ),
        "instalment_too_small": _(
            "Instalments smaller than the policy allows (at least %(amount)s each).",
            amount=format_money(policy.min_instalment_cents),
        ),
        "total_too_large": _(
            "A larger total than the policy allows (at most %(amount)s).", amount=format_money(policy.max_total_cents)
        ),
        "first_too_late": _(
            "The first instalment is later than the policy allows (within %(days)s days).",
            days=policy.first_within_days,
        ),
        "first_in_past": _("The first instalment is in the past."),
        "recently_not_kept": _(
            "Inside the limits, but a plan of this customer lapsed or a promise was broken in the last %(days)s days.",
            days=plan_policy(db.session).cooling_off_days,
        ),
    }
    return texts.get(reason, reason)


bp.add_app_template_global(policy_reason_text, "policy_reason_text")


def _supervisor() -> bool:
    return role_allows(current_user.role, Permission.DECIDE_PLANS_OUTSIDE_POLICY)


def _plan_or_404(plan_id: int) -> PaymentPlan:
    plan = staff_queries.get_plan(db.session, plan_id)
    if plan is None:
        abort(404)
    return plan


def _to_detail(plan_id: int) -> Response:
    return redirect(url_for(".detail", plan_id=plan_id, _anchor="messages"))


def _to_decide(plan_id: int) -> Response:
    return redirect(url_for(".decide", plan_id=plan_id, _anchor="messages"))


@bp.get("/")
@requires(Permission.VIEW_CUSTOMERS)
def queue() -> str:
    """Proposals outside the policy waiting for a decision, oldest first."""
    page = min(max(1, request.args.get("page", 1, type=int) or 1), 100_000)
    found = staff_queries.waiting_proposals(db.session, page=page)
    return render_template(
        "staff/plans/queue.html",
        found=found,
        waiting=staff_queries.count_waiting(db.session),
        today=clock.today("Europe/Amsterdam"),
    )


@bp.get("/<int:plan_id>/decide")
@requires(Permission.VIEW_CUSTOMERS)
def decide(plan_id: int) -> str | Response:
    plan = _plan_or_404(plan_id)
    if plan.status != "proposed":
        flash(message_for(PlanProblem("not_waiting")), "info")
        return _to_detail(plan.id)
    counter = CounterForm(formdata=request.args if "instalments" in request.args else None)
    return _decide_page(plan, counter=counter)


def _decide_page(
    plan: PaymentPlan, *, reject: RejectForm | None = None, counter: CounterForm | None = None, status: int = 200
) -> Any:
    customer = plan.customer
    if counter is None:
        counter = CounterForm(formdata=None)
    if not counter.every.data:
        counter.every.data = plan.every
    if not counter.first.data and not counter.errors:
        # The debtor's own first date while it can still be kept, else a week from today: one field less to fill.
        today = clock.today_for(customer)
        first = plan.first_due_on if plan.first_due_on >= today else today + timedelta(days=7)
        counter.first.data = first.isoformat()
    html = render_template(
        "staff/plans/decide.html",
        plan=plan,
        customer=customer,
        own=rules.instalments_from_json(plan.proposed_schedule),
        policy=plan_policy(db.session).for_kind(plan.customer_kind),
        today=clock.today_for(customer),
        timeline=build_timeline(db.session, customer, limit=STORY_LIMIT),
        decision_form=DecisionForm(formdata=None),
        reject_form=reject or RejectForm(formdata=None),
        counter_form=counter,
        may_decide=role_allows(current_user.role, Permission.DECIDE_PLANS),
        verdict_now=decisions.policy_verdict(db.session, plan),
        supervisor=_supervisor(),
    )
    return html, status


def _told(customer: Customer) -> str:
    if customer.email:
        return _("%(email)s gets an e-mail about it.", email=customer.email)
    return _("There is no e-mail address: tell the customer on the phone.")


def _refused(plan_id: int, problem: PlanProblem) -> Response:
    db.session.rollback()
    flash(message_for(problem), "error")
    return _to_detail(plan_id) if problem.code == "not_waiting" else _to_decide(plan_id)


@bp.post("/<int:plan_id>/approve")
@requires(Permission.DECIDE_PLANS)
def approve(plan_id: int) -> Any:
    """First submit: what approving does. The confirmed submit approves, under the plan's lock."""
    plan = _plan_or_404(plan_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        flash(_("The form had expired. Please try again."), "error")
        return _to_decide(plan.id)
    try:
        if form.confirmed.data != "yes":
            _check_approvable(plan)
            return render_template(
                "staff/plans/confirm.html",
                action="approve",
                plan=plan,
                form=form,
                verdict_now=decisions.policy_verdict(db.session, plan),
            )
        plan = decisions.lock_plan(db.session, plan_id)
        decisions.approve_plan(
            db.session, plan, actor=staff_actor(), staff_email=current_user.email, supervisor=_supervisor()
        )
    except PlanProblem as problem:
        return _refused(plan_id, problem)
    db.session.commit()
    flash(
        _("Plan %(reference)s is approved and runs from now.", reference=plan.reference) + " " + _told(plan.customer),
        "info",
    )
    return _to_detail(plan.id)


def _check_approvable(plan: PaymentPlan) -> None:
    if plan.status != "proposed":
        raise PlanProblem("not_waiting")
    if decisions.policy_verdict(db.session, plan) is not None and not _supervisor():
        raise PlanProblem("needs_supervisor")


@bp.post("/<int:plan_id>/reject")
@requires(Permission.DECIDE_PLANS)
def reject(plan_id: int) -> Any:
    plan = _plan_or_404(plan_id)
    form = RejectForm()
    if plan.status != "proposed":
        return _refused(plan_id, PlanProblem("not_waiting"))
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            flash(_("The form had expired. Please try again."), "error")
            return _to_decide(plan.id)
        return _decide_page(plan, reject=form, status=400)
    if form.confirmed.data != "yes":
        return render_template("staff/plans/confirm.html", action="reject", plan=plan, form=form)
    try:
        plan = decisions.lock_plan(db.session, plan_id)
        decisions.reject_plan(
            db.session, plan, reason=form.reason.data or "", actor=staff_actor(), staff_email=current_user.email
        )
    except PlanProblem as problem:
        return _refused(plan_id, problem)
    db.session.commit()
    flash(_("Plan %(reference)s is rejected.", reference=plan.reference) + " " + _told(plan.customer), "info")
    return _to_detail(plan.id)


@bp.post("/<int:plan_id>/counter")
@requires(Permission.DECIDE_PLANS)
def counter(plan_id: int) -> Any:
    """First submit: the new schedule and the policy's verdict (the preview). The confirmed submit sends it."""
    plan = _plan_or_404(plan_id)
    form = CounterForm()
    if plan.status != "proposed":
        return _refused(plan_id, PlanProblem("not_waiting"))
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            flash(_("The form had expired. Please try again."), "error")
            return _to_decide(plan.id)
        return _decide_page(plan, counter=form, status=400)
    instalments, every, first = form.choices()
    today = clock.today_for(plan.customer)
    policy = plan_policy(db.session).for_kind(plan.customer_kind)
    try:
        proposal = services.check_choices(
            policy, plan.total_cents, instalments=instalments, every=every, first=first, today=today
        )
    except PlanProblem as problem:
        form.form_errors.append(message_for(problem))
        return _decide_page(plan, counter=form, status=400)
    if form.confirmed.data != "yes":
        return render_template(
            "staff/plans/confirm.html",
            action="counter",
            plan=plan,
            form=form,
            proposal=proposal,
            may_send=proposal.within_policy or _supervisor(),
        )
    try:
        plan = decisions.lock_plan(db.session, plan_id)
        decisions.counter_plan(
            db.session,
            plan,
            instalments=instalments,
            every=every,
            first=first,
            note=form.note.data,
            actor=staff_actor(),
            staff_email=current_user.email,
            supervisor=_supervisor(),
        )
    except PlanProblem as problem:
        return _refused(plan_id, problem)
    db.session.commit()
    flash(
        _(
            "The other schedule for plan %(reference)s is sent; the customer accepts or declines it in the portal.",
            reference=plan.reference,
        )
        + " "
        + _told(plan.customer),
        "info",
    )
    return _to_detail(plan.id)


@bp.get("/<int:plan_id>")
@requires(Permission.VIEW_CUSTOMERS)
def detail(plan_id: int) -> str:
    """A plan in any state: its invoices, schedule (with each instalment's state), decision and consent."""
    plan = _plan_or_404(plan_id)
    today = clock.today_for(plan.customer)
    schedule = (
        []
        if plan.instalments
        else rules.schedule(plan.total_cents, plan.instalment_count, plan.every, plan.first_due_on)
    )
    return render_template(
        "staff/plans/detail.html",
        plan=plan,
        customer=plan.customer,
        progress=progress_of(plan, today) if plan.instalments else None,
        schedule=schedule,
        own=rules.instalments_from_json(plan.proposed_schedule),
        today=today,
        # Where from and with which browser: as the audit trail, for the roles that may read it.
        show_origin=role_allows(current_user.role, Permission.VIEW_AUDIT),
    )


def customer_section(customer: Customer) -> dict[str, Any]:
    """What the "Payment plans" section of the staff customer page shows."""
    return {"found": staff_queries.customer_plans(db.session, customer)}
