"""The direct-debit feature's events: how each reads on the timeline, and what follows a failed debit."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from portal.audit.decisions import keep_in_audit_trail
from portal.audit.services import Actor
from portal.events import Event, EventKind, Presentation, register
from portal.events.models import DomainEvent
from portal.events.presenting import joined
from portal.events.registry import name_category
from portal.i18n import _, _l, format_day, format_money

MANDATE_CREATED = "mandate.created"
MANDATE_REVOKED = "mandate.revoked"
MANDATE_EXPIRED = "mandate.expired"  # unused for 36 months
SCHEDULE_SET = "debit.schedule_set"  # a collection schedule: day, amount, from which month
NOTIFIED = "debit.notified"  # pre-notified: date and amount told to the debtor
DAY_CHANGED = "debit.day_changed"
COLLECTED = "debit.collected"
FAILED = "debit.failed"  # refused by the bank before or reversed after the money came
SKIPPED = "debit.skipped"  # the invoice was paid another way before the debit date
CANCELLED = "debit.cancelled"  # the mandate was stopped before this debit was fixed
CHOICE_MADE = "debit.choice_made"  # what the debtor chose after a failure: pay now, a new date, ...

_TITLES: dict[str, Any] = {
    MANDATE_CREATED: _l("Direct debit mandate"),
    MANDATE_REVOKED: _l("Direct debit stopped"),
    MANDATE_EXPIRED: _l("Direct debit mandate expired"),
    SCHEDULE_SET: _l("Direct debit schedule"),
    NOTIFIED: _l("Direct debit announced"),
    DAY_CHANGED: _l("Collection day changed"),
    COLLECTED: _l("Direct debit collected"),
    FAILED: _l("Direct debit failed"),
    SKIPPED: _l("Direct debit skipped"),
    CANCELLED: _l("Direct debit cancelled"),
    CHOICE_MADE: _l("Choice after a failed debit"),
}


def about_debit(kind: str, debit: Any, actor: Actor, **payload: Any) -> Event:
    return Event(
        kind,
        actor,
        customer_id=debit.customer_id,
        subject=("debit", debit.id),
        payload={
            "period": debit.period,
            "due_on": debit.due_on.isoformat(),
            "amount_cents": debit.amount_cents,
            "currency": debit.currency,
            **payload,
        },
    )


def about_schedule(kind: str, schedule: Any, actor: Actor, **payload: Any) -> Event:
    return Event(
        kind, actor, customer_id=schedule.customer_id, subject=("debit_schedule", schedule.id), payload=payload
    )


def about_mandate(kind: str, mandate: Any, actor: Actor, **payload: Any) -> Event:
    return Event(
        kind,
        actor,
        customer_id=mandate.customer_id,
        subject=("mandate", mandate.id),
        payload={"reference": mandate.reference, "iban": mandate.masked_iban, **payload},
    )


def _present(event: DomainEvent, _extra: Any) -> Presentation:
    from datetime import date

    from portal.debits.reasons import reason_text

    details = event.payload
    parts: list[str] = []
    if details.get("reference"):
        parts.append(_("mandate %(reference)s", reference=details["reference"]))
    if details.get("iban"):
        parts.append(str(details["iban"]))
    if "amount_cents" in details:
        parts.append(format_money(int(details["amount_cents"]), str(details.get("currency", "EUR"))))
    if details.get("due_on"):
        parts.append(format_day(date.fromisoformat(str(details["due_on"]))))
    if "day" in details:
        parts.append(_("on day %(day)s of each month", day=details["day"]))
    if "to_day" in details:
        parts.append(_("from day %(old)s to day %(new)s", old=details.get("from_day"), new=details["to_day"]))
    if details.get("code"):
        parts.append(reason_text(str(details["code"])))
    if details.get("choice"):
        parts.append(str(details["choice"]))
    return Presentation(title=str(_TITLES[event.kind]), detail=joined(*parts))


def _tell_about_failure(session: Session, event: DomainEvent) -> None:
    from portal.debits.messages import queue_failed_debit_message

    queue_failed_debit_message(session, event)


_REACTIONS: dict[str, Any] = {FAILED: [_tell_about_failure]}

for _name in _TITLES:
    register(
        EventKind(
            name=_name,
            category="debit",
            present=_present,
            # Pre-notifications are routine; what became of a debit is news for the creditor's systems.
            public=_name != NOTIFIED,
            reactions=_REACTIONS.get(_name, []),
        )
    )
name_category("debit", _l("Direct debit"))
# What debtors and staff change about a direct debit is also in the audit trail (who did what).
for _name in (MANDATE_CREATED, MANDATE_REVOKED, DAY_CHANGED, CHOICE_MADE):
    keep_in_audit_trail(_name, _TITLES[_name])
