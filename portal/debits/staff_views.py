"""Staff pages for direct debit: the section on a customer's page (with the "what if the day moves" preview),
moving the day on the customer's behalf, and the queue of failed debits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from portal import clock
from portal.customers.models import Customer
from portal.debits import rules, services, staff_queries
from portal.debits.errors import DebitProblem
from portal.debits.messages import queue_day_changed
from portal.debits.models import DebitSchedule
from portal.debits.policy import debit_policy
from portal.debits.reasons import reason_text
from portal.debits.rules import DayChangePreview, PlannedDebit
from portal.debits.staff_forms import DayChangeForm
from portal.errors import message_for
from portal.extensions import db
from portal.i18n import _, _n
from portal.settings.validators import days_text
from portal.staff.auth import staff_actor
from portal.staff.permissions import Permission, requires

bp = Blueprint("staff_debits", __name__, url_prefix="/staff/debits")

QUEUE_VIEWS = ("open", "handled")


bp.add_app_template_global(reason_text, "reason_text")


@dataclass(frozen=True)
class PreviewRow:
    period: str
    before: date
    after: date
    amount_cents: int
    currency: str
    outcome: str  # "moves"; "stays" (fixed, or the new date too close); "same" (the new day gives the same date)


def preview_rows(preview: DayChangePreview, new_day: int, currency: str) -> list[PreviewRow]:
    rows = []
    for before, after in zip(preview.before, preview.after, strict=True):
        if after.date != before.date:
            outcome = "moves"
        elif rules.debit_date(after.period, new_day) != before.date:
            outcome = "stays"
        else:
            outcome = "same"
        rows.append(PreviewRow(after.period, before.date, after.date, after.amount_cents, currency, outcome))
    return rows


def customer_section(customer: Customer) -> dict[str, Any]:
    """What the "Direct debit" section of the staff customer page shows; ``?debit_day=N`` adds the preview."""
    panel = staff_queries.debit_panel(db.session, customer)
    preview: DayChangePreview | None = None
    preview_error = None
    rows: list[PreviewRow] = []
    new_day = None
    raw_day = request.args.get("debit_day", "").strip()
    if raw_day and panel.schedule is not None:
        new_day = int(raw_day) if raw_day.isascii() and raw_day.isdigit() and len(raw_day) <= 2 else None
        if new_day is None or not 1 <= new_day <= 31:
            preview_error = _("Enter a day of the month from 1 to 31.")
        else:
            preview = services.preview_day_change(db.session, panel.schedule, new_day, today=panel.today)
            rows = preview_rows(preview, new_day, panel.schedule.currency)
    return {
        "panel": panel,
        "preview": preview,
        "preview_day": raw_day,
        "preview_rows": rows,
        "new_day": new_day,
        "preview_problem": _problem_text(preview, panel.policy.changes_per_year) if preview else None,
        "preview_error": preview_error,
        "allowed_days": days_text(panel.policy.allowed_days),
        "form": DayChangeForm(formdata=None),
    }


def _problem_text(preview: DayChangePreview, limit: int) -> str | None:
    if preview.allowed:
        return None
    return message_for(DebitProblem(preview.reason or "day_not_allowed", limit=limit))


def _customer_or_404(customer_id: int) -> Customer:
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        abort(404)
    return customer


def _back(customer: Customer) -> Response:
    # To the messages at the top of the customer's page, so the result is the first thing seen (and focused).
    return redirect(url_for("staff_customers.detail", customer_id=customer.id, _anchor="messages"))


def _moving(schedule: DebitSchedule, preview: DayChangePreview) -> list[PlannedDebit]:
    """The debits already announced whose date the change moves: each gets a new pre-notification."""
    announced = {debit.period for debit in schedule.debits if debit.state == "notified"}
    return [
        after
        for before, after in zip(preview.before, preview.after, strict=True)
        if after.period in announced and after.date != before.date
    ]


@bp.post("/customers/<int:customer_id>/day")
@requires(Permission.CHANGE_DEBIT_DAY)
def change_day(customer_id: int) -> str | Response:
    """First submit: a page that says what moving the day will do. Only the confirmed submit moves it."""
    customer = _customer_or_404(customer_id)
    back = _back(customer)
    form = DayChangeForm()
    if not form.validate_on_submit():
        errors = form.new_day.errors or [_("The form had expired. Please try again.")]
        flash(str(errors[0]), "error")
        return back
    new_day, from_day = int(form.new_day.data or 0), int(form.from_day.data or 0)
    schedule = services.active_schedule(db.session, customer.id)
    if schedule is None:
        flash(_("%(name)s has no running direct debit, so there is no day to move.", name=customer.name), "error")
        return back
    if schedule.day_of_month != from_day:
        flash(*_changed_meanwhile(customer, schedule, new_day))
        return back
    today = clock.today_for(customer)
    if form.confirmed.data != "yes":
        preview = services.preview_day_change(db.session, schedule, new_day, today=today)
        if not preview.allowed:
            flash(_not_changed(_problem_text(preview, debit_policy(db.session).changes_per_year)), "error")
            return back
        return _confirmation(customer, schedule, form, preview)
    return _change(customer, schedule, new_day, from_day, today, back)


def _changed_meanwhile(customer: Customer, schedule: DebitSchedule, new_day: int) -> tuple[str, str]:
    if schedule.day_of_month == new_day:
        # The confirmation pressed twice: the first press made the change; this one must not count again.
        return _("The collection day of %(name)s is already day %(day)s.", name=customer.name, day=new_day), "info"
    return (
        _(
            "The collection day of %(name)s was changed to day %(day)s while you were looking. "
            "Nothing else was changed; check the preview again.",
            name=customer.name,
            day=schedule.day_of_month,
        ),
        "error",
    )


def _not_changed(reason: str | None) -> str:
    return _("The collection day was not changed. %(reason)s", reason=reason or "")


def _confirmation(customer: Customer, schedule: DebitSchedule, form: DayChangeForm, preview: DayChangePreview) -> str:
    changes_made = services.changes_in_window(db.session, schedule)
    return render_template(
        "staff/debits/change_confirm.html",
        customer=customer,
        schedule=schedule,
        form=form,
        new_day=form.new_day.data,
        preview=preview,
        rows=preview_rows(preview, int(form.new_day.data or 0), schedule.currency),
        moving=_moving(schedule, preview),
        change_number=changes_made + 1,
        changes_per_year=debit_policy(db.session).changes_per_year,
    )


def _change(
    customer: Customer, schedule: DebitSchedule, new_day: int, from_day: int, today: Any, back: Response
) -> Response:
    actor = staff_actor()
    try:
        result = services.change_day(
            db.session, schedule, new_day, actor=actor, changed_by=current_user.email, today=today
        )
    except DebitProblem as problem:
        db.session.rollback()
        if problem.code == "same_day" and from_day != new_day:
            # Two presses at the same moment: the other one made the change while this one waited for the lock.
            flash(*_changed_meanwhile(customer, schedule, new_day))
        else:
            flash(_not_changed(message_for(problem)), "error")
        return back
    queue_day_changed(db.session, schedule, services.upcoming_debits(db.session, schedule, today=today), actor=actor)
    db.session.commit()
    flash(_changed_text(customer, new_day, len(result.moved)), "info")
    return back


def _changed_text(customer: Customer, new_day: int, moved: int) -> str:
    done = _("The collection day of %(name)s is now day %(day)s.", name=customer.name, day=new_day)
    if moved and customer.email:
        told = _n(
            "%(num)s debit already announced has a new date; %(email)s gets an e-mail with it.",
            "%(num)s debits already announced have a new date; %(email)s gets an e-mail with them.",
            moved,
            email=customer.email,
        )
        return f"{done} {told}"
    if moved:
        return f"{done} " + _n(
            "%(num)s debit already announced has a new date. There is no e-mail address to tell the customer.",
            "%(num)s debits already announced have a new date. There is no e-mail address to tell the customer.",
            moved,
        )
    return done


@bp.get("/failed")
@requires(Permission.VIEW_CUSTOMERS)
def failed() -> str:
    """The queue of failed debits, newest first: open ones, or those handled since."""
    shown = request.args.get("show", "open")
    if shown not in QUEUE_VIEWS:
        shown = "open"
    page = min(max(1, request.args.get("page", 1, type=int) or 1), 100_000)
    found = staff_queries.failed_debits(db.session, handled=shown == "handled", page=page)
    return render_template("staff/debits/failed.html", found=found, shown=shown)
