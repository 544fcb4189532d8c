"""Delivering queued messages: claim, send, record the outcome. Safe with many workers at once.

A worker claims rows in a short transaction of its own (PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED;
SQLite: the write lock taken by BEGIN IMMEDIATE), so no two workers ever hold the same message. A claim
is a lease: if its worker dies, the message becomes due again when the lease ends. Temporary failures
are retried with growing delays; after the last attempt the message is marked failed for staff to see.
A message whose server did not answer at all waits for the server, not for its delay: ``when_back`` tries
the server once per run and makes those messages due the moment it answers.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, or_, select, update
from sqlalchemy.orm import Session

from portal import clock
from portal.notifications.channels import Channel, PermanentFailure, TemporaryFailure, Unreachable
from portal.notifications.models import OutboxMessage
from portal.notifications.services import PENDING_KEY

log = logging.getLogger(__name__)

RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=4),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
DEFAULT_LEASE = timedelta(minutes=5)
# A personal link or a one-time code (a secret of the message) in the stored copy.
REDACTED = "[removed after delivery]"
REDACTED_FOR_STAFF = "[personal link or code, hidden from staff]"


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(OutboxMessage.state == "queued", OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.state == "sending", OutboxMessage.claimed_until < now),
    )


def claim(
    session: Session,
    *,
    now: datetime | None = None,
    limit: int = 50,
    message_id: int | None = None,
    lease: timedelta = DEFAULT_LEASE,
) -> list[int]:
    """Claim up to ``limit`` due messages (or the one with ``message_id``) and commit the claim."""
    now = now or clock.now()
    query = select(OutboxMessage.id).where(_due(now)).order_by(OutboxMessage.id).limit(limit)
    if message_id is not None:
        query = query.where(OutboxMessage.id == message_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(session.scalars(query))
    if ids:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(state="sending", claimed_until=now + lease, attempts=OutboxMessage.attempts + 1)
        )
    session.commit()
    return ids


def deliver_claimed(session: Session, message_id: int, channel: Channel, *, now: datetime | None = None) -> str:
    """Send one claimed message and record the outcome; returns the new state."""
    message = session.get(OutboxMessage, message_id)
    if message is None or message.state != "sending":
        session.rollback()
        return "gone"
    if message.claimed_until is None or message.claimed_until <= (now or clock.now()):
        # The lease ran out (a slow batch): another worker may hold the message now, so do not send it.
        session.rollback()
        return "lease expired"
    try:
        channel.send(message)
    except PermanentFailure as error:
        _fail(message, str(error))
    except TemporaryFailure as error:
        if message.attempts >= MAX_ATTEMPTS:
            _fail(message, str(error))
        else:
            message.state = "queued"
            message.claimed_until = None
            message.last_error = str(error)
            message.next_attempt_at = (now or clock.now()) + RETRY_DELAYS[message.attempts - 1]
            message.waiting_for_transport = isinstance(error, Unreachable)
            # A warning: whoever runs the portal should see that the mail server is down or refusing.
            log.warning("message %s: temporary failure, attempt %s: %s", message.id, message.attempts, error)
    else:
        message.state = "sent"
        message.sent_at = now or clock.now()
        message.claimed_until = None
        message.last_error = None
        message.waiting_for_transport = False
        _redact(message)
    state = message.state
    session.commit()
    return state


def deliver_due(session: Session, channel: Channel, *, limit: int = 50, lease: timedelta = DEFAULT_LEASE) -> int:
    """Claim and deliver batches until nothing is due; returns how many messages were attempted."""
    attempted = 0
    while ids := claim(session, limit=limit, lease=lease):
        for message_id in ids:
            deliver_claimed(session, message_id, channel)
            attempted += 1
    return attempted


def when_back(session: Session, channel: Channel, *, now: datetime | None = None) -> int:
    """Messages waiting because the server did not answer become due now if it answers; returns how many.

    One probe per call, however many messages wait, so an outage costs one connection attempt per run.
    """
    now = now or clock.now()
    waiting = and_(
        OutboxMessage.state == "queued", OutboxMessage.waiting_for_transport, OutboxMessage.next_attempt_at > now
    )
    if not session.scalar(select(exists().where(waiting))):
        session.rollback()
        return 0
    session.rollback()  # no transaction (on SQLite: no write lock) is held while the server is probed
    if not channel.reachable():
        return 0
    result = session.execute(update(OutboxMessage).where(waiting).values(next_attempt_at=now))
    session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def hold(session: Session, message_ids: list[int]) -> None:
    """No transport is configured (the demo): keep the messages, readable in the staff area."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(message_ids), OutboxMessage.state == "queued")
        .values(state="held")
    )
    session.commit()


def retry(session: Session, message: OutboxMessage) -> None:
    """Staff try a failed message again; delivery starts once the caller commits."""
    if message.state == "failed":
        message.state = "queued"
        message.attempts = 0
        message.next_attempt_at = clock.now()
        session.info.setdefault(PENDING_KEY, []).append(message.id)


def _fail(message: OutboxMessage, reason: str) -> None:
    message.state = "failed"
    message.claimed_until = None
    message.waiting_for_transport = False
    message.last_error = reason
    log.warning("message %s failed after %s attempts: %s", message.id, message.attempts, reason)


def _redact(message: OutboxMessage) -> None:
    for secret in message.secrets_to_redact:
        message.body_text = message.body_text.replace(secret, REDACTED)
        message.body_html = message.body_html.replace(secret, REDACTED)
    message.secrets_to_redact = []
