"""Queueing messages. The one way every feature sends something to a person.

``queue_email`` writes the rendered message to the outbox in the caller's transaction; delivery starts
only after that transaction commits (see dispatch.py). A rollback leaves no message behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from portal.audit.services import Actor, record
from portal.events import Event, emit
from portal.notifications import events as message_events
from portal.notifications.models import OutboxAttachment, OutboxMessage
from portal.notifications.render import render_message

PENDING_KEY = "portal_new_messages"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # "application/pdf"
    content: bytes


def queue_email(
    session: Session,
    *,
    to: str,
    template: str,
    language: str,
    context: dict[str, Any],
    actor: Actor,
    customer_id: int | None = None,
    secrets: tuple[str, ...] = (),
    attachments: Sequence[Attachment] = (),
) -> OutboxMessage:
    """Render ``template`` in ``language`` and put it in the outbox.

    ``secrets`` are strings in the body (a personal link) that are blanked out of the stored copy once
    the message has been delivered.
    """
    rendered = render_message(template, language, context, session=session)
    message = OutboxMessage(
        channel="email",
        customer_id=customer_id,
        recipient=to,
        template=template,
        language=language,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        secrets_to_redact=list(secrets),
        attachments=[
            OutboxAttachment(filename=item.filename, content_type=item.content_type, content=item.content)
            for item in attachments
        ],
    )
    session.add(message)
    session.flush()
    session.info.setdefault(PENDING_KEY, []).append(message.id)
    record(
        session, actor, "message.queued", customer_id=customer_id, subject=("message", message.id), template=template
    )
    if customer_id is not None:
        emit(
            session,
            Event(
                message_events.QUEUED,
                actor,
                customer_id=customer_id,
                subject=("message", message.id),
                payload={"template": template},
            ),
        )
    return message


def retry_message(session: Session, message: OutboxMessage, *, actor: Actor) -> bool:
    """Staff send a failed message again: queued anew, in the audit trail and on the customer's story."""
    from portal.notifications import delivery  # delivery reads this module's PENDING_KEY

    if message.state != "failed":
        return False
    delivery.retry(session, message)
    record(session, actor, "message.retried", customer_id=message.customer_id, subject=("message", message.id))
    if message.customer_id is not None:
        emit(
            session,
            Event(message_events.RETRIED, actor, customer_id=message.customer_id, subject=("message", message.id)),
        )
    return True
