"""The audit trail in the staff area: filter, page through and export. Read-only by design: there is no
route that changes or deletes an event (the database refuses it too)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel import dates, numbers
from flask import Blueprint, Response, current_app, redirect, render_template, request, stream_with_context, url_for
from sqlalchemy import func, select
from werkzeug.wrappers import Response as BaseResponse

from portal import clock
from portal.audit.errors import AuditFilterProblem
from portal.audit.forms import AuditFilterForm
from portal.audit.labels import action_label
from portal.audit.models import AuditEvent
from portal.audit.queries import (
    PAGE_SIZE,
    AuditFilter,
    count_events,
    day_bounds,
    distinct_actions,
    iter_event_chunks,
    list_events,
)
from portal.audit.services import record
from portal.csv_export import rows_to_csv
from portal.errors import message_for
from portal.extensions import db
from portal.i18n import _, _l, _n, current_locale
from portal.staff.auth import staff_actor
from portal.staff.permissions import Permission, requires

bp = Blueprint("audit", __name__, url_prefix="/staff/audit")

# One member of staff acted: not "Staff", which names the staff area ("Medewerkers" in Dutch).
ACTOR_TYPE_NAMES = {"debtor": _l("Debtor"), "staff": _l("Member of staff"), "system": _l("System")}
DETAILS_PREVIEW = 240
CUSTOMER_ENDPOINT = "staff_customers.detail"


def _staff_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])


def _read_filter() -> tuple[AuditFilterForm, AuditFilter | None]:
    """The form bound to the query string, and the filter it describes (None while the form has errors)."""
    form = AuditFilterForm(formdata=request.args)
    form.set_actions(distinct_actions(db.session))
    if not form.validate():
        return form, None
    try:
        since, until = day_bounds(form.date_from.data, form.date_to.data, _staff_zone())
    except AuditFilterProblem as problem:
        # Shown at the date itself, like a date the form cannot read: the page and the export both treat
        # the form as having errors.
        for name in problem.details["dates"]:
            form[name].errors = [*form[name].errors, message_for(problem)]
        return form, None
    return form, AuditFilter(
        actor_type=form.actor_type.data or None,
        actor=form.actor.data or None,
        action=form.action.data or None,
        customer_ref=form.customer.data or None,
        since=since,
        until=until,
    )


def _filter_args(form: AuditFilterForm) -> dict[str, Any]:
    """The filter as query arguments, without the page number, for the pager and the export link.

    Only the form's own fields: anything else in the address (``_external``, ``_method``, ``_anchor``)
    would be read by ``url_for`` as an instruction, not a filter.
    """
    return form.criteria_args


@bp.get("/")
@requires(Permission.VIEW_AUDIT)
def index() -> str:
    form, criteria = _read_filter()
    events: list[Any] = []
    total = pages = 0
    page = max(request.args.get("page", 1, type=int), 1)
    if criteria is not None:
        total = count_events(db.session, criteria)
        pages = max(1, math.ceil(total / PAGE_SIZE))
        page = min(page, pages)
        events = list_events(db.session, criteria, page=page)
    args = _filter_args(form)
    return render_template(
        "staff/audit/index.html",
        form=form,
        events=events,
        total=total,
        total_text=_n("%(count)s event", "%(count)s events", total, count=_number(total)),
        page=page,
        pages=pages,
        filtered=bool(args),
        page_url=lambda number: url_for(".index", page=number, **args),
        export_url=url_for(".export", **args),
        link_customers=CUSTOMER_ENDPOINT in current_app.view_functions,
        customer_endpoint=CUSTOMER_ENDPOINT,
        when=_when,
        actor_type_name=lambda kind: str(ACTOR_TYPE_NAMES.get(kind, kind)),
        action_label=action_label,
        details_text=_details_text,
    )


@bp.get("/export.csv")
@requires(Permission.VIEW_AUDIT)
def export() -> BaseResponse:
    """The filtered events as CSV, all of them, streamed in chunks. The export itself is audited."""
    form, criteria = _read_filter()
    if criteria is None:
        return redirect(url_for(".index", **_filter_args(form)))
    # Everything recorded up to now, and nothing after (not even this export's own event).
    below_id = int(db.session.scalar(select(func.max(AuditEvent.id))) or 0) + 1
    row_count = count_events(db.session, criteria, below_id=below_id)
    record(db.session, staff_actor(), "audit.exported", filters=_describe(form), rows=row_count)
    db.session.commit()

    zone = _staff_zone()
    header = [_("When"), _("Actor type"), _("Actor"), _("Action"), _("Customer reference"), _("Subject")]
    header += [_("IP address"), _("Browser"), _("Details")]
    header_text = rows_to_csv(header, [])

    def generate() -> Iterator[str]:
        # A byte-order mark, so Excel reads the file as UTF-8 rather than guessing.
        yield "\ufeff" + header_text
        for chunk in iter_event_chunks(db.session, criteria, below_id=below_id):
            yield rows_to_csv(header, (_csv_row(row, zone) for row in chunk))[len(header_text) :]
            # End the read transaction between chunks: on SQLite every transaction holds the write lock.
            db.session.rollback()

    filename = f"audit-{clock.now().astimezone(zone):%Y%m%d}.csv"
    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _describe(form: AuditFilterForm) -> dict[str, str]:
    """The filter as it was asked for, for the export's audit event."""
    fields = (form.actor_type, form.actor, form.action, form.customer, form.date_from, form.date_to)
    return {field.name: str(field.data) for field in fields if field.data}


def _csv_row(row: Any, zone: ZoneInfo) -> list[Any]:
    return [
        row.occurred_at.astimezone(zone).isoformat(timespec="seconds"),
        row.actor_type,
        row.actor_id,
        row.action,
        row.customer_ref or (f"#{row.customer_id}" if row.customer_id is not None else ""),
        _subject(row),
        row.ip_address,
        row.user_agent,
        json.dumps(row.details or {}, ensure_ascii=False, sort_keys=True, default=str),
    ]


def _subject(row: Any) -> str:
    return " ".join(part for part in (row.subject_type, row.subject_id) if part)


def _when(moment: datetime) -> str:
    return dates.format_datetime(moment, "medium", tzinfo=_staff_zone(), locale=current_locale())


def _number(value: int) -> str:
    return numbers.format_decimal(value, "#,##0", locale=current_locale())


def _details_text(details: dict[str, Any] | None) -> str:
    """Details as one short line: ``key: value, key: value``; nested values as compact JSON."""
    parts = []
    for key, value in sorted((details or {}).items()):
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        parts.append(f"{key}: {shown}")
    text = ", ".join(parts)
    return text if len(text) <= DETAILS_PREVIEW else text[: DETAILS_PREVIEW - 1] + "…"
