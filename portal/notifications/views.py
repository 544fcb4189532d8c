"""Sent messages in the staff area: what each person received (or will), rendered, and a retry for failures."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from portal.extensions import db
from portal.i18n import _
from portal.notifications import delivery
from portal.notifications.models import MESSAGE_STATES, OutboxMessage
from portal.notifications.services import retry_message
from portal.staff.auth import staff_actor
from portal.staff.forms import ConfirmForm
from portal.staff.permissions import Permission, can, requires

bp = Blueprint("messages", __name__, url_prefix="/staff/messages")
PAGE_SIZE = 50

# The e-mail's own HTML, shown in a sandboxed frame: its inline styles are allowed there and nothing else.
PREVIEW_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; base-uri 'none'"


def redacted(message: OutboxMessage, body: str) -> str:
    """A personal link that still works is shown only to staff who may create links anyway."""
    if can(Permission.MANAGE_LINKS):
        return body
    for secret in message.secrets_to_redact:
        body = body.replace(secret, delivery.REDACTED_FOR_STAFF)
    return body


@bp.get("/")
@requires(Permission.VIEW_MESSAGES)
def index() -> str:
    state = request.args.get("state", "")
    page = min(max(1, request.args.get("page", 1, type=int)), 100_000)
    query = select(OutboxMessage)
    if state in MESSAGE_STATES:
        query = query.where(OutboxMessage.state == state)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    messages = db.session.scalars(
        query.order_by(OutboxMessage.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    return render_template(
        "staff/messages/index.html",
        messages=messages,
        state=state,
        states=MESSAGE_STATES,
        page=page,
        total=total,
        page_size=PAGE_SIZE,
    )


@bp.get("/<int:message_id>")
@requires(Permission.VIEW_MESSAGES)
def detail(message_id: int) -> str:
    message = db.session.get(OutboxMessage, message_id) or abort(404)
    return render_template(
        "staff/messages/detail.html",
        message=message,
        body_text=redacted(message, message.body_text),
        form=ConfirmForm(),
    )


@bp.get("/<int:message_id>/html")
@requires(Permission.VIEW_MESSAGES)
def html(message_id: int) -> Response:
    message = db.session.get(OutboxMessage, message_id) or abort(404)
    response = Response(redacted(message, message.body_html), mimetype="text/html")
    response.headers["Content-Security-Policy"] = PREVIEW_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.post("/<int:message_id>/retry")
@requires(Permission.RETRY_MESSAGES)
def retry(message_id: int) -> Response:
    message = db.session.get(OutboxMessage, message_id) or abort(404)
    if ConfirmForm().validate_on_submit() and retry_message(db.session, message, actor=staff_actor()):
        db.session.commit()
        flash(_("The message is queued again."), "info")
    return redirect(url_for("messages.detail", message_id=message_id))
