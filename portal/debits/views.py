"""The debtor's side of direct debit: move the collection day, stop direct debit, choose after a failed debit.

Changing the day and stopping ask for a code from the e-mail address on file as well as the personal link
(``proof``). Each form posts, one service acts, the request commits once; a refused change says why in the
debtor's language and changes nothing.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, g, make_response, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import HiddenField, StringField

from portal import clock
from portal.debits import choices, proof, rules
from portal.debits.errors import DebitProblem
from portal.debits.messages import queue_day_changed
from portal.debits.models import Debit, DebitSchedule
from portal.debits.policy import debit_policy
from portal.debits.reasons import reason_text, remedy_for
from portal.debits.services import WAITING, active_schedule, change_day, preview_day_change, stop_mandate
from portal.debits.services import upcoming_debits as planned_debits
from portal.debtor.access import debtor_actor, debtor_required, note_visit
from portal.errors import message_for
from portal.extensions import db
from portal.i18n import _, _l, format_day
from portal.site.errors import wait_phrase

bp = Blueprint("debits", __name__, url_prefix="/direct-debit")


@bp.app_template_filter("period_name")
def period_name(period: str) -> str:
    """ "2027-01" -> "January 2027" / "januari 2027": the month a debit is for, as people say it."""
    year, month = rules.parse_period(period)
    return format_day(date(year, month, 1), "LLLL y")


class CodeForm(FlaskForm):
    code = StringField(_l("Code from the e-mail"), description=_l("6 digits"))


class RetryForm(FlaskForm):
    on = HiddenField()


def _today() -> date:
    return clock.today_for(g.customer)


def _schedule() -> DebitSchedule:
    schedule = active_schedule(db.session, g.customer.id)
    if schedule is None:
        # Stopped meanwhile (in another tab, or by staff): the overview says how things stand.
        abort(redirect(url_for("debtor.overview")))
    return schedule


def _note_and_commit(page: str) -> None:
    """The page view on the customer's timeline; after rendering, so the page reads everything in one
    transaction (a read after a commit would begin a second one)."""
    note_visit(page)
    db.session.commit()


def _masked_email(address: str | None) -> str:
    """c*******9@example.com: enough to recognise one's own address, not to learn someone else's."""
    local, _, domain = (address or "").partition("@")
    if len(local) <= 2:
        return f"{local[:1]}*@{domain}"
    return f"{local[0]}{'*' * (len(local) - 2)}{local[-1]}@{domain}"


def _day_arg() -> int | None:
    text = request.values.get("day", "")
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 2 else None


# ------------------------------------------------------------------------------------------- the collection day


@bp.get("/day")
@debtor_required
def choose_day() -> str:
    schedule = _schedule()
    policy = debit_policy(db.session)
    page = render_template(
        "debits/day.html", schedule=schedule, days=[day for day in policy.allowed_days if day != schedule.day_of_month]
    )
    _note_and_commit("debit_day")
    return page


def _preview_page(schedule: DebitSchedule, day: int, *, error: str | None = None, status: int = 200) -> Response:
    preview = preview_day_change(db.session, schedule, day, today=_today())
    problem = None if preview.allowed else DebitProblem(preview.reason or "day_not_allowed")
    if problem is not None:
        problem.details["limit"] = debit_policy(db.session).changes_per_year
    page = render_template(
        "debits/preview.html",
        schedule=schedule,
        new_day=day,
        preview=preview,
        rows=list(zip(preview.before, preview.after, strict=False)),
        refusal=message_for(problem) if problem else None,
        error=error,
    )
    return make_response(page, status)


def _code_refusal(problem: DebitProblem) -> str:
    """Why no code was sent; when too many were asked for, also when the next one can be."""
    message = message_for(problem)
    wait = problem.details.get("retry_after")
    if wait is None:
        return message
    return f"{message} {_('You can try again in %(wait)s.', wait=wait_phrase(wait))}"


def _code_refused(response: Response, problem: DebitProblem) -> Response:
    """A refused code request as a 429 whose Retry-After is the moment the next code can really be asked
    for, or as a 400 when waiting would not help (no e-mail address on file)."""
    wait = problem.details.get("retry_after")
    if wait is None:
        response.status_code = 400
    else:
        response.status_code = 429
        # Said here: the fallback for a 429 that names no wait is a minute, and this limit is per hour.
        response.headers["Retry-After"] = str(wait)
    return response


@bp.get("/day/preview")
@debtor_required
def preview_day() -> Response:
    schedule = _schedule()
    day = _day_arg()
    if day is None:
        return redirect(url_for("debits.choose_day"))
    return _preview_page(schedule, day)


@bp.post("/day/code")
@debtor_required
def send_day_code() -> Response:
    schedule = _schedule()
    day = _day_arg()
    form = FlaskForm()
    if day is None or not form.validate_on_submit():
        return redirect(url_for("debits.choose_day"))
    if not preview_day_change(db.session, schedule, day, today=_today()).allowed:
        return _preview_page(schedule, day, status=400)
    try:
        proof.request_code(db.session, g.customer, proof.CHANGE_DAY, {"day": day}, actor=debtor_actor())
    except DebitProblem as problem:
        db.session.rollback()
        return _code_refused(_preview_page(_schedule(), day, error=_code_refusal(problem)), problem)
    db.session.commit()
    return redirect(url_for("debits.confirm_day", day=day))


def _code_page(form: CodeForm, *, purpose: str, day: int | None, error: str | None, status: int = 200) -> Response:
    page = render_template(
        "debits/code.html", form=form, purpose=purpose, new_day=day, email=_masked_email(g.customer.email), error=error
    )
    return make_response(page, status)


@bp.route("/day/confirm", methods=["GET", "POST"])
@debtor_required
def confirm_day() -> Response:
    schedule = _schedule()
    day = _day_arg()
    if day is None:
        return redirect(url_for("debits.choose_day"))
    form = CodeForm()
    if request.method == "GET" or not form.validate_on_submit():
        return _code_page(form, purpose=proof.CHANGE_DAY, day=day, error=None)
    try:
        proof.check_code(db.session, g.customer, proof.CHANGE_DAY, {"day": day}, form.code.data or "")
    except DebitProblem as problem:
        db.session.commit()  # a wrong try counts, and nothing else has changed
        return _code_page(form, purpose=proof.CHANGE_DAY, day=day, error=message_for(problem), status=400)
    actor = debtor_actor()
    try:
        change_day(db.session, schedule, day, actor=actor, changed_by="debtor", today=_today())
        queue_day_changed(db.session, schedule, planned_debits(db.session, schedule, today=_today()), actor=actor)
    except DebitProblem as problem:
        db.session.rollback()  # nothing changes, and the code stays usable once the problem is solved
        return _preview_page(_schedule(), day, error=message_for(problem), status=400)
    db.session.commit()
    return redirect(url_for("debits.day_changed"))


@bp.get("/day/changed")
@debtor_required
def day_changed() -> str:
    schedule = _schedule()
    return render_template(
        "debits/changed.html", schedule=schedule, upcoming=planned_debits(db.session, schedule, today=_today())
    )


# ------------------------------------------------------------------------------------------- stopping


def _still_fixed(schedule: DebitSchedule) -> list[Debit]:
    """The debits that happen even when direct debit stops now: told, and too close to call back."""
    policy = debit_policy(db.session)
    planned = planned_debits(db.session, schedule, today=_today(), policy=policy)
    fixed = {debit.period for debit in planned if debit.fixed}
    return [debit for debit in schedule.debits if debit.state in WAITING and debit.period in fixed]


@bp.get("/stop")
@debtor_required
def stop() -> str:
    schedule = _schedule()
    page = render_template("debits/stop.html", schedule=schedule, fixed=_still_fixed(schedule), error=None)
    _note_and_commit("debit_stop")
    return page


@bp.post("/stop/code")
@debtor_required
def send_stop_code() -> Response:
    schedule = _schedule()
    if not FlaskForm().validate_on_submit():
        return redirect(url_for("debits.stop"))
    try:
        details = {"mandate": schedule.mandate_id}
        proof.request_code(db.session, g.customer, proof.STOP, details, actor=debtor_actor())
    except DebitProblem as problem:
        db.session.rollback()
        schedule = _schedule()
        page = render_template(
            "debits/stop.html", schedule=schedule, fixed=_still_fixed(schedule), error=_code_refusal(problem)
        )
        return _code_refused(make_response(page), problem)
    db.session.commit()
    return redirect(url_for("debits.confirm_stop"))


@bp.route("/stop/confirm", methods=["GET", "POST"])
@debtor_required
def confirm_stop() -> Response:
    schedule = _schedule()
    form = CodeForm()
    if request.method == "GET" or not form.validate_on_submit():
        return _code_page(form, purpose=proof.STOP, day=None, error=None)
    try:
        details = {"mandate": schedule.mandate_id}
        proof.check_code(db.session, g.customer, proof.STOP, details, form.code.data or "")
    except DebitProblem as problem:
        db.session.commit()  # a wrong try counts, and nothing else has changed
        return _code_page(form, purpose=proof.STOP, day=None, error=message_for(problem), status=400)
    stop_mandate(db.session, schedule.mandate, actor=debtor_actor(), today=_today())
    db.session.commit()
    return redirect(url_for("debits.stopped"))


@bp.get("/stopped")
@debtor_required
def stopped() -> str:
    waiting = db.session.scalars(
        select(Debit).where(Debit.customer_id == g.customer.id, Debit.state.in_(WAITING)).order_by(Debit.due_on)
    ).all()
    return render_template(
        "debits/stopped.html", waiting=waiting, still_active=active_schedule(db.session, g.customer.id)
    )


# ------------------------------------------------------------------------------------------- after a failed debit


def _own_debit(debit_id: int) -> Debit:
    debit = db.session.get(Debit, debit_id)
    if debit is None or debit.customer_id != g.customer.id:
        abort(404)
    return debit


def _failed_page(debit: Debit, *, error: str | None = None) -> Response:
    today = _today()
    page = render_template(
        "debits/failed.html",
        debit=debit,
        failed_on=choices.failed_on(debit),
        reason=reason_text(debit.failure_code or ""),
        remedy=remedy_for(debit.failure_code),
        retry_dates=choices.retry_dates(db.session, today=today),
        retry_form=RetryForm(),
        error=error,
    )
    return make_response(page, 400 if error else 200)


@bp.get("/failed/<int:debit_id>")
@debtor_required
def failed(debit_id: int) -> Response:
    response = _failed_page(_own_debit(debit_id))
    _note_and_commit("debit_failed")
    return response


@bp.post("/failed/<int:debit_id>/retry")
@debtor_required
def retry(debit_id: int) -> Response:
    debit = _own_debit(debit_id)
    form = RetryForm()
    if not form.validate_on_submit():
        return redirect(url_for("debits.failed", debit_id=debit_id))
    try:
        on = date.fromisoformat(form.on.data or "")
    except ValueError:
        on = date.min
    try:
        choices.choose_retry(db.session, debit, on, actor=debtor_actor(), today=_today())
    except DebitProblem as problem:
        db.session.rollback()
        return _failed_page(_own_debit(debit_id), error=message_for(problem))
    db.session.commit()
    return redirect(url_for("debits.failed", debit_id=debit_id))
    try:
        choices.tell_us(db.session, debit, form.message.data or "", actor=debtor_actor())
    except DebitProblem as problem:
        db.session.rollback()
        return _failed_page(_own_debit(debit_id), error=message_for(problem), tell_form=form)
    db.session.commit()
    return redirect(url_for("debits.failed", debit_id=debit_id))
