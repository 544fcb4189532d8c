"""Starting delivery after the transaction that queued a message has committed.

With PORTAL_CELERY_BROKER_URL set, each committed message becomes a Celery task. Without a broker,
the messages are delivered in this process at the end of the request (or of the CLI command), so
``make run`` and the tests need no extra server. Either way, `flask jobs run-due` or Celery beat
picks up whatever is still due (retries, messages of a crashed worker).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.notifications import delivery
from portal.notifications.channels import Channel, SmtpChannel
from portal.notifications.services import PENDING_KEY

COMMITTED_KEY = "_portal_committed_messages"


def channel_for(app: Flask) -> Channel | None:
    """The e-mail channel, or None when no SMTP server is configured (messages are then held)."""
    url = app.config.get("SMTP_URL")
    if not url:
        return None
    return SmtpChannel(url, app.config["CREDITOR_NAME"], app.config["SMTP_FROM"])


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    ids = session.info.pop(PENDING_KEY, None)
    if not ids or not has_app_context():
        # Outside the app (a script with its own session) the messages wait for run-due or Celery beat.
        return
    celery = current_app.extensions.get("portal_celery")
    if celery is not None:
        for message_id in ids:
            celery.send_task("portal.deliver_message", args=[message_id])
    else:
        g.setdefault(COMMITTED_KEY, []).extend(ids)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    # Rolled back: the messages do not exist, so there is nothing to deliver.
    session.info.pop(PENDING_KEY, None)


def deliver_committed_now() -> None:
    """In-process delivery of what this request or command committed (no broker configured)."""
    ids = g.pop(COMMITTED_KEY, None)
    if not ids:
        return
    channel = channel_for(current_app)
    if channel is None:
        delivery.hold(db.session, ids)
        return
    for message_id in ids:
        for claimed in delivery.claim(db.session, message_id=message_id):
            delivery.deliver_claimed(db.session, claimed, channel)


def init_dispatch(app: Flask) -> None:
    # Registered after the database, so it runs before the session is removed (Flask tears down in
    # reverse order); the app context ends after every request and every CLI command.
    @app.teardown_appcontext
    def _deliver(error: BaseException | None) -> None:
        if error is None:
            try:
                deliver_committed_now()
            except Exception:  # noqa: BLE001 - the response is made; what failed stays due for run-due
                current_app.logger.exception("in-process delivery failed; the messages stay in the outbox")
                db.session.rollback()


def run_due(app: Flask, **kwargs: Any) -> int:
    """Deliver everything due now (retries, stale claims). For `flask jobs run-due` and Celery beat."""
    channel = channel_for(app)
    if channel is None:
        return 0
    return delivery.deliver_due(db.session, channel, **kwargs)
