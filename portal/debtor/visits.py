"""Telling visits apart: a visit starts when a link is opened or after half an hour without a page."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from portal import clock
from portal.audit.services import Actor
from portal.debtor import events as visit_events
from portal.events import Event, emit

VISIT_ENDS_AFTER = timedelta(minutes=30)


@dataclass(frozen=True)
class Visit:
    id: str
    last_seen: datetime


def note_page_view(
    session: Session,
    customer_id: int,
    *,
    actor: Actor,
    visit: Visit | None,
    page: str,
    invoice: str | None = None,
    via_link: bool = False,
) -> Visit:
    """Record one page seen, starting a visit first when there is none (or it has gone quiet). Returns the visit."""
    now = clock.now()
    if visit is None or now - visit.last_seen > VISIT_ENDS_AFTER:
        visit = Visit(id=secrets.token_hex(8), last_seen=now)
        emit(
            session,
            Event(
                visit_events.VISITED,
                actor,
                customer_id=customer_id,
                subject=("visit", visit.id),
                payload={"via": "link" if via_link else "session"},
            ),
        )
    payload = {"page": page, **({"invoice": invoice} if invoice else {})}
    emit(
        session,
        Event(visit_events.PAGE_VIEWED, actor, customer_id=customer_id, subject=("visit", visit.id), payload=payload),
    )
    return Visit(id=visit.id, last_seen=now)
