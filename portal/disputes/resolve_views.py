"""Staff ending a dispute: credit notes, a corrected invoice, or a rejection (the forms are the partial
templates/staff/disputes/_resolve.html on the dispute's page), and a credit note's PDF.

Each POST goes back to the dispute's page with a message. Bad input says what is wrong and writes nothing; a
second click, or a colleague who was quicker, is told the dispute was already resolved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response

from portal import clock
from portal.disputes import resolution
from portal.disputes.credit_notes import credit_note_document
from portal.disputes.errors import DisputeProblem
from portal.disputes.models import CreditNote, Dispute
from portal.errors import DomainError, message_for
from portal.extensions import db
from portal.i18n import _, _n, format_money
from portal.money import parse_amount
from portal.plans.errors import PlanProblem
from portal.plans.promises import parse_promise_date
from portal.staff.auth import staff_actor
from portal.staff.permissions import Permission, requires, role_allows

bp = Blueprint("staff_dispute_outcomes", __name__, url_prefix="/staff/disputes")


@dataclass(frozen=True)
class ResolveFacts:
    """What the resolve forms show beside the dispute: the supervisor limit, the dates allowed, how it ended."""

    limit_cents: int
    first_due_on: date
    last_rejection_due_on: date
    credit_notes: list[CreditNote]


def resolve_facts(dispute: Dispute) -> ResolveFacts:
    today = clock.today_for(dispute.customer)
    notes = db.session.scalars(
        select(CreditNote).where(CreditNote.dispute_id == dispute.id).order_by(CreditNote.id)
    ).all()
    return ResolveFacts(
        limit_cents=resolution.credit_limit_cents(db.session),
        first_due_on=today + timedelta(days=1),
        last_rejection_due_on=today + timedelta(days=resolution.REJECTION_MAX_DAYS),
        credit_notes=list(notes),
    )


bp.add_app_template_global(resolve_facts, "dispute_resolve_facts")


def _may_exceed_limit() -> bool:
    return role_allows(current_user.role, Permission.RESOLVE_DISPUTES_ABOVE_LIMIT)


def _dispute_or_404(dispute_id: int) -> Dispute:
    dispute = db.session.get(Dispute, dispute_id)
    if dispute is None:
        abort(404)
    return dispute


def _to_dispute(dispute_id: int) -> Response:
    try:
        target = url_for("staff_disputes.show", dispute_id=dispute_id, _anchor="resolve")
    except BuildError:
        # The dispute's page lives in another module of this package; its address is fixed, so a build
        # without it (this module's own tests) still sends staff to the right place.
        target = f"/staff/disputes/{dispute_id}#resolve"
    return redirect(target, code=303)


def _refused(dispute: Dispute, problem: DomainError) -> Response:
    db.session.rollback()
    if isinstance(problem, DisputeProblem) and problem.code == "not_open":
        db.session.refresh(dispute)
        if dispute.status == "resolved":
            problem = DisputeProblem("already_resolved")
    flash(message_for(problem), "error")
    return _to_dispute(dispute.id)


def _amount(field: str, currency: str) -> int:
    return parse_amount(request.form.get(field), currency)


def _date(field: str, dispute: Dispute) -> date | None:
    text = request.form.get(field, "").strip()
    if not text:
        return None
    example = clock.today_for(dispute.customer) + timedelta(days=14)
    try:
        return parse_promise_date(text, example=example)
    except PlanProblem:
        raise DisputeProblem("due_date_unreadable", example=example.strftime("%d-%m-%Y")) from None


@bp.post("/<int:dispute_id>/credit-notes")
@requires(Permission.HANDLE_DISPUTES)
def credit_notes(dispute_id: int) -> Response:
    dispute = _dispute_or_404(dispute_id)
    try:
        amounts = {}
        for covered in dispute.invoices:
            # An empty field credits nothing on that invoice; anything typed must be a readable amount.
            if (request.form.get(f"amount_{covered.invoice_id}") or "").strip():
                amounts[covered.invoice_id] = _amount(f"amount_{covered.invoice_id}", dispute.currency)
        notes = resolution.resolve_with_credit_notes(
            db.session,
            dispute,
            amounts,
            reason=request.form.get("reason", ""),
            staff=current_user._get_current_object(),
            may_exceed_limit=_may_exceed_limit(),
            actor=staff_actor(),
        )
    except DomainError as problem:
        return _refused(dispute, problem)
    db.session.commit()
    flash(
        _n(
            "Dispute %(reference)s is resolved with %(num)s credit note of %(amount)s.",
            "Dispute %(reference)s is resolved with %(num)s credit notes of %(amount)s in all.",
            len(notes),
            reference=dispute.reference,
            amount=format_money(sum(note.amount_cents for note in notes), dispute.currency),
        ),
        "info",
    )
    return _to_dispute(dispute.id)


@bp.post("/<int:dispute_id>/corrected-invoice")
@requires(Permission.HANDLE_DISPUTES)
def corrected_invoice(dispute_id: int) -> Response:
    dispute = _dispute_or_404(dispute_id)
    try:
        invoice_id = request.form.get("invoice_id", type=int)
        if invoice_id is None:
            raise DisputeProblem("invoice_not_in_dispute")
        corrected = resolution.resolve_with_corrected_invoice(
            db.session,
            dispute,
            invoice_id,
            _amount("corrected_amount", dispute.currency),
            _date("due_on", dispute),
            reason=request.form.get("reason", ""),
            staff=current_user._get_current_object(),
            may_exceed_limit=_may_exceed_limit(),
            actor=staff_actor(),
        )
    except DomainError as problem:
        return _refused(dispute, problem)
    db.session.commit()
    flash(
        _(
            "Dispute %(reference)s is resolved: invoice %(number)s of %(amount)s replaces the original.",
            reference=dispute.reference,
            number=corrected.number,
            amount=format_money(corrected.total_cents, corrected.currency),
        ),
        "info",
    )
    return _to_dispute(dispute.id)


@bp.post("/<int:dispute_id>/reject")
@requires(Permission.HANDLE_DISPUTES)
def reject(dispute_id: int) -> Response:
    dispute = _dispute_or_404(dispute_id)
    try:
        resolution.reject(
            db.session,
            dispute,
            reason=request.form.get("reason", ""),
            new_due_on=_date("new_due_on", dispute),
            staff=current_user._get_current_object(),
            actor=staff_actor(),
        )
    except DomainError as problem:
        return _refused(dispute, problem)
    db.session.commit()
    flash(
        _("Dispute %(reference)s is rejected. Reminders resume after the new due date.", reference=dispute.reference),
        "info",
    )
    return _to_dispute(dispute.id)


@bp.get("/credit-notes/<int:credit_note_id>.pdf")
@requires(Permission.VIEW_CUSTOMERS)
def credit_note_pdf(credit_note_id: int) -> Response:
    note = db.session.get(CreditNote, credit_note_id)
    if note is None:
        abort(404)
    filename, pdf = credit_note_document(note)
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
