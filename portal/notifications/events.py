"""The messages feature's events: a message written to a customer, and one sent again by staff."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.events import EventKind, Presentation, register
from portal.events.models import DomainEvent
from portal.events.registry import name_category
from portal.i18n import _, _l, message_state_name
from portal.notifications.models import OutboxMessage

QUEUED = "message.queued"
RETRIED = "message.retried"


def _messages(session: Session, events: Sequence[DomainEvent]) -> dict[str, tuple[str, str, str]]:
    # Whether a message went out is known only later, so the entry shows the message as it is now.
    ids = [int(event.subject_id) for event in events if event.subject_id]
    rows = session.execute(
        select(OutboxMessage.id, OutboxMessage.subject, OutboxMessage.state, OutboxMessage.recipient).where(
            OutboxMessage.id.in_(ids)
        )
    )
    return {str(message_id): (subject, state, recipient) for message_id, subject, state, recipient in rows}


def _present(event: DomainEvent, messages: dict[str, tuple[str, str, str]]) -> Presentation:
    subject, state, recipient = messages.get(event.subject_id or "", ("", "", ""))
    title = _("E-mail: %(subject)s", subject=subject) if event.kind == QUEUED else _("Message sent again")
    detail = _("%(state)s, to %(recipient)s", state=message_state_name(state), recipient=recipient) if state else ""
    return Presentation(title=title, detail=detail if event.kind == QUEUED else subject)


for _name in (QUEUED, RETRIED):
    register(EventKind(name=_name, category="message", present=_present, prefetch=_messages))
name_category("message", _l("Messages"))
