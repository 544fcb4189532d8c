"""Telling visits apart: a visit starts when a link is opened or after half an hour without a page."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from portal import clock
from portal.audit.models import AuditEvent
from portal.audit.services import Actor, audit_row
from portal.debtor import events as visit_events
from portal.debtor.visit_log import VisitLog
from portal.events import Event
from portal.events.models import DomainEvent
from portal.events.services import event_row

VISIT_ENDS_AFTER = timedelta(minutes=30)
# The tables themselves: their rows are written with plain multi-row INSERTs, no ORM objects.
AUDIT_EVENTS = cast(Table, AuditEvent.__table__)
DOMAIN_EVENTS = cast(Table, DomainEvent.__table__)


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
    log: VisitLog,
    invoice: str | None = None,
    via_link: bool = False,
    access: str | None = None,
) -> Visit:
    """Record one page seen, starting a visit first when there is none (or it has gone quiet). Returns the visit.

    ``access``, if given, is the audit action of the page's access record (who saw what, from where). The
    records go through ``log``: written behind in a batch, or into ``session`` (the caller commits).
    """
    now = clock.now()
    if access is not None:
        log.add(session, AUDIT_EVENTS, audit_row(actor, access, customer_id=customer_id, occurred_at=now))
    if visit is None or now - visit.last_seen > VISIT_ENDS_AFTER:
        visit = Visit(id=secrets.token_hex(8), last_seen=now)
        started = Event(
            visit_events.VISITED,
            actor,
            customer_id=customer_id,
            subject=("visit", visit.id),
            payload={"via": "link" if via_link else "session"},
        )
        log.add(session, DOMAIN_EVENTS, event_row(started, now))
    payload = {"page": page, **({"invoice": invoice} if invoice else {})}
    seen = Event(visit_events.PAGE_VIEWED, actor, customer_id=customer_id, subject=("visit", visit.id), payload=payload)
    log.add(session, DOMAIN_EVENTS, event_row(seen, now))
    return Visit(id=visit.id, last_seen=now)
