"""The debtor disputes invoices or lines of them, follows the conversation, writes back and adds files.

The forms with files raise the request-size limit before they are read (three files of 5 MB do not fit the
application's limit), so they check the CSRF token themselves once it is raised, as the import upload does.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, make_response, redirect, render_template, request, url_for
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from portal import clock
from portal.debtor.access import debtor_actor, debtor_required, note_visit
from portal.disputes import services
from portal.disputes.credit_notes import credit_note_document
from portal.disputes.errors import DisputeProblem
from portal.disputes.forms import REASON_LABELS, DisputeForm, ReplyForm, WithdrawForm
from portal.disputes.models import CreditNote, Dispute, DisputeFile
from portal.disputes.queries import conversation_for_debtor, credit_notes_of
from portal.disputes.rules import row_id
from portal.disputes.uploads import MAX_FILE_BYTES, MAX_FILES, CheckedUpload, UploadProblem, check_uploads
from portal.disputes.uploads import download_response as file_download
from portal.errors import DomainError, message_for
from portal.extensions import csrf, db
from portal.i18n import _
from portal.storage import StoredFileMissing, current_file_store

bp = Blueprint("disputes", __name__)
# Three files of 5 MB, and the rest of the form.
MAX_REQUEST_BYTES = MAX_FILES * MAX_FILE_BYTES + 1024 * 1024


def _own_dispute_or_404(dispute_id: int) -> Dispute:
    dispute = db.session.get(Dispute, dispute_id)
    if dispute is None or dispute.customer_id != g.customer.id:
        abort(404)
    return dispute


def _too_large() -> bool:
    request.max_content_length = MAX_REQUEST_BYTES
    return (request.content_length or 0) > MAX_REQUEST_BYTES


def _uploads(files: list[FileStorage] | None, *, already: int = 0) -> list[CheckedUpload]:
    """The files of the form, checked by their content. Raises UploadProblem; nothing is stored before."""
    sent = []
    for file in files or []:
        if file:
            sent.append((file.filename or "", file.read(MAX_FILE_BYTES + 1)))
            file.close()  # a large upload is spooled to a temporary file: let it go now
    return check_uploads(sent, already=already)


def _start_page(
    form: DisputeForm, *, error: str | None = None, status: int = 200, files_again: bool = False
) -> Response:
    """``files_again``: files were sent with a refused form; a browser never fills a file field in again, so the
    page asks for them once more instead of dropping them without a word."""
    invoices = services.disputable_invoices(db.session, g.customer)
    page = render_template(
        "disputes/start.html",
        form=form,
        invoices=invoices,
        reasons=REASON_LABELS,
        error=error,
        max_files=MAX_FILES,
        open_disputes=services.open_disputes(db.session, g.customer),
        files_again=files_again,
    )
    return make_response(page, status)


@bp.get("/dispute")
@debtor_required
def start() -> Response:
    form = DisputeForm(formdata=None)
    form.invoice.data = request.args.getlist("invoice")
    form.line.data = request.args.getlist("line")
    note_visit("dispute")
    response = _start_page(form)
    db.session.commit()
    return response


@bp.post("/dispute")
@csrf.exempt
@debtor_required
def submit() -> Response:
    if _too_large():
        return _start_page(DisputeForm(formdata=None), error=_files_too_large(), status=413)
    csrf.protect()
    form = DisputeForm()
    lines = {line_id for value in form.line.data or [] if (line_id := row_id(value)) is not None}
    files_sent = any(file and file.filename for file in form.files.data or [])
    choice = services.Choice(_numbers_with_lines(form.invoice.data or [], lines), lines)
    missing = services.missing_answers(choice, form.reason.data or "", form.explanation.data)
    if missing:
        for name, problem in missing.items():
            form[name].errors = [message_for(problem)]
        return _start_page(form, status=400, files_again=files_sent)
    try:
        uploads = _uploads(form.files.data)
        dispute = services.open_dispute(
            db.session,
            current_file_store(),
            g.customer,
            choice,
            reason=form.reason.data or "",
            explanation=form.explanation.data,
            uploads=uploads,
            actor=debtor_actor(),
        )
    except DomainError as problem:
        db.session.rollback()
        if isinstance(problem, DisputeProblem) and problem.code == "already_disputed":
            earlier = _open_dispute_with(form.invoice.data or [])
            if earlier is not None and _just_opened(earlier):
                # The second click of a double click: the dispute the first one opened.
                return redirect(url_for("disputes.show", dispute_id=earlier.id), code=303)
        return _start_page(form, error=message_for(problem), status=400, files_again=files_sent)
    db.session.commit()
    flash(_("Thank you. We have received your question and stopped the reminders for what you asked about."), "info")
    return redirect(url_for("disputes.show", dispute_id=dispute.id), code=303)


def _numbers_with_lines(numbers: list[str], line_ids: set[int]) -> list[str]:
    """A line ticked without its invoice still means that invoice."""
    wanted = list(numbers)
    for invoice in services.disputable_invoices(db.session, g.customer):
        if invoice.number not in wanted and any(line.id in line_ids for line in invoice.lines):
            wanted.append(invoice.number)
    return wanted


def _open_dispute_with(numbers: list[str]) -> Dispute | None:
    disputing = services.disputing(db.session, g.customer)
    return next((d for d in disputing.values() if {i.invoice.number for i in d.invoices} >= set(numbers)), None)


def _just_opened(dispute: Dispute) -> bool:
    return (clock.now() - dispute.created_at).total_seconds() < 60


def _files_too_large() -> str:
    return _(
        "The files are too large together. Send at most %(count)s files of %(mb)s MB each.",
        count=MAX_FILES,
        mb=MAX_FILE_BYTES // 2**20,
    )


def _show_page(dispute: Dispute, reply: ReplyForm, *, error: str | None = None, status: int = 200) -> Response:
    page = render_template(
        "disputes/show.html",
        dispute=dispute,
        conversation=conversation_for_debtor(dispute),
        credit_notes=credit_notes_of(db.session, dispute),
        reply=reply,
        withdraw_form=WithdrawForm(formdata=None),
        reasons=REASON_LABELS,
        error=error,
        max_files=MAX_FILES,
        today=clock.today_for(g.customer),
    )
    return make_response(page, status)


@bp.get("/dispute/<int:dispute_id>")
@debtor_required
def show(dispute_id: int) -> Response:
    dispute = _own_dispute_or_404(dispute_id)
    note_visit("dispute")
    response = _show_page(dispute, ReplyForm(formdata=None))
    db.session.commit()
    return response


@bp.post("/dispute/<int:dispute_id>/reply")
@csrf.exempt
@debtor_required
def reply(dispute_id: int) -> Response:
    dispute = _own_dispute_or_404(dispute_id)
    if _too_large():
        return _show_page(dispute, ReplyForm(formdata=None), error=_files_too_large(), status=413)
    csrf.protect()
    form = ReplyForm()
    try:
        uploads = _uploads(form.files.data)
        services.debtor_writes(db.session, current_file_store(), dispute, form.body.data, uploads, actor=debtor_actor())
    except (DisputeProblem, UploadProblem) as problem:
        db.session.rollback()
        return _show_page(_own_dispute_or_404(dispute_id), form, error=message_for(problem), status=400)
    db.session.commit()
    flash(_("Your message has been sent."), "info")
    return redirect(url_for("disputes.show", dispute_id=dispute.id, _anchor="conversation"), code=303)


@bp.post("/dispute/<int:dispute_id>/withdraw")
@debtor_required
def withdraw(dispute_id: int) -> Response:
    dispute = _own_dispute_or_404(dispute_id)
    if not WithdrawForm().validate_on_submit():
        abort(400)
    try:
        services.withdraw(db.session, dispute, actor=debtor_actor())
    except DisputeProblem as problem:
        db.session.rollback()
        flash(message_for(problem), "error")
        return redirect(url_for("disputes.show", dispute_id=dispute_id), code=303)
    db.session.commit()
    flash(_("You have withdrawn your question. The invoices can be paid in full again."), "info")
    return redirect(url_for("disputes.show", dispute_id=dispute_id), code=303)


@bp.get("/dispute/<int:dispute_id>/files/<int:file_id>")
@debtor_required
def file(dispute_id: int, file_id: int) -> Response:
    """A file of this debtor's dispute, always as a download. Staff's notes carry none, so every file of the
    dispute belongs to a message the debtor can see."""
    dispute = _own_dispute_or_404(dispute_id)
    found = db.session.get(DisputeFile, file_id)
    if found is None or found.dispute_id != dispute.id or found.message.internal:
        abort(404)
    try:
        data = current_file_store().get(found.storage_key)
    except StoredFileMissing:
        abort(404)
    return file_download(data, found.filename, found.content_type)


@bp.get("/credit-notes/<int:note_id>.pdf")
@debtor_required
def credit_note_pdf(note_id: int) -> Response:
    note = db.session.get(CreditNote, note_id)
    if note is None or note.invoice.customer_id != g.customer.id:
        abort(404)
    filename, pdf = credit_note_document(note)
    return file_download(pdf, filename, "application/pdf")
