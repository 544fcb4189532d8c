"""Staff pages for disputes: the queue by deadline (with its filters), a dispute's page with the whole
conversation, and replying, writing an internal note and assigning. Resolving has its own routes and the
partial ``staff/disputes/_resolve.html``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from portal import clock
from portal.customers.models import Customer
from portal.disputes import staff_queries, staff_services
from portal.disputes.canned import canned_replies
from portal.disputes.errors import DisputeProblem
from portal.disputes.models import Dispute
from portal.disputes.rules import deadline_state, row_id
from portal.disputes.staff_forms import AssignForm, NoteForm, ReplyForm
from portal.disputes.uploads import download_response
from portal.errors import message_for
from portal.extensions import db
from portal.i18n import _, _l
from portal.money import AmountProblem, parse_amount
from portal.staff.auth import staff_actor
from portal.staff.models import StaffUser
from portal.staff.permissions import Permission, requires, role_allows
from portal.storage import StoredFileMissing, current_file_store

bp = Blueprint("staff_disputes", __name__, url_prefix="/staff/disputes")

# What the debtor chose as what is wrong, in staff's words.
REASONS: dict[str, Any] = {
    "amount_wrong": _l("Amount not right"),
    "not_received": _l("Not received"),
    "already_paid": _l("Already paid"),
    "service_complaint": _l("Complaint about the service"),
    "contract_ended": _l("Contract had ended"),
    "other": _l("Something else"),
}
STATUSES: dict[str, Any] = {
    "open": _l("Waiting for a first answer"),
    "in_progress": _l("Answered, no decision yet"),
    "resolved": _l("Resolved"),
    "withdrawn": _l("Withdrawn by the customer"),
}


@bp.app_template_global("dispute_reason_text")
def dispute_reason_text(reason: str) -> str:
    return str(REASONS.get(reason, reason))


@bp.app_template_global("dispute_status_text")
def dispute_status_text(status: str) -> str:
    return str(STATUSES.get(status, status))


def _filters() -> tuple[staff_queries.QueueFilters, str | None]:
    """The queue's filters from the query string, and what was wrong with the amount typed (if anything)."""
    args = request.args
    problem = None
    min_cents = None
    if (args.get("min") or "").strip():
        try:
            min_cents = parse_amount(args.get("min"))
        except AmountProblem as error:
            problem = message_for(error)
    assigned = args.get("assigned", "everyone")
    filters = staff_queries.QueueFilters(
        closed=args.get("view") == "closed",
        min_cents=min_cents,
        kind=args.get("kind") if args.get("kind") in staff_queries.KIND_CHOICES else None,
        repeat_only=args.get("repeat") == "1",
        assigned=assigned if assigned in staff_queries.ASSIGNED_CHOICES else "everyone",
        staff_id=current_user.id,
    )
    return filters, problem


@bp.get("/")
@requires(Permission.VIEW_CUSTOMERS)
def queue() -> Response:
    filters, problem = _filters()
    page = min(max(1, request.args.get("page", 1, type=int) or 1), 100_000)
    found = staff_queries.list_queue(db.session, filters, page=page)
    # The filters as they were typed, for the form and the pager's links.
    shown = {key: request.args.get(key, "") for key in ("min", "kind", "repeat", "assigned", "view")}
    html = render_template(
        "staff/disputes/queue.html",
        found=found,
        filters=filters,
        shown=shown,
        pager_args={key: value for key, value in shown.items() if value},
        amount_problem=problem,
        open_count=staff_queries.count_open(db.session),
    )
    return make_response(html, 400 if problem else 200)


def _dispute_or_404(dispute_id: int) -> Dispute:
    dispute = staff_queries.get_dispute(db.session, dispute_id)
    if dispute is None:
        abort(404)
    return dispute


def _to_detail(dispute_id: int, anchor: str = "messages") -> Response:
    return redirect(url_for(".show", dispute_id=dispute_id, _anchor=anchor), code=303)


def _detail_page(
    dispute: Dispute,
    *,
    reply: ReplyForm | None = None,
    note: NoteForm | None = None,
    assign: AssignForm | None = None,
    status: int = 200,
) -> Any:
    customer = dispute.customer
    today = clock.today_for(customer)
    canned = canned_replies(db.session, customer.language)
    if reply is None:
        reply = ReplyForm(formdata=None)
        chosen = request.args.get("canned", type=int)
        if chosen is not None and 0 <= chosen < len(canned):
            reply.reply.data = canned[chosen].text  # without JavaScript: the page drawn again with it filled in
    assign = assign or AssignForm(formdata=None)
    assign.assignee.choices = [("", _("Nobody"))] + [
        (str(staff.id), staff.name) for staff in staff_queries.assignable_staff(db.session)
    ]
    if not assign.errors:
        assign.assignee.data = str(dispute.assigned_to_id or "")
    assign.drawn.data = staff_services.drawn_text(dispute)
    html = render_template(
        "staff/disputes/detail.html",
        dispute=dispute,
        customer=customer,
        held=staff_queries.held_invoices(dispute),
        first_state=deadline_state(dispute.first_response_due_on, today, country=customer.country),
        resolution_state=deadline_state(dispute.resolution_due_on, today, country=customer.country),
        canned=canned,
        reply_form=reply,
        note_form=note or NoteForm(formdata=None),
        assign_form=assign,
        can_credit_above_limit=role_allows(current_user.role, Permission.RESOLVE_DISPUTES_ABOVE_LIMIT),
        can_resolve=role_allows(current_user.role, Permission.HANDLE_DISPUTES),
    )
    return html, status


