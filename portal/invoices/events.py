"""The invoices feature's events: an invoice issued by the billing system, and an invoice paid in full."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from portal.audit.services import Actor
from portal.events import Event, EventKind, Presentation, register
from portal.events.models import DomainEvent
from portal.events.registry import name_category
from portal.i18n import _, _l, format_day, format_money

ISSUED = "invoice.issued"
PAID = "invoice.paid"


def issued(invoice: Any, actor: Actor) -> Event:
    """The event for a new invoice (a model or a row with the same fields); it happened on its issue date."""
    return Event(
        ISSUED,
        actor,
        customer_id=invoice.customer_id,
        subject=("invoice", invoice.number),
        payload={
            "total_cents": invoice.total_cents,
            "currency": invoice.currency,
            "issue_date": invoice.issue_date.isoformat(),
            "due_date": invoice.due_date.isoformat(),
        },
        occurred_at=_start_of(invoice.issue_date),
    )


def paid(invoice: Any, actor: Actor, *, by: str, at: datetime | None = None) -> Event:
    """``by`` is "portal" (a payment here settled it) or "billing" (the billing system says it is paid)."""
    return Event(
        PAID,
        actor,
        customer_id=invoice.customer_id,
        subject=("invoice", invoice.number),
        payload={"total_cents": invoice.total_cents, "currency": invoice.currency, "by": by},
        occurred_at=at,
    )


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def _present_issued(event: DomainEvent, _extra: Any) -> Presentation:
    details = event.payload
    return Presentation(
        title=_("Invoice issued"),
        detail=_(
            "Invoice %(number)s of %(amount)s, due %(date)s",
            number=event.subject_id,
            amount=format_money(int(details["total_cents"]), str(details["currency"])),
            date=format_day(date.fromisoformat(details["due_date"]), "medium"),
        ),
        all_day=True,
    )


def _present_paid(event: DomainEvent, _extra: Any) -> Presentation:
    details = event.payload
    return Presentation(
        title=_("Invoice paid"),
        detail=_(
            "Invoice %(number)s, %(amount)s",
            number=event.subject_id,
            amount=format_money(int(details["total_cents"]), str(details["currency"])),
        ),
    )


register(EventKind(name=ISSUED, category="invoice", present=_present_issued, public=True))
register(EventKind(name=PAID, category="invoice", present=_present_paid, public=True))
name_category("invoice", _l("Invoices"))
