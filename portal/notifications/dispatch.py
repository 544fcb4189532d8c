"""Starting delivery after the transaction that queued a message has committed.

With PORTAL_CELERY_BROKER_URL set, each committed message becomes a Celery task. Without a broker,
the messages are delivered in this process once the response has been sent (so an SMTP conversation
never slows a page down or reveals, by its timing, that a message was written), or at the end of a CLI
command. Either way, the scheduler (Celery beat, the web process's own scheduler without a broker, or
`flask jobs run-due` from cron) picks up whatever is still due (retries, messages of a crashed worker).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, g, has_app_context
from sqlalchemy import event, update
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.notifications import delivery
from portal.notifications.channels import Channel, SmtpChannel
from portal.notifications.models import OutboxMessage
from portal.notifications.services import PENDING_KEY
from portal.settings.services import creditor_details

COMMITTED_KEY = "_portal_committed_messages"


def channel_for(app: Flask) -> Channel | None:
    """The e-mail channel, or None when no SMTP server is configured (messages are then held).

    The sender's name, and its address unless PORTAL_SMTP_FROM is set, are the creditor's as set when
    sending: an administrator's change applies to the next message without a restart.
    """
    url = app.config.get("SMTP_URL")
    if not url:
        return None
    creditor = creditor_details(db.session)
    return SmtpChannel(url, creditor["name"], app.config["SMTP_FROM"] or creditor["email"])


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a SAVEPOINT: the real commit is still to come
    ids = session.info.pop(PENDING_KEY, None)
    if not ids or not has_app_context():
        # Outside the app (a script with its own session) the messages wait for run-due or Celery beat.
        return
    celery = current_app.extensions.get("portal_celery")
    if celery is None:
        g.setdefault(COMMITTED_KEY, []).extend(ids)
        return
    for message_id in ids:
        try:
            celery.send_task("portal.deliver_message", args=[message_id])
        except Exception:  # noqa: BLE001 - the change is committed; beat's deliver_due sends the message later
            current_app.logger.exception("could not hand message %s to the broker; it stays due", message_id)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    # Rolled back: the messages do not exist, so there is nothing to deliver. (A SAVEPOINT rolled back
    # may have queued some of them; the caller rolls back or re-queues, and run-due finds what exists.)
    if not session.in_nested_transaction():
        session.info.pop(PENDING_KEY, None)


def deliver_now(app: Flask, ids: list[int]) -> None:
    """In-process delivery (no broker configured) of messages that were committed."""
    channel = channel_for(app)
    if channel is None:
        delivery.hold(db.session, ids)
        return
    for message_id in ids:
        for claimed in delivery.claim(db.session, message_id=message_id):
            delivery.deliver_claimed(db.session, claimed, channel)


def _deliver_safely(app: Flask, ids: list[int]) -> None:
    try:
        deliver_now(app, ids)
    except Exception:  # noqa: BLE001 - whatever failed stays in the outbox and is due for run-due
        app.logger.exception("in-process delivery failed; the messages stay in the outbox")
        db.session.rollback()


def init_dispatch(app: Flask) -> None:
    @app.after_request
    def _deliver_after_the_response(response: Response) -> Response:
        ids = g.pop(COMMITTED_KEY, None)
        if ids:
            flask_app = current_app._get_current_object()  # type: ignore[attr-defined]

            def deliver() -> None:
                with flask_app.app_context():
                    _deliver_safely(flask_app, ids)

            response.call_on_close(deliver)
        return response

    # For CLI commands and jobs, which have no response: registered after the database, so it runs before
    # the session is removed (Flask tears down in reverse order).
    @app.teardown_appcontext
    def _deliver(error: BaseException | None) -> None:
        ids = g.pop(COMMITTED_KEY, None)
        if ids and error is None:
            _deliver_safely(current_app._get_current_object(), ids)  # type: ignore[attr-defined]


def run_due(app: Flask, **kwargs: Any) -> int:
    """Deliver everything due now (retries, stale claims). For `flask jobs run-due` and Celery beat.

    Messages held while no mail server was configured are sent too, now that there is one; so are messages
    that found the server down, as soon as it answers again (not only at the end of their retry delay).
    """
    channel = channel_for(app)
    if channel is None:
        return 0
    db.session.execute(update(OutboxMessage).where(OutboxMessage.state == "held").values(state="queued"))
    db.session.commit()
    delivery.when_back(db.session, channel)
    return delivery.deliver_due(db.session, channel, **kwargs)
