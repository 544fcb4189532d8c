"""Emitting events: one row in the caller's transaction, then whatever reacts to it, in that same transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from portal import clock
from portal.audit.services import Actor
from portal.events.models import DomainEvent
from portal.events.registry import kind_named, reactions_for


@dataclass(frozen=True)
class Event:
    """What a feature hands to :func:`emit`. ``payload`` must be JSON: ids, cents, codes, never prose."""

    kind: str
    actor: Actor
    customer_id: int | None = None
    subject: tuple[str, str | int] | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    occurred_at: datetime | None = None  # when it happened, if not now (an invoice's issue date)


def emit(session: Session, event: Event) -> DomainEvent:
    """Record ``event`` in the session's transaction and run its reactions. Nothing is committed here."""
    kind = kind_named(event.kind)
    now = clock.now()
    row = DomainEvent(
        kind=kind.name,
        schema_version=kind.schema_version,
        customer_id=event.customer_id,
        subject_type=event.subject[0] if event.subject else None,
        subject_id=str(event.subject[1]) if event.subject else None,
        actor_type=event.actor.type,
        actor_id=event.actor.id,
        payload=event.payload,
        occurred_at=event.occurred_at or now,
        recorded_at=now,
    )
    session.add(row)
    reactions = reactions_for(kind)
    if reactions:
        session.flush()  # reactions may refer to the event's id
        for reaction in reactions:
            reaction(session, row)
    return row


def emit_many(session: Session, events: Iterable[Event]) -> int:
    """Record many events of kinds that have no reactions in one INSERT (an import of 100,000 invoices)."""
    now = clock.now()
    rows = []
    for event in events:
        if reactions_for(kind_named(event.kind)):
            emit(session, event)
            continue
        rows.append(event_row(event, now))
    if rows:
        session.execute(insert(DomainEvent), rows)
    return len(rows)


def event_row(event: Event, now: datetime | None = None) -> dict[str, Any]:
    """The columns of the event's row, for an INSERT of many (:func:`emit_many`) or one written later in a
    batch (a debtor's page views, portal.debtor.visit_log). Only for kinds without reactions: nothing runs."""
    kind = kind_named(event.kind)
    if reactions_for(kind):
        raise ValueError(f"{kind.name} has reactions; emit() it in the transaction that makes the change")
    now = now or clock.now()
    return {
        "kind": kind.name,
        "schema_version": kind.schema_version,
        "customer_id": event.customer_id,
        "subject_type": event.subject[0] if event.subject else None,
        "subject_id": str(event.subject[1]) if event.subject else None,
        "actor_type": event.actor.type,
        "actor_id": event.actor.id,
        "payload": event.payload,
        "occurred_at": event.occurred_at or now,
        "recorded_at": now,
    }
