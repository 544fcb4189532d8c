"""What people decided, in the audit trail beside what they looked at.

The trail records access as it happens (a page seen, a link opened, a log-in). The decisions themselves (a refund,
a plan agreed, a dispute resolved, a new collection day) are domain events of their features, on the customer's
timeline. A supervisor asking "who refunded this money" looks in the trail, so each feature names the event kinds
its people decide, here, from its own events module: when such an event is emitted by a member of staff or a
debtor, the trail gets a record of it in the same transaction, under the event's kind as its action and with its
subject, and the trail's filter lists it by the name given.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from portal.audit.labels import register_action_label
from portal.audit.models import AuditEvent
from portal.audit.services import Actor, audit_row
from portal.events.registry import react_to

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from portal.events.models import DomainEvent

PEOPLE = ("staff", "debtor")  # the system's own work (jobs, webhooks) is on the timeline, not in who-did-what


def keep_in_audit_trail(kind: str, label: Any, *, by: Collection[str] = PEOPLE) -> None:
    """Record every event of ``kind`` whose actor is one of ``by`` in the audit trail, named ``label``."""
    register_action_label(kind, label)

    def write(session: Session, event: DomainEvent) -> None:
        if event.actor_type not in by:
            return
        subject = (event.subject_type, event.subject_id) if event.subject_type and event.subject_id else None
        row = audit_row(
            Actor(type=event.actor_type, id=event.actor_id),
            kind,
            customer_id=event.customer_id,
            subject=subject,
            occurred_at=event.recorded_at,
        )
        session.add(AuditEvent(**row))

    react_to(kind, write)
