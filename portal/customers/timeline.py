"""A customer's whole story as one timeline, newest first, merged from every source that has a part of it.

A source is a function ``(session, customer, limit) -> entries`` returning at most ``limit`` of its newest
entries. A later feature (payments, plans, disputes, debit changes, messages) adds its part of the story by
writing one such function and appending it to SOURCES; its audit actions get a readable title by adding
them to AUDIT_TITLES. Call it from a request: titles are translated as they are built.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from flask_babel import get_timezone
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from portal.audit.models import AuditEvent
from portal.customers.models import Customer, CustomerNote
from portal.i18n import _, _l, format_day, format_money, message_state_name
from portal.invoices.models import Invoice
from portal.notifications.models import OutboxMessage
from portal.payments.methods import method_name
from portal.payments.models import payment_reference

TIMELINE_LIMIT = 200


@dataclass(frozen=True)
class TimelineEntry:
    when: datetime  # timezone-aware
    kind: str  # invoice, payment, link, visit, note, event: what the entry is about, for the eye and CSS
    title: str
    detail: str = ""
    actor: str = ""
    all_day: bool = False  # only the date is known (an invoice's issue date)


@dataclass(frozen=True)
class Timeline:
    entries: list[TimelineEntry]
    has_more: bool  # older entries exist beyond the ones shown


TimelineSource = Callable[[Session, Customer, int], Iterable[TimelineEntry]]


def _start_of_day(day: date) -> datetime:
    # Staff read the story in the deployment's time zone (PORTAL_DEFAULT_TIMEZONE), whatever the customer's.
    return datetime.combine(day, time(0, 0), tzinfo=get_timezone())


def invoices_issued(session: Session, customer: Customer, limit: int) -> list[TimelineEntry]:
    invoices = session.scalars(
        select(Invoice)
        .where(Invoice.customer_id == customer.id)
        .order_by(Invoice.issue_date.desc(), Invoice.id.desc())
        .limit(limit)
    )
    return [
        TimelineEntry(
            when=_start_of_day(invoice.issue_date),
            kind="invoice",
            title=_("Invoice issued"),
            detail=_(
                "Invoice %(number)s of %(amount)s, due %(date)s",
                number=invoice.number,
                amount=format_money(invoice.total_cents, invoice.currency),
                date=format_day(invoice.due_date, "medium"),
            ),
            all_day=True,
        )
        for invoice in invoices
    ]


def invoices_paid(session: Session, customer: Customer, limit: int) -> list[TimelineEntry]:
    invoices = session.scalars(
        select(Invoice)
        .where(Invoice.customer_id == customer.id, Invoice.paid_at.is_not(None))
        .order_by(Invoice.paid_at.desc(), Invoice.id.desc())
        .limit(limit)
    )
    return [
        TimelineEntry(
            when=invoice.paid_at,
            kind="payment",
            title=_("Invoice paid"),
            detail=_(
                "Invoice %(number)s, %(amount)s",
                number=invoice.number,
                amount=format_money(invoice.total_cents, invoice.currency),
            ),
        )
        for invoice in invoices
        if invoice.paid_at is not None
    ]


def notes(session: Session, customer: Customer, limit: int) -> list[TimelineEntry]:
    found = session.scalars(
        select(CustomerNote)
        .where(CustomerNote.customer_id == customer.id)
        .options(joinedload(CustomerNote.author))
        .order_by(CustomerNote.created_at.desc(), CustomerNote.id.desc())
        .limit(limit)
    )
    return [
        TimelineEntry(when=note.created_at, kind="note", title=_("Note"), detail=note.body, actor=note.author.name)
        for note in found
    ]


def messages(session: Session, customer: Customer, limit: int) -> list[TimelineEntry]:
    """Every message to the customer, with its subject and whether it went out."""
    found = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.customer_id == customer.id)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(limit)
    )
    return [
        TimelineEntry(
            when=message.created_at,
            kind="message",
            title=_("E-mail: %(subject)s", subject=message.subject),
            detail=_(
                "%(state)s, to %(recipient)s", state=message_state_name(message.state), recipient=message.recipient
            ),
            actor=_("System"),
        )
        for message in found
    ]


# action -> (kind, title). Actions not listed still appear, under their own name.
AUDIT_TITLES: dict[str, tuple[str, Any]] = {
    "link.created": ("link", _l("Link created")),
    "link.opened": ("visit", _l("Link opened")),
    "link.rejected": ("visit", _l("Link refused")),
    "link.revoked": ("link", _l("Link revoked")),
    "link.requested": ("link", _l("New link requested")),
    "overview.viewed": ("visit", _l("Overview viewed")),
    "message.retried": ("message", _l("Message sent again")),
    "invoice.viewed": ("visit", _l("Invoice viewed")),
    "invoice.pdf_downloaded": ("visit", _l("Invoice PDF downloaded")),
    "payment.started": ("payment", _l("Payment started")),
    "payment.paid": ("payment", _l("Payment received")),
    "payment.failed": ("payment", _l("Payment failed")),
    "payment.cancelled": ("payment", _l("Payment cancelled")),
    "payment.expired": ("payment", _l("Payment expired")),
    "payment.refunded": ("payment", _l("Refund")),
    "payment.charged_back": ("payment", _l("Chargeback")),
}
# Told by another source already, with more to say (the note's text).
AUDIT_SHOWN_ELSEWHERE = ("note.added", "message.queued", "customer.viewed")
_REJECTION_REASONS = {"revoked": _l("the link had been revoked"), "expired": _l("the link had expired")}


def audit_events(session: Session, customer: Customer, limit: int) -> list[TimelineEntry]:
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.customer_id == customer.id, AuditEvent.action.not_in(AUDIT_SHOWN_ELSEWHERE))
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    entries = []
    for event in events:
        kind, title = AUDIT_TITLES.get(event.action, ("event", event.action))
        entries.append(
            TimelineEntry(
                when=event.occurred_at,
                kind=kind,
                title=str(title),
                detail=_audit_detail(event),
                actor=_actor_label(event.actor_type, event.actor_id),
            )
        )
    return entries


def _audit_detail(event: AuditEvent) -> str:
    parts = []
    if event.subject_type == "invoice":
        parts.append(_("Invoice %(number)s", number=event.subject_id))
    elif event.subject_type == "link":
        parts.append(_("Link %(number)s", number=event.subject_id))
    elif event.subject_type == "payment":
        parts.extend(_payment_detail(event))
    elif event.subject_type:
        parts.append(f"{event.subject_type} {event.subject_id}")
    reason = (event.details or {}).get("reason")
    if event.action == "link.rejected" and reason in _REJECTION_REASONS:
        parts.append(str(_REJECTION_REASONS[reason]))
    return " · ".join(parts)


def _payment_detail(event: AuditEvent) -> list[str]:
    details = event.details or {}
    parts = [_("Payment %(reference)s", reference=payment_reference(int(event.subject_id or 0)))]
    if "amount_cents" in details and "currency" in details:
        parts.append(format_money(int(details["amount_cents"]), str(details["currency"])))
    if details.get("method"):
        parts.append(method_name(str(details["method"])))
    if details.get("invoices"):
        parts.append(_("invoices %(numbers)s", numbers=", ".join(map(str, details["invoices"]))))
    if details.get("unallocated_cents"):
        credit = format_money(int(details["unallocated_cents"]), str(details["currency"]))
        parts.append(_("%(amount)s more than owed, kept as credit", amount=credit))
    if details.get("reason"):
        parts.append(_("reason: %(reason)s", reason=details["reason"]))
    return parts


def _actor_label(actor_type: str, actor_id: str | None) -> str:
    if actor_type == "debtor":
        return _("Customer")
    if actor_type == "staff":
        return actor_id or _("Staff")
    return _("System (%(name)s)", name=actor_id) if actor_id else _("System")


SOURCES: list[TimelineSource] = [invoices_issued, invoices_paid, notes, messages, audit_events]


def build_timeline(
    session: Session, customer: Customer, *, limit: int = TIMELINE_LIMIT, sources: Iterable[TimelineSource] = ()
) -> Timeline:
    """The newest ``limit`` entries of the customer's story from all SOURCES (or ``sources``), newest first.

    Each source gives at most ``limit + 1`` entries, so the merged list is exact and we still know
    whether anything older was left out.
    """
    entries = [entry for source in (sources or SOURCES) for entry in source(session, customer, limit + 1)]
    entries.sort(key=lambda entry: entry.when, reverse=True)
    return Timeline(entries=entries[:limit], has_more=len(entries) > limit)
