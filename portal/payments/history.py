"""What happened to an invoice after it was paid, as the debtor is told it: read from the payment events.

A refund or chargeback reopens an invoice; without a word of why, the debtor would see an old invoice
suddenly "days late". Each reversal event names the invoices it reopened (and each undo those it settled
again), so the debtor's pages can explain every change on the invoice itself. One refund or chargeback may
cover several invoices: what it did to each is read from its allocations (``allocation.effect_of``), so an
invoice's page names its own part, not the whole amount.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, selectinload

from portal.accounts.presence import register_presence_check
from portal.db import in_fixed
from portal.events.models import DomainEvent
from portal.payments import events as payment_events
from portal.payments.allocation import effect_of, undo_effect
from portal.payments.models import Payment, PaymentAllocation, PaymentReversal

# Event kind -> what the debtor is told (see templates/debtor/_invoice_history.html).
NOTE_KINDS = {
    payment_events.REFUNDED: "refunded",
    payment_events.CHARGED_BACK: "charged_back",
    payment_events.REFUND_FAILED: "refund_failed",
    payment_events.CHARGEBACK_REVERSED: "chargeback_reversed",
}
_UNDOING = {payment_events.REFUND_FAILED, payment_events.CHARGEBACK_REVERSED}
_REVERSAL_KIND = {
    payment_events.REFUNDED: "refund",
    payment_events.REFUND_FAILED: "refund",
    payment_events.CHARGED_BACK: "chargeback",
    payment_events.CHARGEBACK_REVERSED: "chargeback",
}


@dataclass(frozen=True)
class InvoiceNote:
    kind: str  # "refunded", "charged_back", "refund_failed", "chargeback_reversed"
    at: datetime
    # What it did to this invoice: the part it opened again (a refund, a chargeback) or paid again (their undoing).
    amount_cents: int
    currency: str
    # The whole refund or chargeback, which may have taken money from other invoices (or credit) too.
    total_cents: int

    @property
    def is_part(self) -> bool:
        """Only part of the refund or chargeback was this invoice's: the page names both amounts."""
        return self.amount_cents < self.total_cents


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
    found: list[tuple[str, datetime, int, dict[str, Any], list[str]]] = []
    for kind, occurred_at, subject_id, details in session.execute(_REVERSALS_OF_ONE, {"customer_id": customer_id}):
        touched = [str(number) for number in details.get("invoices") or () if str(number) in wanted]
        if touched:
            found.append((kind, occurred_at, int(subject_id or 0), details, touched))
    if not found:
        return notes
    # What each reversal did to each invoice is in its allocations (allocation.effect_of): the event says only
    # the whole amount, which may have covered several invoices.
    reversals = _reversals_of(session, customer_id, {payment_id for _k, _at, payment_id, _d, _t in found})
    for kind, occurred_at, payment_id, details, touched in found:
        total = int(details.get("amount_cents", 0))
        reversal = _reversal_of(reversals.get(payment_id, ()), kind, details, occurred_at)
        parts = _parts(reversal, undone=kind in _UNDOING) if reversal is not None else {}
        currency = str(details.get("currency", "EUR"))
        for number in touched:
            part = min(parts.get(number, total), total)
            notes.setdefault(number, []).append(InvoiceNote(NOTE_KINDS[kind], occurred_at, part, currency, total))
    return notes


def _reversals_of(session: Session, customer_id: int, payment_ids: set[int]) -> dict[int, list[PaymentReversal]]:
    rows = session.scalars(
        select(PaymentReversal)
        .join(Payment, Payment.id == PaymentReversal.payment_id)
        .where(PaymentReversal.payment_id.in_(payment_ids), Payment.customer_id == customer_id)
        .options(
            selectinload(PaymentReversal.payment)
            .selectinload(Payment.allocations)
            .joinedload(PaymentAllocation.invoice)
        )
    )
    found: dict[int, list[PaymentReversal]] = {}
    for reversal in rows:
        found.setdefault(reversal.payment_id, []).append(reversal)
    return found


def _reversal_of(
    candidates: Sequence[PaymentReversal], kind: str, details: Mapping[str, Any], at: datetime
) -> PaymentReversal | None:
    """The reversal an event is about: the one it names, else (an undoing recorded before events named it) the
    one of its kind and amount undone nearest the event's moment."""
    if "reversal_id" in details:
        return next((reversal for reversal in candidates if reversal.id == int(details["reversal_id"])), None)
    undoing = kind in _UNDOING
    alike = [
        (moment, reversal)
        for reversal in candidates
        if reversal.kind == _REVERSAL_KIND[kind]
        and reversal.amount_cents == int(details.get("amount_cents", 0))
        and (moment := reversal.undone_at if undoing else reversal.created_at) is not None
    ]
    nearest = min(alike, key=lambda item: abs(item[0] - at), default=None)
    return nearest[1] if nearest is not None else None


def _parts(reversal: PaymentReversal, *, undone: bool) -> dict[str, int]:
    """Per invoice number, what ``reversal`` took back from it, or (``undone``) what its undoing put back."""
    pairs = undo_effect(reversal) if undone else effect_of(reversal).reopened
    parts: dict[str, int] = {}
    for number, cents in pairs:
        parts[number] = parts.get(number, 0) + cents
    return parts


# Built once: the overview asks it on every view.
_OF_ONE = (DomainEvent.customer_id == bindparam("customer_id"), in_fixed(DomainEvent.kind, NOTE_KINDS))
_REVERSALS_OF_ONE = (
    select(DomainEvent.kind, DomainEvent.occurred_at, DomainEvent.subject_id, DomainEvent.payload)
    .where(*_OF_ONE)
    .order_by(DomainEvent.occurred_at, DomainEvent.id)
)
PRESENCE = register_presence_check("reversals", select(DomainEvent.id).where(*_OF_ONE).exists()).name


def latest_reason_reopened(notes: list[InvoiceNote] | None) -> InvoiceNote | None:
    """The refund or chargeback that reopened an open invoice, when its last news is one of those."""
    if notes and notes[-1].kind in ("refunded", "charged_back"):
        return notes[-1]
    return None
