"""The debtor's payment plan: "I need more time", the plan's page, the answer to a counter-proposal, the PDF.

One form does both steps: "Show my schedule" renders the schedule, the policy's verdict and the agreement
with its seal; "Agree and send" makes the agreement again from the submitted choices and proceeds only when
its seal matches the one shown, so the consent stored is exactly the text the debtor read.
"""

from __future__ import annotations

import hmac
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, abort, current_app, g, make_response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from portal import clock
from portal.business_calendar import add_business_days
from portal.debtor.access import debtor_actor, debtor_required, note_visit
from portal.errors import message_for
from portal.extensions import db
from portal.i18n import _, current_language
from portal.invoices.models import Invoice
from portal.money import AmountProblem, parse_amount
from portal.plans import rules
from portal.plans.agreement import agreement_text, plan_terms, terms_for, text_seal
from portal.plans.debtor_access import own_plan_or_404
from portal.plans.decisions import accept_counter, decline_counter, lock_plan
from portal.plans.errors import PlanProblem
from portal.plans.forms import AnswerForm, PlanForm
from portal.plans.mandate import active_mandate
from portal.plans.models import PaymentPlan
from portal.plans.overview import plan_card
from portal.plans.pdf import agreement_document
from portal.plans.policy import plan_policy
from portal.plans.progress import progress_of
from portal.plans.services import (
    ConsentEvidence,
    PlanPreview,
    eligible_invoices,
    open_plans,
    preview_plan,
    propose_plan,
)
from portal.web import client_address

bp = Blueprint("plans", __name__)

PAY_ENDPOINT = "plan_payments.pay"


def _today() -> date:
    return clock.today_for(g.customer)


def _seal(text: str) -> str:
    return text_seal(text, str(current_app.secret_key))


def _evidence(text: str) -> ConsentEvidence:
    return ConsentEvidence(
        text=text, locale=current_language(), ip_address=client_address(), user_agent=request.user_agent.string
    )


def _budget(form: PlanForm) -> dict[str, int] | None:
    """Both amounts or neither: one alone says nothing about what is left to pay a plan from. What is wrong is said
    at the field it is about (the problem's ``field``), as the form's own checks are."""
    texts = {"income": (form.income.data or "").strip(), "expenses": (form.expenses.data or "").strip()}
    if not any(texts.values()):
        return None
    amounts = {}
    for name, text in texts.items():
        if not text:
            raise PlanProblem(f"budget_{name}_missing", field=name)
        try:
            amounts[name] = parse_amount(text)
        except AmountProblem as problem:
            raise PlanProblem("budget_invalid", field=name) from problem
    return amounts


def _default_numbers(eligible: list[Invoice], today: date) -> list[str]:
    wanted = request.args.getlist("invoice")
    if wanted:
        return [invoice.number for invoice in eligible if invoice.number in wanted]
    overdue = [invoice.number for invoice in eligible if invoice.due_date < today]
    return overdue or [invoice.number for invoice in eligible]


def _start_page(form: PlanForm, *, status: int = 200, **extra: Any) -> Response:
    today = _today()
    policy = plan_policy(db.session)
    page = render_template(
        "plans/start.html",
        form=form,
        eligible=eligible_invoices(db.session, g.customer, policy, today),
        chosen=set(form.invoice.data or []),
        policy=policy,
        limits=policy.for_kind(g.customer.kind),
        has_mandate=active_mandate(db.session, g.customer.id) is not None,
        plans=open_plans(db.session, g.customer),
        today=today,
        **{"preview": None, "problem": None, "text": None, "answer_by": None, **extra},
    )
    return make_response(page, status)


@bp.get("/plan")
@debtor_required
def start() -> Response:
    today = _today()
    policy = plan_policy(db.session)
    form = PlanForm(formdata=None)
    form.invoice.data = _default_numbers(eligible_invoices(db.session, g.customer, policy, today), today)
    form.first.data = min(
        today + timedelta(days=7), today + timedelta(days=policy.for_kind(g.customer.kind).first_within_days)
    )
    response = _start_page(form)
    note_visit("plan_start")
    db.session.commit()
    return response


def _preview(form: PlanForm, method: str) -> tuple[PlanPreview, str]:
    preview = preview_plan(
        db.session,
        g.customer,
        form.invoice.data or [],
        instalments=form.instalments.data,
        every=form.every.data or "",
        first=form.first.data,
        today=_today(),
    )
    invoices = [(invoice.number, invoice.outstanding_cents) for invoice in preview.invoices]
    terms = terms_for(db.session, g.customer, invoices, preview.currency, preview.proposal.instalments, method)
    return preview, agreement_text(terms, current_language())


