"""The debtor's e-mails about direct debit, through the outbox: pre-notifications and failed debits.

Each carries a fresh personal link, so the debtor can act on it (move the day, pay now, pick a new date)
without asking for one; the stored copy has the link blanked once delivered.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from portal.audit.services import Actor
from portal.debits.models import Debit, DebitSchedule, Mandate
from portal.debits.reasons import reason_label, remedy_for
from portal.debits.rules import PlannedDebit
from portal.events.models import DomainEvent
from portal.links.messages import opening, queue_email_with_link


def queue_prenotification(session: Session, mandate: Mandate, debits: Sequence[Debit], *, actor: Actor) -> None:
    """Tell the debtor the date and amount of each of ``debits``, with the mandate reference and our creditor
    identifier."""
    if debits:
        _queue_dates(session, mandate, [(d.period, d.due_on, d.amount_cents, d.currency) for d in debits], actor)


def queue_day_changed(
    session: Session, schedule: DebitSchedule, upcoming: Sequence[PlannedDebit], *, actor: Actor
) -> None:
    """After a change of collection day: the next debits as they are now (the moved ones with their new date, the
    pre-notification they need), also when none had been announced yet, as the debtor's page promises."""
    dates = [(debit.period, debit.date, debit.amount_cents, schedule.currency) for debit in upcoming]
    _queue_dates(session, schedule.mandate, dates, actor, moved=True)


def _queue_dates(
    session: Session, mandate: Mandate, debits: list[tuple[str, date, int, str]], actor: Actor, *, moved: bool = False
) -> None:
    queue_email_with_link(
        session,
        mandate.customer,
        "debit_prenotification",
        {
            "debits": [
                {"period": period, "due_on": due_on, "amount_cents": cents, "currency": currency}
                for period, due_on, cents, currency in debits
            ],
            "mandate_reference": mandate.reference,
            "iban": mandate.masked_iban,
            "moved": moved,
        },
        actor=actor,
        created_by="prenotification",
    )


def queue_failed_debit_message(session: Session, event: DomainEvent) -> None:
    """A debit failed: say why in plain words and offer what suits the reason (pay now, a new date, tell us
    what is wrong, or a new mandate)."""
    debit = session.get(Debit, int(event.subject_id or 0))
    if debit is None:
        return
    remedy = remedy_for(debit.failure_code)
    queue_email_with_link(
        session,
        debit.customer,
        "debit_failed",
        {
            "due_on": debit.due_on,
            "amount_cents": debit.amount_cents,
            "currency": debit.currency,
            "invoice_number": debit.invoice.number if debit.invoice else None,
            "reason_code": debit.failure_code,
            # Lazy: rendered in the customer's language, whoever's request wrote the message.
            "reason": reason_label(debit.failure_code or ""),
            "remedy": remedy,
            "reversed": bool(event.payload.get("reversed")),
        },
        actor=Actor(type=event.actor_type, id=event.actor_id),
        created_by="failed-debit",
        # Paying now opens the pay page with iDEAL chosen, the quickest way for most Dutch debtors.
        # Telling what is wrong (a debit the debtor had reversed) opens the dispute form for its invoice.
        link=_link_for(remedy, debit.invoice.number if debit.invoice else None),
    )


def _link_for(remedy: str, invoice_number: str | None) -> Callable[[str], str]:
    if remedy == "tell_us":
        return opening("/dispute" + (f"?{urlencode({'invoice': invoice_number})}" if invoice_number else ""))
    return lambda url: url + ("?method=ideal" if remedy == "pay_or_retry" else "")
