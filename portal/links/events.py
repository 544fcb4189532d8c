"""The links feature's events. Opening a link starts a visit, which the debtor feature records."""

from __future__ import annotations

from typing import Any

from portal.audit.services import Actor
from portal.events import Event, EventKind, Presentation, register
from portal.events.models import DomainEvent
from portal.events.presenting import joined
from portal.events.registry import name_category
from portal.i18n import _, _l

CREATED = "link.created"
REVOKED = "link.revoked"
REQUESTED = "link.requested"
REFUSED = "link.refused"

_TITLES: dict[str, Any] = {
    CREATED: _l("Link created"),
    REVOKED: _l("Link revoked"),
    REQUESTED: _l("New link requested"),
    REFUSED: _l("Link refused"),
}
_REFUSAL_REASONS: dict[str, Any] = {"revoked": _l("the link had been revoked"), "expired": _l("the link had expired")}


def about(kind: str, link: Any, actor: Actor, **payload: Any) -> Event:
    """The event of ``kind`` about ``link`` (a PortalLink), on its customer's story."""
    return Event(kind, actor, customer_id=link.customer_id, subject=("link", link.id), payload=payload)


def _present(event: DomainEvent, _extra: Any) -> Presentation:
    reason = event.payload.get("reason")
    return Presentation(
        title=str(_TITLES[event.kind]),
        detail=joined(
            _("Link %(number)s", number=event.subject_id),
            str(_REFUSAL_REASONS[reason]) if reason in _REFUSAL_REASONS else "",
        ),
    )


for _name in _TITLES:
    register(EventKind(name=_name, category="link", present=_present))
name_category("link", _l("Links"))