@bp.post("/plan")
@debtor_required
def propose() -> Response:
    form = PlanForm()
    if not form.validate_on_submit():
        return _start_page(form, status=400)
    has_mandate = active_mandate(db.session, g.customer.id) is not None
    method = "direct_debit" if form.direct_debit.data else "portal"
    try:
        if method == "direct_debit" and not has_mandate:
            raise PlanProblem("method_invalid")
        budget = _budget(form)
        preview, text = _preview(form, method)
    except PlanProblem as problem:
        if problem.details.get("field") in ("income", "expenses"):
            form[problem.details["field"]].errors = [message_for(problem)]
            return _start_page(form, status=400)
        earlier = _same_plan(list(form.invoice.data or [])) if request.form.get("action") == "propose" else None
        if earlier is not None:  # a second click, or the form sent again: the plan it made is the answer
            return redirect(url_for("plans.show", plan_id=earlier.id))
        return _start_page(form, status=400, problem=message_for(problem))
    policy = plan_policy(db.session)
    answer_by = None
    if not preview.proposal.within_policy:
        answer_by = add_business_days(_today(), policy.answer_days, g.customer.country)
    shown: dict[str, Any] = {"preview": preview, "text": text, "answer_by": answer_by}
    if request.form.get("action") != "propose":
        form.seal.data, form.agree.data = _seal(text), False
        return _start_page(form, **shown)
    if not hmac.compare_digest(form.seal.data or "", _seal(text)):
        # The choices changed after the schedule was shown (or the page was tampered with): show it again.
        form.seal.data, form.agree.data = _seal(text), False
        return _start_page(form, status=400, problem=message_for(PlanProblem("agreement_changed")), **shown)
    if not form.agree.data:
        return _start_page(form, status=400, problem=message_for(PlanProblem("consent_missing")), **shown)
    numbers = list(form.invoice.data or [])
    try:
        plan = propose_plan(
            db.session,
            g.customer,
            numbers,
            instalments=form.instalments.data,
            every=form.every.data or "",
            first=form.first.data,
            consent=_evidence(text),
            actor=debtor_actor(),
            reason=form.reason.data,
            budget=budget,
            method=method,
            shown_total_cents=preview.proposal.total_cents,
        )
    except PlanProblem as problem:
        db.session.rollback()
        earlier = _same_plan(numbers)
        if earlier is not None:  # a second click, or the form sent again: the plan it made is the answer
            return redirect(url_for("plans.show", plan_id=earlier.id))
        return _start_page(form, status=400, problem=message_for(problem))
    db.session.commit()
    return redirect(url_for("plans.show", plan_id=plan.id))


def _same_plan(numbers: list[str]) -> PaymentPlan | None:
    for plan in open_plans(db.session, g.customer):
        if {covered.invoice.number for covered in plan.invoices} == set(numbers):
            return plan
    return None


def _show_page(
    plan: PaymentPlan, form: AnswerForm | None = None, *, problem: str | None = None, status: int = 200
) -> Response:
    context: dict[str, Any] = {"plan": plan, "problem": problem, "progress": None, "counter": None, "states": None}
    context["own"] = rules.instalments_from_json(plan.proposed_schedule)
    context["card"] = plan_card(db.session, plan, _today())
    if plan.status in ("active", "completed", "lapsed") and plan.instalments:
        progress = progress_of(plan, _today())
        names = {"paid": _("Paid"), "due": _("Due now"), "upcoming": _("Upcoming")}
        context["progress"], context["states"] = progress, [names[item.state] for item in progress.instalments]
    if plan.status == "countered":
        text = agreement_text(plan_terms(db.session, plan), current_language())
        form = form or AnswerForm(formdata=None)
        form.seal.data = _seal(text)
        theirs = rules.schedule(plan.total_cents, plan.instalment_count, plan.every, plan.first_due_on)
        context["counter"] = {"text": text, "form": form, "theirs": theirs}
    page = render_template(
        "plans/show.html", can_pay=PAY_ENDPOINT in current_app.view_functions, pay_endpoint=PAY_ENDPOINT, **context
    )
    return make_response(page, status)


@bp.get("/plan/<int:plan_id>")
@debtor_required
def show(plan_id: int) -> Response:
    response = _show_page(own_plan_or_404(plan_id))
    note_visit("plan")
    db.session.commit()
    return response


@bp.post("/plan/<int:plan_id>/answer")
@debtor_required
def answer(plan_id: int) -> Response:
    own_plan_or_404(plan_id)
    form = AnswerForm()
    if not form.validate_on_submit():
        return redirect(url_for("plans.show", plan_id=plan_id))
    plan = lock_plan(db.session, plan_id)
    try:
        if request.form.get("action") == "decline":
            decline_counter(db.session, plan, actor=debtor_actor())
        else:
            if plan.status != "countered":
                raise PlanProblem("not_countered")
            text = agreement_text(plan_terms(db.session, plan), current_language())
            if not hmac.compare_digest(form.seal.data or "", _seal(text)):
                raise PlanProblem("agreement_changed")
            if not form.agree.data:
                raise PlanProblem("consent_missing")
            accept_counter(db.session, plan, consent=_evidence(text), actor=debtor_actor())
    except PlanProblem as problem:
        db.session.rollback()
        return _show_page(own_plan_or_404(plan_id), form, problem=message_for(problem), status=400)
    db.session.commit()
    return redirect(url_for("plans.show", plan_id=plan_id))


@bp.get("/plan/<int:plan_id>/agreement.pdf")
@debtor_required
def agreement_pdf(plan_id: int) -> Response:
    plan = own_plan_or_404(plan_id)
    if plan.consent is None or plan.agreed_at is None:  # only an agreement is printed, not a proposal
        abort(404)
    filename, pdf = agreement_document(plan)
    note_visit("plan_pdf")
    db.session.commit()
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
