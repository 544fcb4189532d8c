"""The audit trail: one function writes to it; nothing in the application updates or deletes it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from portal import clock
from portal.audit.models import AuditEvent


@dataclass(frozen=True)
class Actor:
    """Who acts, and from where. Views build it from the request; the CLI and jobs build their own."""

    type: str
    id: str | None = None
    ip_address: str | None = None
    user_agent: str | None = None


SYSTEM = Actor(type="system")


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    customer_id: int | None = None,
    subject: tuple[str, str | int] | None = None,
    **details: Any,
) -> AuditEvent:
    event = AuditEvent(**audit_row(actor, action, customer_id=customer_id, subject=subject, details=details))
    session.add(event)
    return event


def audit_row(
    actor: Actor,
    action: str,
    *,
    customer_id: int | None = None,
    subject: tuple[str, str | int] | None = None,
    details: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> dict[str, Any]:
    """The columns of one audit record, for :func:`record` and for records written later in a batch
    (a debtor's page views, portal.debtor.visit_log), which must carry the moment they happened."""
    return {
        "occurred_at": occurred_at or clock.now(),
        "actor_type": actor.type,
        "actor_id": actor.id,
        "action": action,
        "customer_id": customer_id,
        "subject_type": subject[0] if subject else None,
        "subject_id": str(subject[1]) if subject else None,
        "ip_address": actor.ip_address,
        "user_agent": (actor.user_agent or "")[:300] or None,
        "details": details or {},
    }
