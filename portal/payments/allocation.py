"""Where a payment's money goes: onto the chosen invoices, oldest first, and off them again on a reversal.

Invoices are locked before they are changed, so two payments for the same invoice (two tabs, a bank
transfer imported meanwhile) never both settle it: the second finds nothing owed and keeps its money as
an unallocated credit that staff see on the customer's page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.held import held_cents, payable_cents
from portal.audit.services import Actor
from portal.events import emit
from portal.invoices import events as invoice_events
from portal.invoices.models import Invoice
from portal.payments.models import Payment, PaymentAllocation, PaymentReversal


def _lock_invoices(session: Session, invoice_ids: list[int]) -> dict[int, Invoice]:
    found = session.scalars(
        # Always in id order, so two transactions locking overlapping invoices cannot deadlock.
        select(Invoice)
        .where(Invoice.id.in_(invoice_ids))
        .order_by(Invoice.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {invoice.id: invoice for invoice in found}


def allocate(session: Session, payment: Payment, now: datetime, *, actor: Actor) -> None:
    """Spread ``payment.received_cents`` over its invoices in their chosen order; keep any rest as credit."""
    invoices = _lock_invoices(session, [item.invoice_id for item in payment.items])
    # A disputed part is owed but not asked for: the money goes to what may be paid now first, oldest invoice
    # first. A payment started before the dispute (a checkout, a debit on its way) may bring more: that goes
    # to the disputed parts too, as it was meant to, rather than count as paid twice. Only what no invoice
    # owes is kept as credit.
    held = held_cents(session, list(invoices))
    remaining = payment.received_cents
    amounts: dict[int, int] = {}
    for owed in (lambda invoice: payable_cents(invoice, held), lambda invoice: invoice.outstanding_cents):
        for item in payment.items:
            invoice = invoices[item.invoice_id]
            amount = min(remaining, owed(invoice) - amounts.get(invoice.id, 0))
            if amount > 0:
                amounts[invoice.id] = amounts.get(invoice.id, 0) + amount
                remaining -= amount
    for item in payment.items:
        invoice = invoices[item.invoice_id]
        amount = amounts.get(invoice.id, 0)
        if amount <= 0:
            continue
        invoice.paid_cents += amount
        if invoice.outstanding_cents == 0:  # paid in full, less what credit notes took off
            invoice.state = "paid"
            invoice.paid_at = now
            emit(session, invoice_events.paid(invoice, actor, by="portal", at=now))
        session.add(PaymentAllocation(payment=payment, invoice_id=invoice.id, amount_cents=amount, created_at=now))
    payment.unallocated_cents = remaining


def reverse(session: Session, payment: Payment, reversal: PaymentReversal, now: datetime) -> list[str]:
    """Take ``reversal.amount_cents`` back: from the unallocated credit first, then the invoices paid last.

    An invoice that loses money is open again, so it shows as owed to the debtor and to staff. Returns the
    numbers of the invoices it took money from, for the events that tell the debtor why.
    """
    from_credit, from_invoices = reversal_split(payment, reversal.amount_cents)
    payment.unallocated_cents -= from_credit
    touched: list[str] = []
    if not from_invoices:
        return touched
    invoices = _lock_invoices(session, [invoice_id for invoice_id, _amount in from_invoices])
    for invoice_id, amount in from_invoices:
        invoice = invoices[invoice_id]
        # An invoice paid in full (by this payment, or the rest by bank transfer) owes exactly what is taken back.
        already_paid = invoice.total_cents - invoice.credited_cents if invoice.state == "paid" else invoice.paid_cents
        invoice.paid_cents = max(already_paid - amount, 0)
        if invoice.state == "paid":
            invoice.state = "open"
            invoice.paid_at = None
        session.add(
            PaymentAllocation(
                payment=payment, invoice_id=invoice.id, reversal=reversal, amount_cents=-amount, created_at=now
            )
        )
        touched.append(invoice.number)
    return touched


def reversal_split(payment: Payment, amount_cents: int) -> tuple[int, list[tuple[int, int]]]:
    """How ``reverse`` takes ``amount_cents`` back: what comes from the payment's credit, and then (invoice id,
    cents) from the invoices paid last, up to what this payment still has on each. The refund's confirmation
    page shows it before anything is sent."""
    from_credit = min(amount_cents, payment.unallocated_cents)
    remaining = amount_cents - from_credit
    applied: dict[int, int] = {}
    for allocation in payment.allocations:  # net of earlier reversals, which are negative allocations
        applied[allocation.invoice_id] = applied.get(allocation.invoice_id, 0) + allocation.amount_cents
    from_invoices: list[tuple[int, int]] = []
    for item in reversed(payment.items):
        amount = min(remaining, applied.get(item.invoice_id, 0))
        if amount > 0:
            from_invoices.append((item.invoice_id, amount))
            remaining -= amount
    return from_credit, from_invoices


def restore(session: Session, payment: Payment, reversal: PaymentReversal, now: datetime, *, actor: Actor) -> list[str]:
    """Undo ``reverse``: the provider gave the money back, so it goes onto the invoices it was taken from.

    What an invoice no longer owes (the debtor paid it again meanwhile) and what came from the credit is
    credit again. Returns the numbers of the invoices that got money back.
    """
    taken: dict[int, int] = {}
    for allocation in payment.allocations:
        # ``reversal`` too: an allocation added in this transaction has no reversal_id before the flush.
        if allocation.amount_cents < 0 and (allocation.reversal is reversal or allocation.reversal_id == reversal.id):
            taken[allocation.invoice_id] = taken.get(allocation.invoice_id, 0) - allocation.amount_cents
    invoices = _lock_invoices(session, list(taken))
    remaining = reversal.amount_cents
    touched: list[str] = []
    for invoice_id, cents in taken.items():
        invoice = invoices[invoice_id]
        amount = min(cents, invoice.outstanding_cents, remaining)
        if amount <= 0:
            continue
        invoice.paid_cents += amount
        if invoice.outstanding_cents == 0:
            invoice.state = "paid"
            invoice.paid_at = now
            emit(session, invoice_events.paid(invoice, actor, by="portal", at=now))
        session.add(
            PaymentAllocation(
                payment=payment, invoice_id=invoice.id, reversal=reversal, amount_cents=amount, created_at=now
            )
        )
        touched.append(invoice.number)
        remaining -= amount
    payment.unallocated_cents += remaining
    return touched


@dataclass(frozen=True)
class RefundEffect:
    """What a refund takes back: from the payment's credit, and (invoice number, cents) owed again per invoice."""

    from_credit_cents: int
    reopened: tuple[tuple[str, int], ...]


