"""Small helpers presenters share: who acted, and the detail line's separator."""

from __future__ import annotations

from portal.events.models import DomainEvent
from portal.i18n import _


def actor_label(event: DomainEvent) -> str:
    if event.actor_type == "debtor":
        return _("Customer")
    if event.actor_type == "staff":
        return event.actor_id or _("Staff")
    return _("System (%(name)s)", name=event.actor_id) if event.actor_id else _("System")


def joined(*parts: str) -> str:
    return " · ".join(part for part in parts if part)
