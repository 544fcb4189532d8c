"""What happened to an invoice after it was paid, as the debtor is told it: read from the payment events.

A refund or chargeback reopens an invoice; without a word of why, the debtor would see an old invoice
suddenly "days late". Each reversal event names the invoices it reopened (and each undo those it settled
again), so the debtor's pages can explain every change on the invoice itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from portal.accounts.presence import register_presence_check
from portal.db import in_fixed
from portal.events.models import DomainEvent
from portal.payments import events as payment_events

# Event kind -> what the debtor is told (see templates/debtor/_invoice_history.html).
NOTE_KINDS = {
    payment_events.REFUNDED: "refunded",
    payment_events.CHARGED_BACK: "charged_back",
    payment_events.REFUND_FAILED: "refund_failed",
    payment_events.CHARGEBACK_REVERSED: "chargeback_reversed",
}


@dataclass(frozen=True)
class InvoiceNote:
    kind: str  # "refunded", "charged_back", "refund_failed", "chargeback_reversed"
    at: datetime
    amount_cents: int
    currency: str


def invoice_history(
    session: Session, customer_id: int, numbers: Iterable[str], *, has_any: bool | None = None
) -> dict[str, list[InvoiceNote]]:
    """Per invoice number, its refunds, chargebacks and their undoing, oldest first. ``has_any``: the answer of
    ``features_present`` for PRESENCE, when the page asked it already."""
    wanted = set(numbers)
    notes: dict[str, list[InvoiceNote]] = {}
    if not wanted or has_any is False:
        return notes
    # Columns, not events: most debtors have none, and the ORM's set-up for entities costs more than the query.
    for kind, occurred_at, details in session.execute(_REVERSALS_OF_ONE, {"customer_id": customer_id}):
        note = InvoiceNote(
            NOTE_KINDS[kind],
            occurred_at,
            int(details.get("amount_cents", 0)),
            str(details.get("currency", "EUR")),
        )
        for number in details.get("invoices") or ():
            if number in wanted:
                notes.setdefault(str(number), []).append(note)
    return notes


# Built once: the overview asks it on every view.
_OF_ONE = (DomainEvent.customer_id == bindparam("customer_id"), in_fixed(DomainEvent.kind, NOTE_KINDS))
_REVERSALS_OF_ONE = (
    select(DomainEvent.kind, DomainEvent.occurred_at, DomainEvent.payload)
    .where(*_OF_ONE)
    .order_by(DomainEvent.occurred_at, DomainEvent.id)
)
PRESENCE = register_presence_check("reversals", select(DomainEvent.id).where(*_OF_ONE).exists()).name


def latest_reason_reopened(notes: list[InvoiceNote] | None) -> InvoiceNote | None:
    """The refund or chargeback that reopened an open invoice, when its last news is one of those."""
    if notes and notes[-1].kind in ("refunded", "charged_back"):
        return notes[-1]
    return None
