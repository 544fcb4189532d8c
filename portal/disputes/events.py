"""The dispute events: how each reads on the timeline. The e-mails react to them (portal/disputes/messages.py),
so this module stays the list of what can happen."""

from __future__ import annotations

from typing import Any

from portal.audit.decisions import keep_in_audit_trail
from portal.audit.services import Actor
from portal.events import Event, EventKind, Presentation, register
from portal.events.models import DomainEvent
from portal.events.presenting import joined
from portal.events.registry import name_category
from portal.i18n import _l, format_money

OPENED = "dispute.opened"  # the debtor said something is wrong: dunning pauses at once
DEBTOR_REPLIED = "dispute.debtor_replied"
STAFF_REPLIED = "dispute.staff_replied"  # the debtor is e-mailed
NOTE_ADDED = "dispute.note_added"  # internal: never shown to the debtor
ASSIGNED = "dispute.assigned"
DEADLINE_MISSED = "dispute.deadline_missed"  # the supervisors are told, once per deadline
RESOLVED = "dispute.resolved"  # with a credit note, a corrected invoice, or a rejection
WITHDRAWN = "dispute.withdrawn"
CREDIT_NOTE_ISSUED = "credit_note.issued"

_TITLES: dict[str, Any] = {
    OPENED: _l("Invoice disputed"),
    DEBTOR_REPLIED: _l("Customer wrote about a dispute"),
    STAFF_REPLIED: _l("Reply to a dispute"),
    NOTE_ADDED: _l("Internal note on a dispute"),
    ASSIGNED: _l("Dispute assigned"),
    DEADLINE_MISSED: _l("Dispute past its deadline"),
    RESOLVED: _l("Dispute resolved"),
    WITHDRAWN: _l("Dispute withdrawn"),
    CREDIT_NOTE_ISSUED: _l("Credit note issued"),
}
_OUTCOMES: dict[str, Any] = {
    "credit_note": _l("with a credit note"),
    "corrected_invoice": _l("with a corrected invoice"),
    "rejected": _l("rejected"),
}
# The creditor's systems hear of disputes opened and how they end, and of credit notes; not the conversation.
_PRIVATE = {DEBTOR_REPLIED, STAFF_REPLIED, NOTE_ADDED, ASSIGNED, DEADLINE_MISSED}


def about_dispute(kind: str, dispute: Any, actor: Actor, **payload: Any) -> Event:
    return Event(
        kind,
        actor,
        customer_id=dispute.customer_id,
        subject=("dispute", dispute.id),
        payload={
            "reference": dispute.reference,
            "reason": dispute.reason,
            "held_cents": dispute.held_cents,
            "currency": dispute.currency,
            "invoices": [covered.invoice.number for covered in dispute.invoices],
            **payload,
        },
    )


def about_credit_note(note: Any, actor: Actor) -> Event:
    return Event(
        CREDIT_NOTE_ISSUED,
        actor,
        customer_id=note.invoice.customer_id,
        subject=("credit_note", note.id),
        payload={
            "number": note.number,
            "invoice": note.invoice.number,
            "amount_cents": note.amount_cents,
            "currency": note.currency,
        },
    )


def _present(event: DomainEvent, _extra: Any) -> Presentation:
    details = event.payload
    currency = str(details.get("currency", "EUR"))
    parts: list[str] = [str(details[key]) for key in ("reference", "number") if details.get(key)]
    if details.get("invoices"):
        parts.append(", ".join(str(number) for number in details["invoices"]))
    elif details.get("invoice"):
        parts.append(str(details["invoice"]))
    for key in ("held_cents", "amount_cents"):
        if key in details and event.kind != RESOLVED:
            parts.append(format_money(int(details[key]), currency))
    if details.get("outcome") in _OUTCOMES:
        parts.append(str(_OUTCOMES[str(details["outcome"])]))
    if details.get("assigned_to"):
        parts.append(str(details["assigned_to"]))
    return Presentation(title=str(_TITLES[event.kind]), detail=joined(*parts))


for _name in _TITLES:
    register(EventKind(name=_name, category="dispute", present=_present, public=_name not in _PRIVATE))
name_category("dispute", _l("Disputes"))
# What debtors and staff do with a dispute is also in the audit trail (who did what).
for _name in (OPENED, DEBTOR_REPLIED, STAFF_REPLIED, ASSIGNED, RESOLVED, WITHDRAWN, CREDIT_NOTE_ISSUED):
    keep_in_audit_trail(_name, _TITLES[_name])
