"""Staff pages for collecting through the creditor's own bank: the pain.008 file of each collection date, and the
bank's returns file read back. Both move money, so both need the same permission as a refund."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from werkzeug.wrappers import Response

from portal.debits.bank import build_pain008, collection_days, record_download
from portal.debits.errors import BankFileProblem
from portal.debits.jobs import business_today
from portal.debits.models import DebitReturn
from portal.debits.reasons import reason_text
from portal.debits.returns import import_returns
from portal.errors import message_for
from portal.extensions import db
from portal.i18n import _, _l
from portal.staff.auth import staff_actor
from portal.staff.permissions import Permission, requires

bp = Blueprint("staff_debits_bank", __name__, url_prefix="/staff/debits/bank")
RECENT_RETURNS = 20


class ReturnsUploadForm(FlaskForm):
    file = FileField(
        _l("Returns file from the bank"),
        description=_l(
            "The bank's camt.054 or pain.002 file, or a CSV file of returns. A file read twice changes nothing."
        ),
        validators=[FileRequired(message=_l("Choose the returns file."))],
        render_kw={"accept": ".xml,.csv,.txt,text/xml,application/xml,text/csv"},
    )


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"reason_text": reason_text}


@bp.get("/")
@requires(Permission.REFUND_PAYMENTS)
def index() -> Any:
    return _index_page(ReturnsUploadForm())


def _index_page(form: ReturnsUploadForm, status: int = 200) -> Any:
    today = business_today()
    days = collection_days(db.session, today=today)
    returns = db.session.scalars(select(DebitReturn).order_by(DebitReturn.id.desc()).limit(RECENT_RETURNS)).all()
    return render_template(
        "staff/debits/bank_index.html",
        coming=sorted((day for day in days if day.date >= today), key=lambda day: day.date),
        past=[day for day in days if day.date < today],
        returns=returns,
        form=form,
    ), status


@bp.get("/pain008")
@requires(Permission.REFUND_PAYMENTS)
def download() -> Response:
    """The pain.008 file of ``?date=YYYY-MM-DD``, as an attachment; the download is recorded."""
    try:
        collection_date = date.fromisoformat(request.args.get("date", ""))
    except ValueError:
        flash(_("Choose a collection date from the list."), "error")
        return redirect(url_for("staff_debits_bank.index"))
    try:
        file = build_pain008(db.session, collection_date)
    except BankFileProblem as problem:
        flash(message_for(problem), "error")
        return redirect(url_for("staff_debits_bank.index"))
    record_download(db.session, file, downloaded_by=current_user.email)
    db.session.commit()
    response = make_response(file.content)
    response.headers["Content-Type"] = "application/xml; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    response.headers["Cache-Control"] = "no-store"  # it holds the debtors' account numbers
    return response


@bp.post("/returns")
@requires(Permission.REFUND_PAYMENTS)
def upload_returns() -> Any:
    form = ReturnsUploadForm()
    if not form.validate_on_submit():
        return _index_page(form, 400)
    uploaded = form.file.data
    try:
        report = import_returns(
            db.session, uploaded.read(), file_name=uploaded.filename or "returns", actor=staff_actor()
        )
    except BankFileProblem as problem:
        db.session.rollback()
        form.file.errors = [message_for(problem)]
        return _index_page(form, 400)
    db.session.commit()
    return render_template("staff/debits/bank_returns.html", report=report, file_name=uploaded.filename)