@bp.get("/<int:dispute_id>")
@requires(Permission.VIEW_CUSTOMERS)
def show(dispute_id: int) -> Any:
    return _detail_page(_dispute_or_404(dispute_id))


def _refused(dispute: Dispute, problem: DisputeProblem, **forms: Any) -> Any:
    """A closed or changed dispute: say so above the page as it is now. A problem with the text: show it again."""
    db.session.rollback()
    if problem.code in ("not_open", "changed_meanwhile", "not_staff"):
        flash(message_for(problem), "error")
        return _to_detail(dispute.id)
    for form in forms.values():
        form.form_errors.append(message_for(problem))
    return _detail_page(_dispute_or_404(dispute.id), status=400, **forms)


def _expired(dispute: Dispute) -> Response:
    flash(_("The form had expired. Please try again."), "error")
    return _to_detail(dispute.id)


def _me() -> StaffUser:
    staff = db.session.get(StaffUser, current_user.id)
    assert staff is not None  # requires() let only a logged-in staff member through
    return staff


@bp.post("/<int:dispute_id>/reply")
@requires(Permission.HANDLE_DISPUTES)
def reply(dispute_id: int) -> Any:
    dispute = _dispute_or_404(dispute_id)
    form = ReplyForm()
    if not form.validate_on_submit():
        return _expired(dispute)
    try:
        staff_services.staff_reply(db.session, dispute, _me(), form.reply.data, actor=staff_actor())
    except DisputeProblem as problem:
        return _refused(dispute, problem, reply=form)
    db.session.commit()
    if dispute.customer.email:
        flash(_("Your reply is sent. %(email)s gets an e-mail about it.", email=dispute.customer.email), "info")
    else:
        flash(_("Your reply is in the portal. There is no e-mail address: tell the customer on the phone."), "info")
    return _to_detail(dispute.id)


@bp.post("/<int:dispute_id>/note")
@requires(Permission.HANDLE_DISPUTES)
def note(dispute_id: int) -> Any:
    dispute = _dispute_or_404(dispute_id)
    form = NoteForm()
    if not form.validate_on_submit():
        return _expired(dispute)
    try:
        staff_services.add_note(db.session, dispute, _me(), form.note.data, actor=staff_actor())
    except DisputeProblem as problem:
        return _refused(dispute, problem, note=form)
    db.session.commit()
    flash(_("Your note is saved. Only staff see it."), "info")
    return _to_detail(dispute.id)


@bp.post("/<int:dispute_id>/assign")
@requires(Permission.HANDLE_DISPUTES)
def assign(dispute_id: int) -> Any:
    dispute = _dispute_or_404(dispute_id)
    form = AssignForm()
    if not form.validate_on_submit():
        return _expired(dispute)
    chosen: StaffUser | None = None
    if form.assignee.data:
        assignee_id = row_id(form.assignee.data)
        chosen = db.session.get(StaffUser, assignee_id) if assignee_id is not None else None
        if chosen is None:
            return _refused(dispute, DisputeProblem("not_staff"))
    try:
        staff_services.assign(db.session, dispute, chosen, actor=staff_actor(), drawn_at=_drawn(form.drawn.data))
    except DisputeProblem as problem:
        return _refused(dispute, problem)
    db.session.commit()
    if chosen is None:
        flash(_("Dispute %(reference)s is assigned to nobody now.", reference=dispute.reference), "info")
    else:
        flash(
            _("Dispute %(reference)s is assigned to %(name)s.", reference=dispute.reference, name=chosen.name), "info"
        )
    return _to_detail(dispute.id)


def _drawn(text: str | None) -> datetime | None:
    """When the page was drawn (the dispute's updated_at then); an unreadable one is taken as long ago."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)


@bp.get("/<int:dispute_id>/files/<int:file_id>")
@requires(Permission.VIEW_CUSTOMERS)
def file(dispute_id: int, file_id: int) -> Response:
    """A file of this dispute, always as a download (never shown in the browser)."""
    dispute = _dispute_or_404(dispute_id)
    found = staff_queries.get_file(db.session, dispute, file_id)
    if found is None:
        abort(404)
    try:
        data = current_file_store().get(found.storage_key)
    except StoredFileMissing:
        abort(404)
    return download_response(data, found.filename, found.content_type)


def customer_section(customer: Customer) -> dict[str, Any]:
    """What the "Disputes" section of the staff customer page shows."""
    return {"found": staff_queries.customer_disputes(db.session, customer)}