def refund_effect(payment: Payment, amount_cents: int) -> RefundEffect:
    """What refunding ``amount_cents`` of the payment would do, by the rule the refund itself follows
    (``allocation.reverse``): staff confirm exactly this."""
    from_credit, from_invoices = reversal_split(payment, amount_cents)
    numbers = {item.invoice_id: item.invoice.number for item in payment.items}
    return RefundEffect(from_credit, tuple((numbers[invoice_id], cents) for invoice_id, cents in from_invoices))


def effect_of(reversal: PaymentReversal) -> RefundEffect:
    """What a recorded refund did take back, from the allocations it reversed."""
    reopened = tuple(
        (allocation.invoice.number, -allocation.amount_cents)
        for allocation in reversal.payment.allocations
        if allocation.reversal is reversal and allocation.amount_cents < 0
    )
    return RefundEffect(reversal.amount_cents - sum(cents for _number, cents in reopened), reopened)


def undo_effect(reversal: PaymentReversal) -> tuple[tuple[str, int], ...]:
    """What undoing a recorded reversal (``restore``) put back, as (invoice number, cents) per invoice; the rest of
    ``reversal.amount_cents`` went to the payment's credit."""
    return tuple(
        (allocation.invoice.number, allocation.amount_cents)
        for allocation in reversal.payment.allocations
        if allocation.reversal is reversal and allocation.amount_cents > 0
    )
